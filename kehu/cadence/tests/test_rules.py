"""The cadence rules, without a database (STYLE rule 14)."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from kehu.cadence import rules
from kehu.cadence.rules import MilestoneDate, Rule, check_rule, compute_due, kind_on, next_due

DAY = datetime.date(2026, 11, 25)
A, B, C = Rule(1), Rule(3), Rule(12)
D = Rule(uses_milestones=True)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def test_grade_a_is_due_the_day_after_the_last_contact() -> None:
    assert next_due("A", DAY - days(1), A, [], DAY)[:2] == (DAY, "call_due")
    assert next_due("A", DAY, A, [], DAY)[:2] == (DAY + days(1), None)
    assert next_due("A", DAY - days(2), A, [], DAY)[:2] == (DAY - days(1), "overdue")


def test_grade_b_every_three_days_boundaries() -> None:
    assert next_due("B", DAY - days(2), B, [], DAY)[1] is None
    assert next_due("B", DAY - days(3), B, [], DAY)[1] == "call_due"
    assert next_due("B", DAY - days(4), B, [], DAY)[1] == "overdue"


def test_grade_c_every_twelve_days() -> None:
    due, kind, reason = next_due("C", DAY - days(12), C, [], DAY)
    assert (due, kind) == (DAY, "call_due")
    assert "every 12 days" in reason


def test_grade_d_is_due_on_the_next_milestone_after_the_last_contact() -> None:
    ms = [MilestoneDate(DAY + days(5), "开盘"), MilestoneDate(DAY - days(3), "样板间开放")]
    # Contacted before the earlier milestone: that milestone passed without a call.
    assert next_due("D", DAY - days(10), D, ms, DAY)[:2] == (DAY - days(3), "overdue")
    # Contacted after it: the next one.
    due, kind, reason = next_due("D", DAY - days(1), D, ms, DAY)
    assert (due, kind) == (DAY + days(5), None)
    assert "开盘" in reason


def test_grade_d_without_milestones_has_only_the_callback() -> None:
    due, kind, _reason = next_due("D", DAY - days(90), D, [], DAY)
    assert (due, kind) == (DAY, "callback")


def test_callback_at_ninety_days_boundaries() -> None:
    assert next_due("", DAY - days(89), None, [], DAY)[:2] == (DAY + days(1), None)
    assert next_due("", DAY - days(90), None, [], DAY)[:2] == (DAY, "callback")
    assert next_due("", DAY - days(91), None, [], DAY)[:2] == (DAY - days(1), "overdue")


def test_the_earlier_of_grade_and_callback_wins() -> None:
    slow = Rule(120)
    assert compute_due("C", DAY - days(90), slow, 90, [], DAY).due_kind == rules.DUE_CALLBACK
    assert compute_due("C", DAY - days(90), C, 90, [], DAY).due_kind == rules.DUE_CALL


def test_never_contacted_is_due_at_once() -> None:
    due, kind, reason = next_due("B", None, B, [], DAY)
    assert (due, kind) == (DAY, "call_due")
    assert reason == "Never contacted."
    assert next_due("", None, None, [], DAY)[:2] == (DAY, "callback")


def test_kind_on() -> None:
    assert kind_on(DAY, rules.DUE_CALL, DAY) == "call_due"
    assert kind_on(DAY, rules.DUE_CALLBACK, DAY) == "callback"
    assert kind_on(DAY - days(1), rules.DUE_CALLBACK, DAY) == "overdue"
    assert kind_on(DAY + days(1), rules.DUE_CALL, DAY) is None


def test_check_rule() -> None:
    assert check_rule("A", 2, False) == {}
    assert check_rule("D", None, True) == {}
    assert set(check_rule("E", 2, False)) == {"grade"}
    assert set(check_rule("A", 0, False)) == {"interval_days"}
    assert set(check_rule("A", 367, False)) == {"interval_days"}
    assert set(check_rule("A", None, False)) == {"interval_days"}
    assert set(check_rule("callback", 90, True)) == {"uses_milestones"}


@given(
    grade=st.sampled_from(["", "A", "B", "C"]),
    ago=st.integers(min_value=0, max_value=400),
    interval=st.integers(min_value=1, max_value=366),
    callback=st.integers(min_value=1, max_value=366),
)
def test_due_is_never_later_than_the_callback(
    grade: str, ago: int, interval: int, callback: int
) -> None:
    last = DAY - days(ago)
    due = compute_due(grade, last, Rule(interval) if grade else None, callback, [], DAY)
    assert due.next_due <= last + days(callback)
    assert due.next_due > last
    assert due.callback_due == last + days(callback)
