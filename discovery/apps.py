from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    name = "discovery"
    verbose_name = "Free discovery calls"

    def ready(self) -> None:
        from clinic import worker
        from discovery import notifications as emails

        worker.register(
            "call-back acknowledgements", order=30, due=emails.due_acknowledgements, send=emails.send_acknowledgement
        )
        worker.register(
            "call-back notices to the clinic", order=31, due=emails.due_clinic_notices, send=emails.send_clinic_notice
        )
