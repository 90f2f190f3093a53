"""Wall time and queries of the pages issue 18 asks about, in one process (the Django test
client, no HTTP), on whichever database DATABASE_URL names: the demo clinic, or the demo clinic
plus manage.py seed_large_install.

    DATABASE_URL=... python scripts/measure_pages.py [--location SLUG] [--practitioner SLUG] [--service SLUG]

Logged in as a superuser (the front desk's pages) and as the practitioner (their week); each page
asked 5 times to warm up and then 40 times, the median printed, with the number of queries of the
last request. docs/PERFORMANCE.md quotes it ("The large install").
"""

import argparse
import statistics
import sys
import time
from datetime import timedelta
from urllib.parse import urlencode

from in_process import setup_production_like

setup_production_like()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from clinic.models import Location, Practitioner  # noqa: E402


def measure(client: Client, path: str) -> tuple[float, int, int]:
    for _ in range(5):
        client.get(path)
    times = []
    for _ in range(40):
        began = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - began)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return statistics.median(times) * 1000, len(queries), response.status_code


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--location", default="westerville")
    parser.add_argument("--practitioner", default="maya-lindqvist")
    parser.add_argument("--service", default="cupping")
    parser.add_argument("--search", default="Chen", help="what the patients admin search types")
    args = parser.parse_args(argv)
    location = Location.objects.get(slug=args.location)
    practitioner = Practitioner.objects.get(slug=args.practitioner)
    day = timezone.localdate(timezone.now(), location.zone) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)

    admin, _ = get_user_model().objects.get_or_create(
        username="measure-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    front_desk = Client()
    front_desk.force_login(admin)
    pages = {
        "wizard day picker": (
            Client(),
            "/book/?" + urlencode({"service": args.service, "location": location.slug, "practitioner": "any"}),
        ),
        "reception day calendar": (
            front_desk,
            "/admin/reception/calendar/?" + urlencode({"location": location.slug, "date": day.isoformat()}),
        ),
        "reception week": (
            front_desk,
            "/admin/reception/week/?"
            + urlencode({"location": location.slug, "date": day.isoformat(), "practitioner": practitioner.pk}),
        ),
        "patients admin search": (front_desk, "/admin/patients/patient/?" + urlencode({"q": args.search})),
    }
    if practitioner.user is not None:
        own = Client()
        own.force_login(practitioner.user)
        pages["practitioner week"] = (own, "/schedule/week/?" + urlencode({"date": day.isoformat()}))
    print(f"{connection.settings_dict['NAME']}: {location.name}, {practitioner.name}, {day}, search {args.search!r}")
    for name, (client, path) in pages.items():
        milliseconds, queries, status = measure(client, path)
        print(f"  {name:<24} {milliseconds:7.1f} ms  {queries:3d} queries  {status}")


if __name__ == "__main__":
    main(sys.argv[1:])
