from django.contrib.auth.management import create_permissions
from django.db import migrations

RECEPTION_GROUP = "Reception"
# Frozen as of this migration. Reception reads treatment series (what a patient asked for and
# which weeks were booked); a series is written only by booking.services, never in the admin.
RECEPTION_PERMISSIONS = {"booking": ["view_treatmentseries"]}


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
        ("booking", "0010_treatment_series"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
