"""A real PostgreSQL stopped under a few concurrent requests, then started again: gunicorn with
production settings answers 503 with Retry-After (JSON on the API, a page with the clinics'
numbers elsewhere), never a 500, logs one line instead of a traceback per request, and serves
again once the database is back, without a restart."""

import contextlib
import http.client
import json
import tempfile
import threading
import time
from pathlib import Path


def get(port: int, path: str) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"X-Real-IP": "10.9.8.7"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_a_stopped_database_answers_503_and_the_site_recovers_by_itself(load_script):
    bench = load_script("bench")
    dev = load_script("dev")
    with tempfile.TemporaryDirectory(prefix="clinic-outage-") as folder:
        cluster = dev.ThrowawayCluster(Path(folder))
        server = None
        try:
            port = bench.free_port()
            env = bench.production_env(cluster.url, port)
            dev.manage("migrate", "--no-input", "--verbosity=0", env=env)
            dev.manage("seed_demo", env={**env, "DEBUG": "1"})
            dev.manage("collectstatic", "--no-input", "--verbosity=0", env=env)
            log_path = Path(folder) / "gunicorn.log"
            server = bench.start_gunicorn(env, port, workers=2, threads=4, log_path=log_path)
            bench.wait_until_healthy(server, port, log_path)
            paths = ["/", "/services/", "/book/", "/api/v1/services", "/healthz"]
            for path in paths:  # every thread of both workers has its connection and the footer's numbers
                for _ in range(8):
                    assert get(port, path)[0] == 200, path

            cluster.stop()
            answers: list[tuple[str, int, dict, bytes]] = []

            def visitor(path: str) -> None:
                for _ in range(5):
                    status, headers, body = get(port, path)
                    answers.append((path, status, headers, body))

            visitors = [threading.Thread(target=visitor, args=(path,)) for path in paths for _ in range(2)]
            for thread in visitors:
                thread.start()
            for thread in visitors:
                thread.join(timeout=60)

            assert len(answers) == len(paths) * 2 * 5
            assert {status for _, status, _, _ in answers} == {503}, [(p, s) for p, s, _, _ in answers if s != 503]
            assert all(headers.get("Retry-After") for _, _, headers, _ in answers)
            api = next(body for path, _, _, body in answers if path.startswith("/api/"))
            assert json.loads(api)["code"] == "unavailable"
            page = next(body for path, _, _, body in answers if path == "/").decode()
            assert "Back in a minute" in page and "(614) 555-0142" in page

            cluster.start()
            deadline, recovered = time.monotonic() + 30, False
            while time.monotonic() < deadline and not recovered:
                recovered = all(get(port, path)[0] == 200 for path in paths)
                time.sleep(0.2)
            assert recovered, "the site did not recover without a restart"
            assert server.poll() is None
            log = log_path.read_text()
            assert "Traceback" not in log, log[-3000:]
            assert "Database unavailable (OperationalError): answering 503" in log
        finally:
            if server is not None:
                bench.stop(server)
            with contextlib.suppress(Exception):  # already stopped
                cluster.stop()
