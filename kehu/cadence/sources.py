"""The agenda's sources: each app that knows a reason to contact someone today adds one.

A source is ``func(staff, day) -> iterable of AgendaItem``: the items for the customers
``staff`` owns (or, for managers' review items, what they must review) on ``day``. The
agenda (kehu.cadence.agenda) asks every registered source and sorts what they give.
Sources register from their AppConfig.ready(), so this app never imports them.
Each source must cost a fixed number of queries, whatever the number of customers.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kehu.org.models import Staff

#: Every kind the agenda answers with (the public contract of GET /api/v1/agenda/).
KINDS = (
    "call_due",
    "overdue",
    "callback",
    "birthday",
    "anniversary",
    "holiday",
    "solar_term",
    "lifecycle",
    "invitation",
    "key_customer_review",
)


@dataclass(frozen=True)
class AgendaItem:
    kind: str
    customer: int | None
    title: str
    reason: str
    due: datetime.date

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown agenda kind {self.kind!r}")

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "customer": self.customer,
            "title": self.title,
            "reason": self.reason,
            "due": self.due.isoformat(),
        }


AgendaSource = Callable[["Staff", datetime.date], Iterable[AgendaItem]]
_sources: list[AgendaSource] = []


def agenda_source(func: AgendaSource) -> AgendaSource:
    """Register a source (idempotent)."""
    if func not in _sources:
        _sources.append(func)
    return func


def sources() -> list[AgendaSource]:
    return list(_sources)
