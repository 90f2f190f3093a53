from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.clinic import DEMO_PASSWORD, seed_demo_bookings, seed_demo_clinic


class Command(BaseCommand):
    help = "Create or refresh the demo clinic: locations, team, services, conditions, logins, bookings. Idempotent."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates logins with the password 'demo' and refuses to run with DEBUG off. "
                "Set DEBUG=1 on a development database."
            )
        logins = seed_demo_clinic()
        booked = seed_demo_bookings()
        self.stdout.write(self.style.SUCCESS("Demo clinic ready."))
        if booked:
            self.stdout.write(f"Booked {booked} demo patients (made-up, @example.com) into the coming days.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}), admin at {settings.SITE_URL}/admin/")
        for login in logins:
            self.stdout.write(f"  {login.username:<14} {login.role}")
