"""manage.py sync_roles: give each staff group exactly the permissions clinic/roles.py names
(also done after every migrate). Prints what changed."""

from django.core.management.base import BaseCommand

from clinic.roles import sync_roles


class Command(BaseCommand):
    help = "Give the Reception and Practitioner groups exactly the permissions clinic/roles.py names."

    def handle(self, *args, **options) -> None:
        changes = sync_roles()
        for change in changes:
            self.stdout.write(change)
        self.stdout.write(f"{len(changes)} change(s): the roles match clinic/roles.py.")
