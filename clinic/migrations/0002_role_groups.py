"""Once created the Reception and Practitioner groups. The roles are code now (clinic/roles.py,
synced after every migrate): the operation stays, doing nothing, so the migration graph is
unchanged."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
