"""Serializers of the customer archive, and the strict input fields the leads and
activities APIs share (text is text, a number is a number, unknown keys are errors)."""

from __future__ import annotations

import datetime
from typing import Any, NamedTuple

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehu.core.api.fields import KnownChoiceField
from kehu.core.phones import mask_phone
from kehu.customers import completeness
from kehu.customers.choices import (
    CompletenessStage,
    CustomerKind,
    Gender,
    RelationKind,
    RelationshipCategory,
    Stage,
)
from kehu.customers.filtersets import masks_numbers_for
from kehu.customers.models import Customer, Tag
from kehu.customers.services import requirements
from kehu.org.api.serializers import MAX_ID, VisiblePrimaryKeyField

EARLIEST_DATE = datetime.date(1900, 1, 1)


# --- strict input fields ----------------------------------------------------------------


class TextField(serializers.CharField):
    """Text only: a number, a list or an object is an error instead of being turned into
    text. HTML and other markup are kept verbatim (templates escape on output)."""

    default_error_messages = {"invalid": _("Expected text.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class NumberField(serializers.FloatField):
    """A JSON number (not a string, not true/false)."""

    default_error_messages = {"invalid": _("Expected a number.")}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """A JSON whole number (not "12", not 12.5, not true)."""

    default_error_messages = {"invalid": _("Expected a whole number.")}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string", "format": "decimal"}]})
class AmountField(serializers.DecimalField):
    """An amount in yuan: a JSON number or a decimal string ("7950.5"), not true/false, a
    list or an object. Its range and decimals are the service's to check, so the page and
    the API say the same."""

    default_error_messages = {"invalid": _("Enter an amount in yuan, for example 7950.")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=None, decimal_places=None, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false, nothing else ("yes", 1 and "1" are errors)."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictSerializer(serializers.Serializer):
    """Input serializer that names every key it does not know, instead of silently
    ignoring it (a client sending ``owner`` to an edit must learn it was not applied)."""

    default_error_messages = {
        "unknown_field": _("Unknown field, or one that cannot be changed here; valid: {valid}."),
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = [name for name, field in self.fields.items() if not field.read_only]
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                message = self.error_messages["unknown_field"].format(valid=", ".join(writable))
                raise serializers.ValidationError({key[:100]: [message] for key in unknown[:20]})
        return super().to_internal_value(data)


class KnownIdsField(serializers.ListField):
    """A list of ids of ``model`` (no visibility rule: tags are shared); unknown ids are
    named. Answers the objects, in the order given, without duplicates."""

    default_error_messages = {"does_not_exist": _("Unknown id {pk_value}.")}

    def __init__(self, *, model: Any, **kwargs: Any) -> None:
        self.model = model
        kwargs.setdefault(
            "child",
            WholeNumberField(
                min_value=1,
                max_value=MAX_ID,
                error_messages={"invalid": _("Expected an id (a whole number).")},
            ),
        )
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        ids = list(dict.fromkeys(super().to_internal_value(data)))
        if self.max_length is not None and len(ids) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        found = self.model.objects.in_bulk(ids)
        missing = [pk for pk in ids if pk not in found]
        if missing:
            self.fail("does_not_exist", pk_value=missing[0])
        return [found[pk] for pk in ids]


def viewer_of(context: dict[str, Any]) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


def context_requirements(context: dict[str, Any]) -> dict[str, tuple[list[str], int]]:
    """The completeness configuration, read once per response."""
    if "_requirements" not in context:
        context["_requirements"] = requirements()
    return context["_requirements"]


# --- output -------------------------------------------------------------------------------


class CompletenessSerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text=_("Percent of all tracked fields filled."))
    stage = serializers.ChoiceField(choices=CompletenessStage.choices)
    minimum = serializers.IntegerField()
    missing = serializers.ListField(child=serializers.CharField())
    is_below = serializers.BooleanField()


class PhoneSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text=_("E.164, or masked (138****5678) for some roles."))
    is_primary = serializers.BooleanField()


class TagSerializer(serializers.ModelSerializer):
    dimension = serializers.CharField(source="dimension.name", read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "dimension", "name"]


class TagCreateSerializer(StrictSerializer):
    dimension = TextField(max_length=50)
    name = TextField(max_length=50)


class _Phone(NamedTuple):
    pk: int
    number: str
    is_primary: bool


class _Tag(NamedTuple):
    tag_id: int
    name: str
    dimension: str


def attach_list_columns(customers: list[Customer]) -> None:
    """Give a page of customers their numbers and tags, one query each."""
    from kehu.customers.models import CustomerPhone, CustomerTag

    by_id = {c.pk: c for c in customers}
    for c in customers:
        c._list_phones = []  # type: ignore[attr-defined]
        c._list_tags = []  # type: ignore[attr-defined]
    for cid, pk, number, primary in (
        CustomerPhone.objects.filter(customer_id__in=by_id)
        .order_by("-is_primary", "id")
        .values_list("customer_id", "id", "number", "is_primary")
    ):
        by_id[cid]._list_phones.append(_Phone(pk, number, primary))  # type: ignore[attr-defined]
    for cid, tag_id, name, dimension in CustomerTag.objects.filter(
        customer_id__in=by_id
    ).values_list("customer_id", "tag_id", "tag__name", "tag__dimension__name"):
        by_id[cid]._list_tags.append(_Tag(tag_id, name, dimension))  # type: ignore[attr-defined]


class CustomerSerializer(serializers.ModelSerializer):
    """A customer in a list: the columns of the customer list page."""

    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    phone = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    completeness = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "kind",
            "name",
            "title",
            "gender",
            "phone",
            "stage",
            "lost_reason",
            "intent_grade",
            "relationship",
            "visit_count",
            "owner",
            "node",
            "registered_by",
            "channel",
            "protected_until",
            "first_registered_at",
            "last_followup_at",
            "tags",
            "completeness",
            "created_at",
            "updated_at",
        ]

    def _masked(self, obj: Customer) -> bool:
        viewer = viewer_of(self.context)
        return masks_numbers_for(viewer) and obj.owner_id != viewer.pk

    def _numbers(self, obj: Customer) -> list[dict[str, Any]]:
        masked = self._masked(obj)
        return [
            {
                "id": p.pk,
                "number": mask_phone(p.number) if masked else p.number,
                "is_primary": p.is_primary,
            }
            for p in getattr(obj, "_list_phones", None) or obj.phones.all()
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_phone(self, obj: Customer) -> str | None:
        """The primary number (masked for promoters and brokers)."""
        numbers = self._numbers(obj)
        return numbers[0]["number"] if numbers else None

    @extend_schema_field(TagSerializer(many=True))
    def get_tags(self, obj: Customer) -> list[dict[str, Any]]:
        attached = getattr(obj, "_list_tags", None)
        if attached is not None:
            return [
                {"id": t.tag_id, "dimension": t.dimension, "name": t.name}
                for t in sorted(attached, key=lambda t: (t.dimension, t.name))
            ]
        rows = sorted(obj.tag_rows.all(), key=lambda r: (r.tag.dimension.name, r.tag.name))
        return [
            {"id": r.tag_id, "dimension": r.tag.dimension.name, "name": r.tag.name} for r in rows
        ]

    @extend_schema_field(CompletenessSerializer)
    def get_completeness(self, obj: Customer) -> dict[str, Any]:
        stage = completeness.completeness_stage(obj.stage, obj.visit_count)
        reqs = context_requirements(self.context)
        _fields, minimum = reqs.get(stage, completeness.DEFAULT_REQUIREMENTS[stage])
        return {
            "score": obj.completeness,
            "stage": stage,
            "minimum": minimum,
            "missing": list(obj.completeness_missing or []),
            "is_below": obj.is_below_completeness,
        }


class RelationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=RelationKind.choices)
    direction = serializers.ChoiceField(
        choices=[("out", "out"), ("in", "in")],
        help_text=_(
            '"out": this customer is <kind> of the other (referred_by: the other referred '
            'them); "in": the other is <kind> of this customer.'
        ),
    )
    other = serializers.IntegerField()
    other_name = serializers.CharField(
        allow_null=True, help_text=_("Only when you may see the other customer.")
    )


class LunarDateSerializer(serializers.Serializer):
    month = serializers.IntegerField(min_value=1, max_value=12)
    day = serializers.IntegerField(min_value=1, max_value=30)
    is_leap = serializers.BooleanField(default=False)


class AnniversarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    date = serializers.DateField(allow_null=True)
    lunar = LunarDateSerializer(allow_null=True)


class CustomerDetailSerializer(CustomerSerializer):
    """The customer page: the whole archive of one customer."""

    phones = serializers.SerializerMethodField()
    relations = serializers.SerializerMethodField()
    anniversaries = serializers.SerializerMethodField()
    lunar_birthday = serializers.SerializerMethodField()

    class Meta(CustomerSerializer.Meta):
        fields = [
            *CustomerSerializer.Meta.fields,
            "age",
            "birthday",
            "lunar_birthday",
            "address",
            "wechat",
            "email",
            "profile",
            "contribution_value",
            "phones",
            "relations",
            "anniversaries",
            "pooled_at",
            "previous_owner",
        ]

    @extend_schema_field(PhoneSerializer(many=True))
    def get_phones(self, obj: Customer) -> list[dict[str, Any]]:
        return self._numbers(obj)

    @extend_schema_field(RelationSerializer(many=True))
    def get_relations(self, obj: Customer) -> list[dict[str, Any]]:
        rows = [(r, "out", r.to_customer) for r in obj.relations_out.all()]
        rows += [(r, "in", r.from_customer) for r in obj.relations_in.all()]
        others = {other.pk for _r, _d, other in rows}
        visible = set(
            Customer.objects.visible_to(viewer_of(self.context))
            .filter(pk__in=others)
            .values_list("pk", flat=True)
            if others
            else []
        )
        rows.sort(key=lambda row: row[0].pk)
        return [
            {
                "id": r.pk,
                "kind": r.kind,
                "direction": direction,
                "other": other.pk,
                "other_name": other.name if other.pk in visible else None,
            }
            for r, direction, other in rows
        ]

    @extend_schema_field(AnniversarySerializer(many=True))
    def get_anniversaries(self, obj: Customer) -> list[dict[str, Any]]:
        return [
            {
                "id": a.pk,
                "label": a.label,
                "date": a.date.isoformat() if a.date else None,
                "lunar": a.lunar,
            }
            for a in obj.anniversaries.all()
        ]

    @extend_schema_field(LunarDateSerializer(allow_null=True))
    def get_lunar_birthday(self, obj: Customer) -> dict[str, Any] | None:
        return obj.lunar_birthday


# --- input --------------------------------------------------------------------------------


class StrictLunarDateSerializer(StrictSerializer):
    month = WholeNumberField(min_value=1, max_value=12)
    day = WholeNumberField(min_value=1, max_value=30)
    is_leap = StrictBooleanField(default=False)


class CustomerUpdateSerializer(StrictSerializer):
    """The profile fields a PATCH may change; stage, owner and attribution change through
    their own endpoints."""

    kind = KnownChoiceField(choices=CustomerKind.choices, required=False)
    name = TextField(max_length=100, required=False, allow_blank=True)
    title = TextField(max_length=20, required=False, allow_blank=True)
    gender = KnownChoiceField(choices=Gender.choices, required=False)
    age = WholeNumberField(min_value=0, max_value=150, required=False, allow_null=True)
    birthday = serializers.DateField(required=False, allow_null=True)
    lunar_birthday = StrictLunarDateSerializer(required=False, allow_null=True)
    address = TextField(max_length=200, required=False, allow_blank=True)
    wechat = TextField(max_length=64, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    profile = serializers.DictField(
        required=False,
        child=serializers.JSONField(allow_null=True),
        help_text=_(
            "Merged key by key; a key set to null or an empty string is removed. Keys: %(keys)s."
        )
        % {"keys": ", ".join(completeness.PROFILE_KEYS)},
    )
    relationship = KnownChoiceField(choices=RelationshipCategory.choices, required=False)

    def validate_birthday(self, value: datetime.date | None) -> datetime.date | None:
        if value is not None and not EARLIEST_DATE <= value <= timezone.localdate():
            raise serializers.ValidationError(_("A birthday is between 1900-01-01 and today."))
        return value


class PhoneCreateSerializer(StrictSerializer):
    phone = TextField(
        max_length=32,
        help_text=_("A mainland mobile (11 digits, +86/0086 optional) or another valid number."),
    )


class TagsSerializer(StrictSerializer):
    tags = KnownIdsField(model=Tag, help_text=_("The customer's tags: the whole set."))


class RelationCreateSerializer(StrictSerializer):
    other = VisiblePrimaryKeyField(queryset=Customer.objects.all())
    kind = KnownChoiceField(choices=RelationKind.choices)


class StageSerializer(StrictSerializer):
    stage = KnownChoiceField(choices=Stage.choices)
    reason = TextField(max_length=200, required=False, allow_blank=True, default="")


class CheckQuerySerializer(serializers.Serializer):
    phone = TextField(max_length=32)


class CheckCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    stage = serializers.ChoiceField(choices=Stage.choices)
    owner = serializers.IntegerField(allow_null=True)


class CheckResultSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text=_("The number, normalised (E.164)."))
    exists = serializers.BooleanField()
    visible = serializers.BooleanField(help_text=_("Whether you may see the customer."))
    customer = CheckCustomerSerializer(allow_null=True)
    is_mine = serializers.BooleanField(required=False)
    protected = serializers.BooleanField(required=False)


class TimelineEntrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=[
            ("activity", "activity"),
            ("stage_change", "stage_change"),
            ("registration", "registration"),
            ("assignment", "assignment"),
        ]
    )
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.IntegerField(allow_null=True)
    data = serializers.DictField(
        help_text=_(
            "activity: kind, outcome, note; stage_change: from_stage, to_stage, reason; "
            "registration: kind, channel, result, owner, is_fraud; assignment: from_staff, "
            "to_staff, reason, explanation."
        )
    )


class RequirementSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=CompletenessStage.choices)
    label = serializers.CharField(read_only=True)
    fields = serializers.ListField(child=serializers.ChoiceField(choices=list(completeness.FIELDS)))
    minimum = serializers.IntegerField(min_value=0, max_value=100)


class RequirementListUpdateSerializer(serializers.ListSerializer):
    def validate(self, attrs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stages = [row["stage"] for row in attrs]
        if len(stages) != len(set(stages)):
            raise serializers.ValidationError(_("Each stage may be given once."))
        return attrs


class RequirementUpdateSerializer(StrictSerializer):
    """One stage's requirement; PUT takes a list of these (the stages sent are replaced,
    the others stay as they are)."""

    stage = KnownChoiceField(choices=CompletenessStage.choices)
    fields = serializers.ListField(
        child=KnownChoiceField(choices=list(completeness.FIELDS)),
        max_length=len(completeness.FIELDS),
    )
    minimum = WholeNumberField(min_value=0, max_value=100)

    class Meta:
        list_serializer_class = RequirementListUpdateSerializer


# --- duplicates, merge, returning to the pool ---------------------------------------------


class DuplicateCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField(allow_null=True)
    stage = serializers.ChoiceField(choices=Stage.choices)
    owner = serializers.IntegerField(allow_null=True)


class DuplicateSerializer(serializers.Serializer):
    customer = DuplicateCustomerSerializer()
    reasons = serializers.ListField(
        child=serializers.ChoiceField(
            choices=[
                ("name_and_number", "name_and_number"),
                ("wechat", "wechat"),
                ("email", "email"),
            ]
        )
    )
    labels = serializers.ListField(child=serializers.CharField())


class DuplicatesSerializer(serializers.Serializer):
    candidates = DuplicateSerializer(many=True)
    hidden_count = serializers.IntegerField(
        help_text=_("Records that look alike but that you may not see.")
    )
    hidden_message = serializers.CharField(allow_blank=True)


class MergeSerializer(StrictSerializer):
    merge = VisiblePrimaryKeyField(
        queryset=Customer.objects.all(),
        help_text=_("The record merged into this one (it disappears; its history moves)."),
    )


class ReturnToPoolSerializer(StrictSerializer):
    reason = TextField(max_length=200, allow_blank=True)


class VisibleIdsField(serializers.ListField):
    """Customer ids the requesting user may act on: those they see, and, for pool
    actions, those they see in the pool. Unknown and invisible ids look alike."""

    default_error_messages = {"does_not_exist": _("Unknown id {pk_value}.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "child",
            WholeNumberField(
                min_value=1,
                max_value=MAX_ID,
                error_messages={"invalid": _("Expected an id (a whole number).")},
            ),
        )
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault("allow_empty", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[Customer]:
        from kehu.leads.pool import pool_visible_to

        ids = list(dict.fromkeys(super().to_internal_value(data)))
        if self.max_length is not None and len(ids) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        user = viewer_of(self.context)
        found = Customer.objects.visible_to(user).in_bulk(ids)
        missing = [pk for pk in ids if pk not in found]
        if missing:
            found |= pool_visible_to(user).in_bulk(missing)
        missing = [pk for pk in ids if pk not in found]
        if missing:
            self.fail("does_not_exist", pk_value=missing[0])
        return [found[pk] for pk in ids]


# --- purchases and mileage readings ---------------------------------------------------------


class MileageReadingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    km = serializers.IntegerField(help_text=_("Kilometres driven since the purchase."))
    read_on = serializers.DateField()
    recorded_by = serializers.IntegerField(source="recorded_by_id", allow_null=True)
    created_at = serializers.DateTimeField()


class MileageReadingCreateSerializer(StrictSerializer):
    km = WholeNumberField(
        help_text=_(
            "Kilometres driven since the purchase: from 0, never fewer than an earlier "
            "reading of the same purchase."
        )
    )
    read_on = serializers.DateField(
        help_text=_("The day the odometer was read: from the purchase date to today.")
    )


class PurchaseCreateSerializer(StrictSerializer):
    product = TextField(
        max_length=None, allow_blank=True, help_text=_("What was sold: 1 to 100 characters.")
    )
    amount = AmountField(
        help_text=_(
            "In yuan, a JSON number or a decimal string: from 0, below 10^12, at most 2 decimals."
        )
    )
    purchased_on = serializers.DateField(help_text=_("The day of the sale: from 1900 to today."))


class PurchaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    purchased_on = serializers.DateField()
    mileage_readings = MileageReadingSerializer(
        many=True, help_text=_("Oldest first; the last one sets the observed rate.")
    )
