from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

RECEPTION_GROUP = "Reception"
# Frozen as of this migration: reception reads the audit trail of patient records and merges
# duplicates. Still no delete: a duplicate leaves only through the merge, which records it.
RECEPTION_PERMISSIONS = {"patients": ["view_historicalpatient", "merge_patients"]}


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
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(record_existing_patients, migrations.RunPython.noop),
    ]
