from django.contrib.auth.management import create_permissions
from django.db import migrations

RECEPTION_GROUP = "Reception"
PRACTITIONER_GROUP = "Practitioner"
# Frozen copy of clinic.roles.RECEPTION_CATALOGUE_PERMISSIONS as of this migration.
RECEPTION_CATALOGUE_PERMISSIONS = [
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
]


def create_role_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create this
    # app's now so a fresh database gets a complete Reception group.
    clinic_config = apps.get_app_config("clinic")
    clinic_config.models_module = True
    create_permissions(clinic_config, apps=apps, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    reception, _ = Group.objects.get_or_create(name=RECEPTION_GROUP)
    Group.objects.get_or_create(name=PRACTITIONER_GROUP)
    reception.permissions.add(
        *Permission.objects.filter(content_type__app_label="clinic", codename__in=RECEPTION_CATALOGUE_PERMISSIONS)
    )


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[RECEPTION_GROUP, PRACTITIONER_GROUP]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
