from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    """The front desk: the day calendar, the week, Book for a caller, moving appointments and the
    front-desk actions, inside the admin's look and login. Reads through reception.selectors,
    writes through booking.services: the same one way to book as every other path."""

    name = "reception"
    verbose_name = "Front desk"
