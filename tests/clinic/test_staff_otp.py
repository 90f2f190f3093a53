"""Optional TOTP for staff: enrol an app, then the admin asks for its code after the password."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import AppointmentFactory

ADMIN_INDEX = "/admin/"


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def reception_client(client, receptionist):
    client.force_login(receptionist)
    return client


@pytest.mark.django_db
def test_without_a_device_the_password_is_enough(reception_client):
    assert reception_client.get(ADMIN_INDEX).status_code == 200


@pytest.mark.django_db
def test_enrolling_shows_the_key_and_a_right_code_confirms_it(reception_client, receptionist):
    page = reception_client.get(reverse("staff_otp:enrol"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=receptionist, confirmed=False)
    assert "otpauth://totp/" in page.text

    confirmed = reception_client.post(reverse("staff_otp:enrol"), {"token": code(device)})
    assert confirmed.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    # Enrolled in this session with a code: the admin stays open.
    assert reception_client.get(ADMIN_INDEX).status_code == 200


@pytest.mark.django_db
def test_a_wrong_code_does_not_confirm_the_device(reception_client, receptionist):
    reception_client.get(reverse("staff_otp:enrol"))
    device = TOTPDevice.objects.get(user=receptionist, confirmed=False)
    wrong = reception_client.post(
        reverse("staff_otp:enrol"), {"token": "000000" if code(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 200
    assert "did not match" in wrong.text
    device.refresh_from_db()
    assert not device.confirmed


@pytest.mark.django_db
def test_with_a_device_the_admin_asks_for_the_code_after_the_password(client, receptionist):
    device = TOTPDevice.objects.create(user=receptionist, name="phone", confirmed=True)
    client.post(reverse("admin:login"), {"username": "reception", "password": "demo-password", "next": ADMIN_INDEX})

    blocked = client.get(ADMIN_INDEX)
    assert blocked.status_code == 302
    assert blocked.url.startswith(reverse("staff_otp:verify"))
    assert client.get(reverse("admin:booking_appointment_changelist")).status_code == 302

    refused = client.post(reverse("staff_otp:verify"), {"token": "12345", "next": ADMIN_INDEX})
    assert refused.status_code == 200
    assert client.get(ADMIN_INDEX).status_code == 302

    accepted = client.post(reverse("staff_otp:verify"), {"token": code(device), "next": ADMIN_INDEX})
    assert accepted.status_code == 302
    assert accepted.url == ADMIN_INDEX
    assert client.get(ADMIN_INDEX).status_code == 200


@pytest.mark.django_db
def test_the_code_step_does_not_follow_a_next_link_off_the_site(reception_client, receptionist):
    device = TOTPDevice.objects.create(user=receptionist, name="phone", confirmed=True)
    response = reception_client.post(
        reverse("staff_otp:verify"), {"token": code(device), "next": "https://evil.example/"}
    )
    assert response.url == ADMIN_INDEX


@pytest.mark.django_db
def test_staff_otp_required_sends_staff_without_a_device_to_enrol(reception_client, settings):
    settings.STAFF_OTP_REQUIRED = True
    response = reception_client.get(ADMIN_INDEX)
    assert response.status_code == 302
    assert response.url == reverse("staff_otp:enrol")


@pytest.mark.django_db
def test_a_practitioner_must_enrol_when_required_and_cannot_reach_screening_answers_first(
    client, physio, practitioner_user, settings
):
    settings.STAFF_OTP_REQUIRED = True
    client.post(reverse("schedule:login"), {"username": "maya", "password": "demo-password"})
    assert client.get(reverse("schedule:day"))["Location"] == reverse("staff_otp:enrol")
    appointment = AppointmentFactory(practitioner=physio)
    assert client.get(reverse("schedule:appointment", args=[appointment.pk]))["Location"] == reverse("staff_otp:enrol")
    page = client.get(reverse("staff_otp:enrol"))
    assert page.status_code == 200 and "otpauth://" in page.content.decode()  # was a 403
    device = TOTPDevice.objects.get(user=practitioner_user, confirmed=False)
    confirmed = client.post(reverse("staff_otp:enrol"), {"token": code(device)})
    assert confirmed["Location"] == reverse("schedule:day")
    assert client.get(reverse("schedule:day")).status_code == 200


@pytest.mark.django_db
def test_a_practitioner_with_an_app_gives_a_code_after_the_password(client, physio, practitioner_user):
    device = TOTPDevice.objects.create(user=practitioner_user, name="phone", confirmed=True)
    client.post(reverse("schedule:login"), {"username": "maya", "password": "demo-password"})
    day = reverse("schedule:day")
    assert client.get(day)["Location"].startswith(reverse("staff_otp:verify"))
    assert client.post(reverse("staff_otp:verify"), {"token": "000000", "next": day}).status_code == 200
    assert client.get(day).status_code == 302
    with time_machine.travel(timezone.now() + timedelta(seconds=2), tick=True):  # past the wrong code's wait
        accepted = client.post(reverse("staff_otp:verify"), {"token": code(device), "next": day})
        assert accepted["Location"] == day
        assert client.get(day).status_code == 200


@pytest.mark.django_db
def test_wrong_codes_are_throttled_for_practitioners_too(client, physio, practitioner_user):
    device = TOTPDevice.objects.create(user=practitioner_user, name="phone", confirmed=True)
    client.post(reverse("schedule:login"), {"username": "maya", "password": "demo-password"})
    now = timezone.now()
    for failure in range(3):  # each after the previous one's wait: 1 s, then 2 s
        with time_machine.travel(now + timedelta(seconds=4 * failure), tick=False):
            client.post(reverse("staff_otp:verify"), {"token": "000000"})
    device.refresh_from_db()
    assert device.throttling_failure_count == 3
    # Throttled now (4 s after the third): even the right code is refused until the wait has passed.
    with time_machine.travel(now + timedelta(seconds=9), tick=False):
        assert client.post(reverse("staff_otp:verify"), {"token": code(device)}).status_code == 200
        assert client.get(reverse("schedule:day")).status_code == 302


@pytest.mark.django_db
def test_an_account_that_reaches_no_patient_data_is_not_offered_it(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("staff_otp:enrol")).status_code == 403
