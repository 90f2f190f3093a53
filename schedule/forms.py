from typing import cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class ScheduleLoginForm(AuthenticationForm):
    """Django's login form, refusing a username longer than any account's before checking it.
    AuthenticationForm puts that limit on the input box only: a longer username was looked up
    and then written to the failed-login log (django-axes), whose column it overflowed (a 500)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = cast(forms.CharField, self.fields["username"])
        username.validators.append(MaxLengthValidator(username.max_length))
