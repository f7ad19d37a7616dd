"""The agenda benchmark (DESIGN.md, performance targets):

* one consultant's agenda over HTTP (GET /api/v1/agenda/, token auth, gunicorn) among
  N customers: p99 < 30 ms, and ≤ 3 × the same SQL by hand on one connection;
* the nightly recompute (kehu.cadence.services.recompute_all) over every customer:
  minutes, not hours.

The bench company and customers come from bench.harness.seed (the consultant owns 5,000).
Cadence rows are spread so that about a fifth of the customers are due or overdue on the
day, as in a busy sales office.

    from bench.agenda import run_agenda_bench
    run_agenda_bench(customers=100_000, requests=300, say=print)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.harness import Series, Server, load, seed


def spread_due_dates() -> None:
    """Give every customer a next-due date from 10 days ago to 49 days ahead (set-based)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE cadence_customercadence
               SET next_due = current_date + ((customer_id * 7) % 60)::int - 10,
                   due_kind = CASE WHEN customer_id % 5 = 0 THEN 'callback' ELSE 'call_due' END,
                   grade = (ARRAY['A','B','C','D',''])[1 + customer_id % 5],
                   last_contact = current_date - ((customer_id * 3) % 30)::int
            """
        )
        cur.execute("VACUUM ANALYZE cadence_customercadence")


def hand_agenda(staff_id: int, n: int) -> Series:
    """The agenda's own SQL by hand: the rules, then the owner's due rows with names."""
    from django.db import connection
    from django.utils import timezone

    from kehu.cadence.agenda import CONTACT_LIMIT

    day = timezone.localdate()
    series = Series("limit: hand SQL, one consultant")
    started_all = time.perf_counter()
    with connection.cursor() as cur:
        for _ in range(n):
            started = time.perf_counter()
            cur.execute("SELECT grade, interval_days, uses_milestones FROM cadence_cadencerule")
            cur.fetchall()
            cur.execute(
                "SELECT cc.customer_id, cc.next_due, cc.due_kind, cc.grade, cc.last_contact, "
                "cc.milestone, c.name, c.title, c.owner_id FROM cadence_customercadence cc "
                "JOIN customers_customer c ON c.id = cc.customer_id "
                "WHERE cc.owner_id = %s AND c.merged_into_id IS NULL AND cc.next_due <= %s "
                "ORDER BY cc.next_due, cc.customer_id LIMIT %s",
                [staff_id, day, CONTACT_LIMIT],
            )
            cur.fetchall()
            series.latencies.append(time.perf_counter() - started)
    series.seconds = time.perf_counter() - started_all
    return series


def hand_team(manager_id: int, n: int) -> Series:
    """The managers' view by hand: the subtree's people, then one grouped count."""
    from django.db import connection
    from django.utils import timezone

    day = timezone.localdate()
    series = Series("limit: hand SQL, team overdue counts")
    started_all = time.perf_counter()
    with connection.cursor() as cur:
        for _ in range(n):
            started = time.perf_counter()
            cur.execute(
                "SELECT s.id FROM org_staff s JOIN org_orgnode n ON n.id = s.node_id "
                "WHERE s.is_active AND n.path LIKE (SELECT m.path FROM org_orgnode m "
                "JOIN org_staff ms ON ms.node_id = m.id WHERE ms.id = %s) || '%%'",
                [manager_id],
            )
            people = [row[0] for row in cur.fetchall()]
            cur.execute(
                "SELECT owner_id, count(*) FROM cadence_customercadence "
                "WHERE owner_id = ANY(%s) AND next_due < %s GROUP BY owner_id",
                [people, day],
            )
            cur.fetchall()
            series.latencies.append(time.perf_counter() - started)
    series.seconds = time.perf_counter() - started_all
    return series


def run_agenda_bench(
    *, customers: int, requests: int, say: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    """Seed (idempotent), recompute every cadence (timed), then measure one consultant's
    agenda over HTTP beside the hand SQL. Returns one dict per figure."""
    import os

    from django.conf import settings
    from django.db import connection

    from kehu.cadence.services import recompute_all
    from kehu.customers.models import Customer
    from kehu.org.services import issue_api_token

    cast = seed(customers, say)
    live = Customer.objects.filter(merged_into__isnull=True).count()
    say(f"\nNightly cadence recompute over {live:,} customers")
    started = time.perf_counter()
    done = recompute_all()
    recompute_s = time.perf_counter() - started
    say(f"  recomputed {done:,} in {recompute_s:.1f} s ({done / recompute_s:,.0f}/s)")
    spread_due_dates()

    consultant = cast["consultant"]
    token = issue_api_token(actor=None, staff=consultant, name="bench-agenda")[1]
    manager_token = issue_api_token(actor=None, staff=cast["manager"], name="bench-agenda")[1]
    database_url = os.environ.get("DATABASE_URL") or _url_of(settings.DATABASES["default"])
    server = Server(database_url, workers=2)
    try:

        def api(index: int, n: int) -> tuple[str, str, None, dict[str, str]]:
            return "GET", "/api/v1/agenda/", None, {"Authorization": f"Token {token}"}

        def team(index: int, n: int) -> tuple[str, str, None, dict[str, str]]:
            return "GET", "/api/v1/agenda/team/", None, {"Authorization": f"Token {manager_token}"}

        load(server.port, 2, 10, api, "warm-up")
        load(server.port, 2, 10, team, "warm-up")
        n = max(100, requests)
        s = load(server.port, 1, n, api, "kehu: GET /api/v1/agenda/, one consultant")
        t = load(server.port, 1, n, team, "kehu: GET /api/v1/agenda/team/, 50,000")
    finally:
        server.stop()
    hand = hand_agenda(consultant.pk, n)
    hand_t = hand_team(cast["manager"].pk, n)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM cadence_customercadence cc JOIN customers_customer c "
            "ON c.id = cc.customer_id WHERE c.owner_id = %s AND cc.next_due <= current_date",
            [consultant.pk],
        )
        due_count = cur.fetchone()[0]
    say(f"\nOne consultant's agenda (5,000 own customers, {due_count:,} due), among {live:,}")
    say("  " + s.line())
    say("  " + hand.line())
    say("\nThe team manager's overdue view (10 consultants, 50,000 customers)")
    say("  " + t.line())
    say("  " + hand_t.line())
    p99, hand_p99 = s.pct(99), hand.pct(99)
    results = [
        {
            "name": "agenda p99, one consultant",
            "value_ms": round(p99, 2),
            "target": "< 30 ms",
            "ok": p99 < 30 and s.errors == 0,
        },
        {
            "name": "agenda p99 / hand SQL p99",
            "value": round(p99 / hand_p99, 2) if hand_p99 else None,
            "limit_ms": round(hand_p99, 2),
            "target": "≤ 3.00",
            "ok": bool(hand_p99) and p99 <= 3 * hand_p99,
        },
        {
            "name": "team overdue view p99 / hand SQL p99",
            "value": round(t.pct(99) / hand_t.pct(99), 2) if hand_t.pct(99) else None,
            "value_ms": round(t.pct(99), 2),
            "limit_ms": round(hand_t.pct(99), 2),
            "target": "≤ 3.00",
            "ok": t.errors == 0 and t.pct(99) <= 3 * hand_t.pct(99),
        },
        {
            "name": f"nightly recompute, {live:,} customers",
            "value_s": round(recompute_s, 1),
            "target": "minutes (< 600 s at 1M)",
            "ok": recompute_s < 600 * max(1.0, live / 1_000_000),
        },
    ]
    say("\nSummary")
    for r in results:
        say(f"  {r['name']:<44} {r}")
    return results


def _url_of(db: dict[str, Any]) -> str:
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
