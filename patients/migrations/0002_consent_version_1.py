from django.db import migrations
from django.utils import timezone

CONSENT_V1 = """I agree to be assessed and treated by the clinic's practitioner, which may include dry needling, \
acupuncture or cupping, as we agree at the visit. I can ask questions and stop treatment at any time.

I understand the common side effects: soreness like after a workout for 24 to 48 hours; minor bruising or \
redness; tiredness or light-headedness; twitching or cramping during treatment. Rarely, infection or nerve \
irritation can happen. Fewer than about 2 in 100 people report their sciatica feeling worse afterwards; I will \
call the clinic if my pain is still bad two days after a visit.

I have answered the safety questions truthfully and will tell my practitioner if anything changes, including \
pregnancy, blood thinners or a bleeding disorder."""


def publish_version_1(apps, schema_editor):
    ConsentText = apps.get_model("patients", "ConsentText")
    ConsentText.objects.get_or_create(version="1", defaults={"body": CONSENT_V1, "published_at": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [migrations.RunPython(publish_version_1, migrations.RunPython.noop)]
