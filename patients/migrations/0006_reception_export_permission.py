from django.contrib.auth.management import create_permissions
from django.db import migrations

RECEPTION_GROUP = "Reception"
# Frozen as of this migration. Subject access requests arrive at the desk, and reception already
# reads everything an export holds: it may export. Anonymising is not granted to any group: it
# cannot be undone and ends what the clinic can show of a person's treatment, so it stays with
# the owner (superuser) or whoever the owner gives "Can anonymise a patient" by name.
RECEPTION_PERMISSIONS = {"patients": ["export_patient"]}


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
        ("patients", "0005_privacy_permissions"),
        ("clinic", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
