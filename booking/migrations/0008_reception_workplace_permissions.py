from django.contrib.auth.management import create_permissions
from django.db import migrations

RECEPTION_GROUP = "Reception"
# Frozen as of this migration. Reception books for callers (add), marks arrivals, completions,
# no-shows and cancellations (change), creates and edits patients, and reads the audit trail
# of schedules. Never delete: cancelled and no-show are states. Screening answers and consent
# wording are read-only for everyone in the admin.
RECEPTION_PERMISSIONS = {
    "booking": [
        "add_appointment",
        "change_appointment",
        "view_historicalworkinghours",
        "view_historicaltimeoff",
    ],
    "patients": ["add_patient", "view_screening", "view_consenttext"],
}


def grant(apps, schema_editor):
    for label in RECEPTION_PERMISSIONS:
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    reception, _ = Group.objects.get_or_create(name=RECEPTION_GROUP)
    for label, codenames in RECEPTION_PERMISSIONS.items():
        reception.permissions.add(*Permission.objects.filter(content_type__app_label=label, codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0007_schedule_history"),
        ("patients", "0002_consent_version_1"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
