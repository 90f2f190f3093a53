"""Optional TOTP for staff: enrol an app, then the admin asks for its code after the password."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

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
def test_practitioners_are_not_asked(client, physio, practitioner_user, settings):
    settings.STAFF_OTP_REQUIRED = True
    client.force_login(practitioner_user)
    assert client.get(reverse("schedule:day")).status_code == 200
