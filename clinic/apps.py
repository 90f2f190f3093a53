from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic catalogue"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from clinic.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="clinic.sync_roles")

        from clinic import worker
        from clinic.outbox import due_retries, retry
        from clinic.staff_auth import due_lockout_notices, send_lockout_notice

        # Emails waiting for the mail server, or whose worker died, before any new one.
        worker.register("outbox retries", order=0, due=due_retries, send=retry)
        worker.register("account locked notices", order=90, due=due_lockout_notices, send=send_lockout_notice)
        # Connect the login signals: staff_otp remembers whether a staff user has a second
        # factor, staff_auth counts failed logins per account.
        from clinic import staff_auth, staff_otp  # noqa: F401
