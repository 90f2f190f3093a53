from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic catalogue"

    def ready(self) -> None:
        # Connect the login signals: staff_otp remembers whether a staff user has a second
        # factor, staff_auth counts failed logins per account.
        from clinic import staff_auth, staff_otp  # noqa: F401
