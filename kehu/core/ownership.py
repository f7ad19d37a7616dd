"""Who owns what, so that nothing is lost when a person moves or leaves.

Each app that has records owned by a member of staff registers a handler here. When a
person leaves (or is moved and their records must stay behind), the org service calls
every handler with the successor; each handler reassigns its records, records audit
events, and returns how many it moved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[..., int]
_handlers: dict[str, Handler] = {}


def register(name: str) -> Callable[[Handler], Handler]:
    def decorator(func: Handler) -> Handler:
        _handlers[name] = func
        return func

    return decorator


def reassign_all(*, actor: Any, from_staff: Any, to_staff: Any) -> dict[str, int]:
    """Run every handler; returns ``{handler name: records moved}``."""
    return {
        name: handler(actor=actor, from_staff=from_staff, to_staff=to_staff)
        for name, handler in sorted(_handlers.items())
    }


_followers: dict[str, Handler] = {}


def register_follower(name: str) -> Callable[[Handler], Handler]:
    """Register ``func(*, actor, staff, node) -> int``: records that move with their owner
    when the owner moves to another node and keeps them."""

    def decorator(func: Handler) -> Handler:
        _followers[name] = func
        return func

    return decorator


def follow_all(*, actor: Any, staff: Any, node: Any) -> dict[str, int]:
    return {
        name: func(actor=actor, staff=staff, node=node) for name, func in sorted(_followers.items())
    }


def owned_counts(staff: Any) -> dict[str, int]:
    """How many records of each kind ``staff`` owns (handlers may expose ``count``)."""
    result = {}
    for name, handler in sorted(_handlers.items()):
        counter = getattr(handler, "count", None)
        if counter is not None:
            result[name] = counter(staff)
    return result
