"""Completeness: a pure function of a customer's profile (STYLE rule 14).

The profile is a flat dict ``{field: value}``; a field counts as filled when its value is
not None, not blank and not an empty list/dict. The score is the share of all tracked
fields that are filled; a customer is *below* its stage when a required field of that
stage is missing or the score is under the stage's minimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

# Every profile field the archive tracks, with its label, in the order of DOMAIN §2.
FIELDS: dict[str, Any] = {
    # basic
    "name": _("Name"),
    "title": _("Title in messages"),
    "gender": _("Gender"),
    "phone": _("Contact number"),
    "age": _("Age or birthday"),
    "native_place": _("Native place"),
    "address": _("Address"),
    "wechat": _("WeChat"),
    "email": _("Email"),
    # source
    "source": _("Source / channel"),
    "consultation": _("Consultation content"),
    "recorder": _("Recorder"),
    # family and economics
    "family_structure": _("Family structure"),
    "occupation": _("Occupation"),
    "industry": _("Industry"),
    "employer": _("Employer"),
    "position": _("Position"),
    "income": _("Income"),
    "cars": _("Cars owned"),
    "investments": _("Investments"),
    "housing": _("Housing"),
    "purchase_history": _("Purchase history"),
    "family_relations": _("Family relations"),
    # character
    "hobbies": _("Hobbies"),
    "character": _("Personality"),
    "interests": _("Interests"),
    "circle": _("Circle"),
    # needs
    "purpose": _("Purpose of purchase"),
    "needs": _("Requirements"),
    "budget": _("Budget"),
    "intended_product": _("Intended product"),
    "intent_grade": _("Intent grade"),
}

# Profile fields kept in Customer.profile (JSON); the others are columns or derived.
PROFILE_KEYS = [
    "native_place",
    "consultation",
    "family_structure",
    "occupation",
    "industry",
    "employer",
    "position",
    "income",
    "cars",
    "investments",
    "housing",
    "purchase_history",
    "family_relations",
    "hobbies",
    "character",
    "interests",
    "circle",
    "purpose",
    "needs",
    "budget",
    "intended_product",
    # organisations
    "scale",
    "cash_flow",
    "market_position",
    "credit_record",
    "decision_makers",
]

FIRST_CALL = ["name", "gender", "phone", "source", "consultation", "recorder"]
FIRST_VISIT = [*FIRST_CALL, "age", "address", "family_structure", "occupation", "purpose", "needs"]
REPEAT_VISITS = [
    *FIRST_VISIT,
    "housing",
    "purchase_history",
    "family_relations",
    "position",
    "income",
    "character",
    "interests",
    "intent_grade",
    "circle",
]

# DOMAIN §2 defaults: stage → (required fields, minimum score in percent). "Everything"
# for owners is every tracked field. Administrators edit these (StageRequirement rows).
DEFAULT_REQUIREMENTS: dict[str, tuple[list[str], int]] = {
    "first_call": (FIRST_CALL, 0),
    "first_visit": (FIRST_VISIT, 30),
    "repeat_visits": (REPEAT_VISITS, 70),
    "owner": (list(FIELDS), 100),
}


def is_filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip()) and value != "unknown"
    if isinstance(value, list | dict | tuple | set):
        return bool(value)
    return True


@dataclass(frozen=True)
class Completeness:
    score: int  # percent of all tracked fields filled
    stage: str
    required: list[str]
    minimum: int
    missing: list[str]  # required fields not filled

    @property
    def is_below(self) -> bool:
        return bool(self.missing) or self.score < self.minimum


def completeness_stage(stage: str, visit_count: int) -> str:
    """Which completeness stage a funnel stage and visit count fall in."""
    if stage in {"deal", "owner"}:
        return "owner"
    if visit_count >= 3:
        return "repeat_visits"
    if visit_count >= 1 or stage in {"visited", "pledged"}:
        return "first_visit"
    return "first_call"


def compute(
    profile: Mapping[str, Any],
    stage: str,
    requirements: Mapping[str, tuple[list[str], int]] | None = None,
) -> Completeness:
    requirements = requirements or DEFAULT_REQUIREMENTS
    required, minimum = requirements.get(stage, DEFAULT_REQUIREMENTS[stage])
    filled = [f for f in FIELDS if is_filled(profile.get(f))]
    score = round(100 * len(filled) / len(FIELDS))
    missing = [f for f in required if not is_filled(profile.get(f))]
    return Completeness(
        score=score, stage=stage, required=list(required), minimum=minimum, missing=missing
    )
