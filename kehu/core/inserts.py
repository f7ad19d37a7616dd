"""Insert a row and the rows that hang off it in one PostgreSQL statement.

A registration writes six rows (the customer, its number, the registration, the
assignment, the stage history and the audit event). Through the ORM that is six round
trips and six query compilations: measured with ``make bench``, about half of the
request's time. PostgreSQL can insert them all in one statement with data-modifying
common table expressions, atomic on its own (no BEGIN/COMMIT round trips)::

    WITH h AS (INSERT INTO customer (…) SELECT … WHERE NOT EXISTS (guard) RETURNING id),
         d1 AS (INSERT INTO customerphone (customer_id, …) SELECT h.id, … FROM h RETURNING id),
         …
    SELECT (SELECT id FROM h), (SELECT id FROM d1), …

The rows are ordinary unsaved model instances built by the service, so every column and
default comes from the models (``pre_save`` and ``get_db_prep_save``, as the ORM's own
insert does); only the statement is ours. SQLite has no data-modifying CTEs: callers keep
the ORM path there, and the PostgreSQL test suite runs this one.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import Field, ForeignKey, Model

from kehu.core import prepared


@dataclass
class Linked:
    """A dependent row: ``fk`` names its foreign key to the head row (or None), and
    ``expressions`` replaces columns with SQL over the head's new id ``h.id`` (e.g. an
    audit event's text ``object_id``)."""

    obj: Model
    fk: str | None = None
    expressions: dict[str, str] = field(default_factory=dict)


_SQL: dict[tuple[Any, ...], str] = {}


def _fk(item: Linked) -> Any:
    """The dependent row's foreign key to the head (a concrete field)."""
    field = item.obj._meta.get_field(item.fk or "")
    assert isinstance(field, ForeignKey), f"{item.fk} is not a foreign key"
    return field


_COLUMNS: dict[tuple[type, frozenset[str]], list[Any]] = {}
_DATES = (datetime.datetime, datetime.date)


def _columns(obj: Model, skip: set[str]) -> list[Any]:
    key = (type(obj), frozenset(skip))
    if key not in _COLUMNS:
        _COLUMNS[key] = [
            f
            for f in obj._meta.concrete_fields
            if not f.primary_key and not {f.name, f.attname, f.column} & skip
        ]
    return _COLUMNS[key]


#: Internal types whose value, when already of this Python type, the field would pass
#: to the database unchanged (so the field's pre_save/get_prep_value calls can be skipped:
#: about half of the time spent building the rows, measured with ``make bench``).
_PLAIN_TYPES = {
    "CharField": str,
    "TextField": str,
    "SlugField": str,
    "EmailField": str,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "PositiveBigIntegerField": int,
    "BooleanField": bool,
}
_PLAIN: dict[Any, tuple[str, type | None]] = {}


def _plain(f: Any) -> tuple[str, type | None]:
    """The field's attribute name and the Python type it passes through unchanged (None:
    always go through the field)."""
    if f not in _PLAIN:
        internal = f.target_field.get_internal_type() if f.is_relation else f.get_internal_type()
        ordinary = type(f).pre_save is Field.pre_save
        if internal in ("AutoField", "BigAutoField", "SmallAutoField"):
            internal = "IntegerField"
        _PLAIN[f] = (f.attname, _PLAIN_TYPES.get(internal) if ordinary else None)
    return _PLAIN[f]


def _row_json(obj: Model, fields: Sequence[Any]) -> str:
    """The row as one JSON object keyed by column: one parameter a row, which keeps the
    statement's parameters few enough for psycopg to cache its parsing."""
    row = {}
    for f in fields:
        attname, plain = _plain(f)
        value = getattr(obj, attname)
        if plain is not None and (value is None or type(value) is plain):
            row[f.column] = value
            continue
        value = f.get_prep_value(f.pre_save(obj, True))
        if isinstance(value, _DATES):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        row[f.column] = value
    return json.dumps(row, ensure_ascii=False)


def insert_linked(
    head: Model,
    linked: Sequence[Linked],
    *,
    unless: tuple[str, list[Any]] | None = None,
) -> list[int] | None:
    """Insert ``head`` and ``linked`` in one statement; set and return their new ids.

    ``unless`` is ``(sql, params)`` of a query returning rows when the insert must not
    happen (the number is already registered): then nothing is written and None is
    returned. A unique violation raises IntegrityError with nothing written.
    """
    if connection.vendor != "postgresql":
        raise NotSupportedError("insert_linked needs PostgreSQL (data-modifying CTEs).")
    head_fields = _columns(head, set())
    linked_fields = [_columns(item.obj, {item.fk or "", *item.expressions}) for item in linked]
    key = (
        type(head),
        tuple((type(i.obj), i.fk, tuple(sorted(i.expressions.items()))) for i in linked),
        unless[0] if unless else None,
    )
    if key not in _SQL:
        _SQL[key] = _compose(head, head_fields, linked, linked_fields, unless)
    sql = _SQL[key]
    params: list[Any] = [_row_json(head, head_fields)]
    if unless:
        params.extend(unless[1])
    for item, fields in zip(linked, linked_fields, strict=True):
        params.append(_row_json(item.obj, fields))
    row = prepared.fetchone(sql, params)
    if row is None or row[0] is None:
        return None
    ids = list(row)
    for obj, pk in zip([head, *(i.obj for i in linked)], ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = "default"
    for item in linked:
        if item.fk:
            setattr(item.obj, _fk(item).attname, head.pk)
    return ids


def _compose(
    head: Model,
    head_fields: list[Any],
    linked: Sequence[Linked],
    linked_fields: list[list[Any]],
    unless: tuple[str, list[Any]] | None,
) -> str:
    """Identifiers come from model metadata and SQL the service wrote; every value is a
    parameter (a row's JSON, typed by the table's own row type)."""
    qn = connection.ops.quote_name

    def record(model: Any) -> str:
        table = qn(model._meta.db_table)
        return f"jsonb_populate_record(NULL::{table}, %s::jsonb) r"

    head_columns = ", ".join(qn(f.column) for f in head_fields)
    guard = f" WHERE NOT EXISTS ({unless[0]})" if unless else ""
    parts = [
        f"h AS (INSERT INTO {qn(head._meta.db_table)} ({head_columns}) "  # noqa: S608
        f"SELECT {', '.join('r.' + qn(f.column) for f in head_fields)} "
        f"FROM {record(head)}{guard} RETURNING id)"
    ]
    names = ["h"]
    for index, (item, fields) in enumerate(zip(linked, linked_fields, strict=True)):
        columns = [qn(f.column) for f in fields]
        values = ["r." + qn(f.column) for f in fields]
        if item.fk:
            columns.insert(0, qn(_fk(item).column))
            values.insert(0, "h.id")
        for column, expression in item.expressions.items():
            columns.append(qn(column))
            values.append(expression)
        name = f"d{index}"
        names.append(name)
        parts.append(
            f"{name} AS (INSERT INTO {qn(item.obj._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM h, {record(item.obj)} RETURNING id)"
        )
    select = ", ".join(f"(SELECT id FROM {name})" for name in names)  # noqa: S608
    return f"WITH {', '.join(parts)} SELECT {select}"
