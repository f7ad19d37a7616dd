"""The trigger that keeps CustomerCadence.owner equal to the customer's owner.

A database trigger rather than calls from every service that moves a customer
(assignment, the pool, conflicts, merges, a person leaving, imports, raw SQL in the
benchmark): the copy is an invariant of the data, and the database is the one place
every change passes (STYLE rule 7). It is (re)installed after every migrate, because
SQLite drops a table's triggers when a later migration rebuilds the table.
"""

from __future__ import annotations

from typing import Any

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
    statements = POSTGRESQL if connection.vendor == "postgresql" else SQLITE
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def uninstall(connection: Any) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("DROP TRIGGER IF EXISTS cadence_follow_owner ON customers_customer")
            cur.execute("DROP FUNCTION IF EXISTS cadence_follow_owner()")
        else:
            cur.execute("DROP TRIGGER IF EXISTS cadence_follow_owner")
