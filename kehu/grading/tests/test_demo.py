"""The grading demo loader: grades and key customers, and a second run changes nothing."""

from __future__ import annotations

import random
from typing import Any

from kehu.core import demo
from kehu.core.models import AuditEvent
from kehu.grading.demo import load_grades
from kehu.grading.models import CustomerGrade, IntentAssessment, KeyCustomer
from kehu.grading.tests.helpers import World, customer


def test_the_demo_grades_and_submits_key_customers(cast: Any, world: World) -> None:
    for i in range(6):
        customer(cast.consultant, f"1330000{i:04d}", f"演示{i}")
    ctx = demo.DemoContext(size=12, rng=random.Random(1), password="x", say=lambda _s: None)
    load_grades(ctx)
    assert IntentAssessment.objects.count() == 10  # every prospect of this small world
    assert set(IntentAssessment.objects.values_list("grade", flat=True)) <= set("ABCD")
    weeks = set(KeyCustomer.objects.values_list("week", flat=True))
    assert len(weeks) == 2  # last week and this week
    assert KeyCustomer.objects.exclude(status="open").exists()
    events = AuditEvent.objects.count()
    grades = list(CustomerGrade.objects.values())
    load_grades(ctx)
    assert AuditEvent.objects.count() == events
    assert list(CustomerGrade.objects.values()) == grades
