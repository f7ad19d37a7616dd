"""The simulator: a scheme on any facts, nothing stored (DOMAIN §8, issue 5).

``parse_body(body)`` validates a simulate body and returns ``(scheme, facts)``;
``simulate(body)`` is ``compute(*parse_body(body))``. The API, the page and the
``kehu incentives simulate`` command all call ``simulate``.

Body::

    {"scheme": "default" | "<code>" | {scheme object}, "month": "YYYY-MM", "pool_opening": 0,
     "staff": [...], "customers": [...]}

Errors raise ``django.core.exceptions.ValidationError`` keyed by dotted field paths
(``"customers.3.developed_by"``) with a message that says what to fix.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.incentives import engine
from kehu.incentives.schemes import (
    DEFAULT_SCHEME,
    default_scheme,
    parse_date,
    to_amount,
    validate_scheme,
)

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
BODY_KEYS = {"scheme", "month", "pool_opening", "staff", "customers", "recompute"}
RECOMPUTE_KEYS = {"month", "staff", "customers", "scheme"}
STAFF_KEYS = {
    "id",
    "role",
    "region",
    "threshold",
    "monthly_target",
    "hired_on",
    "probation_until",
    "left_on",
    "performance_pay",
    "performance_pay_by_month",
    "name",
}
CUSTOMER_KEYS = {
    "id",
    "developed_by",
    "region",
    "developed_in",
    "reported_order",
    "payments",
    "active_months",
    "fraud",
    "name",
}
MAX_ROWS = 20_000


def is_month(value: Any) -> bool:
    return isinstance(value, str) and bool(MONTH_RE.match(value))


def _is_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and 0 < len(value) <= 100


def _is_region(value: Any) -> bool:
    return _is_id(value)


class _Errors:
    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_path)

    def raise_if_any(self) -> None:
        if self.by_path:
            raise ValidationError(self.by_path)


def _amount(errors: _Errors, path: str, value: Any, *, required: bool = True) -> None:
    if value is None and not required:
        return
    number = to_amount(value)
    if number is None:
        errors.add(path, _("Enter a number."))
    elif number < 0:
        errors.add(path, _("Must not be negative."))
    elif number >= Decimal("1e12"):
        errors.add(path, _("Must be less than 1,000,000,000,000."))


def _validated(data: dict[str, Any]) -> dict[str, Any]:
    """validate_scheme, with its field paths under "scheme." as the body names them."""
    try:
        return validate_scheme(data)
    except ValidationError as exc:
        raise ValidationError(
            {
                f"scheme.{k}" if k not in ("__all__", "scheme") else "scheme": v
                for k, v in exc.message_dict.items()
            }
        ) from None


def resolve_scheme(value: Any, month: str | None) -> dict[str, Any]:
    """ "default", a stored scheme's code (looked up for the month), or a scheme object."""
    if value is None or value == "default":
        return default_scheme()
    if isinstance(value, str):
        found = None
        try:
            from kehu.incentives.services import find_scheme  # written by the stored side
        except ImportError:
            find_scheme = None  # type: ignore[assignment]
        if find_scheme is not None and month is not None:
            found = find_scheme(value, month)
        if found is None:
            raise ValidationError(
                {
                    "scheme": [
                        _(
                            'Unknown scheme "%(code)s" for %(month)s: use "default", the '
                            "code of a scheme valid that month, or a scheme object."
                        )
                        % {"code": value[:60], "month": month or "?"}
                    ]
                }
            )
        return _validated(found)
    if isinstance(value, dict):
        return _validated(value)
    raise ValidationError({"scheme": [_('Expected "default", a scheme code or a scheme object.')]})


def _check_staff(
    errors: _Errors, scheme: dict[str, Any], staff: Any, prefix: str = "staff"
) -> set[Any]:
    ids: set[Any] = set()
    if not isinstance(staff, list):
        errors.add(prefix, _("Expected a list of staff members."))
        return ids
    if not staff:
        errors.add(prefix, _("No staff: there are no facts to assess for this month."))
        return ids
    if len(staff) > MAX_ROWS:
        errors.add(prefix, _("At most %(n)s staff members.") % {"n": MAX_ROWS})
        return ids
    thresholds = sorted(int(k) for k in scheme["area_manager"]["thresholds"])
    for index, row in enumerate(staff):
        path = f"{prefix}.{index}"
        if not isinstance(row, dict):
            errors.add(path, _("Expected an object."))
            continue
        for key in sorted(set(row) - STAFF_KEYS):
            errors.add(f"{path}.{key}", _("Unknown field."))
        staff_id = row.get("id")
        if not _is_id(staff_id):
            errors.add(f"{path}.id", _("Enter an id (a whole number or a short text)."))
        elif staff_id in ids:
            errors.add(f"{path}.id", _("Duplicate staff id %(id)s.") % {"id": staff_id})
        else:
            ids.add(staff_id)
        role = row.get("role")
        if role not in engine.ROLES:
            errors.add(f"{path}.role", _('Use "area_manager" or "region_manager".'))
        if not _is_region(row.get("region")):
            errors.add(f"{path}.region", _("Enter the region (a name or an id)."))
        threshold = row.get("threshold")
        if role == engine.AREA_MANAGER and (
            isinstance(threshold, bool) or threshold not in thresholds
        ):
            errors.add(
                f"{path}.threshold",
                _("An area manager's threshold is one of %(allowed)s in this scheme.")
                % {"allowed": ", ".join(map(str, thresholds))},
            )
        elif threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, int)
        ):
            errors.add(f"{path}.threshold", _("Enter a whole number, or null."))
        _amount(errors, f"{path}.monthly_target", row.get("monthly_target"), required=False)
        hired = parse_date(row.get("hired_on"))
        if hired is None:
            errors.add(f"{path}.hired_on", _("Enter the hire date as YYYY-MM-DD."))
        for key in ("probation_until", "left_on"):
            if row.get(key) is not None and parse_date(row[key]) is None:
                errors.add(f"{path}.{key}", _("Enter a date as YYYY-MM-DD, or null."))
        left = parse_date(row.get("left_on"))
        if hired is not None and left is not None and left < hired:
            errors.add(f"{path}.left_on", _("The leaving date must not be before the hire date."))
        if "performance_pay" not in row:
            errors.add(
                f"{path}.performance_pay",
                _("Enter the month's performance pay (it caps threshold penalties)."),
            )
        else:
            _amount(errors, f"{path}.performance_pay", row["performance_pay"])
        history = row.get("performance_pay_by_month")
        if history is not None:
            if not isinstance(history, dict):
                errors.add(f"{path}.performance_pay_by_month", _('Expected {"YYYY-MM": amount}.'))
            else:
                for month, value in history.items():
                    if not is_month(month):
                        errors.add(f"{path}.performance_pay_by_month", _("Use months as YYYY-MM."))
                    _amount(errors, f"{path}.performance_pay_by_month.{month}", value)
    return ids


def _check_customers(
    errors: _Errors,
    customers: Any,
    staff_ids: set[Any],
    month: str | None,
    prefix: str = "customers",
) -> None:
    if customers is None:
        return
    if not isinstance(customers, list):
        errors.add(prefix, _("Expected a list of customers."))
        return
    if len(customers) > MAX_ROWS:
        errors.add(prefix, _("At most %(n)s customers.") % {"n": MAX_ROWS})
        return
    ids: set[Any] = set()
    for index, row in enumerate(customers):
        path = f"{prefix}.{index}"
        if not isinstance(row, dict):
            errors.add(path, _("Expected an object."))
            continue
        for key in sorted(set(row) - CUSTOMER_KEYS):
            errors.add(f"{path}.{key}", _("Unknown field."))
        customer_id = row.get("id")
        if not _is_id(customer_id):
            errors.add(f"{path}.id", _("Enter an id (a whole number or a short text)."))
        elif customer_id in ids:
            errors.add(f"{path}.id", _("Duplicate customer id %(id)s.") % {"id": customer_id})
        else:
            ids.add(customer_id)
        developer = row.get("developed_by")
        if not _is_id(developer):
            errors.add(
                f"{path}.developed_by", _("Enter the id of the staff member who developed it.")
            )
        elif developer not in staff_ids:
            errors.add(
                f"{path}.developed_by",
                _("No staff member with id %(id)s in this body.") % {"id": developer},
            )
        if not _is_region(row.get("region")):
            errors.add(f"{path}.region", _("Enter the region (a name or an id)."))
        developed_in = row.get("developed_in")
        if not is_month(developed_in):
            errors.add(f"{path}.developed_in", _("Enter the month as YYYY-MM."))
        elif month is not None and str(developed_in) > month:
            errors.add(
                f"{path}.developed_in",
                _("Developed after %(month)s: leave it out of this month's facts.")
                % {"month": month},
            )
        order = row.get("reported_order", 0)
        if isinstance(order, bool) or not isinstance(order, int) or order < 0:
            errors.add(f"{path}.reported_order", _("Enter a whole number, 0 or more."))
        payments = row.get("payments", {})
        if not isinstance(payments, dict):
            errors.add(f"{path}.payments", _('Expected {"YYYY-MM": amount}.'))
        else:
            for key, value in payments.items():
                if not is_month(key):
                    errors.add(
                        f"{path}.payments",
                        _("Use months as YYYY-MM: %(key)s.") % {"key": str(key)[:20]},
                    )
                else:
                    _amount(errors, f"{path}.payments.{key}", value)
        active = row.get("active_months", [])
        if not isinstance(active, list) or not all(is_month(m) for m in active):
            errors.add(f"{path}.active_months", _("Expected a list of months as YYYY-MM."))
        if not isinstance(row.get("fraud", False), bool):
            errors.add(f"{path}.fraud", _("Enter true or false."))


def _check_recompute(
    errors: _Errors, scheme: dict[str, Any], value: Any, month: str | None
) -> tuple[set[Any], dict[str, Any] | None]:
    """The optional facts of the month the activity check recomputes (rule 8):
    ``{"month", "staff", "customers", "scheme"?}`` as that month was run (its scheme:
    "default", a code or an object, like the body's; this month's when left out).
    Returns its staff ids (a customer of this month's facts may name a developer who has
    left since) and its complete scheme, if given."""
    if value is None:
        return set(), None
    if not isinstance(value, dict):
        errors.add("recompute", _("Expected an object with month, staff and customers."))
        return set(), None
    for key in sorted(set(value) - RECOMPUTE_KEYS):
        errors.add(f"recompute.{key}", _("Unknown field."))
    given = value.get("month")
    then: str | None = given if isinstance(given, str) and is_month(given) else None
    if then is None or (month is not None and then >= month):
        errors.add("recompute.month", _("Enter a month before the month run, as YYYY-MM."))
        then = None
    then_scheme = None
    if "scheme" in value:
        try:
            then_scheme = resolve_scheme(value["scheme"], then)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                for message in messages:
                    errors.add(f"recompute.{key}", message)
    ids = _check_staff(errors, then_scheme or scheme, value.get("staff"), prefix="recompute.staff")
    _check_customers(errors, value.get("customers", []), ids, then, prefix="recompute.customers")
    return ids, then_scheme


def parse_body(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate a simulate body; return (complete scheme, facts). Raises ValidationError."""
    if not isinstance(body, dict):
        raise ValidationError(
            {"__all__": [_("Expected a JSON object with month, staff and customers.")]}
        )
    errors = _Errors()
    for key in sorted(set(body) - BODY_KEYS):
        errors.add(
            key,
            _("Unknown field: use scheme, month, pool_opening, staff, customers, recompute."),
        )
    month = body.get("month")
    if not is_month(month):
        errors.add("month", _("Enter the month to run as YYYY-MM."))
        month = None
    errors.raise_if_any()

    scheme = resolve_scheme(body.get("scheme", "default"), month)
    _amount(errors, "pool_opening", body.get("pool_opening", 0))
    staff_ids = _check_staff(errors, scheme, body.get("staff"))
    then_ids, then_scheme = _check_recompute(errors, scheme, body.get("recompute"), month)
    _check_customers(errors, body.get("customers", []), staff_ids | then_ids, month)
    errors.raise_if_any()

    facts = {
        "month": month,
        "pool_opening": body.get("pool_opening", 0),
        "staff": body["staff"],
        "customers": body.get("customers", []),
    }
    if body.get("recompute") is not None:
        facts["recompute"] = dict(body["recompute"])
        if then_scheme is not None:
            facts["recompute"]["scheme"] = then_scheme
    on_duty = [
        person
        for person in engine._people(facts)
        if engine.duty(scheme, person, month).on_duty  # type: ignore[arg-type]
    ]
    if not on_duty:
        raise ValidationError(
            {
                "staff": [
                    _("Nobody in the staff list was employed in %(month)s: no facts to assess.")
                    % {"month": month}
                ]
            }
        )
    return scheme, facts


def simulate(body: Any) -> dict[str, Any]:
    """Validate and compute; the result is the engine's JSON (see engine.compute)."""
    scheme, facts = parse_body(body)
    return engine.compute(scheme, facts)


__all__ = ["DEFAULT_SCHEME", "parse_body", "resolve_scheme", "simulate"]
