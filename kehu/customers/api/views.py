"""The customer archive API: customers and their numbers, tags, relations and stage,
purchases and their mileage readings, the timeline, the duplicate check, tags, and the
completeness configuration. Thin: parse → access (visible_to) → service → serialise."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.core.phones import mask_phone
from kehu.customers import services
from kehu.customers.api import serializers as s
from kehu.customers.choices import CompletenessStage
from kehu.customers.filtersets import CustomerFilterSet, TagFilterSet, masks_numbers_for
from kehu.customers.models import Customer, CustomerTag, MileageReading, Relation, Tag
from kehu.org.api.serializers import MAX_ID
from kehu.org.api.views import VisibleMixin


def with_list_columns(queryset: Any) -> Any:
    return queryset.select_related("channel").prefetch_related(
        "phones",
        Prefetch("tag_rows", queryset=CustomerTag.objects.select_related("tag__dimension")),
    )


def with_archive(queryset: Any) -> Any:
    return with_list_columns(queryset).prefetch_related(
        Prefetch("relations_out", queryset=Relation.objects.select_related("to_customer")),
        Prefetch("relations_in", queryset=Relation.objects.select_related("from_customer")),
        "anniversaries",
    )


class CustomerViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """Customers you may see (your own; your subtree's if you manage; what you registered
    if you are a promoter or broker; everything if you are an administrator)."""

    queryset = Customer.objects.all()
    serializer_class = s.CustomerSerializer
    filterset_class = CustomerFilterSet
    ordering_fields = [
        "id",
        "name",
        "created_at",
        "updated_at",
        "last_followup_at",
        "completeness",
        "stage",
        "protected_until",
    ]

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if self.action == "list":
            # Numbers and tags are attached to the page below: two plain queries, without
            # the per-row cost of prefetch_related (a third of the list's time at 50 rows).
            return queryset.select_related("channel")
        if self.action == "retrieve":
            return with_archive(queryset)
        return queryset

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        if page is not None and self.action == "list":
            s.attach_list_columns(page)
        return page

    def get_serializer_class(self) -> Any:
        if self.action == "list":
            return s.CustomerSerializer
        return s.CustomerDetailSerializer

    def _detail(self, customer: Customer, code: int = status.HTTP_200_OK) -> Response:
        """The customer as it is now, read afresh after a write."""
        customer = with_archive(Customer.objects.all()).get(pk=customer.pk)
        return Response(
            s.CustomerDetailSerializer(customer, context={"request": self.request}).data,
            status=code,
        )

    @extend_schema(request=s.CustomerUpdateSerializer, responses=s.CustomerDetailSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        customer = self.get_object()
        data = s.CustomerUpdateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        customer = services.update_customer(
            actor=request.user, customer=customer, **data.validated_data
        )
        return self._detail(customer)

    @extend_schema(request=s.PhoneCreateSerializer, responses={201: s.CustomerDetailSerializer})
    @action(detail=True, methods=["post"])
    def phones(self, request: Request, pk: Any = None) -> Response:
        """Add a number; a number belongs to one customer."""
        customer = self.get_object()
        data = s.PhoneCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.add_phone(
            actor=request.user, customer=customer, phone=data.validated_data["phone"]
        )
        return self._detail(customer, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("phone_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=None,
        responses={204: None},
    )
    @action(detail=True, methods=["delete"], url_path=r"phones/(?P<phone_id>[0-9]{1,19})")
    def remove_phone(self, request: Request, pk: Any = None, phone_id: str = "") -> Response:
        """Remove a number (a customer keeps at least one)."""
        customer = self.get_object()
        number = int(phone_id)
        if number > MAX_ID or not customer.phones.filter(pk=number).exists():
            raise Http404
        services.remove_phone(actor=request.user, customer=customer, phone_id=number)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.TagsSerializer, responses=s.CustomerDetailSerializer)
    @action(detail=True, methods=["put"])
    def tags(self, request: Request, pk: Any = None) -> Response:
        """Replace the customer's tags with the ones given."""
        customer = self.get_object()
        data = s.TagsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_tags(actor=request.user, customer=customer, tags=data.validated_data["tags"])
        return self._detail(customer)

    @extend_schema(request=s.RelationCreateSerializer, responses={201: s.CustomerDetailSerializer})
    @action(detail=True, methods=["post"])
    def relations(self, request: Request, pk: Any = None) -> Response:
        """Link this customer to another you may see: ``{"other": id, "kind":
        "referred_by"}`` means the other referred this one."""
        customer = self.get_object()
        data = s.RelationCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.add_relation(actor=request.user, customer=customer, **data.validated_data)
        return self._detail(customer, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="List the customer's purchases",
        responses=s.PurchaseSerializer(many=True),
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a purchase",
        description=(
            "Record a sale to the customer: whoever may edit the customer may. The "
            "contribution values and the life-cycle reminders follow (docs/occasions.md)."
        ),
        request=s.PurchaseCreateSerializer,
        responses={201: s.PurchaseSerializer},
        filters=False,
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def purchases(self, request: Request, pk: Any = None) -> Response:
        """The customer's purchases, newest first, each with its mileage readings; POST
        records one."""
        customer = self.get_object()
        if request.method == "POST":
            data = s.PurchaseCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            row = services.record_purchase(
                actor=request.user, customer=customer, **data.validated_data
            )
            return Response(s.PurchaseSerializer(row).data, status=status.HTTP_201_CREATED)
        rows = customer.purchases.prefetch_related(
            Prefetch(
                "mileage_readings", queryset=MileageReading.objects.order_by("read_on", "km", "id")
            )
        )
        return Response(s.PurchaseSerializer(rows, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("purchase_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=s.MileageReadingCreateSerializer,
        responses={201: s.MileageReadingSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"purchases/(?P<purchase_id>[0-9]{1,19})/mileage-readings",
    )
    def mileage_readings(self, request: Request, pk: Any = None, purchase_id: str = "") -> Response:
        """Record an odometer reading (km since the purchase) on one of the customer's
        purchases: whoever may edit the customer may. Its life-cycle reminders are
        recomputed from the observed rate (docs/occasions.md)."""
        customer = self.get_object()
        number = int(purchase_id)
        purchase = customer.purchases.filter(pk=number).first() if number <= MAX_ID else None
        if purchase is None:
            raise Http404
        data = s.MileageReadingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.record_mileage(actor=request.user, purchase=purchase, **data.validated_data)
        return Response(s.MileageReadingSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.StageSerializer, responses=s.CustomerDetailSerializer)
    @action(detail=True, methods=["post"])
    def stage(self, request: Request, pk: Any = None) -> Response:
        """Move the customer through the funnel (lost, and moving back, need a reason)."""
        from kehu.activities.services import change_stage

        customer = self.get_object()
        data = s.StageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change_stage(actor=request.user, customer=customer, **data.validated_data)
        return self._detail(customer)

    @extend_schema(
        responses=s.TimelineEntrySerializer(many=True),
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=None)
    def timeline(self, request: Request, pk: Any = None) -> Response:
        """Follow-ups, stage changes, registrations and changes of owner, newest first."""
        from kehu.activities.models import Activity, StageChange
        from kehu.leads.models import Assignment, Registration
        from kehu.leads.services import Judgement

        customer = self.get_object()
        viewer = request.user
        entries: list[dict[str, Any]] = []
        for a in Activity.objects.filter(customer=customer):
            entries.append(
                entry(
                    "activity",
                    a.pk,
                    a.occurred_at,
                    a.staff_id,
                    kind=a.kind,
                    outcome=a.outcome,
                    note=a.note,
                )
            )
        for c in StageChange.objects.filter(customer=customer):
            entries.append(
                entry(
                    "stage_change",
                    c.pk,
                    c.created_at,
                    c.actor_id,
                    from_stage=c.from_stage,
                    to_stage=c.to_stage,
                    reason=c.reason,
                )
            )
        registrations = Registration.objects.visible_to(viewer).filter(customer=customer)
        for r in registrations.select_related("channel"):
            shown = Judgement(r, customer, r.result, r.owner_id, r.protected_until).as_dict(viewer)
            entries.append(
                entry(
                    "registration",
                    r.pk,
                    r.created_at,
                    r.registered_by_id,
                    kind=r.kind,
                    channel=r.channel.code,
                    result=shown["result"],
                    owner=shown["owner"],
                    is_fraud=r.is_fraud,
                )
            )
        for g in Assignment.objects.filter(customer=customer):
            entries.append(
                entry(
                    "assignment",
                    g.pk,
                    g.created_at,
                    g.actor_id,
                    from_staff=g.from_staff_id,
                    to_staff=g.to_staff_id,
                    reason=g.reason,
                    explanation=g.explanation,
                )
            )
        order = {"registration": 0, "assignment": 1, "stage_change": 2, "activity": 3}
        entries.sort(key=lambda e: (e["at"], order[e["type"]], e["id"]), reverse=True)
        page = self.paginate_queryset(entries)
        rows = s.TimelineEntrySerializer(page if page is not None else entries, many=True).data
        return self.get_paginated_response(rows) if page is not None else Response(rows)

    @extend_schema(responses=s.DuplicatesSerializer, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def duplicates(self, request: Request, pk: Any = None) -> Response:
        """Records that look like this one (same name and a number one digit apart, same
        WeChat id or email), checked over every record: those you may not see are only
        counted."""
        from kehu.customers.merge import REASONS, find_duplicates

        customer = self.get_object()
        found = find_duplicates(actor=request.user, customer=customer)
        masked = masks_numbers_for(request.user)
        candidates = []
        for row in found["candidates"]:
            other = row["customer"]
            phones = list(other.phones.all())
            number = phones[0].number if phones else None
            if number and masked and other.owner_id != request.user.pk:
                number = mask_phone(number)
            candidates.append(
                {
                    "customer": {
                        "id": other.pk,
                        "name": other.name,
                        "phone": number,
                        "stage": other.stage,
                        "owner": other.owner_id,
                    },
                    "reasons": row["reasons"],
                    "labels": [str(REASONS[r]) for r in row["reasons"]],
                }
            )
        return Response(
            {
                "candidates": candidates,
                "hidden_count": found["hidden_count"],
                "hidden_message": found["hidden_message"],
            }
        )

    @extend_schema(request=s.MergeSerializer, responses=s.CustomerDetailSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: Any = None) -> Response:
        """Merge another record into this one: its numbers, registrations, follow-ups,
        tags, relations and the rest move here, and it disappears. You must be allowed to
        edit both."""
        from kehu.customers.merge import merge_customers

        keep = self.get_object()
        data = s.MergeSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        keep = merge_customers(actor=request.user, keep=keep, merge=data.validated_data["merge"])
        return self._detail(keep)

    @extend_schema(request=s.ReturnToPoolSerializer, responses=s.CustomerDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return-to-pool")
    def return_to_pool(self, request: Request, pk: Any = None) -> Response:
        """Give the customer up to the public pool (the owner, or a manager over it),
        saying why."""
        from kehu.leads.pool import return_to_pool

        customer = self.get_object()
        data = s.ReturnToPoolSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return_to_pool(actor=request.user, customer=customer, reason=data.validated_data["reason"])
        return self._detail(customer)

    @extend_schema(
        parameters=[OpenApiParameter("phone", OpenApiTypes.STR, required=True)],
        responses=s.CheckResultSerializer,
        filters=False,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def check(self, request: Request) -> Response:
        """The duplicate check before saving (判客): whether the number is already a
        customer, looking at every record but revealing only what you may see."""
        from kehu.leads.services import judge

        data = s.CheckQuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        return Response(judge(actor=request.user, phone=data.validated_data["phone"]))


def entry(entry_type: str, pk: int, at: Any, actor: int | None, **data: Any) -> dict[str, Any]:
    """One line of a customer's timeline."""
    return {"type": entry_type, "id": pk, "at": at, "actor": actor, "data": data}


class TagViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The tags, in their dimensions; anyone may read them, owners and managers add."""

    queryset = Tag.objects.select_related("dimension")
    serializer_class = s.TagSerializer
    filterset_class = TagFilterSet
    ordering_fields = ["name", "id"]

    @extend_schema(
        request=s.TagCreateSerializer,
        responses={201: s.TagSerializer, 200: s.TagSerializer},
    )
    def create(self, request: Request) -> Response:
        """Add a tag (answers the existing one, 200, if the dimension already has it)."""
        data = s.TagCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dimension, name = (data.validated_data[k].strip() for k in ("dimension", "name"))
        existed = Tag.objects.filter(dimension__name=dimension, name=name).exists()
        tag = services.ensure_tag(actor=request.user, dimension=dimension, name=name)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(s.TagSerializer(tag).data, status=code)


class CompletenessRequirementView(APIView):
    """The fields each completeness stage requires and its minimum score. Everyone reads;
    administrators change them (PUT a list of the stages to change)."""

    pagination_class = None

    def _rows(self) -> list[dict[str, Any]]:
        reqs = services.requirements()
        return [
            {
                "stage": value,
                "label": str(label),
                "fields": reqs[value][0],
                "minimum": reqs[value][1],
            }
            for value, label in CompletenessStage.choices
        ]

    @extend_schema(responses=s.RequirementSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(self._rows())

    @extend_schema(
        request=s.RequirementUpdateSerializer(many=True),
        responses=s.RequirementSerializer(many=True),
    )
    def put(self, request: Request) -> Response:
        data = s.RequirementUpdateSerializer(
            data=request.data, many=True, allow_empty=False, max_length=len(CompletenessStage)
        )
        data.is_valid(raise_exception=True)
        with transaction.atomic():  # all the stages sent, or none
            for row in data.validated_data:
                services.set_stage_requirement(actor=request.user, **row)
        return Response(self._rows())
