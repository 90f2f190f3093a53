from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo clinic `make run` loads (manage.py seed_demo): made-up people booked through the
    same services as everyone, so it sits above every app it fills."""

    name = "demo"
    verbose_name = "Demo clinic"
