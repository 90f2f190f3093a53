import pytest
from django.urls import reverse

from tests.factories import ConditionFactory, PractitionerFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_home_names_the_three_therapies_and_both_calls_to_action(client, catalogue):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Initial assessment + dry needling" in page
    assert "Acupuncture follow-up" in page
    assert "Book now" in page
    assert 'href="/book/?service=free-discovery-call">Free discovery call' in page
    assert "Sciatica" in page


def test_footer_shows_each_location_with_a_tap_to_call_number(client, catalogue):
    page = client.get("/").content.decode()
    assert 'href="tel:+16145550142"' in page
    assert 'href="tel:+14035550163"' in page


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("clinic:home", []),
        ("clinic:service_list", []),
        ("clinic:service_detail", ["dry-needling-initial"]),
        ("clinic:practitioner_list", []),
        ("clinic:practitioner_detail", ["maya-lindqvist"]),
        ("clinic:condition_list", []),
        ("clinic:condition_detail", ["sciatica"]),
    ],
)
def test_every_public_page_runs_a_fixed_number_of_queries(
    client, catalogue, django_assert_max_num_queries, url_name, args
):
    # Grow the catalogue: the count must not follow it.
    extra_services = ServiceFactory.create_batch(8)
    PractitionerFactory.create_batch(6, services=extra_services, locations=catalogue["locations"])
    ConditionFactory.create_batch(8, related_services=extra_services)
    with django_assert_max_num_queries(4):
        response = client.get(reverse(url_name, args=args))
    assert response.status_code == 200


def test_service_detail_shows_the_advice_and_who_offers_it(client, catalogue, dry_needling):
    dry_needling.side_effects = "Soreness for 24 to 48 hours."
    dry_needling.before_visit_advice = "Eat a light meal."
    dry_needling.after_visit_advice = "Walk gently."
    dry_needling.session_guidance = "Acute problems: 2 to 4 sessions."
    dry_needling.save()
    page = client.get(dry_needling.get_absolute_url()).content.decode()
    for text in ["Soreness for 24 to 48 hours.", "Eat a light meal.", "Walk gently.", "2 to 4 sessions", "$95.00"]:
        assert text in page
    assert "Maya Lindqvist" in page
    assert "Sofia Marchetti" not in page  # not qualified for dry needling
    assert 'href="/conditions/sciatica/"' in page


URGENT_HEADING = "When not to book: get urgent care now"
FOOTER_URGENT = "If you have lost bowel or bladder control"


def test_condition_page_warns_once_then_offers_each_treatment_to_book(client, catalogue, sciatica, acupuncture):
    acupuncture.who_can_book = "returning"
    acupuncture.save()
    page = client.get("/conditions/sciatica/").content.decode()
    assert page.count(URGENT_HEADING) == 1 and FOOTER_URGENT not in page
    treatments = page[page.index('id="treatments"') : page.index('id="about-heading"')]
    assert page.index(URGENT_HEADING) < page.index('id="treatments"')
    book_links = [href.split('"')[0] for href in treatments.split('href="/book/?service=')[1:]]
    # A newcomer's first visit first, follow-ups for returning patients after it.
    assert book_links == ["dry-needling-initial", "acupuncture-follow-up"]
    assert 'href="/services/dry-needling-initial/"' in treatments and "for returning patients" in treatments


def test_a_condition_with_its_own_urgent_signs_shows_those_instead_of_the_general_list(client, catalogue, sciatica):
    sciatica.urgent_signs = "A sudden, severe headache needs urgent medical care."
    sciatica.save()
    page = client.get("/conditions/sciatica/").content.decode()
    assert page.count(URGENT_HEADING) == 1
    assert "A sudden, severe headache needs urgent medical care." in page
    assert "loss of bowel or bladder control" not in page


def test_service_and_practitioner_pages_book_from_the_top_and_from_a_bar_on_phones(client, catalogue):
    page = client.get("/services/dry-needling-initial/").content.decode()
    assert page.count('href="/book/?service=dry-needling-initial"') == 3  # top, phone bar, how to book
    assert 'class="book-bar d-md-none"' in page
    page = client.get("/practitioners/maya-lindqvist/").content.decode()
    assert page.count('href="/book/?practitioner=maya-lindqvist">Book with Maya Lindqvist</a>') == 2


def test_the_menu_opens_without_javascript(client, catalogue):
    page = client.get("/").content.decode()
    menu = page[page.index('<details class="site-menu') : page.index("</details>")]
    for link in ('href="/services/"', 'href="/conditions/"', 'href="/practitioners/"', 'href="/book/"'):
        assert link in menu
    assert "<script" not in page  # nothing on a public page needs a script to work


def test_practitioner_page_lists_their_services_and_locations(client, catalogue):
    page = client.get("/practitioners/sofia-marchetti/").content.decode()
    assert "Licensed Acupuncturist" in page
    assert "Acupuncture follow-up" in page
    assert "Calgary" in page and "Westerville" in page


def test_inactive_items_are_hidden_everywhere(client, catalogue, acupuncture, acupuncturist, sciatica, calgary):
    for item in (acupuncture, acupuncturist, sciatica, calgary):
        item.is_active = False
        item.save()
    pages = "".join(
        client.get(url).content.decode()
        for url in ["/", "/services/", "/practitioners/", "/conditions/", "/practitioners/maya-lindqvist/"]
    )
    assert "Acupuncture follow-up" not in pages
    assert "Sofia Marchetti" not in pages
    assert "Sciatica" not in pages
    assert "+14035550163" not in pages
    for url in ["/services/acupuncture-follow-up/", "/practitioners/sofia-marchetti/", "/conditions/sciatica/"]:
        assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url", ["/services/no-such-thing/", "/practitioners/nobody/", "/conditions/unknown/", "/nowhere/"]
)
def test_unknown_slugs_get_the_friendly_404_page(client, catalogue, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_pages_refuse_writes(client, catalogue):
    assert client.post("/services/").status_code == 405


def test_healthz_answers_ok_after_a_database_round_trip(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]
