"""Idempotency-Key: a POST that may safely be sent twice.

A client that sent a booking and got no answer (the phone lost its signal, the app server died
under it) cannot know whether it was made. Sent with an `Idempotency-Key` header (a random value
of its own, 16 to 100 letters, digits, `-`, `_`), the same request sent again with the same key
within a day is answered as the first was, and done once: the key, a fingerprint of the request
and the answer are stored in the same transaction as the booking itself, so either both are
there or neither is (a server killed before its commit leaves nothing, and the retry does it
afresh). The same key with another request is refused (422), never answered with the first one's
booking. Not stored: answers of 500 and more, and 400, 413, 415 and 429: nothing was done, and
the request may be sent again, mended or later. A retry that waits longer than
BOOKING_LOCK_TIMEOUT_MS for the first one to end is answered "busy" (503, Retry-After). The
balancer (deploy/haproxy.cfg) retries a POST on another app server only when it is one of these
four and carries a key.
"""

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from api import schemas
from api.protocol import (
    MAX_BODY_BYTES,
    Answer,
    Rejected,
    answers,
    declared_length,
    field_errors,
    problem,
    refusal_answer,
)
from booking.services import BookingError, busy_when_locked_out
from clinic.locks import advisory_xact_lock
from clinic.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEY = re.compile(r"[A-Za-z0-9_-]{16,100}")
KEPT_FOR = timedelta(days=1)
# Answers for which nothing was done yet: the request may be sent again, mended or later.
NOT_KEPT = frozenset({400, 413, 415, 429})
BAD_KEY = f"{HEADER} must be 16 to 100 letters, digits, '-' or '_' (a random value, new for each request)."
KEY_REUSED = f"This {HEADER} was used for a different request in the last 24 hours: send a new key with a new request."
REFERENCE = re.compile(rb'"reference":\s*"([^"]{1,12})"')

PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": f"^{KEY.pattern}$"},
    "description": (
        "A random value, new for each request: the same request sent again with the same key within "
        "24 hours is answered as the first was (header Idempotent-Replayed: true) and done once. The "
        "same key with another request is refused with 422."
    ),
}


def idempotent(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For a POST operation (as ninja's decorate_view): honour the Idempotency-Key header."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = request.headers.get(HEADER)
        length = declared_length(request)
        if key is None or length is None or length > MAX_BODY_BYTES:
            return run(request, *args, **kwargs)  # without a key, or the operation's 400/413
        if not KEY.fullmatch(key):
            return _as_json(field_errors({HEADER: [BAD_KEY]}))
        fingerprint = _fingerprint(request)
        now = timezone.now()
        _forget_expired(now)
        try:
            with busy_when_locked_out(), transaction.atomic():
                # The same key sent twice at once: the second waits here for the first to end.
                advisory_xact_lock(f"idempotency:{key}")
                IdempotentRequest.objects.filter(key=key, created_at__lt=now - KEPT_FOR).delete()
                earlier = IdempotentRequest.objects.filter(key=key).first()
                if earlier is not None:
                    return _replay(earlier) if earlier.fingerprint == fingerprint else _reused()
                response = run(request, *args, **kwargs)
                if response.status_code >= 500 or response.status_code in NOT_KEPT or response.streaming:
                    transaction.set_rollback(True)
                    return response
                about = REFERENCE.search(response.content)
                IdempotentRequest.objects.create(
                    key=key,
                    fingerprint=fingerprint,
                    status=response.status_code,
                    answer=response.content,
                    content_type=response.get("Content-Type", "application/json"),
                    about_reference=about.group(1).decode() if about else "",
                    created_at=now,
                )
        except BookingError as error:  # waited out BOOKING_LOCK_TIMEOUT_MS for the first one: busy
            return refusal_answer(error, _as_json)
        return response

    return wrapper


def keyed_answers(by_status: dict[int, Answer]) -> dict[str, Any]:
    """answers() for an operation that honours the key: the header and its 422 documented."""
    refused = by_status.get(422)
    reused = (schemas.KeyReused, "The Idempotency-Key was used for another request.")
    if refused is not None:
        reused = (refused[0] | schemas.KeyReused, f"{refused[1]} Or: {reused[1][0].lower()}{reused[1][1:]}")
    operation = answers({**by_status, 422: reused})
    operation["openapi_extra"].setdefault("parameters", []).append(PARAMETER)
    return operation


def _forget_expired(now) -> None:
    """Answers older than a day, a few at a time, in their own statement: rows another request
    is deleting are skipped, never waited for, and nothing stays locked while a booking runs."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM clinic_idempotentrequest WHERE id IN (SELECT id FROM clinic_idempotentrequest"
            " WHERE created_at < %s ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED)",
            [now - KEPT_FOR],
        )


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(earlier: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(earlier.answer), status=earlier.status, content_type=earlier.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def _reused() -> HttpResponse:
    return _as_json(problem(422, "idempotency_key_reused", KEY_REUSED))


def _as_json(rejected: Rejected) -> HttpResponse:
    # Outside the operation (it wraps ninja's run), so not through ninja's renderer.
    return JsonResponse(rejected.body, status=rejected.status)
