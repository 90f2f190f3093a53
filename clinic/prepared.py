"""Server-side prepared statements for the hottest hand-written queries.

PostgreSQL plans a statement each time it is sent; for the availability lookup, planning took
longer than running it (0.35 ms against 0.1 ms, docs/PERFORMANCE.md) and was most of the
database's CPU under load. A PreparedStatement is PREPAREd once per database connection (the
app servers keep theirs, DB_CONN_MAX_AGE) and EXECUTEd after that.

Needs a session-level connection to PostgreSQL: a pooler in transaction mode (PgBouncer's
default) hands each transaction a different server connection, where the name is unknown;
DEPLOY.md says to set DB_PREPARED_STATEMENTS=0 behind one.
"""

import re
import weakref
from typing import Any

from django.conf import settings
from django.db import connection

_PARAMETER = re.compile(r"%\((\w+)\)s")
# Which statements each raw connection has prepared; forgotten with the connection.
_prepared_on: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


class PreparedStatement:
    """SQL with %(name)s parameters, executed as a prepared statement where allowed."""

    def __init__(self, name: str, sql: str):
        self.name, self.sql = name, sql
        self.parameters = list(dict.fromkeys(_PARAMETER.findall(sql)))
        numbers = {parameter: f"${position}" for position, parameter in enumerate(self.parameters, start=1)}
        self._prepare = f"PREPARE {name} AS " + _PARAMETER.sub(lambda match: numbers[match.group(1)], sql)
        self._execute = f"EXECUTE {name} ({', '.join(['%s'] * len(self.parameters))})"

    def execute(self, cursor: Any, params: dict[str, Any]) -> None:
        if not settings.DB_PREPARED_STATEMENTS:
            cursor.execute(self.sql, params)
            return
        raw = connection.connection
        prepared = _prepared_on.setdefault(raw, set())
        if self.name not in prepared:
            # Set-up of the connection, like the session settings Django sends on connecting:
            # sent past Django's cursor, so query counts count the statements, not this.
            with raw.cursor() as setup:
                setup.execute(self._prepare)
            prepared.add(self.name)
        cursor.execute(self._execute, [params[parameter] for parameter in self.parameters])
