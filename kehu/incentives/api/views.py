"""The incentives API: schemes and their approval, monthly runs with their statements,
statements, the penalty pool ledger and the monthly facts. Thin: parse → access
(visible_to) → service → serialise."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.incentives import services
from kehu.incentives.api import serializers as s
from kehu.incentives.models import (
    DevelopedCustomer,
    FieldCampaign,
    IncentiveProfile,
    MonthlyRun,
    PoolEntry,
    RegionTarget,
    Scheme,
    Statement,
    StatementLine,
)
from kehu.org.api.views import VisibleMixin

LINES = Prefetch("lines", queryset=StatementLine.objects.order_by("position"))


def visible_statements(user: Any, run: MonthlyRun) -> Any:
    return (
        Statement.objects.visible_to(user)
        .filter(run=run)
        .select_related("staff")
        .prefetch_related(LINES)
        .order_by("staff_id")
    )


def run_as_result(run: MonthlyRun, statements: Any) -> dict[str, Any]:
    """A stored run in the engine's JSON shape, limited to ``statements`` (for exports)."""
    entry = getattr(run, "pool_entry", None)
    return {
        "month": run.month,
        "scheme": {"code": run.scheme.code, "version": run.scheme.version},
        "statements": [
            {
                "staff": st.staff_id,
                "role": st.role,
                "assessed": st.assessed,
                "total": st.total,
                "lines": [
                    {
                        "kind": line.kind,
                        "code": line.code,
                        "amount": line.amount,
                        "customer": line.customer_id,
                        "rule": line.rule,
                        "month": line.month,
                        "reason": line.reason,
                        "message": line.message or line.reason,
                    }
                    for line in st.lines.all()
                ],
            }
            for st in statements
        ],
        "pool": {
            "opening": entry.opening if entry else 0,
            "penalties": entry.penalties if entry else 0,
            "bonuses": entry.bonuses if entry else 0,
            "from_management_fund": entry.from_management_fund if entry else 0,
            "closing": entry.closing if entry else 0,
        },
    }


def xlsx_response(run: MonthlyRun, statements: Any) -> HttpResponse:
    from kehu.incentives.engine import to_json
    from kehu.incentives.xlsx import statements_xlsx

    statements = list(statements)
    names = {st.staff_id: str(st.staff) for st in statements}
    content = statements_xlsx(to_json(run_as_result(run, statements)), names)
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="statements-{run.month}.xlsx"'
    return response


class SchemeViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """Incentive scheme versions. Managers and administrators read them; administrators
    copy a version into a draft, edit and submit it; another administrator approves or
    rejects it."""

    queryset = Scheme.objects.all()
    serializer_class = s.SchemeSerializer
    ordering_fields = ["code", "version", "id"]
    filterset_fields = ["code", "status"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("created_by", "submitted_by", "approved_by")

    def _answer(self, scheme: Scheme, code: int = status.HTTP_200_OK) -> Response:
        scheme = self.get_queryset().get(pk=scheme.pk)
        return Response(s.SchemeSerializer(scheme).data, status=code)

    @extend_schema(request=s.SchemeUpdateSerializer, responses=s.SchemeSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        """Edit a draft: name, validity, parameters (checked whole; missing parameters
        come from the built-in default)."""
        scheme = self.get_object()
        data = s.SchemeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "valid_to" not in fields:
            fields["valid_to"] = "unchanged"
        return self._answer(services.update_scheme(actor=request.user, scheme=scheme, **fields))

    @extend_schema(request=s.SchemeCopySerializer, responses={201: s.SchemeSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request: Request, pk: Any = None) -> Response:
        """A new draft from this version: the next version of its code, or version 1 of
        a new ``code``."""
        scheme = self.get_object()
        data = s.SchemeCopySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = services.copy_scheme(actor=request.user, scheme=scheme, **data.validated_data)
        return self._answer(new, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.SchemeSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: Any = None) -> Response:
        """Submit a draft for approval by another administrator."""
        return self._answer(services.submit_scheme(actor=request.user, scheme=self.get_object()))

    @extend_schema(request=s.SchemeDecisionSerializer, responses=s.SchemeSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: Any = None) -> Response:
        """Approve a pending version (an administrator other than its submitter)."""
        scheme = self.get_object()
        data = s.SchemeDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.approve_scheme(actor=request.user, scheme=scheme, **data.validated_data)
        )

    @extend_schema(request=s.SchemeDecisionSerializer, responses=s.SchemeSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: Any = None) -> Response:
        """Reject a pending version, saying why (an administrator other than its
        submitter)."""
        scheme = self.get_object()
        data = s.SchemeDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.reject_scheme(actor=request.user, scheme=scheme, **data.validated_data)
        )


class MonthlyRunViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """Monthly runs: managers and administrators read them (each sees the statements
    they may see); administrators run or re-run a month."""

    queryset = MonthlyRun.objects.all()
    serializer_class = s.MonthlyRunSerializer
    ordering_fields = ["month", "id"]
    filterset_fields = ["month"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("scheme", "ran_by", "pool_entry")

    def _detail(self, run: MonthlyRun, code: int = status.HTTP_200_OK) -> Response:
        run = self.get_queryset().get(pk=run.pk)
        context = {"statements": visible_statements(self.request.user, run)}
        return Response(s.MonthlyRunDetailSerializer(run, context=context).data, status=code)

    @extend_schema(responses=s.MonthlyRunDetailSerializer)
    def retrieve(self, request: Request, pk: Any = None) -> Response:
        """A run with its pool entry and the statements you may see, line by line."""
        return self._detail(self.get_object())

    @extend_schema(request=s.RunCreateSerializer, responses={201: s.MonthlyRunDetailSerializer})
    def create(self, request: Request) -> Response:
        """Run (or re-run) a month with the approved version of ``scheme`` valid in it.
        Re-running replaces the month's statements and pool entry."""
        data = s.RunCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.run_month(actor=request.user, **data.validated_data)
        return self._detail(run, status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY
        }
    )
    @action(detail=True, methods=["get"])
    def xlsx(self, request: Request, pk: Any = None) -> HttpResponse:
        """The statements you may see of this run, as an XLSX workbook."""
        run = self.get_object()
        return xlsx_response(run, visible_statements(request.user, run))


class StatementViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """Statements: your own; your subtree's if you manage; all if you are an
    administrator. Every line names its rule, its customer and its reason."""

    queryset = Statement.objects.all()
    serializer_class = s.StatementSerializer
    ordering_fields = ["month", "staff", "id"]
    filterset_fields = ["month", "staff"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("staff").prefetch_related(LINES)


class PoolViewSet(VisibleMixin, viewsets.ReadOnlyModelViewSet):
    """The penalty pool ledger, one entry per month run (managers and administrators)."""

    queryset = PoolEntry.objects.all()
    serializer_class = s.PoolEntrySerializer
    lookup_field = "month"
    lookup_value_regex = r"\d{4}-\d{2}"
    ordering_fields = ["month"]


class RegionTargetViewSet(VisibleMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Regions' monthly targets, due before 08:00 on the 6th (Asia/Shanghai). Managers
    over the region submit or change them until then; administrators may still enter a
    late one, which is marked late. A target of 0 carries the unmet target forward."""

    queryset = RegionTarget.objects.all()
    serializer_class = s.RegionTargetSerializer
    ordering_fields = ["month", "id"]
    filterset_fields = ["month", "region"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("region", "submitted_by")

    @extend_schema(
        request=s.RegionTargetCreateSerializer, responses={201: s.RegionTargetSerializer}
    )
    def create(self, request: Request) -> Response:
        data = s.RegionTargetCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        row = services.submit_target(actor=request.user, **data.validated_data)
        row = self.get_queryset().get(pk=row.pk)
        return Response(s.RegionTargetSerializer(row).data, status=status.HTTP_201_CREATED)


class IncentiveProfileViewSet(VisibleMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Who is assessed as what (area manager with threshold 1 or 2, or region manager),
    in which region, with what monthly performance pay. Administrators set them
    (POST creates or replaces the person's profile)."""

    queryset = IncentiveProfile.objects.all()
    serializer_class = s.IncentiveProfileSerializer
    ordering_fields = ["id"]
    filterset_fields = ["region", "role"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("staff")

    @extend_schema(
        request=s.IncentiveProfileCreateSerializer, responses={201: s.IncentiveProfileSerializer}
    )
    def create(self, request: Request) -> Response:
        data = s.IncentiveProfileCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        profile = services.set_profile(actor=request.user, **data.validated_data)
        profile = self.get_queryset().get(pk=profile.pk)
        return Response(s.IncentiveProfileSerializer(profile).data, status=status.HTTP_201_CREATED)


class DevelopedCustomerViewSet(
    VisibleMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Developed customers in the order their region reported them, with their payments,
    active months, fraud flags and market approvals (managers over the region and
    administrators)."""

    queryset = DevelopedCustomer.objects.all()
    serializer_class = s.DevelopedCustomerSerializer
    ordering_fields = ["developed_in", "reported_order", "id"]
    filterset_fields = ["developed_in", "region", "developed_by"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("customer", "market", "market_approval")

    def _answer(self, developed: DevelopedCustomer, code: int = status.HTTP_200_OK) -> Response:
        developed = self.get_queryset().get(pk=developed.pk)
        return Response(s.DevelopedCustomerSerializer(developed).data, status=code)

    @extend_schema(
        request=s.DevelopedCustomerCreateSerializer, responses={201: s.DevelopedCustomerSerializer}
    )
    def create(self, request: Request) -> Response:
        data = s.DevelopedCustomerCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        developed = services.develop_customer(actor=request.user, **data.validated_data)
        return self._answer(developed, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.DevelopedPaymentSerializer, responses={201: s.DevelopedCustomerSerializer}
    )
    @action(detail=True, methods=["post"])
    def payments(self, request: Request, pk: Any = None) -> Response:
        """Record a payment in a month (payments in one month add up)."""
        developed = self.get_object()
        data = s.DevelopedPaymentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.record_payment(actor=request.user, developed=developed, **data.validated_data)
        return self._answer(developed, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.DevelopedActiveMonthSerializer, responses=s.DevelopedCustomerSerializer
    )
    @action(detail=True, methods=["post"], url_path="active-months")
    def active_months(self, request: Request, pk: Any = None) -> Response:
        """Record that the customer was active (shipped or bought) in a month."""
        developed = self.get_object()
        data = s.DevelopedActiveMonthSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.mark_active_month(actor=request.user, developed=developed, **data.validated_data)
        return self._answer(developed)

    @extend_schema(request=s.DevelopedFraudSerializer, responses=s.DevelopedCustomerSerializer)
    @action(detail=True, methods=["post"])
    def fraud(self, request: Request, pk: Any = None) -> Response:
        """Flag the customer as fabricated (rule 9), or clear the flag."""
        developed = self.get_object()
        data = s.DevelopedFraudSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.flag_fraud(actor=request.user, developed=developed, **data.validated_data)
        return self._answer(developed)

    @extend_schema(request=s.SchemeDecisionSerializer, responses=s.DevelopedCustomerSerializer)
    @action(detail=True, methods=["post"], url_path="approve-market")
    def approve_market(self, request: Request, pk: Any = None) -> Response:
        """The general manager (the manager of the company's root node; an administrator
        while none is set) lets a customer developed outside the approved market list
        count (rule 12)."""
        developed = self.get_object()
        data = s.SchemeDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.approve_market(actor=request.user, developed=developed, **data.validated_data)
        return self._answer(developed)


__all__ = [
    "DevelopedCustomerViewSet",
    "IncentiveProfileViewSet",
    "MonthlyRunViewSet",
    "PoolViewSet",
    "RegionTargetViewSet",
    "SchemeViewSet",
    "StatementViewSet",
]


class FieldCampaignViewSet(VisibleMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Field campaigns' own per-node pay for promoters (DOMAIN §7): managers create them
    on their subtree, administrators anywhere; promoters read the ones they work under."""

    queryset = FieldCampaign.objects.all()
    serializer_class = s.FieldCampaignSerializer
    ordering_fields = ["starts_on", "id"]
    filterset_fields = ["node"]

    @extend_schema(
        request=s.FieldCampaignCreateSerializer, responses={201: s.FieldCampaignSerializer}
    )
    def create(self, request: Request) -> Response:
        data = s.FieldCampaignCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        campaign = services.create_field_campaign(actor=request.user, **data.validated_data)
        return Response(s.FieldCampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)
