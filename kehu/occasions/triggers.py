"""The triggers that keep ``owner`` on the occasion rows equal to the customer's owner.

OccasionDate and LifecycleReminder copy the customer's owner so one person's birthdays,
anniversaries, invitations and life-cycle reminders are one range of an (owner, …)
index. Measured among 1,000,000 customers, the join through the customer cost 8-100 ms
a source for a consultant with 5,000 customers (the date range first, every customer
of the day probed), the copy about a millisecond (docs/cadence.md, Performance).

The database keeps the copy right, as kehu.cadence.triggers does for the cadence rows:

* ``occasions_row_owner`` (on insert into either table) takes the customer's owner, so
  the nightly jobs, the hooks and raw SQL never have to;
* ``occasions_follow_owner`` (on a change of customers_customer.owner_id) moves the
  customer's rows with it, whichever code makes the change.

The sources also join the customer and check its owner and that it is not merged, so a
row can never show a customer to someone else. Installed after every migrate, because
SQLite drops a table's triggers when a later migration rebuilds the table.
"""

from __future__ import annotations

from typing import Any

TABLES = ("occasions_occasiondate", "occasions_lifecyclereminder")

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION occasions_row_owner() RETURNS trigger AS $$
    BEGIN
        NEW.owner_id := (SELECT owner_id FROM customers_customer WHERE id = NEW.customer_id);
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    *(
        sql
        for table in TABLES
        for sql in (
            f"DROP TRIGGER IF EXISTS occasions_row_owner ON {table}",
            f"""
            CREATE TRIGGER occasions_row_owner BEFORE INSERT ON {table}
            FOR EACH ROW EXECUTE FUNCTION occasions_row_owner()
            """,
        )
    ),
    """
    CREATE OR REPLACE FUNCTION occasions_follow_owner() RETURNS trigger AS $$
    BEGIN
        UPDATE occasions_occasiondate SET owner_id = NEW.owner_id WHERE customer_id = NEW.id;
        UPDATE occasions_lifecyclereminder SET owner_id = NEW.owner_id
         WHERE customer_id = NEW.id;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS occasions_follow_owner ON customers_customer",
    """
    CREATE TRIGGER occasions_follow_owner AFTER UPDATE OF owner_id ON customers_customer
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION occasions_follow_owner()
    """,
]

SQLITE = [
    # SQLite cannot change NEW: set the row right after it is inserted.
    *(
        f"""
        CREATE TRIGGER IF NOT EXISTS occasions_row_owner_{table}
        AFTER INSERT ON {table}
        FOR EACH ROW
        BEGIN
            UPDATE {table}
               SET owner_id = (SELECT owner_id FROM customers_customer
                                WHERE id = NEW.customer_id)
             WHERE id = NEW.id;
        END
        """  # noqa: S608 (table names are the constants above)
        for table in TABLES
    ),
    """
    CREATE TRIGGER IF NOT EXISTS occasions_follow_owner
    AFTER UPDATE OF owner_id ON customers_customer
    FOR EACH ROW WHEN OLD.owner_id IS NOT NEW.owner_id
    BEGIN
        UPDATE occasions_occasiondate SET owner_id = NEW.owner_id WHERE customer_id = NEW.id;
        UPDATE occasions_lifecyclereminder SET owner_id = NEW.owner_id
         WHERE customer_id = NEW.id;
    END
    """,
]

BACKFILL = [
    f"""
    UPDATE {table} SET owner_id = (SELECT c.owner_id FROM customers_customer c
                                    WHERE c.id = {table}.customer_id)
    """  # noqa: S608 (table names are the constants above)
    for table in TABLES
]


def install(connection: Any) -> None:
    statements = POSTGRESQL if connection.vendor == "postgresql" else SQLITE
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def backfill(connection: Any) -> None:
    with connection.cursor() as cur:
        for sql in BACKFILL:
            cur.execute(sql)


def uninstall(connection: Any) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            for table in TABLES:
                cur.execute(f"DROP TRIGGER IF EXISTS occasions_row_owner ON {table}")
            cur.execute("DROP TRIGGER IF EXISTS occasions_follow_owner ON customers_customer")
            cur.execute("DROP FUNCTION IF EXISTS occasions_row_owner()")
            cur.execute("DROP FUNCTION IF EXISTS occasions_follow_owner()")
        else:
            for table in TABLES:
                cur.execute(f"DROP TRIGGER IF EXISTS occasions_row_owner_{table}")
            cur.execute("DROP TRIGGER IF EXISTS occasions_follow_owner")
