"""The grading rules of DOMAIN §5 as pure functions: plain data in, plain data out, no
database (STYLE rule 14). The services, the API, the pages, the nightly job (whose SQL
mirrors :func:`value_grade`, checked by a property test) and the demo all use these.

Every grade comes with an *explanation*: a small JSON-ready dict naming the clause that
gave the grade and the facts it looked at. It is stored beside the grade, and
``describe_*`` turns it into a sentence in the reader's language at display time.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# --- intent grade A/B/C/D -------------------------------------------------------------

#: The six judgements a consultant records, in the order DOMAIN §5 gives them.
JUDGEMENTS = ("product", "price", "payment", "chosen_unit", "attention", "decision_makers")
#: The two reservations a B customer may still have.
ALLOWANCES = ("price_resistance", "deferred_down_payment")

JUDGEMENT_LABELS = {
    "product": gettext_lazy("Accepts the product"),
    "price": gettext_lazy("Accepts the price"),
    "payment": gettext_lazy("Can pay"),
    "chosen_unit": gettext_lazy("Has chosen a unit or a clear intent"),
    "attention": gettext_lazy("Visited or called 2-3+ times"),
    "decision_makers": gettext_lazy("All decision makers have visited and agree"),
    "price_resistance": gettext_lazy("Price resistance, but controllable"),
    "deferred_down_payment": gettext_lazy("Down payment partly deferred"),
}
JUDGEMENT_HELP = {
    "product": gettext_lazy("Brand, location, amenities, plan, layout, management."),
    "price": gettext_lazy("Unit price, total, discount."),
    "payment": gettext_lazy("Purchasing power for the product, down payment and schedule."),
    "chosen_unit": gettext_lazy("落点: a unit picked, or a clear intent."),
    "attention": gettext_lazy("Came or called at least two or three times."),
    "decision_makers": gettext_lazy("Everyone who decides has visited and agrees."),
    "price_resistance": gettext_lazy("Does not fully accept the price yet, but it can be settled."),
    "deferred_down_payment": gettext_lazy("Can pay, except part of the down payment later."),
}


def intent_grade(judgements: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The intent grade from the six judgements (and the two B allowances).

    * A — all six judgements hold.
    * D — product, price or payment is not accepted (a price resistance that is
      controllable counts as accepting the price, a partly deferred down payment as
      being able to pay, for B and C; neither is enough for A).
    * B — product, price and payment accepted, and a chosen unit or clear intent.
    * C — product, price and payment accepted, but no chosen unit (whether or not they
      came back repeatedly: B needs the chosen unit).

    Keys missing from ``judgements`` count as not holding; unknown keys are ignored
    (the services reject them before calling this).
    """
    held = {key: bool(judgements.get(key)) for key in (*JUDGEMENTS, *ALLOWANCES)}
    met = [key for key in JUDGEMENTS if held[key]]
    missing = [key for key in JUDGEMENTS if not held[key]]
    used: list[str] = []
    if not held["price"] and held["price_resistance"]:
        used.append("price_resistance")
    if not held["payment"] and held["deferred_down_payment"]:
        used.append("deferred_down_payment")
    price_ok = held["price"] or "price_resistance" in used
    payment_ok = held["payment"] or "deferred_down_payment" in used
    if not missing:
        grade, rule, used = "A", "all_six", []
    elif not (held["product"] and price_ok and payment_ok):
        grade, rule = "D", "core_not_accepted"
    elif held["chosen_unit"]:
        grade, rule = "B", "core_and_chosen_unit"
    else:
        grade, rule = "C", "core_without_chosen_unit"
    return grade, {"rule": rule, "met": met, "missing": missing, "allowances": used}


def describe_intent(explanation: Mapping[str, Any]) -> str:
    """One sentence: why the grade is what it is (in the active language)."""
    rule = explanation.get("rule", "")
    missing = [str(JUDGEMENT_LABELS.get(k, k)) for k in explanation.get("missing", [])]
    used = [str(JUDGEMENT_LABELS.get(k, k)) for k in explanation.get("allowances", [])]
    if rule == "all_six":
        return _("A: all six judgements hold.")
    if rule == "core_not_accepted":
        core = [
            str(JUDGEMENT_LABELS[k])
            for k in ("product", "price", "payment")
            if k in explanation.get("missing", [])
            and not (k == "price" and "price_resistance" in explanation.get("allowances", []))
            and not (
                k == "payment" and "deferred_down_payment" in explanation.get("allowances", [])
            )
        ]
        return _("D: not accepted: %(what)s.") % {"what": "; ".join(core)}
    text = ""
    if rule == "core_and_chosen_unit":
        text = _("B: product, price and payment accepted, and a unit chosen; missing: %(what)s.")
    elif rule == "core_without_chosen_unit":
        text = _("C: product, price and payment accepted, but no unit chosen; missing: %(what)s.")
    else:
        return ""
    text = text % {"what": "; ".join(missing)}
    if used:
        text += " " + _("Allowed reservations: %(what)s.") % {"what": "; ".join(used)}
    return text


# --- value grade A/B/C ------------------------------------------------------------------


@dataclass(frozen=True)
class SalesRecord:
    """One customer's sales for the value grade. ``sales`` are the totals of the last
    three years, newest first, each a trailing 365-day window ending on the day of the
    computation (see :func:`sales_windows`)."""

    customer: int
    is_agent: bool
    sales: tuple[Decimal, Decimal, Decimal]
    has_purchases: bool


def sales_windows(today: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """``[(after, until)]`` for this year, last year and the year before: a purchase
    belongs to a window when ``after < purchased_on <= until``."""
    year = datetime.timedelta(days=365)
    return [(today - year * (i + 1), today - year * i) for i in range(3)]


def top_count(buyers: int, top_share: int) -> int:
    """How many customers form the top ``top_share`` percent of ``buyers`` (rounded
    up, so one buyer of three is the top 20%)."""
    return (buyers * top_share + 99) // 100


def top_threshold(year_sales: Iterable[Decimal], top_share: int) -> Decimal | None:
    """The annual sales a customer needs to be in the top ``top_share`` percent of the
    customers who bought this year (ties at the line are all in), or None when nobody
    bought or the share is 0."""
    positive = sorted((s for s in year_sales if s > 0), reverse=True)
    k = top_count(len(positive), top_share)
    if k == 0:
        return None
    return positive[k - 1]


def grew(new: Decimal, old: Decimal, growth: int) -> bool:
    """``new`` is at least ``growth`` percent above ``old`` (exact: no float rounding)."""
    return old > 0 and new * 100 >= old * (100 + growth)


def value_grade(
    record: SalesRecord, *, threshold: Decimal | None, top_share: int, growth: int
) -> tuple[str, dict[str, Any]]:
    """The value grade of one customer (DOMAIN §5):

    * A — an agent, or in the top ``top_share`` percent by this year's sales;
    * B — sales grew at least ``growth`` percent in each of the last two years (this
      year over last, last over the year before; the year before must have sales);
    * C — every other customer who ever bought from us;
    * ``""`` — never bought and not an agent: not graded.
    """
    s0, s1, s2 = record.sales
    if record.is_agent:
        grade, rule = "A", "agent"
    elif threshold is not None and s0 > 0 and s0 >= threshold:
        grade, rule = "A", "top"
    elif grew(s0, s1, growth) and grew(s1, s2, growth):
        grade, rule = "B", "growth"
    elif record.has_purchases:
        grade, rule = "C", "rest"
    else:
        grade, rule = "", "none"
    return grade, {
        "rule": rule,
        "sales": [s0, s1, s2],
        "threshold": threshold,
        "top_share": top_share,
        "growth": growth,
    }


def value_grades(
    records: Iterable[SalesRecord], *, top_share: int = 20, growth: int = 10
) -> dict[int, tuple[str, dict[str, Any]]]:
    """Grades for a whole population at once (the top share is relative to it)."""
    rows = list(records)
    threshold = top_threshold((r.sales[0] for r in rows), top_share)
    return {
        r.customer: value_grade(r, threshold=threshold, top_share=top_share, growth=growth)
        for r in rows
    }


def _money(value: Any) -> str:
    if value is None:
        return "—"
    return f"{Decimal(str(value)):,.0f}"


def describe_value(explanation: Mapping[str, Any] | None) -> str:
    if not explanation:
        return ""
    rule = explanation.get("rule", "")
    sales = list(explanation.get("sales") or [0, 0, 0])
    args = {
        "share": explanation.get("top_share", ""),
        "growth": explanation.get("growth", ""),
        "s0": _money(sales[0]),
        "s1": _money(sales[1]),
        "s2": _money(sales[2]),
        "threshold": _money(explanation.get("threshold")),
    }
    if rule == "agent":
        return _("A: an agent.")
    if rule == "top":
        return (
            _("A: this year's sales %(s0)s are in the top %(share)s%% (at least %(threshold)s).")
            % args
        )
    if rule == "growth":
        return (
            _(
                "B: sales grew at least %(growth)s%% in each of the last two years "
                "(%(s2)s → %(s1)s → %(s0)s)."
            )
            % args
        )
    if rule == "rest":
        return (
            _(
                "C: sales %(s2)s → %(s1)s → %(s0)s: not in the top %(share)s%% "
                "(%(threshold)s) and not growing %(growth)s%% a year."
            )
            % args
        )
    return _("Not graded: no purchases.")


# --- referral-ability grade ------------------------------------------------------------

REFERRAL_FACTORS = ("loyalty", "network", "willingness")
REFERRAL_LABELS = {
    "loyalty": gettext_lazy("Loyalty to the brand"),
    "network": gettext_lazy("Breadth of network and circle"),
    "willingness": gettext_lazy("Willingness to refer"),
}


def referral_grade(loyalty: int, network: int, willingness: int) -> tuple[str, dict[str, Any]]:
    """Referral ability (转介绍能力) from three factors, each 1 (low) to 5 (high):

    * A — every factor at least 4: loyal, well connected and willing;
    * C — willingness at most 2 (someone who will not refer is not a referrer, however
      loyal or connected), or the three add up to 8 or less;
    * B — the rest.
    """
    factors = {"loyalty": loyalty, "network": network, "willingness": willingness}
    for name, value in factors.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValueError(f"{name} must be a whole number from 1 to 5")
    total = loyalty + network + willingness
    if min(factors.values()) >= 4:
        grade, rule = "A", "all_high"
    elif willingness <= 2:
        grade, rule = "C", "unwilling"
    elif total <= 8:
        grade, rule = "C", "low_total"
    else:
        grade, rule = "B", "middle"
    return grade, {"rule": rule, "total": total, **factors}


def describe_referral(explanation: Mapping[str, Any] | None) -> str:
    if not explanation:
        return ""
    args = {k: explanation.get(k, "") for k in (*REFERRAL_FACTORS, "total")}
    rule = explanation.get("rule")
    if rule == "all_high":
        text = _("A: loyalty, network and willingness all at least 4.")
    elif rule == "unwilling":
        text = _("C: willingness to refer is %(willingness)s (2 or less).")
    elif rule == "low_total":
        text = _("C: the three factors add up to %(total)s (8 or less).")
    else:
        text = _("B: the three factors add up to %(total)s, not all at least 4.")
    return (
        (text % args)
        + " "
        + (_("Loyalty %(loyalty)s, network %(network)s, willingness %(willingness)s.") % args)
    )


# --- key customers ----------------------------------------------------------------------


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of ``day``'s week (key customers are submitted per week)."""
    return day - datetime.timedelta(days=day.weekday())


def expected_by(day: datetime.date, horizon: str, horizons: Mapping[str, int]) -> datetime.date:
    """When a key customer submitted on ``day`` at ``horizon`` should decide."""
    return day + datetime.timedelta(days=horizons[horizon])


def required_submissions(minimum: int, prospects: int) -> int:
    """How many key customers a consultant owes this week: the minimum, or fewer when
    they have fewer prospects (none at all: nothing owed)."""
    return max(0, min(minimum, prospects))


def rate(part: int, whole: int) -> float | None:
    """A share in percent with one decimal, or None when there is nothing to divide."""
    if whole <= 0:
        return None
    return round(100.0 * part / whole, 1)
