from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic catalogue"

    def ready(self) -> None:
        # Connects the login signal that remembers whether a staff user has a second factor.
        from clinic import staff_otp  # noqa: F401
