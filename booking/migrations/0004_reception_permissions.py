from django.contrib.auth.management import create_permissions
from django.db import migrations

RECEPTION_GROUP = "Reception"
# Frozen as of this migration: reception runs schedules and appointments and reads patients.
RECEPTION_PERMISSIONS = {
    "booking": [
        "view_appointment",
        "view_historicalappointment",
        "view_workinghours",
        "add_workinghours",
        "change_workinghours",
        "delete_workinghours",
        "view_timeoff",
        "add_timeoff",
        "change_timeoff",
        "delete_timeoff",
    ],
    "patients": ["view_patient", "change_patient"],
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
        ("booking", "0003_appointment_history"),
        ("patients", "0002_consent_version_1"),
        ("clinic", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
