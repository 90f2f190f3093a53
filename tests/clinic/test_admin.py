"""The catalogue admin, as reception and the owner use it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.models import Practitioner, PractitionerService, Service
from tests.factories import ConditionFactory, PatientFactory, PractitionerFactory, ServiceFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = ["location", "practitioner", "service", "condition"]


@pytest.fixture
def big_catalogue(catalogue):
    services = ServiceFactory.create_batch(10)
    PractitionerFactory.create_batch(30, services=services, locations=catalogue["locations"])
    ConditionFactory.create_batch(20, related_services=services)
    return catalogue


@pytest.mark.parametrize("model", CHANGELISTS)
def test_reception_works_every_catalogue_list_in_bounded_queries(
    client, receptionist, big_catalogue, django_assert_max_num_queries, model
):
    client.force_login(receptionist)
    with django_assert_max_num_queries(12):
        response = client.get(reverse(f"admin:clinic_{model}_changelist"), {"q": ""})
    assert response.status_code == 200


@pytest.mark.parametrize("model", CHANGELISTS)
def test_catalogue_search_finds_by_name(client, superuser, catalogue, model):
    client.force_login(superuser)
    response = client.get(reverse(f"admin:clinic_{model}_changelist"), {"q": "zzz-no-match"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_reception_can_update_a_practitioner_and_their_qualified_services(
    client, receptionist, physio, acupuncture, westerville
):
    client.force_login(receptionist)
    url = reverse("admin:clinic_practitioner_change", args=[physio.pk])
    form = client.get(url)
    assert form.status_code == 200
    assert "services this practitioner is qualified for" in form.content.decode().lower()
    existing = list(physio.qualifications.all())
    data = {
        "name": physio.name,
        "slug": physio.slug,
        "title": "Physiotherapist",
        "credentials": "PT, DPT, certified in dry needling",
        "bio": "New bio.",
        "locations": [westerville.pk],
        "display_order": 1,
        "is_active": "on",
        "qualifications-TOTAL_FORMS": len(existing) + 1,
        "qualifications-INITIAL_FORMS": len(existing),
        "qualifications-MIN_NUM_FORMS": 0,
        "qualifications-MAX_NUM_FORMS": 1000,
        f"qualifications-{len(existing)}-service": acupuncture.pk,
        f"qualifications-{len(existing)}-practitioner": physio.pk,
    }
    for index, qualification in enumerate(existing):
        data[f"qualifications-{index}-id"] = qualification.pk
        data[f"qualifications-{index}-service"] = qualification.service_id
        data[f"qualifications-{index}-practitioner"] = physio.pk
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    physio.refresh_from_db()
    assert physio.bio == "New bio."
    assert PractitionerService.objects.filter(practitioner=physio, service=acupuncture).exists()


def test_reception_sees_services_but_cannot_change_prices(client, receptionist, dry_needling):
    client.force_login(receptionist)
    url = reverse("admin:clinic_service_change", args=[dry_needling.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="price"' not in page.content.decode()  # read-only view
    response = client.post(url, {"price": "1.00"})
    assert response.status_code == 403
    dry_needling.refresh_from_db()
    assert str(dry_needling.price) == "95.00"
    assert client.get(reverse("admin:clinic_service_add")).status_code == 403


def test_reception_cannot_link_logins_to_practitioners(client, receptionist, physio):
    client.force_login(receptionist)
    page = client.get(reverse("admin:clinic_practitioner_change", args=[physio.pk])).content.decode()
    assert 'name="user"' not in page
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_practitioners_and_outsiders_are_sent_to_the_admin_login(client, practitioner_user, outsider, catalogue):
    url = reverse("admin:clinic_service_changelist")
    assert client.get(url).status_code == 302
    for user in (practitioner_user, outsider):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_owner_adds_a_service_with_its_advice(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:clinic_service_add"),
        {
            "name": "Instrument-assisted scraping",
            "slug": "scraping",
            "kind": "treatment",
            "short_description": "Scraping for tight fascia.",
            "is_active": "on",
            "display_order": 50,
            "duration_minutes": 30,
            "buffer_after_minutes": 10,
            "price": "70.00",
            "who_can_book": "anyone",
            "what_to_expect": "A smooth tool glides over the skin.",
            "qualifications-TOTAL_FORMS": 0,
            "qualifications-INITIAL_FORMS": 0,
            "qualifications-MIN_NUM_FORMS": 0,
            "qualifications-MAX_NUM_FORMS": 1000,
        },
    )
    assert response.status_code == 302
    assert Service.objects.get(slug="scraping").duration_minutes == 30


def test_admin_rejects_an_unknown_time_zone_with_a_message(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:clinic_location_add"),
        {
            "name": "Bangalore",
            "slug": "bangalore",
            "address": "MG Road",
            "phone": "+918045550100",
            "timezone": "India/Bangalore",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "is not an IANA time zone" in response.content.decode()


def test_practitioner_admin_shows_locations_without_a_query_per_row(
    client, superuser, big_catalogue, django_assert_max_num_queries
):
    client.force_login(superuser)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("admin:clinic_practitioner_changelist"))
    assert "Westerville, Calgary" in page.content.decode() or "Calgary, Westerville" in page.content.decode()
    assert Practitioner.objects.count() > 30


def test_the_admin_index_opens_with_the_front_desk_shortcuts_for_reception(client, receptionist):
    client.force_login(receptionist)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="reception-desk"' in page
    desk = page.split('id="reception-desk"', 1)[1].split("</div>", 1)[0]
    for url in (
        reverse("reception:calendar"),
        reverse("admin:booking_appointment_add"),
        reverse("admin:discovery_discoverycallrequest_changelist"),
    ):
        assert f'<li><a href="{url}' in desk
    # A list, not a table: a phone-narrow table column broke the links' words mid-word.
    assert "<table" not in desk


def test_a_staff_user_without_reception_permissions_sees_no_front_desk(client, practitioner_user):
    practitioner_user.is_staff = True
    practitioner_user.save()
    client.force_login(practitioner_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert b'id="reception-desk"' not in response.content


def test_a_patient_page_links_to_booking_for_that_patient(client, receptionist):
    patient = PatientFactory()
    client.force_login(receptionist)
    page = client.get(reverse("admin:patients_patient_change", args=[patient.pk])).content.decode()
    assert f'href="{reverse("admin:booking_appointment_add")}?patient={patient.pk}"' in page


def test_the_admin_login_points_practitioners_to_their_own_login(client):
    page = client.get(reverse("admin:login")).content.decode()
    assert f'href="{reverse("schedule:login")}"' in page


def test_owner_names_a_follow_up_service_from_the_treatments(client, superuser, dry_needling, acupuncture,
                                                             discovery_call):  # fmt: skip
    client.force_login(superuser)
    url = reverse("admin:clinic_service_change", args=[dry_needling.pk])
    form = client.get(url).context["adminform"].form
    offered = set(form.fields["follow_up_service"].queryset)
    assert acupuncture in offered and discovery_call not in offered  # treatments only
    assert "The service booked for follow-up visits" in client.get(url).content.decode()
    discovery_call.follow_up_service = acupuncture
    with pytest.raises(ValidationError, match="A discovery call has no follow-up visits"):
        discovery_call.full_clean()
