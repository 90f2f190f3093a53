from django.db import migrations
from django.utils import timezone


def record_existing_patients(apps, schema_editor):
    """A first history row for every patient already on file, so the first edit's diff has
    something to compare with."""
    Patient = apps.get_model("patients", "Patient")
    HistoricalPatient = apps.get_model("patients", "HistoricalPatient")
    now = timezone.now()
    fields = [field.attname for field in Patient._meta.concrete_fields]
    HistoricalPatient.objects.bulk_create(
        (
            HistoricalPatient(
                **{name: getattr(patient, name) for name in fields},
                history_date=now,
                history_type="+",
                history_change_reason="history started",
            )
            for patient in Patient.objects.iterator()
        ),
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_patient_history"),
        ("clinic", "0002_role_groups"),
    ]

    operations = [
        # Once granted Reception's permissions: clinic/roles.py does, after every migrate.
        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),
        migrations.RunPython(record_existing_patients, migrations.RunPython.noop),
    ]
