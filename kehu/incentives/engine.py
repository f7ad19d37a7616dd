"""The incentive calculation (DOMAIN §8) as pure functions of plain data (STYLE rule 14).

``compute(scheme, facts)`` is used by the monthly run, the pages and the simulator alike.
It touches no database and no clock; the only outside call is ``gettext`` for the
translated ``message`` of each line (the English ``reason`` next to it is stable).

Input ``facts`` (the simulate body without "scheme", already validated by
``kehu.incentives.simulate.parse_body``)::

    {"month": "2026-03", "pool_opening": 5000,
     "staff": [{"id": 1, "role": "area_manager" | "region_manager", "region": "East",
                "threshold": 1 | 2, "monthly_target": 3 | null, "hired_on": "2025-01-01",
                "probation_until": null, "left_on": null, "performance_pay": 2000,
                "performance_pay_by_month": {"2026-01": 1800}   # optional, for recomputation
               }],
     "customers": [{"id": 10, "developed_by": 1, "region": "East", "developed_in": "2026-03",
                    "reported_order": 1, "payments": {"2026-03": 8000},
                    "active_months": ["2026-03"], "fraud": false}],
     "recompute": {"month": "2026-01", "staff": [...], "customers": [...]}}  # optional:
         # the facts the month rule 8 recomputes was run on (see _recompute_facts)

Output: see ``compute``. Every line is::

    {"kind": "penalty" | "bonus" | "clawback" | "fraud_penalty",
     "amount": -300,            # signed from the person's side
     "customer": 10 | null,
     "rule": "2",               # the rule's number in DOMAIN §8
     "code": "threshold.penalty",  # a short stable code for the same rule
     "reason": "English text", "message": "the same text in the active language",
     "month": "2026-03"}        # the month the line is about (clawbacks: the month recomputed)
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from django.utils.translation import get_language, gettext, gettext_noop

from kehu.incentives.schemes import FIELD_NODES, to_amount

AREA_MANAGER = "area_manager"
REGION_MANAGER = "region_manager"
ROLES = (AREA_MANAGER, REGION_MANAGER)

CENT = Decimal("0.01")
ZERO = Decimal(0)

# The kinds of line the scheme's rules 2-9 write: the penalty pool (rule 10) funds
# exactly these (bonuses and positive clawbacks paid, penalties, fraud penalties and
# negative clawbacks collected).
SCHEME_KINDS = ("penalty", "bonus", "clawback", "fraud_penalty")
# The field force's lines (DOMAIN §7, §8): promoters' per-node pay and brokers'
# commissions (and their clawbacks) are paid from campaign budgets and sales, not from
# the pool, so they carry kinds of their own and stay out of the pool's identity.
FIELD_KINDS = ("field_pay", "commission", "commission_clawback")

# Rule order of the lines in a statement (DOMAIN §8 numbering).
RULE_ORDER = {"2": 2, "3": 3, "6": 6, "8": 8, "9": 9, "field": 20, "broker": 21}


# --------------------------------------------------------------------------- helpers


def parse_month(value: str) -> tuple[int, int]:
    year, month = value.split("-")
    return int(year), int(month)


def add_months(value: str, n: int) -> str:
    year, month = parse_month(value)
    index = year * 12 + (month - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_bounds(value: str) -> tuple[dt.date, dt.date]:
    year, month = parse_month(value)
    return dt.date(year, month, 1), dt.date(year, month, monthrange(year, month)[1])


def money(value: Any) -> Decimal:
    """An amount as a Decimal of two places (JSON numbers are converted once, cached)."""
    if isinstance(value, Decimal):
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    return _money_of_number(type(value).__name__, value)


@lru_cache(maxsize=4096)
def _money_of_number(kind: str, value: Any) -> Decimal:
    number = to_amount(value)
    if number is None:
        raise ValueError(f"not an amount: {value!r}")
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def translate(template: str) -> str:
    """gettext of an engine message template, cached per language (thousands of lines
    share a dozen templates)."""
    return _translate(get_language(), template)


@lru_cache(maxsize=1024)
def _translate(language: str | None, template: str) -> str:
    return gettext(template)


def as_json_number(value: Decimal) -> int | float:
    """Money out as a JSON number: an int where whole, else a float of two decimals."""
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _fmt(value: Decimal | int) -> str:
    number = as_json_number(Decimal(value))
    return f"{number:,}" if isinstance(number, int) else f"{number:,.2f}"


def _id_key(value: Any) -> tuple[int, Any, str]:
    """Sort ints numerically, then strings, without comparing the two."""
    return (0, value, "") if isinstance(value, int) else (1, 0, str(value))


def _line(
    kind: str,
    signed: Decimal,
    *,
    customer: Any,
    rule: str,
    code: str,
    month: str,
    template: str,
    **params: Any,
) -> dict[str, Any]:
    shown = {k: (_fmt(v) if isinstance(v, Decimal) else v) for k, v in params.items()}
    shown.setdefault("month", month)
    english = {k: (v.english() if isinstance(v, Phrase) else v) for k, v in shown.items()}
    local = {k: (v.translated() if isinstance(v, Phrase) else v) for k, v in shown.items()}
    return {
        "kind": kind,
        "amount": money(signed),
        "customer": customer,
        "rule": rule,
        "code": code,
        "reason": template % english,
        "message": translate(template) % local,
        "month": month,
    }


@dataclass(frozen=True)
class Phrase:
    """A part of a reason that is itself translated (e.g. the probation note)."""

    template: str
    params: tuple[tuple[str, Any], ...] = ()

    def english(self) -> str:
        return self.template % dict(self.params) if self.template else ""

    def translated(self) -> str:
        return translate(self.template) % dict(self.params) if self.template else ""


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Person:
    id: Any
    role: str
    region: Any
    threshold: int
    monthly_target: Decimal | None
    hired_on: dt.date
    probation_until: dt.date | None
    left_on: dt.date | None
    performance_pay: Decimal
    performance_pay_by_month: dict[str, Decimal] = field(default_factory=dict)

    def pay_in(self, month: str) -> Decimal:
        return self.performance_pay_by_month.get(month, self.performance_pay)


@dataclass(frozen=True)
class Customer:
    id: Any
    developed_by: Any
    region: Any
    developed_in: str
    reported_order: int
    payments: dict[str, Decimal]
    active_months: frozenset[str]
    fraud: bool


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _people(facts: dict[str, Any]) -> list[Person]:
    people = []
    for row in facts["staff"]:
        target = row.get("monthly_target")
        people.append(
            Person(
                id=row["id"],
                role=row["role"],
                region=row.get("region"),
                threshold=int(row.get("threshold") or 0),
                monthly_target=None if target is None else money(target),
                hired_on=dt.date.fromisoformat(row["hired_on"]),
                probation_until=_date(row.get("probation_until")),
                left_on=_date(row.get("left_on")),
                performance_pay=money(row.get("performance_pay", 0)),
                performance_pay_by_month={
                    k: money(v) for k, v in (row.get("performance_pay_by_month") or {}).items()
                },
            )
        )
    return sorted(people, key=lambda p: _id_key(p.id))


def _customers(facts: dict[str, Any]) -> list[Customer]:
    rows = [
        Customer(
            id=row["id"],
            developed_by=row["developed_by"],
            region=row.get("region"),
            developed_in=row["developed_in"],
            reported_order=int(row.get("reported_order", 0)),
            payments={k: money(v) for k, v in (row.get("payments") or {}).items()},
            active_months=frozenset(row.get("active_months") or ()),
            fraud=bool(row.get("fraud", False)),
        )
        for row in facts.get("customers") or ()
    ]
    return sorted(rows, key=lambda c: (c.reported_order, _id_key(c.id)))


# --------------------------------------------------------------------------- rules


def effective_count(scheme: dict[str, Any], payment: Decimal) -> int:
    """Rule 1: 2 from the counts-as-two amount, 1 from the effective amount, else 0."""
    rule = scheme["effective"]
    if payment >= money(rule["count_two_from"]):
        return 2
    if payment >= money(rule["count_one_from"]):
        return 1
    return 0


def customer_count(scheme: dict[str, Any], customer: Customer) -> int:
    """A customer's effective count in the month it was developed; fraud never counts."""
    if customer.fraud:
        return 0
    return effective_count(scheme, customer.payments.get(customer.developed_in, ZERO))


def bonus_for(tiers: list[dict[str, Any]], payment: Decimal) -> Decimal:
    """Rules 2-3: the amount of the highest tier whose "from" the payment reaches."""
    amount = ZERO
    for tier in tiers:
        if payment >= money(tier["from"]):
            amount = money(tier["amount"])
    return amount


@dataclass(frozen=True)
class Duty:
    """Whether a person is assessed in a month, and why not (rule 7, rule 11, left_on)."""

    on_duty: bool  # employed on at least one day of the month
    assessed: bool
    code: str = ""
    reason: str = ""
    message: str = ""
    days: int = 0
    probation: bool = False


def duty(scheme: dict[str, Any], person: Person, month: str) -> Duty:
    """Days on duty in the month = from max(hired_on, 1st) to min(left_on, last day).

    Fewer than ``min_days_worked`` (21) → not assessed: DOMAIN rule 7 for joiners, and by
    the same measure for leavers (someone who leaves on the 10th is not assessed on a month
    they mostly did not work). Probation applies when it ends on or after the month's last
    day (the status at the end of the month).
    """
    first, last = month_bounds(month)
    start = max(person.hired_on, first)
    end = min(person.left_on, last) if person.left_on else last
    probation = person.probation_until is not None and person.probation_until >= last
    if person.hired_on > last:
        template = gettext_noop("Not assessed: joined on %(date)s, after %(month)s.")
        params = {"date": person.hired_on.isoformat(), "month": month}
        return Duty(False, False, "not_joined", template % params, translate(template) % params)
    if person.left_on is not None and person.left_on < first:
        template = gettext_noop("Not assessed: left on %(date)s, before %(month)s.")
        params = {"date": person.left_on.isoformat(), "month": month}
        return Duty(False, False, "left", template % params, translate(template) % params)
    days = (end - start).days + 1
    minimum = scheme["min_days_worked"]
    if days < minimum:
        template = gettext_noop(
            "Not assessed: %(days)s days on duty in %(month)s, fewer than %(min)s (rule 7)."
        )
        params = {"days": str(days), "month": month, "min": str(minimum)}
        return Duty(
            True, False, "days_worked", template % params, translate(template) % params, days
        )
    return Duty(True, True, days=days, probation=probation)


def _factor(scheme: dict[str, Any], state: Duty) -> Decimal:
    return money(scheme["probation_factor"]) if state.probation else Decimal(1)


def _probation_note(state: Duty, scheme: dict[str, Any]) -> Phrase:
    if not state.probation:
        return Phrase("")
    return Phrase(
        gettext_noop(" (probation ×%(factor)s)"), (("factor", scheme["probation_factor"]),)
    )


@dataclass
class MonthBase:
    """The threshold and region lines of one month (rules 2-7), per person."""

    lines: dict[Any, list[dict[str, Any]]]
    duty: dict[Any, Duty]
    threshold: dict[Any, Decimal]
    effective: dict[Any, int]

    def total(self, person_id: Any) -> Decimal:
        return sum((line["amount"] for line in self.lines.get(person_id, ())), ZERO)


def _area_lines(
    scheme: dict[str, Any], person: Person, state: Duty, month: str, own: list[Customer]
) -> tuple[list[dict[str, Any]], int]:
    """Rules 2-5 and 7 for one area manager: own customers in reported order (rule 4)."""
    rule_params = scheme["area_manager"]["thresholds"][str(person.threshold)]
    rule = "3" if person.threshold == 1 else "2"
    factor = _factor(scheme, state)
    note = _probation_note(state, scheme)
    lines: list[dict[str, Any]] = []
    remaining = person.threshold
    reached = 0
    total_count = 0
    for customer in own:
        count = customer_count(scheme, customer)
        if count == 0:
            continue
        total_count += count
        payment = customer.payments.get(customer.developed_in, ZERO)
        if remaining > 0:
            # Rule 4: the customer goes whole to the threshold, even if it counts 2 and
            # only 1 remained; it earns no bonus.
            reached += count
            remaining = max(0, remaining - count)
            continue
        amount = bonus_for(rule_params["bonus_tiers"], payment) * factor
        if amount > 0:
            lines.append(
                _line(
                    "bonus",
                    amount,
                    customer=customer.id,
                    rule=rule,
                    code="threshold.bonus",
                    month=month,
                    template=gettext_noop(
                        "Customer beyond the threshold of %(threshold)s, paid %(payment)s "
                        "in %(month)s: bonus %(amount)s%(note)s."
                    ),
                    threshold=person.threshold,
                    payment=payment,
                    amount=money(amount),
                    note=note,
                )
            )
    if reached < person.threshold:
        full = money(rule_params["penalties"][reached])
        amount = full * factor
        cap = person.pay_in(month)
        capped = scheme["cap_threshold_penalty"] and amount > cap
        if capped:
            amount = cap
        if amount > 0:
            template = (
                gettext_noop(
                    "%(reached)s effective of a threshold of %(threshold)s in %(month)s: "
                    "penalty %(full)s%(note)s, capped at the performance pay %(amount)s "
                    "(rule 5)."
                )
                if capped
                else gettext_noop(
                    "%(reached)s effective of a threshold of %(threshold)s in %(month)s: "
                    "penalty %(amount)s%(note)s."
                )
            )
            lines.insert(
                0,
                _line(
                    "penalty",
                    -amount,
                    customer=None,
                    rule=rule,
                    code="threshold.penalty",
                    month=month,
                    template=template,
                    reached=reached,
                    threshold=person.threshold,
                    full=full,
                    amount=money(amount),
                    note=note,
                ),
            )
    return lines, total_count


def _region_threshold(person: Person, area_thresholds: dict[Any, int]) -> Decimal:
    """Rule 6: the sum of the thresholds of the region's area managers on duty (assessed
    this month), or the region manager's approved monthly target if lower."""
    total = Decimal(area_thresholds.get(person.region, 0))
    if person.monthly_target is not None and person.monthly_target < total:
        return person.monthly_target
    return total


def month_base(
    scheme: dict[str, Any],
    month: str,
    people: list[Person],
    customers: list[Customer],
    voided: frozenset[Any] = frozenset(),
    only: frozenset[Any] | None = None,
) -> MonthBase:
    """Rules 1-7 and 11 for one month, leaving out the customers in `voided` (rule 8);
    lines only for the people in `only` when given (the recomputation of rule 8)."""
    developed = [
        c for c in customers if c.developed_in == month and not c.fraud and c.id not in voided
    ]
    by_developer: dict[Any, list[Customer]] = defaultdict(list)
    region_count: dict[Any, int] = defaultdict(int)
    for customer in developed:  # already in reported order
        by_developer[customer.developed_by].append(customer)
        region_count[customer.region] += customer_count(scheme, customer)

    states = {p.id: duty(scheme, p, month) for p in people}
    result = MonthBase(lines={}, duty=states, threshold={}, effective={})
    area_thresholds: dict[Any, int] = defaultdict(int)
    for p in people:
        if p.role == AREA_MANAGER and states[p.id].assessed:
            area_thresholds[p.region] += p.threshold

    for person in people:
        state = states[person.id]
        result.lines[person.id] = []
        if only is not None and person.id not in only:
            continue
        if person.role == AREA_MANAGER:
            result.threshold[person.id] = Decimal(person.threshold)
            if not state.assessed:
                continue
            lines, counted = _area_lines(
                scheme, person, state, month, by_developer.get(person.id, [])
            )
            result.lines[person.id] = lines
            result.effective[person.id] = counted
            continue

        threshold = _region_threshold(person, area_thresholds)
        count = region_count.get(person.region, 0)
        result.threshold[person.id] = threshold
        result.effective[person.id] = count
        if not state.assessed:
            continue
        if person.monthly_target == 0 and count == 0:
            template = gettext_noop(
                "Not assessed: a target of 0 and nothing developed in %(month)s (rule 11)."
            )
            states[person.id] = Duty(
                True,
                False,
                "zero_target",
                template % {"month": month},
                translate(template) % {"month": month},
                state.days,
                state.probation,
            )
            continue
        factor = _factor(scheme, state)
        note = _probation_note(state, scheme)
        params = scheme["region_manager"]
        difference = Decimal(count) - threshold
        if difference < 0:
            amount = -difference * money(params["penalty_per_unit"]) * factor
            full = amount
            capped = params["cap_penalty"] and amount > person.pay_in(month)
            if capped:
                amount = person.pay_in(month)
            if amount > 0:
                template = (
                    gettext_noop(
                        "Region %(region)s: %(count)s effective of a threshold of "
                        "%(threshold)s in %(month)s: penalty %(full)s%(note)s, capped at the "
                        "performance pay %(amount)s."
                    )
                    if capped
                    else gettext_noop(
                        "Region %(region)s: %(count)s effective of a threshold of "
                        "%(threshold)s in %(month)s: penalty %(amount)s%(note)s."
                    )
                )
                result.lines[person.id].append(
                    _line(
                        "penalty",
                        -amount,
                        customer=None,
                        rule="6",
                        code="region.penalty",
                        month=month,
                        template=template,
                        region=person.region,
                        count=count,
                        threshold=threshold,
                        full=money(full),
                        amount=money(amount),
                        note=note,
                    )
                )
        elif difference > 0:
            amount = difference * money(params["bonus_per_unit"]) * factor
            if amount > 0:
                result.lines[person.id].append(
                    _line(
                        "bonus",
                        amount,
                        customer=None,
                        rule="6",
                        code="region.bonus",
                        month=month,
                        template=gettext_noop(
                            "Region %(region)s: %(count)s effective over a threshold of "
                            "%(threshold)s in %(month)s: bonus %(amount)s%(note)s."
                        ),
                        region=person.region,
                        count=count,
                        threshold=threshold,
                        amount=money(amount),
                        note=note,
                    )
                )
    return result


def active_in_window(scheme: dict[str, Any], customer: Customer) -> list[str]:
    """Rule 8: the months of the customer's first `window_months` in which it was active
    (listed in active_months, or — by default — with a payment above 0)."""
    check = scheme["activity_check"]
    window = [add_months(customer.developed_in, i) for i in range(check["window_months"])]
    active = set(customer.active_months)
    if check["payments_count_as_active"]:
        active |= {m for m, amount in customer.payments.items() if amount > 0}
    return [m for m in window if m in active]


def voided_customers(
    scheme: dict[str, Any], month: str, customers: list[Customer]
) -> list[Customer]:
    """Rule 8: when `month` is run, the counted customers developed window-1 months
    earlier that were active in fewer than `min_active_months` of their window."""
    check = scheme["activity_check"]
    if not check["enabled"]:
        return []
    developed_in = add_months(month, -(check["window_months"] - 1))
    return [
        c
        for c in customers
        if c.developed_in == developed_in
        and customer_count(scheme, c) > 0
        and len(active_in_window(scheme, c)) < check["min_active_months"]
    ]


def _fraud_lines(
    scheme: dict[str, Any],
    month: str,
    people: list[Person],
    customers: list[Customer],
    states: dict[Any, Duty],
) -> dict[Any, list[dict[str, Any]]]:
    """Rule 9: each fraud customer developed this month costs its developer and every
    region manager of its region on duty. Not capped (rule 5); probation applies only if
    the scheme says so."""
    lines: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    by_id = {p.id: p for p in people}
    region_managers: dict[Any, list[Person]] = defaultdict(list)
    for p in people:
        if p.role == REGION_MANAGER and states[p.id].on_duty:
            region_managers[p.region].append(p)
    for customer in customers:
        if not (customer.fraud and customer.developed_in == month):
            continue
        targets: list[tuple[Person, Decimal, str, str]] = []
        developer = by_id.get(customer.developed_by)
        if developer is not None:
            targets.append(
                (
                    developer,
                    money(scheme["fraud"]["developer"]),
                    "fraud.developer",
                    gettext_noop(
                        "Fabricated customer developed in %(month)s: penalty %(amount)s%(note)s."
                    ),
                )
            )
        for manager in region_managers.get(customer.region, ()):
            if manager.id != customer.developed_by:
                targets.append(
                    (
                        manager,
                        money(scheme["fraud"]["region_manager"]),
                        "fraud.region_manager",
                        gettext_noop(
                            "Fabricated customer in region %(region)s in %(month)s: "
                            "penalty %(amount)s%(note)s."
                        ),
                    )
                )
        for person, amount, code, template in targets:
            state = states[person.id]
            note = Phrase("")
            if scheme["probation_applies_to_fraud"] and state.probation:
                amount = amount * _factor(scheme, state)
                note = _probation_note(state, scheme)
            if amount > 0:
                lines[person.id].append(
                    _line(
                        "fraud_penalty",
                        -amount,
                        customer=customer.id,
                        rule="9",
                        code=code,
                        month=month,
                        template=template,
                        region=customer.region,
                        amount=money(amount),
                        note=note,
                    )
                )
    return lines


def fund(scheme: dict[str, Any], opening: Decimal, penalties: Decimal, bonuses: Decimal) -> dict:
    """Rule 10: bonuses are paid from the sources in `funding_order` (by default this
    month's penalties, then the pool, then the management fund, which is unlimited).
    This month's penalties not used go to the pool."""
    available = {"penalties": penalties, "pool": opening, "management_fund": None}
    used = dict.fromkeys(available, ZERO)
    remaining = bonuses
    for source in scheme["funding_order"]:
        limit = available[source]
        take = remaining if limit is None else min(limit, remaining)
        used[source] = take
        remaining -= take
    closing = opening - used["pool"] + (penalties - used["penalties"])
    return {
        "opening": opening,
        "penalties": penalties,
        "bonuses": bonuses,
        "penalties_used": used["penalties"],
        "pool_used": used["pool"],
        "from_management_fund": used["management_fund"],
        "closing": closing,
    }


# --------------------------------------------------------------------------- compute


def _settled_only(month: str, recomputed: str) -> Duty:
    """The state of someone assessed in the recomputed month but not in ``month``'s staff
    (they have left): not assessed, only the activity check's difference is settled."""
    template = gettext_noop(
        "Not assessed in %(month)s (no longer among the staff assessed); only the "
        "recomputation of %(recomputed)s is settled (rule 8)."
    )
    params = {"month": month, "recomputed": recomputed}
    return Duty(False, False, "settled_only", template % params, translate(template) % params)


def _recompute_facts(
    scheme: dict[str, Any],
    facts: dict[str, Any],
    recomputed: str,
    people: list[Person],
    customers: list[Customer],
) -> tuple[dict[str, Any], list[Person], list[Customer]]:
    """The scheme, people and customers of the month rule 8 recomputes:
    ``facts["recompute"]`` (``{"month", "staff", "customers", "scheme"?}``, what that month
    was run on: its scheme version, performance pay, region targets, and the people since
    gone) when it names that month; otherwise this month's."""
    given = facts.get("recompute")
    if not given or given.get("month") != recomputed:
        return scheme, people, customers
    return (
        given.get("scheme") or scheme,
        _people({"staff": given.get("staff") or []}),
        _customers(given),
    )


def compute_decimal(scheme: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """`compute` with Decimal amounts (for the stored run, which keeps Decimals)."""
    month = facts["month"]
    people = _people(facts)
    customers = _customers(facts)

    base = month_base(scheme, month, people, customers)
    states = base.duty
    lines: dict[Any, list[dict[str, Any]]] = {p.id: list(base.lines[p.id]) for p in people}

    # Rule 8: void, recompute the developed month without the void customers, settle.
    void = voided_customers(scheme, month, customers)
    voided_out = []
    # People no longer in this month's staff (they left) who are settled a difference.
    settled_only: list[Person] = []
    if void:
        recomputed = void[0].developed_in
        # The month is recomputed with its own facts when they are given ("recompute":
        # the staff and customers that month was run on), else with this month's.
        then_scheme, then_people, then_customers = _recompute_facts(
            scheme, facts, recomputed, people, customers
        )
        void_ids = frozenset(c.id for c in void)
        developers = {c.developed_by for c in void}
        regions = {c.region for c in void}
        affected = frozenset(
            p.id
            for p in then_people
            if (p.role == AREA_MANAGER and p.id in developers)
            or (p.role == REGION_MANAGER and p.region in regions)
        )
        before = month_base(then_scheme, recomputed, then_people, then_customers, only=affected)
        after = month_base(
            then_scheme, recomputed, then_people, then_customers, voided=void_ids, only=affected
        )
        void_by_developer: dict[Any, list[Any]] = defaultdict(list)
        void_by_region: dict[Any, list[Any]] = defaultdict(list)
        for customer in void:
            void_by_developer[customer.developed_by].append(customer.id)
            void_by_region[customer.region].append(customer.id)
            voided_out.append(
                {
                    "customer": customer.id,
                    "developed_by": customer.developed_by,
                    "region": customer.region,
                    "developed_in": recomputed,
                    "active_months": active_in_window(scheme, customer),
                }
            )
        for person in then_people:
            difference = after.total(person.id) - before.total(person.id)
            if difference == 0:
                continue
            if person.id not in lines:
                lines[person.id] = []
                states[person.id] = _settled_only(month, recomputed)
                settled_only.append(person)
            if person.role == AREA_MANAGER:
                concerned = void_by_developer.get(person.id, [])
            else:
                concerned = void_by_region.get(person.region, [])
            lines[person.id].append(
                {
                    **_line(
                        "clawback",
                        difference,
                        customer=concerned[0] if len(concerned) == 1 else None,
                        rule="8",
                        code="activity_check.clawback",
                        month=recomputed,
                        template=gettext_noop(
                            "Activity check: customer %(customers)s not active in %(min)s of "
                            "its first %(window)s months; %(recomputed)s recomputed without "
                            "it: %(before)s then, %(after)s now."
                        ),
                        customers=", ".join(str(c) for c in concerned),
                        min=scheme["activity_check"]["min_active_months"],
                        window=scheme["activity_check"]["window_months"],
                        recomputed=recomputed,
                        before=before.total(person.id),
                        after=after.total(person.id),
                    ),
                    "customers": concerned,
                }
            )

    for person_id, extra in _fraud_lines(scheme, month, people, customers, states).items():
        lines[person_id].extend(extra)

    statements = []
    penalties = bonuses = ZERO
    for person in sorted([*people, *settled_only], key=lambda p: _id_key(p.id)):
        person_lines = sorted(lines[person.id], key=lambda line: RULE_ORDER[line["rule"]])
        total = sum((line["amount"] for line in person_lines), ZERO)
        for line in person_lines:
            if line["amount"] < 0:
                penalties -= line["amount"]
            else:
                bonuses += line["amount"]
        state = states[person.id]
        statement: dict[str, Any] = {
            "staff": person.id,
            "role": person.role,
            "region": person.region,
            "assessed": state.assessed,
            "probation": state.probation,
            "threshold": base.threshold.get(person.id, ZERO),
            "effective": base.effective.get(person.id, 0),
            "total": total,
            "lines": person_lines,
        }
        if not state.assessed:
            statement["not_assessed"] = {
                "code": state.code,
                "reason": state.reason,
                "message": state.message,
            }
        statements.append(statement)

    opening = money(facts.get("pool_opening", 0))
    return {
        "month": month,
        "scheme": {"code": scheme["code"], "version": scheme["version"]},
        "statements": statements,
        "voided": voided_out,
        "pool": fund(scheme, opening, penalties, bonuses),
    }


def compute(scheme: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """The month's statements and the pool, as JSON-able data (money as JSON numbers).

    Returns::

        {"month": "2026-03", "scheme": {"code", "version"},
         "statements": [{"staff", "role", "region", "assessed", "probation", "threshold",
                         "effective", "total", "lines": [line, ...],
                         "not_assessed": {"code", "reason", "message"}   # only when not assessed
                        }],                       # every staff member, by id
         "voided": [{"customer", "developed_by", "region", "developed_in", "active_months"}],
         "pool": {"opening", "penalties", "bonuses", "penalties_used", "pool_used",
                  "from_management_fund", "closing"}}
    """
    return to_json(compute_decimal(scheme, facts))


def to_json(value: Any) -> Any:
    """Decimals → JSON numbers (ints where whole), recursively."""
    if isinstance(value, Decimal):
        return as_json_number(value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


# --------------------------------------------------------------------------- field force


def field_pay(scheme: dict[str, Any], events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Promoters' pay per node (DOMAIN §7): one ``field_pay`` line per (promoter, customer,
    node) — not a scheme bonus: the pool does not fund it (see FIELD_KINDS).

    ``events``: ``[{"promoter": id, "customer": id, "node": "left_phone" | "visit" |
    "pledge" | "deal", "month": "YYYY-MM", "campaign": id | null,
    "amounts": {"visit": 80, ...} | absent}]`` — ``amounts`` are the campaign's own
    amounts and override the scheme's ``field_pay`` node by node. A node reached twice by
    the same customer for the same promoter is paid once (the first event in the given
    order). Lines carry ``"staff"`` (the promoter), ``"node"`` and ``"campaign"``, and are
    ordered by promoter, month, customer and node.
    """
    seen: set[tuple[Any, Any, str]] = set()
    lines = []
    for event in events:
        node = event["node"]
        if node not in FIELD_NODES:
            raise ValueError(f"unknown node {node!r}")
        key = (event["promoter"], event["customer"], node)
        if key in seen:
            continue
        seen.add(key)
        overrides = event.get("amounts") or {}
        amount = money(overrides.get(node, scheme["field_pay"][node]))
        if amount <= 0:
            continue
        line = _line(
            "field_pay",
            amount,
            customer=event["customer"],
            rule="field",
            code=f"field.{node}",
            month=event["month"],
            template=gettext_noop("Field pay: customer reached %(node)s in %(month)s: %(amount)s."),
            node=node,
            amount=amount,
        )
        line.update({"staff": event["promoter"], "node": node, "campaign": event.get("campaign")})
        lines.append(line)
    lines.sort(
        key=lambda line: (
            _id_key(line["staff"]),
            line["month"],
            _id_key(line["customer"]),
            FIELD_NODES.index(line["node"]),
        )
    )
    return to_json(lines)


def commission_for(scheme: dict[str, Any], deal_amount: Decimal) -> Decimal:
    params = scheme["broker"]
    if deal_amount < money(params["min_deal_amount"]) or deal_amount <= 0:
        return ZERO
    return money(deal_amount * money(params["commission_rate"]) + money(params["commission_fixed"]))


def broker_commissions(
    scheme: dict[str, Any], deals: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Brokers' commissions: paid only after the deal, clawed back when it is undone.

    ``deals``: ``[{"broker": id, "customer": id, "deal": id, "amount": deal amount,
    "month": "YYYY-MM", "status": "signed" | "cancelled", "referral_false": bool,
    "commission_paid": amount | null}]``. ``commission_paid`` is what was already paid
    for the deal (null: nothing yet), which makes the function idempotent:

    - signed, referral not false, nothing paid yet → a ``commission`` line, commission =
      rate × amount + fixed (nothing below ``min_deal_amount``);
    - cancelled or referral proved false, with a commission paid → a
      ``commission_clawback`` line of minus what was paid;
    - anything else → no line.
    """
    lines = []
    for deal in deals:
        paid = deal.get("commission_paid")
        undone = deal.get("status") == "cancelled" or bool(deal.get("referral_false"))
        if undone and paid:
            amount = -money(paid)
            template = (
                gettext_noop("Referral proved false: commission of %(amount)s clawed back.")
                if deal.get("referral_false")
                else gettext_noop("Deal cancelled: commission of %(amount)s clawed back.")
            )
            line = _line(
                "commission_clawback",
                amount,
                customer=deal["customer"],
                rule="broker",
                code="broker.clawback",
                month=deal["month"],
                template=template,
                amount=money(paid),
            )
        elif not undone and paid is None and deal.get("status") == "signed":
            amount = commission_for(scheme, money(deal["amount"]))
            if amount <= 0:
                continue
            line = _line(
                "commission",
                amount,
                customer=deal["customer"],
                rule="broker",
                code="broker.commission",
                month=deal["month"],
                template=gettext_noop("Commission on a signed deal of %(deal)s: %(amount)s."),
                deal=money(deal["amount"]),
                amount=amount,
            )
        else:
            continue
        line.update({"staff": deal["broker"], "deal": deal.get("deal")})
        lines.append(line)
    lines.sort(key=lambda line: (_id_key(line["staff"]), line["month"], _id_key(line["deal"])))
    return to_json(lines)
