from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """The patient's record across every app: its admin page, merge, export, anonymise."""

    name = "privacy"
    verbose_name = "Patient records"
