"""Transaction-scoped advisory locks: serialise look-then-insert on a value no row holds yet."""

import hashlib

from django.db import connection


def advisory_xact_lock(key: str) -> None:
    """Hold a lock on `key` until the transaction ends; others asking for it wait.

    pg_advisory_xact_lock takes a bigint: the first 8 bytes of a hash of the key. A
    collision only makes two keys wait for each other, never a wrong answer. Outside a
    transaction the lock would end with its own statement and guard nothing: refused.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("An advisory lock is held until the transaction ends: take it inside transaction.atomic.")
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])
