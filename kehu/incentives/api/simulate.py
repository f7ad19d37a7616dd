"""``POST /api/v1/incentives/simulate/``: preview a scheme on any facts, nothing stored.

Managers and administrators only (an action, not an object: others get a 403 with the
reason, like the other manager-only actions). The body and the answer are those of
``kehu incentives simulate FILE.json``; see docs/incentives.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.incentives.simulate import simulate

EXAMPLE_FILE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "simulate.json"


def may_simulate(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and (user.is_admin or user.is_manager))


def _example() -> dict[str, Any]:
    try:
        return json.loads(EXAMPLE_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # pragma: no cover - an installed package without docs/
        return {"scheme": "default", "month": "2026-03", "staff": [], "customers": []}


# Serializers below only document the shapes in the OpenAPI schema; validation is
# kehu.incentives.simulate.parse_body (the same for the API, the page and the command).


class SimulateStaffSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField(help_text="area_manager or region_manager")
    region = serializers.CharField()
    threshold = serializers.IntegerField(allow_null=True, help_text="1 or 2 (area managers)")
    monthly_target = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, coerce_to_string=False
    )
    hired_on = serializers.DateField()
    probation_until = serializers.DateField(allow_null=True)
    left_on = serializers.DateField(allow_null=True)
    performance_pay = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, coerce_to_string=False
    )
    performance_pay_by_month = serializers.DictField(
        child=serializers.FloatField(min_value=0),
        required=False,
        help_text="Optional {YYYY-MM: amount}: the pay that caps a recomputed month.",
    )


class SimulateCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    developed_by = serializers.IntegerField(help_text="A staff id of this body.")
    region = serializers.CharField()
    developed_in = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$")
    reported_order = serializers.IntegerField(min_value=0)
    payments = serializers.DictField(child=serializers.FloatField(min_value=0))
    active_months = serializers.ListField(child=serializers.RegexField(r"^\d{4}-\d{2}$"))
    fraud = serializers.BooleanField(default=False)


class SimulateBodySerializer(serializers.Serializer):
    scheme = serializers.JSONField(
        help_text='"default", the code of a stored scheme valid in the month, or a scheme '
        "object (missing parameters are taken from the default scheme)."
    )
    month = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$")
    pool_opening = serializers.FloatField(min_value=0, default=0)
    staff = SimulateStaffSerializer(many=True)
    customers = SimulateCustomerSerializer(many=True)


class SimulateLineSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="penalty, bonus, clawback or fraud_penalty")
    amount = serializers.FloatField(help_text="Signed from the person's side.")
    customer = serializers.IntegerField(allow_null=True)
    rule = serializers.CharField(help_text="The rule's number in DOMAIN §8.")
    code = serializers.CharField(help_text="e.g. threshold.penalty, region.bonus")
    reason = serializers.CharField(help_text="In English.")
    message = serializers.CharField(help_text="In the request's language.")
    month = serializers.CharField(help_text="The month the line is about.")


class SimulateNotAssessedSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="days_worked, left, not_joined or zero_target")
    reason = serializers.CharField()
    message = serializers.CharField()


class SimulateStatementSerializer(serializers.Serializer):
    staff = serializers.IntegerField()
    role = serializers.CharField()
    region = serializers.CharField()
    assessed = serializers.BooleanField()
    probation = serializers.BooleanField()
    threshold = serializers.FloatField()
    effective = serializers.IntegerField()
    total = serializers.FloatField()
    lines = SimulateLineSerializer(many=True)
    not_assessed = SimulateNotAssessedSerializer(required=False)


class SimulatePoolSerializer(serializers.Serializer):
    opening = serializers.FloatField()
    penalties = serializers.FloatField()
    bonuses = serializers.FloatField()
    penalties_used = serializers.FloatField()
    pool_used = serializers.FloatField()
    from_management_fund = serializers.FloatField()
    closing = serializers.FloatField()


class SimulateSchemeSerializer(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.IntegerField()


class SimulateVoidedSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    developed_by = serializers.IntegerField()
    region = serializers.CharField()
    developed_in = serializers.CharField()
    active_months = serializers.ListField(child=serializers.CharField())


class SimulateResultSerializer(serializers.Serializer):
    month = serializers.CharField()
    scheme = SimulateSchemeSerializer()
    statements = SimulateStatementSerializer(many=True)
    voided = SimulateVoidedSerializer(many=True)
    pool = SimulatePoolSerializer()


class SimulateView(APIView):
    """Run a scheme on the facts in the body and answer the statements and the pool."""

    @extend_schema(
        operation_id="incentives_simulate",
        tags=["incentives"],
        summary="Simulate an incentive scheme (nothing is stored)",
        description=(
            "Managers and administrators. The calculation is the monthly run's (DOMAIN §8); "
            "nothing is read or written except a stored scheme named by its code. Bad input "
            "answers 400 with the field paths (`customers.3.developed_by`) in `fields`."
        ),
        request=SimulateBodySerializer,
        responses={
            200: SimulateResultSerializer,
            400: OpenApiResponse(description="The body names the problem in error.fields."),
            403: OpenApiResponse(description="Only managers and administrators simulate."),
        },
        examples=[
            OpenApiExample("The worked example", value=_example(), request_only=True),
            OpenApiExample(
                "A scheme object",
                value={
                    "scheme": {"code": "gentle", "probation_factor": 0.8},
                    "month": "2026-03",
                    "pool_opening": 0,
                    "staff": [
                        {
                            "id": 1,
                            "role": "area_manager",
                            "region": "East",
                            "threshold": 1,
                            "monthly_target": None,
                            "hired_on": "2026-01-05",
                            "probation_until": "2026-04-04",
                            "left_on": None,
                            "performance_pay": 2000,
                        }
                    ],
                    "customers": [],
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        if not may_simulate(request.user):
            raise PermissionDenied(
                _("Only managers and administrators may run the incentive simulator.")
            )
        return Response(simulate(request.data))
