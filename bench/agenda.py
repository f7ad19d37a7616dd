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


def seed_agenda_data(cast: dict[str, Any], say: Callable[[str], None]) -> None:
    """What every agenda source reads, set-based and idempotent, spread over all the
    customers by a hash of the id (so the bench consultant gets its share):

    * birthdays: 50% solar, 12% lunar (days 1-30 of months 1-12, so some 30ths a year
      lacks); 2% an anniversary; 20% a car purchase in the last five years (the default
      life-cycle rules match every product);
    * three key customers submitted this week by the bench consultant (the manager's
      review items).

    The occasion dates, life-cycle reminders and value grades are then built by the
    nightly jobs themselves (timed in run_agenda_bench)."""
    from django.db import connection

    from kehu.customers.models import Customer, Purchase
    from kehu.grading.models import KeyCustomer
    from kehu.grading.services import submit_key_customers

    if not Purchase.objects.filter(product__startswith="基准车型").exists():
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                """
                UPDATE customers_customer
                   SET birthday = make_date(1960 + (hashtext(id::text || 'y') & 2147483647) % 40,
                                            1 + (hashtext(id::text || 'm') & 2147483647) % 12,
                                            1 + (hashtext(id::text || 'd') & 2147483647) % 28)
                 WHERE (hashtext(id::text) & 2147483647) % 100 < 50
                """
            )
            cur.execute(
                """
                UPDATE customers_customer
                   SET lunar_birthday = jsonb_build_object(
                           'month', 1 + (hashtext(id::text || 'm') & 2147483647) % 12,
                           'day', 1 + (hashtext(id::text || 'd') & 2147483647) % 30,
                           'is_leap', false)
                 WHERE (hashtext(id::text) & 2147483647) % 100 BETWEEN 50 AND 61
                """
            )
            cur.execute(
                """
                INSERT INTO customers_anniversary (customer_id, label, date)
                SELECT id, '购车纪念日', make_date(2010 + (hashtext(id::text || 'y') & 2147483647) % 14,
                                                 1 + (hashtext(id::text || 'a') & 2147483647) % 12,
                                                 1 + (hashtext(id::text || 'b') & 2147483647) % 28)
                  FROM customers_customer WHERE (hashtext(id::text) & 2147483647) % 100 IN (62, 63)
                """
            )
            cur.execute(
                """
                INSERT INTO customers_purchase (customer_id, product, amount, purchased_on)
                SELECT id, '基准车型 ' || (id % 5),
                       100000 + (hashtext(id::text || 'p') & 2147483647) % 400000,
                       current_date - ((hashtext(id::text || 'q') & 2147483647) % 1800)
                  FROM customers_customer WHERE (hashtext(id::text || 'buy') & 2147483647) % 100 < 20
                """
            )
            for table in ("customers_customer", "customers_anniversary", "customers_purchase"):
                cur.execute(f"VACUUM ANALYZE {table}")
        say(f"  birthdays, anniversaries and purchases in {time.perf_counter() - started:.1f} s")
    consultant = cast["consultant"]
    if not KeyCustomer.objects.filter(consultant=consultant).exists():
        picks = Customer.objects.filter(owner=consultant, stage="left_phone").order_by("id")[:3]
        submit_key_customers(
            actor=consultant, items=[{"customer": c, "horizon": "A"} for c in picks]
        )


def nightly_jobs(say: Callable[[str], None]) -> dict[str, float]:
    """The nightly jobs over every customer, each timed: value grades (from the
    purchases), occasion dates, life-cycle reminders, cadences."""
    from kehu.cadence.services import recompute_all
    from kehu.grading.valuejob import compute_value_grades
    from kehu.occasions.occurrences import refresh_all_occasions, refresh_all_reminders

    jobs: list[tuple[str, Callable[[], Any]]] = [
        ("value grades", compute_value_grades),
        ("occasion dates", refresh_all_occasions),
        ("life-cycle reminders", refresh_all_reminders),
        ("cadences", recompute_all),
    ]
    seconds = {}
    for name, job in jobs:
        started = time.perf_counter()
        result = job()
        seconds[name] = time.perf_counter() - started
        say(f"  {name:<22} {seconds[name]:7.1f} s  {result}")
    return seconds


def profile_sources(staff: Any, day: Any, n: int = 50) -> list[tuple[str, int, float, int]]:
    """Each agenda source in process for ``staff`` on ``day``: (name, items, p50 ms,
    queries). Which source costs what."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from kehu.cadence.sources import sources

    out = []
    for source in sources():
        times = []
        for _ in range(n):
            started = time.perf_counter()
            items = list(source(staff, day))
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            source(staff, day)
        reset_queries()
        times.sort()
        out.append((source.__name__, len(items), times[len(times) // 2], len(queries)))
    return out


def hand_agenda(staff_id: int, n: int) -> Series:
    """The agenda's own SQL by hand, every source of an ordinary day (no holiday or
    solar term): the cadence rules and the owner's due rows; today's birthdays and
    anniversaries with the care rules; the invitation window's A customers; the
    life-cycle reminders on the agenda. Each one range of an (owner, …) index."""
    import datetime

    from django.db import connection
    from django.utils import timezone

    from kehu.cadence.agenda import CONTACT_LIMIT

    day = timezone.localdate()
    low, high = day + datetime.timedelta(days=14), day + datetime.timedelta(days=21)
    occasion = (
        "SELECT o.customer_id, o.date, o.is_lunar, o.label, c.name, c.title, c.relationship, "
        "c.lunar_birthday FROM occasions_occasiondate o "
        "JOIN customers_customer c ON c.id = o.customer_id "
        "WHERE o.owner_id = %s AND c.owner_id = %s AND c.merged_into_id IS NULL "
        "AND o.kind = %s AND o.date = %s ORDER BY o.date, o.customer_id, o.id"
    )
    queries: list[tuple[str, list[Any]]] = [
        ("SELECT grade, interval_days, uses_milestones FROM cadence_cadencerule", []),
        (
            "SELECT cc.customer_id, cc.next_due, cc.due_kind, cc.grade, cc.last_contact, "
            "cc.milestone, c.name, c.title, c.owner_id FROM cadence_customercadence cc "
            "JOIN customers_customer c ON c.id = cc.customer_id "
            "WHERE cc.owner_id = %s AND c.merged_into_id IS NULL AND cc.next_due <= %s "
            "ORDER BY cc.next_due, cc.customer_id LIMIT %s",
            [staff_id, day, CONTACT_LIMIT],
        ),
        ("SELECT relationship, care FROM occasions_carerule", []),
        (occasion, [staff_id, staff_id, "birthday", day]),
        (occasion, [staff_id, staff_id, "anniversary", day]),
        ("SELECT days_min, days_max FROM occasions_invitationsettings LIMIT 1", []),
        (
            "SELECT o.customer_id, o.date, c.name, c.title FROM occasions_occasiondate o "
            "JOIN customers_customer c ON c.id = o.customer_id "
            "WHERE o.owner_id = %s AND c.owner_id = %s AND c.merged_into_id IS NULL "
            "AND o.kind = 'birthday' AND o.date BETWEEN %s AND %s AND (c.relationship = 'VIP' "
            "OR EXISTS (SELECT 1 FROM grading_customergrade g WHERE g.customer_id = c.id "
            "AND g.value_grade = 'A')) ORDER BY o.date, o.customer_id",
            [staff_id, staff_id, low, high],
        ),
        (
            "SELECT r.customer_id, r.due_on, r.sequence, c.name, c.title, u.name, "
            "u.ask_referral, p.product, p.purchased_on FROM occasions_lifecyclereminder r "
            "JOIN customers_customer c ON c.id = r.customer_id "
            "JOIN occasions_lifecyclerule u ON u.id = r.rule_id "
            "JOIN customers_purchase p ON p.id = r.purchase_id "
            "WHERE r.owner_id = %s AND c.owner_id = %s AND c.merged_into_id IS NULL "
            "AND r.due_on >= %s AND r.notify_on <= %s ORDER BY r.due_on, r.id",
            [staff_id, staff_id, day, day],
        ),
    ]
    series = Series("limit: hand SQL, one consultant, every source")
    started_all = time.perf_counter()
    with connection.cursor() as cur:
        for _ in range(n):
            started = time.perf_counter()
            for sql, params in queries:
                cur.execute(sql, params)
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
    from django.utils import timezone

    from kehu.customers.models import Customer
    from kehu.org.services import issue_api_token

    cast = seed(customers, say)
    live = Customer.objects.filter(merged_into__isnull=True).count()
    say("\nBench data for every agenda source")
    seed_agenda_data(cast, say)
    say(f"\nNightly jobs over {live:,} customers")
    nightly = nightly_jobs(say)
    spread_due_dates()

    consultant = cast["consultant"]
    today = timezone.localdate()
    say(f"\nThe consultant's agenda on {today} by source, in process")
    for name, items, p50, _queries in profile_sources(consultant, today):
        say(f"  {name:<22} {items:4d} items  p50 {p50:6.2f} ms")
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
    ]
    results += [
        {
            "name": f"nightly {name}, {live:,} customers",
            "value_s": round(seconds, 1),
            "target": "minutes (< 600 s at 1M)",
            "ok": seconds < 600 * max(1.0, live / 1_000_000),
        }
        for name, seconds in nightly.items()
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
