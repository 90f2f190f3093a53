"""Once granted Reception's permissions here. The roles are code now (clinic/roles.py, synced
after every migrate): the operation stays, doing nothing, so the migration graph is unchanged."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("clinic", "0006_account_lockout")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
