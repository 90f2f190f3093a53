"""What simple-history writes in the history row of an instance's next save: who made the
change, why, and when.

simple-history reads these from attributes on the instance that no model declares (by that
library's design), so they are set here, in one place, for every app."""

from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Model


def set_history_user(instance: Model, user: AbstractBaseUser | None) -> None:
    """`user` made the change; None records no one. Left unset, simple-history takes the request's user."""
    instance._history_user = user  # type: ignore[attr-defined]


def set_change_reason(instance: Model, reason: str) -> None:
    instance._change_reason = reason  # type: ignore[attr-defined]


def set_history_date(instance: Model, when: datetime) -> None:
    """The change happened at `when`; left unset, it is dated now."""
    instance._history_date = when  # type: ignore[attr-defined]
