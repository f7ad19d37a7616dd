"""Kehu's benchmark harness: every figure beside its limit, measured in the same run.

This machine's speed drifts by tens of percent within an hour, so absolute numbers mean
little: each benchmark also measures a *limit* — plain code doing the least the work
needs, on the same database and server — and reports project / limit (DESIGN.md).

    kehu bench --customers 1000000 --database postgres://postgres@127.0.0.1:5432/kehu_bench

Steps:
1. ``seed``: a bench company (a bench team of 10 consultants owning 5,000 customers each
   = 50,000, every 20th customer, the rest spread over 190 other consultants) and N customers with one number
   each, written with set-based SQL (generate_series) on PostgreSQL.
2. ``registrations``: gunicorn serves Kehu; threads POST /api/v1/registrations/ (token
   auth, validation, normalisation, dedup, attribution, audit) at 1, 4 and 32 clients,
   beside /bench/bare-register/, a bare view doing one indexed SELECT by phone and one
   INSERT, on the same gunicorn.
3. ``lists``: GET /api/v1/customers/ page 1 with its count for one consultant (5,000 own
   customers) and for the bench team's manager (50,000), beside the same SQL by hand.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_TEAM_CONSULTANTS = 10
PER_CONSULTANT = 5_000
OTHER_CONSULTANTS = 190
#: Turns the limit and Kehu take at each concurrency (their figures are over all turns).
ROUNDS = 4


@dataclass
class Series:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        index = min(len(data) - 1, max(0, round(q / 100 * (len(data) - 1))))
        return data[index] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<44} {self.throughput:8.1f}/s  p50 {self.pct(50):7.2f} ms  "
            f"p99 {self.pct(99):7.2f} ms  errors {self.errors}"
        )

    def add(self, other: Series) -> None:
        """Fold another round of the same series in (its requests and its time)."""
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        self.seconds += other.seconds


def ratio_line(label: str, value: float, limit: float, target: str, ok: bool) -> str:
    r = value / limit if limit else float("nan")
    return f"  {label:<52} {r:6.2f} × limit   target {target:<10} {'PASS' if ok else 'FAIL'}"


# --- seeding -----------------------------------------------------------------------------


def seed(customers: int, say: Callable[[str], None]) -> dict[str, Any]:
    """Create the bench company and ``customers`` customers (idempotent per size)."""
    from django.db import connection, transaction

    from kehu.customers.models import Customer
    from kehu.leads.models import Channel
    from kehu.org import services
    from kehu.org.models import Staff

    if connection.vendor != "postgresql":
        raise SystemExit("The benchmark runs on PostgreSQL: pass --database postgres://…")
    with transaction.atomic():
        team = services.add_node_path(
            actor=None, path="基准大区/基准区域/基准一组", company_name="Kehu Bench"
        )
        other_team = services.add_node_path(actor=None, path="基准大区/基准区域/基准二组")

        def staff(username: str, roles: list[str], node: Any) -> Staff:
            existing = Staff.objects.filter(username=username).first()
            return existing or services.create_staff(
                actor=None, username=username, roles=roles, node=node
            )

        manager = staff("bench-manager", ["manager"], team)
        if team.manager_id is None:
            services.update_node(actor=None, node=team, manager=manager)
        team_consultants = [
            staff(f"bench-c{i:03d}", ["consultant"], team) for i in range(BENCH_TEAM_CONSULTANTS)
        ]
        others = [
            staff(f"bench-o{i:03d}", ["consultant"], other_team) for i in range(OTHER_CONSULTANTS)
        ]
        registrars = [staff(f"bench-r{i:03d}", ["consultant"], other_team) for i in range(40)]
    channel = Channel.objects.get(code="phone")
    have = Customer.objects.count()
    if have < customers:
        say(f"seeding {customers - have:,} customers (have {have:,})…")
        started = time.perf_counter()
        team_ids = [c.pk for c in team_consultants]
        other_ids = [c.pk for c in others]
        with connection.cursor() as cur, transaction.atomic():
            cur.execute("SET LOCAL synchronous_commit = off")
            # Customers numbered have+1 … customers. Every 20th goes to the bench team (up
            # to 50,000: 5,000 for each of its consultants), interleaved with the others
            # as registrations arrive in life; the rest round-robin over the other team.
            cur.execute(
                """
                INSERT INTO customers_customer
                  (created_at, updated_at, kind, name, title, gender, address, wechat, email,
                   profile, stage, lost_reason, visit_count, intent_grade, relationship,
                   contribution_value, owner_id, node_id, registered_by_id, channel_id,
                   protected_until, first_registered_at, completeness,
                   completeness_missing, is_below_completeness)
                SELECT now(), now(), 'person', '客户' || g, '', 'unknown', '', '', '',
                       '{}'::jsonb, 'left_phone', '', 0, '', 'N', 0,
                       o.owner_id, o.node_id, o.owner_id,
                       %(channel)s, now() - interval '60 days', now() - interval '90 days',
                       19, '[]'::jsonb, true
                FROM generate_series(%(start)s, %(stop)s) AS g,
                LATERAL (SELECT
                    CASE WHEN g %% 20 = 0 AND g / 20 <= %(team_n)s
                         THEN (%(team_ids)s::bigint[])[1 + (g / 20 - 1) / %(per)s]
                         ELSE (%(other_ids)s::bigint[])[1 + g %% %(n_other)s] END AS owner_id,
                    CASE WHEN g %% 20 = 0 AND g / 20 <= %(team_n)s
                         THEN %(team)s ELSE %(other_team)s END AS node_id) AS o
                """,
                {
                    "team_n": BENCH_TEAM_CONSULTANTS * PER_CONSULTANT,
                    "team_ids": team_ids,
                    "per": PER_CONSULTANT,
                    "other_ids": other_ids,
                    "n_other": len(other_ids),
                    "team": team.pk,
                    "other_team": other_team.pk,
                    "channel": channel.pk,
                    "start": have + 1,
                    "stop": customers,
                },
            )
            cur.execute(
                """
                INSERT INTO customers_customerphone (customer_id, number, digits, is_primary,
                                                     created_at)
                SELECT c.id, '+86139' || lpad((c.id % 100000000)::text, 8, '0'),
                       '139' || lpad((c.id % 100000000)::text, 8, '0'), true, now()
                FROM customers_customer c
                WHERE NOT EXISTS (SELECT 1 FROM customers_customerphone p
                                  WHERE p.customer_id = c.id)
                """
            )
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE customers_customer")
            cur.execute("VACUUM ANALYZE customers_customerphone")
        say(f"seeded in {time.perf_counter() - started:.1f} s")
    return {
        "manager": manager,
        "consultant": team_consultants[0],
        "team": team,
        "registrars": registrars,
    }


# --- HTTP load ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving Kehu with the bench URLs enabled, on a free local port."""

    def __init__(self, database_url: str, workers: int) -> None:
        self.port = _free_port()
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            KEHU_BENCH="1",
            KEHU_ENV="development",
            DEBUG="false",
            LOG_LEVEL="WARNING",
        )
        self.log_path = Path(__file__).resolve().parent.parent / "var" / "bench-gunicorn.log"
        self.log_path.parent.mkdir(exist_ok=True)
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "kehu.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        # Generous: a busy machine can take a while to import the project four times.
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not start (its output: {self.log_path})")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def load(
    port: int,
    clients: int,
    requests_per_client: int,
    make_request: Callable[[int, int], tuple[str, str, bytes | None, dict[str, str]]],
    name: str,
    ok_status: tuple[int, ...] = (200, 201),
) -> Series:
    """``clients`` threads, each with its own keep-alive connection, start together."""
    series = Series(name)
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local: list[float] = []
        errors = 0
        barrier.wait()
        for n in range(requests_per_client):
            method, path, body, headers = make_request(index, n)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status not in ok_status:
                    errors += 1
            except OSError:
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            local.append(time.perf_counter() - started)
        conn.close()
        with lock:
            series.latencies.extend(local)
            series.errors += errors

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    series.seconds = time.perf_counter() - started
    return series


def run(
    *,
    database_url: str,
    customers: int,
    requests: int,
    workers: int,
    say: Callable[[str], None] = print,
    parts: tuple[str, ...] = ("registrations", "lists"),
) -> int:
    from django.db import connection

    from kehu.org.services import issue_api_token

    cast = seed(customers, say)
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_bare_lead (id bigserial PRIMARY KEY, "
            "phone varchar(20) NOT NULL, created_at timestamptz NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS bench_bare_lead_phone ON bench_bare_lead (phone)")
        cur.execute("TRUNCATE bench_bare_lead")
    tokens = [issue_api_token(actor=None, staff=s, name="bench")[1] for s in cast["registrars"]]
    manager_token = issue_api_token(actor=None, staff=cast["manager"], name="bench")[1]
    consultant_token = issue_api_token(actor=None, staff=cast["consultant"], name="bench")[1]
    # Not seeded: every run registers numbers nobody has (a seeded generator repeats the
    # last run's numbers, so a second run measured Kehu's "existing" path against a bare
    # view that only SELECTs). 137… numbers; the seeded customers' are 139….
    rng = random.Random()
    server = Server(database_url, workers)
    failures = 0
    lines: list[str] = []
    try:

        def fresh_number() -> str:
            return f"137{rng.randrange(10**8):08d}"

        def real(index: int, n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
            body = json.dumps(
                {"phone": fresh_number(), "name": "压测", "kind": "call", "channel": "phone"}
            ).encode()
            return (
                "POST",
                "/api/v1/registrations/",
                body,
                {
                    "Authorization": f"Token {tokens[index % len(tokens)]}",
                    "Content-Type": "application/json",
                },
            )

        def bare(index: int, n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
            body = json.dumps({"phone": "+86" + fresh_number()}).encode()
            return "POST", "/bench/bare-register/", body, {"Content-Type": "application/json"}

        # The lists first: the registrations write thousands of rows, and the autovacuum
        # they set off would land in the middle of the list timings.
        if "lists" in parts:
            say(f"\nCustomer lists, page 1 with its count, among {customers:,}")
            for who, token, limit_ms, filt in (
                ("consultant (5,000 own)", consultant_token, 50, ("owner", cast["consultant"].pk)),
                ("team manager (50,000)", manager_token, 100, ("team", cast["team"].pk)),
            ):

                def api(
                    index: int, n: int, token: str = token
                ) -> tuple[str, str, None, dict[str, str]]:
                    return (
                        "GET",
                        "/api/v1/customers/?page_size=50",
                        None,
                        {"Authorization": f"Token {token}"},
                    )

                load(server.port, 4, 10, api, "warm-up")  # every gunicorn worker, once
                s = load(server.port, 1, max(50, requests // 2), api, f"kehu: API list, {who}")
                hand = hand_list(filt, max(50, requests // 2))
                say("  " + s.line())
                say("  " + hand.line())
                ok = s.pct(99) < limit_ms
                failures += not ok
                lines.append(
                    f"  {'list p99, ' + who:<52} {s.pct(99):6.1f} ms  "
                    f"({s.pct(99) / hand.pct(99):.1f} × hand SQL)   target < {limit_ms} ms"
                    f"  {'PASS' if ok else 'FAIL'}"
                )
        if "registrations" in parts:
            # warm up both paths
            load(server.port, 2, 20, real, "warm-up")
            load(server.port, 2, 20, bare, "warm-up")
            say(
                f"\nRegistrations over HTTP, {customers:,} customers present, "
                f"gunicorn {workers} workers"
            )
            results: dict[tuple[str, int], Series] = {}
            for clients in (1, 4, 32):
                per = max(5, requests // clients // ROUNDS)
                # The machine's speed drifts: the limit and Kehu take turns, ROUNDS times,
                # and each figure is over all its rounds.
                for _round in range(ROUNDS):
                    for name, fn in (
                        ("limit: bare SELECT + INSERT view", bare),
                        ("kehu: POST /api/v1/registrations/", real),
                    ):
                        s = load(server.port, clients, per, fn, f"{name} ×{clients}")
                        results.setdefault((name[:4], clients), Series(s.name)).add(s)
                for key in (("limi", clients), ("kehu", clients)):
                    say("  " + results[key].line())
            k4, l4 = results[("kehu", 4)], results[("limi", 4)]
            k1, l1 = results[("kehu", 1)], results[("limi", 1)]
            k32 = results[("kehu", 32)]
            ok = k4.throughput >= 0.5 * l4.throughput
            failures += not ok
            lines.append(
                ratio_line(
                    "registration throughput at 4 clients",
                    k4.throughput,
                    l4.throughput,
                    "≥ 0.50",
                    ok,
                )
            )
            for label, k, lim in (
                ("registration p99 at 1 client", k1, l1),
                ("registration p99 at 4 clients", k4, l4),
            ):
                ok = k.pct(99) <= 3 * lim.pct(99)
                failures += not ok
                lines.append(ratio_line(label, k.pct(99), lim.pct(99), "≤ 3.00", ok))
            ok = k32.errors == 0
            failures += not ok
            lines.append(
                f"  {'registration errors at 32 clients':<52} {k32.errors:6d}            "
                f"target 0          {'PASS' if ok else 'FAIL'}"
            )

    finally:
        server.stop()
    say("\nSummary (project / limit, same run)")
    for line in lines:
        say(line)
    return failures


def hand_list(filt: tuple[str, int], n: int) -> Series:
    """The same page-1-with-count SQL, written by hand, over one connection."""
    from django.db import connection

    column, value = filt
    if column == "owner":
        where, params = "owner_id = %s AND merged_into_id IS NULL", [value]
    else:
        # As the API does: the subtree's node ids first, then a literal list.
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id FROM org_orgnode WHERE path LIKE "
                "(SELECT path FROM org_orgnode WHERE id = %s) || '%%'",
                [value],
            )
            ids = [row[0] for row in cur.fetchall()]
        where = "node_id = ANY(%s) AND merged_into_id IS NULL"
        params = [ids]
    series = Series(f"limit: hand SQL, {column}")
    started_all = time.perf_counter()
    with connection.cursor() as cur:
        for _ in range(n):
            started = time.perf_counter()
            if column != "owner":
                cur.execute(
                    "SELECT id FROM org_orgnode WHERE path LIKE "
                    "(SELECT path FROM org_orgnode WHERE id = %s) || '%%'",
                    [value],
                )
                cur.fetchall()
            cur.execute(f"SELECT count(*) FROM customers_customer WHERE {where}", params)  # noqa: S608
            cur.fetchone()
            cur.execute(
                f"SELECT id, name, stage, owner_id FROM customers_customer WHERE {where} "  # noqa: S608
                "ORDER BY id DESC LIMIT 50",
                params,
            )
            cur.fetchall()
            series.latencies.append(time.perf_counter() - started)
    series.seconds = time.perf_counter() - started_all
    return series
