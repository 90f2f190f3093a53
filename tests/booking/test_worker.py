"""The email worker as a process: a process manager's SIGTERM stops it cleanly between rounds."""

import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from django.db import connection

from tests.clinic.test_settings import ROOT


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_the_looping_worker_after_its_round():
    # The server the suite runs on (the embedded one, or DATABASE_URL's): its test database.
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connection.settings_dict["NAME"]).geturl()
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "send_due_notifications", "--loop", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)  # started and polling
        assert worker.poll() is None, worker.stderr.read()
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=15)
    finally:
        worker.kill()

    assert worker.returncode == 0, err
    assert "Email worker stopped." in out
