"""clinic/locks.py: an advisory lock outside a transaction would end with its statement and
guard nothing, so it is refused; inside one it is held until the transaction ends."""

import pytest
from django.db import connection, transaction

from clinic.locks import advisory_xact_lock

pytestmark = pytest.mark.django_db(transaction=True)


def test_refused_outside_a_transaction():
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        advisory_xact_lock("anything")


def test_held_until_the_transaction_ends():
    def held() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            return cursor.fetchone()[0]

    with transaction.atomic():
        advisory_xact_lock("waitlist:someone@example.com")
        assert held() == 1
    assert held() == 0
