from django import forms

from schedule.selectors import STATUS_CHANGES


class StatusChangeForm(forms.Form):
    """One of the appointment page's buttons: which status to mark."""

    status = forms.ChoiceField(choices=[(status.value, status.label) for status in STATUS_CHANGES])
