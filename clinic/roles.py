"""Staff roles, as code: the groups and exactly the permissions each holds.

Synced after every `migrate` (post_migrate, once its permissions exist) and by
`manage.py sync_roles`: a permission added to a group by hand in the admin is taken away
again, one missing is given back. Something one person needs beyond their role is given to
that user by name (as the owner gives "Can anonymise a patient").

Reception runs the front desk: schedules and appointments (booking for callers, arrivals,
completions, no-shows and cancellations are changes: never delete, those are states), reads
and edits patients, merges duplicates and exports a patient's data (subject access requests
arrive at the desk), works the call-back list and the waiting list, reads every audit
trail, unlocks paused staff logins. Screening answers, consent wording, offers and freed
times are read only; anonymising, which cannot be undone, is nobody's role. Practitioners
hold no admin permission: their own pages (schedule/) check the group itself.
"""

from django.contrib.auth.management import create_permissions
from django.db import transaction

RECEPTION_GROUP = "Reception"
PRACTITIONER_GROUP = "Practitioner"

ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    RECEPTION_GROUP: {
        "clinic": [
            "view_location",
            "change_location",
            "view_practitioner",
            "change_practitioner",
            "view_practitionerservice",
            "add_practitionerservice",
            "change_practitionerservice",
            "delete_practitionerservice",
            "view_condition",
            "add_condition",
            "change_condition",
            "view_service",
            "view_accountlockout",
            "change_accountlockout",
        ],
        "booking": [
            "view_appointment",
            "add_appointment",
            "change_appointment",
            "view_historicalappointment",
            "view_workinghours",
            "add_workinghours",
            "change_workinghours",
            "delete_workinghours",
            "view_historicalworkinghours",
            "view_timeoff",
            "add_timeoff",
            "change_timeoff",
            "delete_timeoff",
            "view_historicaltimeoff",
            "view_treatmentseries",
        ],
        "patients": [
            "view_patient",
            "add_patient",
            "change_patient",
            "view_historicalpatient",
            "merge_patients",
            "export_patient",
            "view_screening",
            "view_consenttext",
        ],
        "discovery": [
            "view_discoverycallrequest",
            "add_discoverycallrequest",
            "change_discoverycallrequest",
            "view_historicaldiscoverycallrequest",
            "view_callattempt",
            "add_callattempt",
            "change_callattempt",
            "view_historicalcallattempt",
        ],
        "waitlist": [
            "view_waitlistentry",
            "change_waitlistentry",
            "view_historicalwaitlistentry",
            "view_waitlistoffer",
        ],
    },
    PRACTITIONER_GROUP: {},
}


def sync_roles(*, using: str = "default") -> list[str]:
    """Make each role's group hold exactly ROLE_PERMISSIONS; returns what changed, in words."""
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    labels = {label for grants in ROLE_PERMISSIONS.values() for label in grants}
    for label in sorted(labels):
        # Django creates permissions after migrate, app by app: make sure every one named exists.
        create_permissions(apps.get_app_config(label), verbosity=0, using=using)
    changes = []
    with transaction.atomic(using=using):
        for name, grants in ROLE_PERMISSIONS.items():
            group, created = Group.objects.using(using).get_or_create(name=name)
            if created:
                changes.append(f"created the group {name}")
            wanted = set()
            for label, codenames in grants.items():
                found = Permission.objects.using(using).filter(content_type__app_label=label, codename__in=codenames)
                missing = set(codenames) - {permission.codename for permission in found}
                if missing:
                    raise LookupError(f"{name}: no such permissions in {label}: {sorted(missing)}")
                wanted |= set(found)
            held = set(group.permissions.all())
            for permission in sorted(wanted - held, key=str):
                changes.append(f"{name}: granted {permission.content_type.app_label}.{permission.codename}")
            for permission in sorted(held - wanted, key=str):
                changes.append(f"{name}: took away {permission.content_type.app_label}.{permission.codename}")
            if wanted != held:
                group.permissions.set(wanted)
    return changes


def sync_roles_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate, for the clinic app only: once per migrate, every app's tables there."""
    sync_roles(using=using)
