"""Who is acting and through what, for the audit trail.

Set by the request middleware (``web`` or ``api``), the management commands
(``command``) and the worker (``task``); services read it when they record an event.
A context variable, not a thread-local global, so it is right under threads and async.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionContext:
    source: str = "system"
    request_id: str = ""
    ip_address: str | None = None


_current: contextvars.ContextVar[ActionContext] = contextvars.ContextVar(
    "kehu_action_context",
    default=ActionContext(),  # noqa: B039 - a frozen dataclass, immutable
)


def current() -> ActionContext:
    return _current.get()


@contextlib.contextmanager
def acting(source: str, request_id: str = "", ip_address: str | None = None) -> Iterator[None]:
    token = _current.set(
        ActionContext(
            source=source, request_id=request_id or uuid.uuid4().hex, ip_address=ip_address
        )
    )
    try:
        yield
    finally:
        _current.reset(token)
