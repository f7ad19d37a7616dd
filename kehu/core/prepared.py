"""Run one of the hot statements as a server-side prepared statement on PostgreSQL.

Django's PostgreSQL cursors bind parameters on the client, so the server parses and
plans every statement each time. For the two statements every registration runs (the
API token with its staff member, kehu.org.services; the one-statement insert,
kehu.core.inserts) planning costs the server more than running them: measured with
``make bench``, the token query took 0.31 ms of server CPU a call planned each time and
0.04 ms prepared. Here they are prepared once per connection, on psycopg's own cursor,
with Django's error translation and query log kept (the tests' query counts see them).

Behind a pooler that cannot keep prepared statements (PgBouncer before 1.21 in
transaction mode) set ``KEHU_PG_PREPARE=false``: the statement is then planned each time.
On SQLite the statement runs on an ordinary cursor.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection


def fetchone(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    """The first row of ``sql`` run with ``params`` (``%s`` placeholders)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    import psycopg

    connection.ensure_connection()
    # None (KEHU_PG_PREPARE=false) never prepares; otherwise this statement is prepared
    # on its first run (the ORM's queries never reach the threshold, kehu.settings).
    prepare = True if connection.connection.prepare_threshold is not None else None
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=prepare)
        row = cursor.fetchone()
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return row
