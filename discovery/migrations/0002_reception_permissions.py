from django.contrib.auth.management import create_permissions
from django.db import migrations

RECEPTION_GROUP = "Reception"
# Frozen as of this migration. Reception works the call-back list: reads requests, corrects
# contact details and moves them on (change), logs calls (add call attempts) and reads their
# audit trail. Never delete: not a fit and closed are states. Practitioners get nothing here.
RECEPTION_PERMISSIONS = {
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
        ("discovery", "0001_initial"),
        ("clinic", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
