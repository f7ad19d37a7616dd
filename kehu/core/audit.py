"""Recording audit events. Services call :func:`record`; nothing else writes events."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models

from kehu.core import context
from kehu.core.models import AuditEvent


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``obj`` as JSON-ready values (foreign keys as ids)."""
    data: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        data[name] = _plain(getattr(obj, attname))
    return data


def changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    return before != after


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event inside the caller's transaction."""
    event = build_event(
        actor=actor,
        action=action,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        before=before,
        after=after,
    )
    event.save(force_insert=True)
    return event


def build_event(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """The unsaved event :func:`record` writes (for a service that inserts it together
    with the rows it describes, as the registration fast path does)."""
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    actor_obj = actor if actor is not None and getattr(actor, "pk", None) else None
    node_path = ""
    if actor_obj is not None and getattr(actor_obj, "node_id", None):
        node_path = actor_obj.node.path
    return AuditEvent(
        actor=actor_obj,
        actor_label=(actor_obj.get_username() if actor_obj else ctx.source)[:150],
        actor_node_path=node_path,
        action=action[:64],
        object_type=object_type[:64],
        object_id=str(object_id or "")[:64],
        object_repr=object_repr[:200],
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        source=ctx.source,
        request_id=ctx.request_id,
        ip_address=ctx.ip_address,
    )
