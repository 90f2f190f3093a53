"""A real worker process killed (SIGKILL) while an email is in the mail server's hands loses
nothing: once the lease runs out, the next worker sends it again, with the same Message-ID."""

import email
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from booking.models import Appointment
from clinic.models import OutboundMessage
from tests.clinic.test_settings import ROOT
from tests.factories import AppointmentFactory


def start_worker(outbox: Path) -> subprocess.Popen:
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connection.settings_dict["NAME"]).geturl()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "EMAIL_BACKEND": "tests.clinic.slow_mail.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(outbox),
        "EMAIL_SEND_LEASE_SECONDS": "5",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_due_notifications", "--loop", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def delivered_message_ids(outbox: Path) -> list[str]:
    ids = []
    for path in outbox.glob("*.log"):
        for raw in path.read_bytes().split(b"-" * 79):
            if raw.strip():
                ids.append(email.message_from_bytes(raw.strip())["Message-ID"])
    return ids


@pytest.mark.django_db(transaction=True)
def test_every_confirmation_is_delivered_after_the_worker_is_killed_mid_send(tmp_path):
    appointments = [
        AppointmentFactory(start=timezone.now() + timedelta(days=2, hours=n), confirmation_sent_at=None)
        for n in range(6)
    ]
    Appointment.objects.update(confirmation_sent_at=None)
    worker = start_worker(tmp_path)
    try:
        assert wait_for(lambda: len(list(tmp_path.glob("*.marker"))) >= 3, 60), worker.stderr.read()
        worker.send_signal(signal.SIGKILL)  # the third email in the mail server's hands
        worker.wait(10)
    finally:
        worker.kill()
    in_hand = OutboundMessage.objects.filter(state=OutboundMessage.State.SENDING)
    assert in_hand.count() == 1, "the email in hand stays claimed, under its lease"

    second = start_worker(tmp_path)
    try:
        assert wait_for(lambda: OutboundMessage.objects.filter(state=OutboundMessage.State.SENT).count() == 6, 60)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(15)

    recorded = set(OutboundMessage.objects.values_list("message_id", flat=True))
    delivered = delivered_message_ids(tmp_path)
    assert len(recorded) == len(appointments)
    # Every confirmation arrived; the one in hand at the kill perhaps twice, as the same email.
    assert set(delivered) == recorded
    assert len(delivered) - len(set(delivered)) <= 1
    assert not OutboundMessage.objects.exclude(content=None).exists()
