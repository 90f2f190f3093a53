"""CPU per uncached availability answer, in one process (the Django test client, no HTTP):

    DATABASE_URL=... python scripts/profile_availability.py DAYS PRACTITIONER [--profile [tottime] [cached]]

with SERVICE and LOC in the environment (default dry-needling-initial-assessment at westerville).
Production settings, DEBUG off; the cache is cleared before each request, so every answer is
computed. Prints CPU ms per request (time.process_time over 300 requests after 50 of warm-up)
and /healthz's in the same process, then 300 answers from the cache; --profile adds cProfile's top 45
over 200 more uncached requests (--profile cached: 600 from the cache).
docs/PERFORMANCE.md quotes it ("Issue 18").
"""

import cProfile
import os
import pstats
import sys
import time
from datetime import timedelta
from urllib.parse import urlencode

from in_process import setup_production_like

setup_production_like()

from django.core.cache import cache  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402


def main(argv: list[str]) -> None:
    days, who = int(argv[0]), argv[1]
    client, today = Client(), timezone.localdate()
    paths = []
    for number in range(30):
        first = today + timedelta(days=2 + number)
        query = {
            "service": os.environ.get("SERVICE", "dry-needling-initial-assessment"),
            "location": os.environ.get("LOC", "westerville"),
            "practitioner": who,
            "start": first.isoformat(),
            "end": (first + timedelta(days=days - 1)).isoformat(),
        }
        paths.append("/api/v1/availability?" + urlencode(query))
    answer = client.get(paths[0])
    assert answer.status_code == 200, answer.content[:300]

    def uncached(count: int) -> None:
        for number in range(count):
            cache.clear()
            client.get(paths[number % len(paths)])

    uncached(50)
    began = time.process_time()
    uncached(300)
    print(f"{days}-day {who}: {(time.process_time() - began) / 300 * 1000:.2f} ms CPU per request (uncached)")
    for path in paths:
        client.get(path)  # each answer cached
    began = time.process_time()
    for number in range(300):
        client.get(paths[number % len(paths)])
    print(f"{days}-day {who}: {(time.process_time() - began) / 300 * 1000:.2f} ms CPU per request (from the cache)")
    began = time.process_time()
    for _ in range(300):
        client.get("/healthz")
    print(f"/healthz: {(time.process_time() - began) / 300 * 1000:.2f} ms CPU per request")
    if "--profile" in argv:
        profile = cProfile.Profile()
        profile.enable()
        if "cached" in argv:
            for number in range(600):
                client.get(paths[number % len(paths)])
        else:
            uncached(200)
        profile.disable()
        order = "tottime" if "tottime" in argv else "cumulative"
        pstats.Stats(profile).sort_stats(order).print_stats(45)


if __name__ == "__main__":
    main(sys.argv[1:])
