"""The triggers that keep a customer's cadence row (CustomerCadence) in step.

* ``cadence_follow_owner`` keeps ``CustomerCadence.owner`` equal to the customer's owner.
* ``cadence_new_customer`` gives every new customer its row, due today: a customer
  never contacted is due at once (kehu.cadence.rules.compute_due), so a lead registered
  this morning is on its owner's agenda this morning, not after the nightly recompute.
  Due "today" in the configured TIME_ZONE; its kind is a call when the customer already
  has an intent grade, otherwise the first callback (as compute_due gives for a customer
  never contacted); the next activity or grade change recomputes it with every rule.

Database triggers rather than calls from every service that creates or moves a customer
(registration, assignment, the pool, conflicts, merges, a person leaving, imports, raw
SQL in the benchmark): the row is an invariant of the data, and the database is the one
place every change passes (STYLE rule 7). On the registration's one-statement insert
(kehu.core.inserts) the row costs no extra round trip. They are (re)installed after
every migrate, because SQLite drops a table's triggers when a later migration rebuilds
the table.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings


def _postgresql_new_customer() -> list[str]:
    zone = settings.TIME_ZONE.replace("'", "")
    return [
        f"""
        CREATE OR REPLACE FUNCTION cadence_new_customer() RETURNS trigger AS $$
        DECLARE today date := (now() AT TIME ZONE '{zone}')::date;
        BEGIN
            INSERT INTO cadence_customercadence
                (customer_id, owner_id, next_due, due_kind, callback_due, grade,
                 last_contact, milestone, computed_at)
            VALUES (NEW.id, NEW.owner_id,
                    CASE WHEN NEW.stage = 'lost' THEN NULL ELSE today END,
                    CASE WHEN NEW.intent_grade <> '' THEN 'call_due' ELSE 'callback' END,
                    CASE WHEN NEW.stage = 'lost' THEN NULL ELSE today END,
                    NEW.intent_grade, NULL, '', now())
            ON CONFLICT (customer_id) DO NOTHING;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,  # noqa: S608 (the zone comes from the settings, quotes removed)
        "DROP TRIGGER IF EXISTS cadence_new_customer ON customers_customer",
        """
        CREATE TRIGGER cadence_new_customer AFTER INSERT ON customers_customer
        FOR EACH ROW EXECUTE FUNCTION cadence_new_customer()
        """,
    ]


def _sqlite_new_customer() -> list[str]:
    # SQLite has no time zones: the configured zone's offset now (exact for zones
    # without daylight saving, such as Asia/Shanghai), fixed when the trigger is made.
    offset = datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    today = f"date('now', '{minutes:+d} minutes')"
    return [
        "DROP TRIGGER IF EXISTS cadence_new_customer",
        f"""
        CREATE TRIGGER cadence_new_customer AFTER INSERT ON customers_customer
        FOR EACH ROW
        BEGIN
            INSERT OR IGNORE INTO cadence_customercadence
                (customer_id, owner_id, next_due, due_kind, callback_due, grade,
                 last_contact, milestone, computed_at)
            VALUES (NEW.id, NEW.owner_id,
                    CASE WHEN NEW.stage = 'lost' THEN NULL ELSE {today} END,
                    CASE WHEN NEW.intent_grade <> '' THEN 'call_due' ELSE 'callback' END,
                    CASE WHEN NEW.stage = 'lost' THEN NULL ELSE {today} END,
                    NEW.intent_grade, NULL, '', strftime('%Y-%m-%d %H:%M:%f', 'now'));
        END
        """,  # noqa: S608 (the offset is a number computed here)
    ]


POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION cadence_follow_owner() RETURNS trigger AS $$
    BEGIN
        UPDATE cadence_customercadence SET owner_id = NEW.owner_id
         WHERE customer_id = NEW.id;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS cadence_follow_owner ON customers_customer",
    """
    CREATE TRIGGER cadence_follow_owner AFTER UPDATE OF owner_id ON customers_customer
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION cadence_follow_owner()
    """,
]
SQLITE = [
    """
    CREATE TRIGGER IF NOT EXISTS cadence_follow_owner
    AFTER UPDATE OF owner_id ON customers_customer
    FOR EACH ROW WHEN OLD.owner_id IS NOT NEW.owner_id
    BEGIN
        UPDATE cadence_customercadence SET owner_id = NEW.owner_id
         WHERE customer_id = NEW.id;
    END
    """
]


def install(connection: Any) -> None:
    if connection.vendor == "postgresql":
        statements = POSTGRESQL + _postgresql_new_customer()
    else:
        statements = SQLITE + _sqlite_new_customer()
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def uninstall(connection: Any) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            for name in ("cadence_follow_owner", "cadence_new_customer"):
                cur.execute(f"DROP TRIGGER IF EXISTS {name} ON customers_customer")
                cur.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            cur.execute("DROP TRIGGER IF EXISTS cadence_follow_owner")
            cur.execute("DROP TRIGGER IF EXISTS cadence_new_customer")
