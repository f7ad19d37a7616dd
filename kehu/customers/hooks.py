"""Extension points the customer services call, inside their transaction.

Apps later in the dependency order (occasions keeps birthdays and anniversaries as
solar dates, and life-cycle reminders per purchase) register a function here instead of
being imported by this app, so dependencies keep pointing one way. Not Django signals:
the services call these explicitly (same pattern as kehu.activities.hooks). A hook that
needs to do slow work must defer it with ``transaction.on_commit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kehu.customers.models import Customer, Purchase

OccasionsHook = Callable[["Customer"], None]
PurchaseHook = Callable[["Purchase", "Customer"], None]
MergedHook = Callable[["Customer"], None]
GradeHook = Callable[["Customer"], None]

_occasions_hooks: list[OccasionsHook] = []
_purchase_hooks: list[PurchaseHook] = []
_merged_hooks: list[MergedHook] = []
_grade_hooks: list[GradeHook] = []


def on_intent_grade_changed(func: GradeHook) -> GradeHook:
    """Register ``func(customer)``: the customer's intent grade changed (the grading app
    calls it; the cadence app's next due date depends on the grade)."""
    if func not in _grade_hooks:
        _grade_hooks.append(func)
    return func


def intent_grade_changed(customer: Customer) -> None:
    for hook in _grade_hooks:
        hook(customer)


def on_customer_merged(func: MergedHook) -> MergedHook:
    """Register ``func(kept)``: another record was merged into ``kept`` (its history,
    follow-ups included, now belongs to ``kept``). Call it from an AppConfig.ready()."""
    if func not in _merged_hooks:
        _merged_hooks.append(func)
    return func


def customer_merged(customer: Customer) -> None:
    for hook in _merged_hooks:
        hook(customer)


def on_occasions_changed(func: OccasionsHook) -> OccasionsHook:
    """Register ``func(customer)``: a birthday (solar or lunar) or an anniversary of the
    customer was written. Call it from an AppConfig.ready()."""
    if func not in _occasions_hooks:
        _occasions_hooks.append(func)
    return func


def on_purchase_recorded(func: PurchaseHook) -> PurchaseHook:
    """Register ``func(purchase, customer)``: a purchase was recorded, or a mileage
    reading on it (its life-cycle reminders depend on both)."""
    if func not in _purchase_hooks:
        _purchase_hooks.append(func)
    return func


def occasions_changed(customer: Customer) -> None:
    for hook in _occasions_hooks:
        hook(customer)


def purchase_recorded(purchase: Purchase, customer: Customer) -> None:
    for hook in _purchase_hooks:
        hook(purchase, customer)
