import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from booking.models import Appointment
from clinic.models import Condition, Location, Practitioner, PractitionerService, Service
from clinic.selectors import follow_up_service_for
from demo.clinic import DEMO_BOOKINGS

pytestmark = pytest.mark.django_db


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (Location, Practitioner, Service, Condition, PractitionerService, get_user_model())
    }


def test_seed_demo_builds_the_demo_clinic_and_is_idempotent(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    assert first == {
        "Location": 3,  # Westerville, Calgary and "By phone"
        "Practitioner": 4,
        "Service": 6,
        "Condition": 10,
        "PractitionerService": first["PractitionerService"],
        "User": 2 + 4,
    }
    assert Location.objects.filter(timezone="America/New_York").exists()
    assert set(Service.objects.values_list("duration_minutes", flat=True)) >= {60, 45, 75, 30, 15}
    discovery = Service.objects.get(kind="discovery_call")
    assert (discovery.duration_minutes, discovery.price) == (15, None)
    assert {"sciatica", "piriformis-syndrome"} <= set(Condition.objects.values_list("slug", flat=True))
    assert "reception" in capsys.readouterr().out


def test_demo_practitioners_are_qualified_as_their_professions_allow(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    acupuncturist = Practitioner.objects.get(title__icontains="licensed acupuncturist")
    offered = set(acupuncturist.services.values_list("slug", flat=True))
    assert "cupping" in offered
    assert not any("dry-needling" in slug for slug in offered)
    chiropractor = Practitioner.objects.get(title__icontains="chiropractor")
    assert any("dry-needling" in slug for slug in chiropractor.services.values_list("slug", flat=True))
    assert Practitioner.objects.filter(bio__icontains="herbal").exists()


def test_demo_logins_work_with_their_roles(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    # django-axes counts login attempts per request: authenticate() needs one.
    request = RequestFactory().post("/admin/login/")
    admin = authenticate(request, username="admin", password="demo")
    reception = authenticate(request, username="reception", password="demo")
    assert admin.is_superuser
    assert reception.is_staff and not reception.is_superuser
    assert reception.groups.filter(name="Reception").exists()
    for practitioner in Practitioner.objects.select_related("user"):
        assert authenticate(request, username=practitioner.user.username, password="demo") == practitioner.user
        assert practitioner.user.groups.filter(name="Practitioner").exists()
        assert not practitioner.user.is_staff


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("seed_demo")
    assert Location.objects.count() == 0


def test_seed_demo_books_made_up_patients_once_through_the_booking_service(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    booked = Appointment.objects.filter(patient__email__endswith="@example.com")
    assert booked.count() == len(DEMO_BOOKINGS)
    assert set(booked.values_list("source", flat=True)) == {"phone"}
    assert all(hasattr(appointment, "screening") for appointment in booked)
    call_command("seed_demo")
    assert booked.count() == len(DEMO_BOOKINGS)


def test_demo_initial_visits_name_their_follow_ups(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    follow_ups = {
        service.slug: service.follow_up_service.slug if service.follow_up_service else None
        for service in Service.objects.select_related("follow_up_service")
    }
    assert follow_ups["dry-needling-initial-assessment"] == "dry-needling-follow-up"
    assert follow_ups["acupuncture-initial-consultation"] == "acupuncture-follow-up"
    assert follow_ups["cupping"] is None  # cupping is followed by cupping
    cupping = Service.objects.get(slug="cupping")
    assert follow_up_service_for(cupping) == cupping
