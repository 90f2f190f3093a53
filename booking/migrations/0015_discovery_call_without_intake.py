"""A free discovery call booked online asks no medical intake: no treatment consent, no
screening, no date of birth. The database still refuses a treatment without its consent,
whoever writes it (a trigger: the rule reads the service's kind, another table)."""

import django.db.models.deletion
from django.db import migrations, models

TREATMENT_NEEDS_CONSENT = [
    """
    CREATE FUNCTION booking_appointment_treatment_needs_consent() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.consent_id IS NULL AND NOT EXISTS (
            SELECT 1 FROM clinic_service WHERE id = NEW.service_id AND kind = 'discovery_call'
        ) THEN
            RAISE EXCEPTION 'A treatment appointment needs the treatment consent'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'appointment_treatment_needs_consent';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER appointment_treatment_needs_consent
    BEFORE INSERT OR UPDATE OF consent_id, service_id ON booking_appointment
    FOR EACH ROW EXECUTE FUNCTION booking_appointment_treatment_needs_consent()
    """,
]
BACKWARD = [
    "DROP TRIGGER appointment_treatment_needs_consent ON booking_appointment",
    "DROP FUNCTION booking_appointment_treatment_needs_consent()",
]


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0014_series_confirmation"),
        ("patients", "0008_caller_without_date_of_birth"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="caller_timezone",
            field=models.CharField(
                blank=True,
                help_text="For a call by phone: the clock the caller was told its time on (their browser's, their number's or their choice). Empty: the location's.",
                max_length=64,
                verbose_name="caller's time zone",
            ),
        ),
        migrations.AddField(
            model_name="appointment",
            name="concern",
            field=models.TextField(blank=True, max_length=2000, verbose_name="what is going on"),
        ),
        migrations.AddField(
            model_name="historicalappointment",
            name="caller_timezone",
            field=models.CharField(
                blank=True,
                help_text="For a call by phone: the clock the caller was told its time on (their browser's, their number's or their choice). Empty: the location's.",
                max_length=64,
                verbose_name="caller's time zone",
            ),
        ),
        migrations.AddField(
            model_name="historicalappointment",
            name="concern",
            field=models.TextField(blank=True, max_length=2000, verbose_name="what is going on"),
        ),
        migrations.AlterField(
            model_name="appointment",
            name="consent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="appointments",
                to="patients.consenttext",
            ),
        ),
        migrations.AlterField(
            model_name="appointment",
            name="consented_at",
            field=models.DateTimeField(
                help_text="When the treatment consent was given; for a discovery call, the consent to be contacted."
            ),
        ),
        migrations.AlterField(
            model_name="historicalappointment",
            name="consented_at",
            field=models.DateTimeField(
                help_text="When the treatment consent was given; for a discovery call, the consent to be contacted."
            ),
        ),
        migrations.RunSQL(TREATMENT_NEEDS_CONSENT, BACKWARD),
    ]
