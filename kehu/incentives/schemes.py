"""Incentive schemes as plain, JSON-able data (DOMAIN §8), and their validation.

A scheme is a dict; the engine (``kehu.incentives.engine``) reads nothing else. Every
number of DOMAIN §8 is a parameter here, and ``DEFAULT_SCHEME`` reproduces the seeds'
2011 customer-development scheme. ``validate_scheme(data)`` checks a scheme given by a
user (the simulator, the scheme editor) and fills every missing parameter from the
default, so a partial scheme such as ``{"code": "spring", "probation_factor": 0.6}`` is
complete after validation.

Shape (all amounts in yuan, non-negative; tiers ascending)::

    {
      "code": "default", "name": "...", "version": 1,
      "valid_from": "2011-01-01", "valid_to": null,
      "effective": {"count_one_from": 7950, "count_two_from": 50000},        # rule 1
      "area_manager": {                                                        # rules 2-4
        "thresholds": {
          "2": {"penalties": [800, 300],                                       # by count reached
                "bonus_tiers": [{"from": 7950, "amount": 300}, ...]},
          "1": {"penalties": [500], "bonus_tiers": [...]}}},
      "cap_threshold_penalty": true,                                           # rule 5
      "region_manager": {"penalty_per_unit": 300, "bonus_per_unit": 300,       # rule 6
                         "cap_penalty": false},
      "probation_factor": 0.5, "probation_applies_to_fraud": false,            # rule 7
      "min_days_worked": 21,
      "activity_check": {"enabled": true, "window_months": 3,                  # rule 8
                         "min_active_months": 2, "payments_count_as_active": true},
      "fraud": {"developer": 3000, "region_manager": 1000},                    # rule 9
      "funding_order": ["penalties", "pool", "management_fund"],               # rule 10
      "field_pay": {"left_phone": 20, "visit": 50, "pledge": 100, "deal": 300},  # §7
      "broker": {"commission_rate": 0.01, "commission_fixed": 0, "min_deal_amount": 0}
    }
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FIELD_NODES = ("left_phone", "visit", "pledge", "deal")
FUNDING_SOURCES = ("penalties", "pool", "management_fund")
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")

DEFAULT_SCHEME: dict[str, Any] = {
    "code": "default",
    "name": "Customer development 2011",
    "version": 1,
    "valid_from": "2011-01-01",
    "valid_to": None,
    # Rule 1: payments in the month the customer was developed.
    "effective": {"count_one_from": 7950, "count_two_from": 50000},
    # Rules 2-4. "penalties"[n] is the penalty when n effective counts were reached
    # (n below the threshold); the list has exactly `threshold` entries.
    "area_manager": {
        "thresholds": {
            "2": {
                "penalties": [800, 300],
                "bonus_tiers": [
                    {"from": 7950, "amount": 300},
                    {"from": 20000, "amount": 500},
                    {"from": 50000, "amount": 1000},
                ],
            },
            "1": {
                "penalties": [500],
                "bonus_tiers": [
                    {"from": 7950, "amount": 200},
                    {"from": 20000, "amount": 400},
                    {"from": 50000, "amount": 700},
                ],
            },
        }
    },
    # Rule 5: threshold penalties never exceed the month's performance pay.
    "cap_threshold_penalty": True,
    # Rule 6.
    "region_manager": {"penalty_per_unit": 300, "bonus_per_unit": 300, "cap_penalty": False},
    # Rule 7.
    "probation_factor": 0.5,
    "probation_applies_to_fraud": False,
    "min_days_worked": 21,
    # Rule 8.
    "activity_check": {
        "enabled": True,
        "window_months": 3,
        "min_active_months": 2,
        "payments_count_as_active": True,
    },
    # Rule 9.
    "fraud": {"developer": 3000, "region_manager": 1000},
    # Rule 10.
    "funding_order": ["penalties", "pool", "management_fund"],
    # DOMAIN §7: a promoter's bonus per node reached by their leads (campaigns override).
    "field_pay": {"left_phone": 20, "visit": 50, "pledge": 100, "deal": 300},
    # Brokers: commission = rate × deal amount + fixed, paid after the deal.
    "broker": {"commission_rate": 0.01, "commission_fixed": 0, "min_deal_amount": 0},
}


class _Errors:
    """Collects messages by field path ("area_manager.thresholds.2.penalties.0")."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path or "__all__", []).append(message)

    def raise_if_any(self) -> None:
        if self.by_path:
            raise ValidationError(self.by_path)


AMOUNT_LIMIT = Decimal("1e12")


def to_amount(value: Any) -> Decimal | None:
    """A JSON number (not a bool, not a string) as a Decimal, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _amount(
    errors: _Errors, path: str, value: Any, *, minimum: Decimal = Decimal(0), maximum=None
) -> Any:
    number = to_amount(value)
    if number is None:
        errors.add(path, _("Enter a number."))
        return value
    if number < minimum:
        if minimum == 0:
            errors.add(path, _("Must not be negative."))
        else:
            errors.add(path, _("Must be at least %(min)s.") % {"min": minimum})
    elif maximum is not None and number > maximum:
        errors.add(path, _("Must be at most %(max)s.") % {"max": maximum})
    elif number >= AMOUNT_LIMIT:
        # Beyond this the engine's two-decimal arithmetic overflows its context.
        errors.add(path, _("Must be less than 1,000,000,000,000."))
    return value


def _int(errors: _Errors, path: str, value: Any, *, minimum: int, maximum: int) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(path, _("Enter a whole number."))
    elif not minimum <= value <= maximum:
        errors.add(
            path, _("Must be between %(min)s and %(max)s.") % {"min": minimum, "max": maximum}
        )
    return value


def _bool(errors: _Errors, path: str, value: Any) -> Any:
    if not isinstance(value, bool):
        errors.add(path, _("Enter true or false."))
    return value


def parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


# Maps whose keys are data, not parameter names: a given one replaces the default's
# whole (a scheme without threshold 1 must not get it back from the defaults).
REPLACED_WHOLE = {"thresholds"}


def _merge(default: Any, given: Any) -> Any:
    """Fill missing keys of `given` from `default` (recursively, dicts only), except in
    the maps named in REPLACED_WHOLE, which are taken as given."""
    if isinstance(default, dict) and isinstance(given, dict):
        merged = {k: copy.deepcopy(v) for k, v in default.items()}
        for key, value in given.items():
            if key in REPLACED_WHOLE or key not in default:
                merged[key] = copy.deepcopy(value)
            else:
                merged[key] = _merge(default.get(key), value)
        return merged
    return copy.deepcopy(given)


def _check_dict(errors: _Errors, path: str, value: Any) -> bool:
    if not isinstance(value, dict):
        errors.add(path, _("Expected an object."))
        return False
    return True


def _check_tiers(errors: _Errors, path: str, tiers: Any) -> None:
    if not isinstance(tiers, list) or not tiers:
        errors.add(path, _('Expected a non-empty list of {"from", "amount"} tiers.'))
        return
    previous: Decimal | None = None
    for index, tier in enumerate(tiers):
        tier_path = f"{path}.{index}"
        if not _check_dict(errors, tier_path, tier):
            continue
        unknown = set(tier) - {"from", "amount"}
        if unknown:
            errors.add(
                tier_path, _("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))}
            )
        for key in ("from", "amount"):
            if key not in tier:
                errors.add(f"{tier_path}.{key}", _("This field is required."))
            else:
                _amount(errors, f"{tier_path}.{key}", tier[key])
        start = to_amount(tier.get("from"))
        if start is not None and previous is not None and start <= previous:
            errors.add(f"{tier_path}.from", _('Tiers must be in ascending order of "from".'))
        previous = start if start is not None else previous


def validate_scheme(data: Any) -> dict[str, Any]:
    """Check a scheme and return it complete (missing parameters from DEFAULT_SCHEME).

    Raises ``django.core.exceptions.ValidationError`` whose ``message_dict`` maps dotted
    field paths (``"area_manager.thresholds.2.penalties.1"``) to messages saying what to
    fix. Unknown top-level keys are refused so that a misspelt parameter is not silently
    ignored.
    """
    errors = _Errors()
    if not isinstance(data, dict):
        raise ValidationError({"scheme": [_('Expected a scheme object or "default".')]})
    unknown = set(data) - set(DEFAULT_SCHEME) - {"id", "description"}
    if unknown:
        for key in sorted(unknown):
            errors.add(key, _("Unknown scheme parameter."))
        errors.raise_if_any()
    scheme = _merge(DEFAULT_SCHEME, data)

    code = scheme["code"]
    if not isinstance(code, str) or not CODE_RE.match(code):
        errors.add(
            "code",
            _('Use 1-50 lower-case letters, digits, hyphens or underscores (e.g. "spring-2026").'),
        )
    if not isinstance(scheme["name"], str) or len(scheme["name"]) > 200:
        errors.add("name", _("Enter a name of at most 200 characters."))
    _int(errors, "version", scheme["version"], minimum=1, maximum=1_000_000)
    valid_from = parse_date(scheme["valid_from"])
    if valid_from is None:
        errors.add("valid_from", _("Enter a date as YYYY-MM-DD."))
    if scheme["valid_to"] is not None:
        valid_to = parse_date(scheme["valid_to"])
        if valid_to is None:
            errors.add("valid_to", _("Enter a date as YYYY-MM-DD, or null."))
        elif valid_from is not None and valid_to < valid_from:
            errors.add("valid_to", _("The validity must not end before it starts."))

    if _check_dict(errors, "effective", scheme["effective"]):
        one = _amount(errors, "effective.count_one_from", scheme["effective"].get("count_one_from"))
        two = _amount(errors, "effective.count_two_from", scheme["effective"].get("count_two_from"))
        one_d, two_d = to_amount(one), to_amount(two)
        if one_d is not None and two_d is not None and two_d < one_d:
            errors.add(
                "effective.count_two_from",
                _("The amount that counts as two must not be below the amount that counts as one."),
            )

    area = scheme["area_manager"]
    if _check_dict(errors, "area_manager", area) and _check_dict(
        errors, "area_manager.thresholds", area.get("thresholds")
    ):
        thresholds = area["thresholds"]
        if not thresholds:
            errors.add("area_manager.thresholds", _("Define at least one threshold."))
        for key, rule in thresholds.items():
            path = f"area_manager.thresholds.{key}"
            if not (
                isinstance(key, str)
                and key.isdigit()
                and str(int(key)) == key
                and 1 <= int(key) <= 20
            ):
                errors.add(path, _("A threshold is a whole number from 1 to 20."))
                continue
            if not _check_dict(errors, path, rule):
                continue
            penalties = rule.get("penalties")
            if not isinstance(penalties, list) or len(penalties) != int(key):
                errors.add(
                    f"{path}.penalties",
                    _(
                        "Give exactly %(n)s penalties: the penalty for 0, 1, … effective "
                        "customers below the threshold."
                    )
                    % {"n": key},
                )
            else:
                for index, value in enumerate(penalties):
                    _amount(errors, f"{path}.penalties.{index}", value)
            _check_tiers(errors, f"{path}.bonus_tiers", rule.get("bonus_tiers"))

    _bool(errors, "cap_threshold_penalty", scheme["cap_threshold_penalty"])
    region = scheme["region_manager"]
    if _check_dict(errors, "region_manager", region):
        _amount(errors, "region_manager.penalty_per_unit", region.get("penalty_per_unit"))
        _amount(errors, "region_manager.bonus_per_unit", region.get("bonus_per_unit"))
        _bool(errors, "region_manager.cap_penalty", region.get("cap_penalty"))
    _amount(errors, "probation_factor", scheme["probation_factor"], maximum=Decimal(1))
    _bool(errors, "probation_applies_to_fraud", scheme["probation_applies_to_fraud"])
    _int(errors, "min_days_worked", scheme["min_days_worked"], minimum=0, maximum=31)

    check = scheme["activity_check"]
    if _check_dict(errors, "activity_check", check):
        _bool(errors, "activity_check.enabled", check.get("enabled"))
        window = _int(
            errors,
            "activity_check.window_months",
            check.get("window_months"),
            minimum=1,
            maximum=12,
        )
        _int(
            errors,
            "activity_check.min_active_months",
            check.get("min_active_months"),
            minimum=0,
            maximum=window if isinstance(window, int) and not isinstance(window, bool) else 12,
        )
        _bool(
            errors,
            "activity_check.payments_count_as_active",
            check.get("payments_count_as_active"),
        )

    fraud = scheme["fraud"]
    if _check_dict(errors, "fraud", fraud):
        _amount(errors, "fraud.developer", fraud.get("developer"))
        _amount(errors, "fraud.region_manager", fraud.get("region_manager"))

    order = scheme["funding_order"]
    if (
        not isinstance(order, list)
        or sorted(map(str, order)) != sorted(FUNDING_SOURCES)
        or len(order) != len(FUNDING_SOURCES)
    ):
        errors.add(
            "funding_order",
            _("List each of %(sources)s exactly once, in the order bonuses are paid from.")
            % {"sources": ", ".join(FUNDING_SOURCES)},
        )

    field = scheme["field_pay"]
    if _check_dict(errors, "field_pay", field):
        for key in sorted(set(field) - set(FIELD_NODES)):
            errors.add(
                f"field_pay.{key}", _("Unknown node: use left_phone, visit, pledge or deal.")
            )
        for node in FIELD_NODES:
            _amount(errors, f"field_pay.{node}", field.get(node))

    broker = scheme["broker"]
    if _check_dict(errors, "broker", broker):
        _amount(errors, "broker.commission_rate", broker.get("commission_rate"), maximum=Decimal(1))
        _amount(errors, "broker.commission_fixed", broker.get("commission_fixed"))
        _amount(errors, "broker.min_deal_amount", broker.get("min_deal_amount"))

    errors.raise_if_any()
    return scheme


def default_scheme() -> dict[str, Any]:
    """A fresh copy of the built-in scheme (callers may mutate it)."""
    return copy.deepcopy(DEFAULT_SCHEME)
