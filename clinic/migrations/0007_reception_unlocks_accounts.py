from django.contrib.auth.management import create_permissions
from django.db import migrations

RECEPTION_GROUP = "Reception"
# Frozen as of this migration. Reception sees paused staff logins and unlocks one for a person
# who calls (change: the unlocked state; never delete). Practitioners get nothing here.
RECEPTION_PERMISSIONS = {"clinic": ["view_accountlockout", "change_accountlockout"]}


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
    dependencies = [("clinic", "0006_account_lockout")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
