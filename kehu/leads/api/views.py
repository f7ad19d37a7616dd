"""The leads API: registrations (报备) with their judgement (判客), channels, and the
conflict queue (撞单). Thin: parse → access (visible_to) → service → serialise."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.customers.api.serializers import CustomerDetailSerializer, CustomerSerializer
from kehu.customers.api.views import with_archive, with_list_columns
from kehu.customers.filtersets import CustomerFilterSet
from kehu.customers.models import Customer
from kehu.leads import services
from kehu.leads.api import serializers as s
from kehu.leads.filtersets import ChannelFilterSet, ConflictFilterSet, RegistrationFilterSet
from kehu.leads.models import Channel, Conflict, Registration
from kehu.org.api.views import VisibleMixin


class RegistrationViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """Registrations you may see: your own; your subtree's if you manage; all if you are
    an administrator."""

    queryset = Registration.objects.all()
    serializer_class = s.RegistrationSerializer
    filterset_class = RegistrationFilterSet
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("channel")

    @extend_schema(request=s.RegistrationCreateSerializer, responses={201: s.JudgementSerializer})
    def create(self, request: Request) -> Response:
        """Register a lead as yourself and learn at once whether it is new, existing or a
        conflict. A registration that fails leaves nothing behind."""
        fields = s.plain_registration(request.data)
        if fields is None:
            data = s.RegistrationCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            fields = dict(data.validated_data)
        location = fields.pop("location", None)
        judgement = services.register_lead(
            actor=request.user,
            location=dict(location) if location is not None else None,
            **fields,
        )
        return Response(judgement.as_dict(request.user), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.FraudSerializer, responses=s.RegistrationSerializer)
    @action(detail=True, methods=["post"])
    def fraud(self, request: Request, pk: Any = None) -> Response:
        """Flag a registration as proved false (or clear the flag): managers over the
        registrant or the customer, and administrators."""
        registration = self.get_object()
        data = s.FraudSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.flag_fraud(
            actor=request.user, registration=registration, **data.validated_data
        )
        return Response(s.RegistrationSerializer(registration, context={"request": request}).data)


class ChannelViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Channels (拓客渠道) with their protection periods: everyone reads them,
    administrators add and edit them. ``code`` is the value a registration's
    ``channel`` takes."""

    queryset = Channel.objects.all()
    serializer_class = s.ChannelSerializer
    filterset_class = ChannelFilterSet
    ordering_fields = ["sort_order", "code", "id"]

    @extend_schema(request=s.ChannelCreateSerializer, responses={201: s.ChannelSerializer})
    def create(self, request: Request) -> Response:
        data = s.ChannelCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = services.create_channel(actor=request.user, **data.validated_data)
        return Response(s.ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ChannelUpdateSerializer, responses=s.ChannelSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        channel = self.get_object()
        data = s.ChannelUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = services.update_channel(
            actor=request.user, channel=channel, **data.validated_data
        )
        return Response(s.ChannelSerializer(channel).data)


class ConflictViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """The conflict queue: managers see conflicts in their subtree; claimants and owners
    see their own."""

    queryset = Conflict.objects.all()
    serializer_class = s.ConflictSerializer
    filterset_class = ConflictFilterSet
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("registration__channel")

    @extend_schema(request=s.ResolveSerializer, responses=s.ConflictSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: Any = None) -> Response:
        """Keep the owner, or transfer the customer to the claimant (with a new protection
        period). Logged; a conflict is resolved once."""
        conflict = self.get_object()
        data = s.ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conflict = services.resolve_conflict(
            actor=request.user, conflict=conflict, **data.validated_data
        )
        # Read afresh, not through visible_to: a transfer may move it out of your sight.
        conflict = Conflict.objects.select_related("registration__channel").get(pk=conflict.pk)
        return Response(s.ConflictSerializer(conflict, context={"request": request}).data)


class AssignmentViewSet(viewsets.GenericViewSet):
    """Assigning customers (分配), every one saying why: by hand, one or many, or by
    weighted round-robin among a team's consultants."""

    serializer_class = s.AssignSerializer
    queryset = Customer.objects.none()  # nothing is listed here; for the schema
    pagination_class = None

    @extend_schema(request=s.AssignSerializer, responses=s.AssignmentResultSerializer(many=True))
    def create(self, request: Request) -> Response:
        """Give one or many customers to a consultant or manager; all or nothing."""
        from kehu.leads.assignment import assign_customers

        data = s.AssignSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        results = assign_customers(actor=request.user, **data.validated_data)
        return Response(assignment_results(results))

    @extend_schema(
        request=s.RoundRobinSerializer, responses=s.AssignmentResultSerializer(many=True)
    )
    @action(detail=False, methods=["post"], url_path="round-robin")
    def round_robin(self, request: Request) -> Response:
        """Share unowned customers among the active consultants of a node's subtree,
        weighted by capacity; each answer says who and why, or why not."""
        from kehu.leads.assignment import assign_round_robin

        data = s.RoundRobinSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        results = assign_round_robin(actor=request.user, **data.validated_data)
        return Response(assignment_results(results))


def assignment_results(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in results:
        item = {"customer": row["customer"].pk, "to": row["to"].pk if row["to"] else None}
        if "why_not" in row:
            item["why_not"] = str(row["why_not"])
        else:
            item["reason"] = str(row["reason"])
        out.append(item)
    return out


class PoolViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The public pool (公海) as you see it: unowned customers of your region or of no
    team (all of it for administrators); consultants and managers only."""

    queryset = Customer.objects.all()
    filterset_class = CustomerFilterSet
    ordering_fields = ["id", "pooled_at", "name", "created_at"]

    def get_queryset(self) -> Any:
        from kehu.leads.pool import pool_visible_to

        return with_list_columns(pool_visible_to(self.request.user))

    def get_serializer_class(self) -> Any:
        return CustomerSerializer

    @extend_schema(request=None, responses=CustomerDetailSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: Any = None) -> Response:
        """Take the customer: within your daily quota and the ownership cap, and not a
        customer you gave up less than the no-reclaim period ago."""
        from kehu.leads.pool import claim_from_pool

        customer = self.get_object()
        customer = claim_from_pool(actor=request.user, customer=customer)
        customer = with_archive(Customer.objects.all()).get(pk=customer.pk)
        return Response(CustomerDetailSerializer(customer, context={"request": request}).data)


class PoolSettingsView(APIView):
    """The pool's rules: everyone reads them, administrators change them."""

    @extend_schema(responses=s.PoolSettingsSerializer)
    def get(self, request: Request) -> Response:
        from kehu.leads.pool import pool_settings

        return Response(s.PoolSettingsSerializer(pool_settings()).data)

    @extend_schema(request=s.PoolSettingsUpdateSerializer, responses=s.PoolSettingsSerializer)
    def patch(self, request: Request) -> Response:
        from kehu.leads.pool import update_pool_settings

        data = s.PoolSettingsUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = update_pool_settings(actor=request.user, **data.validated_data)
        return Response(s.PoolSettingsSerializer(row).data)
