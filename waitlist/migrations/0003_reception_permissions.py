from django.contrib.auth.management import create_permissions
from django.db import migrations

RECEPTION_GROUP = "Reception"
# Frozen as of this migration. Reception sees who is waiting and what they were offered, and
# may take someone off the list at their request (change: the "left" state; never delete).
# Offers and freed times are the system's record: read only. Practitioners get nothing here.
RECEPTION_PERMISSIONS = {
    "waitlist": [
        "view_waitlistentry",
        "change_waitlistentry",
        "view_historicalwaitlistentry",
        "view_waitlistoffer",
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
        ("waitlist", "0002_freed_time_triggers"),
        ("clinic", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
