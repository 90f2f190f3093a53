"""Private pages stay out of search engines: every address but the public pages answers with
`X-Robots-Tag: noindex, nofollow`, found by walking the URL table (a page added later is
private unless it is named public); the private pages patients open carry the meta tag too;
robots.txt keeps crawlers away from them; /favicon.ico is no 404."""

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from clinic.search_engines import INDEXABLE_PAGES
from tests.factories import AppointmentFactory
from tests.waitlist.helpers import join, make_offers

pytestmark = pytest.mark.django_db

# A value for each kind of path argument; most such addresses are a 404, which must not be
# indexed either.
SAMPLE_ARGUMENTS = {"int": "1", "slug": "no-such-thing", "str": "no-such-token", "path": "no/such"}


def every_route(resolver=None, prefix="", namespace=""):
    """(view name, a sample path) for every named pattern of the URL table, included ones too."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from every_route(pattern, prefix + route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            path = prefix + route
            for converter, sample in SAMPLE_ARGUMENTS.items():
                path = _fill(path, converter, sample)
            yield f"{namespace}{pattern.name}", "/" + path.lstrip("^").rstrip("$")


def _fill(path: str, converter: str, sample: str) -> str:
    import re

    path = re.sub(rf"<{converter}:\w+>", sample, path)
    return re.sub(r"<(\w+)>", sample, path) if converter == "str" else path


ROUTES = sorted(set(every_route()))


def test_the_public_pages_are_named_on_purpose():
    # Adding a page here lists it in search engines: only pages with nothing personal in them.
    assert sorted(INDEXABLE_PAGES) == [
        "booking:start",
        "clinic:condition_detail",
        "clinic:condition_list",
        "clinic:home",
        "clinic:practitioner_detail",
        "clinic:practitioner_list",
        "clinic:service_detail",
        "clinic:service_list",
        "discovery:request",
        "waitlist:join",
    ]
    assert set(INDEXABLE_PAGES) <= {name for name, _ in ROUTES}


@pytest.mark.parametrize(("name", "path"), [route for route in ROUTES if route[0] not in INDEXABLE_PAGES])
def test_every_other_address_says_noindex(client, name, path):
    response = client.get(path)
    assert response["X-Robots-Tag"] == "noindex, nofollow", (name, path, response.status_code)


def test_the_public_pages_may_be_indexed(client):
    response = client.get(reverse("clinic:home"))
    assert response.status_code == 200
    assert "X-Robots-Tag" not in response
    assert b'name="robots"' not in response.content


def test_the_pages_patients_open_from_their_emails_carry_the_meta_tag_too(
    client, dry_needling, westerville, physio, open_all_week, booking_day
):
    appointment = AppointmentFactory(practitioner=physio, location=westerville, service=dry_needling)
    entry = join(dry_needling, westerville, booking_day)
    first = timezone.now() + timedelta(days=2)
    AppointmentFactory(practitioner=physio, location=westerville, service=dry_needling,
                       start=first, end=first + timedelta(hours=1))  # fmt: skip
    pages = [
        reverse("booking:manage", args=[appointment.manage_token]),
        reverse("booking:reschedule", args=[appointment.manage_token]),
        reverse("booking:cancel", args=[appointment.manage_token]),
        reverse("waitlist:entry", args=[entry.token]),
    ]
    offers = make_offers()
    pages += [reverse("waitlist:offer", args=[offer.token]) for offer in offers[:1]]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response["X-Robots-Tag"] == "noindex, nofollow", page
        assert b'<meta name="robots" content="noindex, nofollow">' in response.content, page


def test_the_discovery_thank_you_page_is_private(client, westerville):
    from django.core import signing

    from discovery.views import THANKS_SALT

    token = signing.dumps({"reference": "DC-ABCDE", "best_time": "morning"}, salt=THANKS_SALT)
    response = client.get(reverse("discovery:thanks", args=[token]))
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    if response.status_code == 200:
        assert b'<meta name="robots" content="noindex, nofollow">' in response.content


def test_robots_txt_keeps_crawlers_from_the_staff_areas_but_lets_them_read_noindex(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    for prefix in ["/schedule/", "/staff/", "/admin/", "/api/"]:
        assert f"Disallow: {prefix}\n" in text
    # A disallowed address is never fetched, so its noindex is never read, and a search engine
    # lists it, token and all, wherever it is linked: the token pages are left to their header.
    for prefix in ["/appointments/", "/waitlist/", "/discovery-call/"]:
        assert prefix not in text


def test_a_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/vnd.microsoft.icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age=86400" in response["Cache-Control"]
    home = client.get(reverse("clinic:home")).content.decode()
    assert '<link rel="icon" href="/favicon.ico"' in home
