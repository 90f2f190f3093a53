from django.core.management.base import BaseCommand, CommandError

from demo.large_install import LargeInstall, seed_large_install


class Command(BaseCommand):
    help = (
        "Add a large install to the demo clinic, for measuring: 100 practitioners, 20 locations in 6 time zones, "
        "40,000 patients, 12 months back and 2 ahead (about 150,000 appointments). Run seed_demo first."
    )

    def add_arguments(self, parser):
        defaults = LargeInstall()
        parser.add_argument("--practitioners", type=int, default=defaults.practitioners)
        parser.add_argument("--locations", type=int, default=defaults.locations)
        parser.add_argument("--patients", type=int, default=defaults.patients)
        parser.add_argument("--days-back", type=int, default=defaults.days_back)
        parser.add_argument("--days-ahead", type=int, default=defaults.days_ahead)

    def handle(self, *args, **options):
        size = LargeInstall(
            practitioners=options["practitioners"],
            locations=options["locations"],
            patients=options["patients"],
            days_back=options["days_back"],
            days_ahead=options["days_ahead"],
        )
        try:
            counts = seed_large_install(size)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS("Large install ready: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
        )
