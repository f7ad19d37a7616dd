"""Fifty people register one number at the same moment, against a real server, each
with their own API token: one customer, one number, one owner, fifty registrations, no
5xx. On SQLite this rests on IMMEDIATE transactions and the busy timeout (settings); on
PostgreSQL on the number's unique constraint and register_lead's retry."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import IntegrityError, connection, transaction

from kehu.customers.models import Customer, CustomerPhone
from kehu.leads import services as leads_services
from kehu.leads.models import Assignment, Conflict, Registration
from kehu.org import services
from kehu.org.models import Staff

pytestmark = [
    pytest.mark.concurrency,
    # Committed rows, so the server's threads see them; the data migrations' channels are
    # restored for this test and after it.
    pytest.mark.django_db(transaction=True),
]

PEOPLE = 50
TEAMS = 5
NUMBER = "13988887777"


def people() -> list[tuple[Staff, str]]:
    """50 consultants across 5 teams, each with an API token."""
    services.ensure_company(actor=None, name="并发公司")
    teams = [
        services.add_node_path(actor=None, path=f"华东大区/并发区域/{i + 1}组")
        for i in range(TEAMS)
    ]
    out = []
    for i in range(PEOPLE):
        staff = services.create_staff(
            actor=None, username=f"rush{i:02d}", roles=["consultant"], node=teams[i % TEAMS]
        )
        _token, key = services.issue_api_token(actor=None, staff=staff, name="rush")
        out.append((staff, key))
    return out


def fire(url: str, keys: list[str]) -> list[tuple[int | None, Any]]:
    """POST one registration per key, one thread each, all released at once.

    The connections are opened first, one after the other: the test server listens with
    a backlog of 10, and fifty simultaneous connects would be refused by the kernel
    before any request reached Kehu. Each request then goes out on its open connection
    at the same moment, to a server thread already waiting for it."""
    target = urlsplit(url)
    connections = []
    for _key in keys:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
        connection.connect()
        connections.append(connection)
    barrier = threading.Barrier(len(keys))
    answers: list[tuple[int | None, Any]] = [(None, "not run")] * len(keys)

    def one(index: int, key: str) -> None:
        connection = connections[index]
        payload = {"phone": NUMBER, "name": f"抢{index}", "kind": "visit", "channel": "walk_in"}
        try:
            barrier.wait(timeout=60)
            connection.request(
                "POST",
                target.path,
                body=json.dumps(payload).encode(),
                headers={
                    "Authorization": f"Token {key}",
                    "Content-Type": "application/json",
                    "Accept-Language": "en",
                },
            )
            response = connection.getresponse()
            raw = response.read()
            try:
                answers[index] = (response.status, json.loads(raw))
            except ValueError:
                answers[index] = (response.status, raw.decode(errors="replace")[:500])
        except Exception as exc:  # a refused or dropped connection is a failure too
            answers[index] = (None, repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i, key)) for i, key in enumerate(keys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads)
    return answers


@pytest.fixture
def slow_winner(monkeypatch: Any) -> dict[str, int]:
    """Hold the transaction that creates the customer open for half a second after it
    has inserted the number, so that the others arrive while it is uncommitted (the race
    is then certain, not left to the scheduler). Counts the insert races lost.

    On PostgreSQL the others read no number, insert, wait on the unique index, lose with
    an IntegrityError and are judged again against the winner (register_lead's retry).
    On SQLite they queue at BEGIN IMMEDIATE and never race."""
    original_record = leads_services.record
    original_register = leads_services._register
    counts = {"lost": 0}

    def record_slowly(*args: Any, **kwargs: Any) -> Any:
        # The winner holds its transaction (customer and number inserted) open a while.
        if kwargs.get("action") == "leads.registration.new":
            time.sleep(0.5)
        return original_record(*args, **kwargs)

    def register_counting(*args: Any, **kwargs: Any) -> Any:
        try:
            return original_register(*args, **kwargs)
        except IntegrityError:
            counts["lost"] += 1
            raise

    original_one_statement = leads_services._register_new_in_one_statement

    def one_statement_slowly(*args: Any, **kwargs: Any) -> Any:
        # PostgreSQL's one-statement path: the winner's statement commits only after the
        # pause, so the others' inserts wait on the unique index and lose.
        try:
            with transaction.atomic():
                judgement = original_one_statement(*args, **kwargs)
                if judgement is not None:
                    time.sleep(0.5)
                return judgement
        except IntegrityError:
            counts["lost"] += 1
            raise

    monkeypatch.setattr(leads_services, "record", record_slowly)
    monkeypatch.setattr(leads_services, "_register", register_counting)
    monkeypatch.setattr(leads_services, "_register_new_in_one_statement", one_statement_slowly)
    return counts


def test_fifty_simultaneous_registrations_of_one_number_make_one_customer(
    live_server: Any, slow_winner: dict[str, int]
) -> None:
    cast = people()
    answers = fire(f"{live_server.url}/api/v1/registrations/", [key for _staff, key in cast])

    failures = [answer for answer in answers if answer[0] != 201]
    assert failures == []
    bodies = [body for _status, body in answers]
    results = Counter(body["result"] for body in bodies)
    assert results["new"] == 1
    assert results["new"] + results["existing"] + results["conflict"] == PEOPLE

    customer = Customer.objects.get()
    winner = next(i for i, body in enumerate(bodies) if body["result"] == "new")
    assert customer.owner == cast[winner][0]
    assert {body["customer"] for body in bodies} == {customer.pk}
    assert {body["owner"] for body in bodies} == {customer.owner_id}
    assert list(CustomerPhone.objects.values_list("number", flat=True)) == ["+8613988887777"]
    assert Registration.objects.count() == PEOPLE
    assert Counter(Registration.objects.values_list("result", flat=True)) == results
    assert set(Registration.objects.values_list("registered_by", flat=True)) == {
        s.pk for s, _k in cast
    }
    assert Conflict.objects.count() == results["conflict"]
    assert Assignment.objects.count() == 1
    if connection.vendor == "postgresql":
        assert slow_winner["lost"] >= 1  # the unique constraint and the retry did the work
    else:
        assert slow_winner["lost"] == 0  # the write lock queued them
