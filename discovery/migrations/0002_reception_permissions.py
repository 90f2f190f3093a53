"""Once granted Reception's permissions here. The roles are code now (clinic/roles.py, synced
after every migrate): the operation stays, doing nothing, so the migration graph is unchanged."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("discovery", "0001_initial"),
        ("clinic", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
