"""POST /api/v1/incentives/simulate/: who may, the answer, bad input, nothing stored."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.incentives.simulate import simulate

URL = "/api/v1/incentives/simulate/"
EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "simulate.json"


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def db_state() -> dict[str, tuple[Any, ...]]:
    """Row count, highest integer key (or the set of other keys) and latest update of
    every table: nothing may change."""
    state: dict[str, tuple[Any, ...]] = {}
    for model in apps.get_models():
        manager = model._base_manager
        pk = model._meta.pk
        if isinstance(pk, models.AutoField | models.BigAutoField | models.IntegerField):
            keys: Any = manager.aggregate(m=Max("pk"))["m"]
        else:
            keys = frozenset(manager.values_list("pk", flat=True))
        field_names = {f.name for f in model._meta.concrete_fields}
        updated = (
            manager.aggregate(m=Max("updated_at"))["m"] if "updated_at" in field_names else None
        )
        state[model._meta.label] = (manager.count(), keys, updated)
    return state


def post(client: Any, body: Any) -> Any:
    return client.post(URL, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("persona", ["admin", "region_manager", "manager", "other_manager"])
def test_managers_and_admins_simulate_and_nothing_is_stored(
    api, cast, persona, django_assert_num_queries
):
    client = api(getattr(cast, persona))
    before = db_state()
    with django_assert_num_queries(1):  # the user's roles; the facts are in the body
        response = post(client, example())
    assert response.status_code == 200, response.json()
    assert db_state() == before
    body = response.json()
    assert body == simulate(example())
    assert body["month"] == "2026-03"
    assert [s["staff"] for s in body["statements"]] == [1, 2, 3, 4, 5, 9, 11, 19, 29]
    assert body["pool"] == {
        "opening": 1000,
        "penalties": 5500,
        "bonuses": 2400,
        "penalties_used": 2400,
        "pool_used": 0,
        "from_management_fund": 0,
        "closing": 4100,
    }


def test_the_query_count_does_not_grow_with_the_facts(api, cast, django_assert_num_queries):
    body = example()
    for n in range(1, 200):
        body["staff"].append({**body["staff"][0], "id": 1000 + n})
        body["customers"].append(
            {**body["customers"][0], "id": 10000 + n, "developed_by": 1000 + n}
        )
    with django_assert_num_queries(1):
        response = post(api(cast.manager), body)
    assert response.status_code == 200
    assert len(response.json()["statements"]) == 9 + 199


def test_the_worked_example_answers_every_rule(api, cast):
    body = post(api(cast.manager), example()).json()
    by_staff = {s["staff"]: s for s in body["statements"]}

    def lines(staff: int) -> list[tuple[str, Any, Any, str]]:
        return [
            (x["kind"], x["amount"], x["customer"], x["rule"]) for x in by_staff[staff]["lines"]
        ]

    assert lines(1) == [("bonus", 500, 103, "2")]  # 102 counts 2, goes whole to the threshold
    assert lines(2) == [("penalty", -250, None, "3"), ("clawback", -250, 201, "8")]  # probation
    assert lines(3) == [("penalty", -200, None, "2")]  # capped at the performance pay
    assert by_staff[4]["assessed"] is False and lines(4) == []  # 16 days
    assert lines(5) == [("penalty", -500, None, "3"), ("fraud_penalty", -3000, 501, "9")]
    assert lines(9) == [
        ("bonus", 300, None, "6"),
        ("clawback", -300, 201, "8"),
        ("fraud_penalty", -1000, 501, "9"),
    ]
    assert lines(11) == [("bonus", 1000, 1103, "2")]
    assert lines(19) == [("bonus", 600, None, "6")]
    assert (
        by_staff[29]["assessed"] is False and by_staff[29]["not_assessed"]["code"] == "zero_target"
    )
    assert body["voided"] == [
        {
            "customer": 201,
            "developed_by": 2,
            "region": "East",
            "developed_in": "2026-01",
            "active_months": ["2026-01"],
        }
    ]


@pytest.mark.parametrize(
    "persona", ["consultant", "other_consultant", "commissioner", "promoter", "broker"]
)
def test_others_are_refused_and_nothing_is_stored(api, cast, persona):
    before = db_state()
    response = post(api(getattr(cast, persona)), example())
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "Only managers and administrators may run the incentive simulator.",
            "fields": {},
        }
    }
    assert db_state() == before


def test_anonymous_is_refused(api, cast):
    response = post(api(None), example())
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def _with(change: Any) -> dict[str, Any]:
    body = example()
    change(body)
    return body


BAD = [
    (
        "not an object",
        lambda b: None,
        ["x"],
        "non_field_errors",
        "Expected a JSON object with month, staff and customers.",
    ),
    (
        "unknown scheme",
        lambda b: b.update(scheme="nope"),
        None,
        "scheme",
        'Unknown scheme "nope" for 2026-03: use "default", the code of a scheme valid that month, or a scheme object.',
    ),
    (
        "scheme of the wrong type",
        lambda b: b.update(scheme=5),
        None,
        "scheme",
        'Expected "default", a scheme code or a scheme object.',
    ),
    (
        "bad scheme parameter",
        lambda b: b.update(scheme={"fraud": {"developer": -3000}}),
        None,
        "scheme.fraud.developer",
        "Must not be negative.",
    ),
    (
        "misspelt scheme parameter",
        lambda b: b.update(scheme={"probation": 0.5}),
        None,
        "scheme.probation",
        "Unknown scheme parameter.",
    ),
    ("no month", lambda b: b.pop("month"), None, "month", "Enter the month to run as YYYY-MM."),
    (
        "bad month",
        lambda b: b.update(month="2026-13"),
        None,
        "month",
        "Enter the month to run as YYYY-MM.",
    ),
    (
        "month without facts",
        lambda b: b.update(staff=[], customers=[]),
        None,
        "staff",
        "No staff: there are no facts to assess for this month.",
    ),
    (
        "nobody employed",
        lambda b: b.update(month="2019-01", customers=[]),
        None,
        "staff",
        "Nobody in the staff list was employed in 2019-01: no facts to assess.",
    ),
    (
        "negative payment",
        lambda b: b["customers"][0]["payments"].update({"2026-03": -1}),
        None,
        "customers.0.payments.2026-03",
        "Must not be negative.",
    ),
    (
        "negative pool",
        lambda b: b.update(pool_opening=-5),
        None,
        "pool_opening",
        "Must not be negative.",
    ),
    (
        "negative pay",
        lambda b: b["staff"][0].update(performance_pay=-1),
        None,
        "staff.0.performance_pay",
        "Must not be negative.",
    ),
    (
        "text amount",
        lambda b: b["staff"][0].update(performance_pay="3000"),
        None,
        "staff.0.performance_pay",
        "Enter a number.",
    ),
    (
        "unknown developer",
        lambda b: b["customers"][3].update(developed_by=99),
        None,
        "customers.3.developed_by",
        "No staff member with id 99 in this body.",
    ),
    (
        "duplicate staff",
        lambda b: b["staff"][1].update(id=1),
        None,
        "staff.1.id",
        "Duplicate staff id 1.",
    ),
    (
        "unknown role",
        lambda b: b["staff"][0].update(role="ceo"),
        None,
        "staff.0.role",
        'Use "area_manager" or "region_manager".',
    ),
    (
        "threshold 3",
        lambda b: b["staff"][0].update(threshold=3),
        None,
        "staff.0.threshold",
        "An area manager's threshold is one of 1, 2 in this scheme.",
    ),
    (
        "bad date",
        lambda b: b["staff"][0].update(hired_on="2023-02-30"),
        None,
        "staff.0.hired_on",
        "Enter the hire date as YYYY-MM-DD.",
    ),
    (
        "left before hired",
        lambda b: b["staff"][0].update(left_on="2020-01-01"),
        None,
        "staff.0.left_on",
        "The leaving date must not be before the hire date.",
    ),
    (
        "customer from the future",
        lambda b: b["customers"][0].update(developed_in="2026-04"),
        None,
        "customers.0.developed_in",
        "Developed after 2026-03: leave it out of this month's facts.",
    ),
    (
        "fraud not bool",
        lambda b: b["customers"][0].update(fraud="yes"),
        None,
        "customers.0.fraud",
        "Enter true or false.",
    ),
    (
        "unknown field",
        lambda b: b.update(stafff=[]),
        None,
        "stafff",
        "Unknown field: use scheme, month, pool_opening, staff, customers, recompute.",
    ),
    (
        "active months",
        lambda b: b["customers"][0].update(active_months="2026-03"),
        None,
        "customers.0.active_months",
        "Expected a list of months as YYYY-MM.",
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "raw", "field", "message"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_input_is_a_400_naming_the_problem_and_nothing_is_stored(
    api, cast, name, change, raw, field, message
):
    body = raw if raw is not None else _with(change)
    before = db_state()
    response = post(api(cast.manager), body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"][field] == [message], error
    assert db_state() == before


def test_malformed_json_is_a_400(api, cast):
    response = api(cast.manager).post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_a_stored_scheme_is_looked_up_by_code_for_the_month(api, cast, monkeypatch):
    import kehu.incentives.services as services

    asked = []

    def find_scheme(code: str, month: str) -> dict[str, Any] | None:
        asked.append((code, month))
        return (
            {"code": "harsh", "version": 3, "fraud": {"developer": 5000, "region_manager": 2000}}
            if code == "harsh"
            else None
        )

    monkeypatch.setattr(services, "find_scheme", find_scheme)
    body = _with(lambda b: b.update(scheme="harsh"))
    answer = post(api(cast.manager), body).json()
    assert asked == [("harsh", "2026-03")]
    assert answer["scheme"] == {"code": "harsh", "version": 3}
    fraud = [
        x["amount"]
        for s in answer["statements"]
        for x in s["lines"]
        if x["kind"] == "fraud_penalty"
    ]
    assert fraud == [-5000, -2000]
    response = post(api(cast.manager), _with(lambda b: b.update(scheme="gentle")))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["scheme"]


def test_a_scheme_object_is_previewed(api, cast):
    body = _with(
        lambda b: b.update(
            scheme={"code": "soft", "probation_factor": 1, "cap_threshold_penalty": False}
        )
    )
    answer = post(api(cast.manager), body).json()
    by_staff = {s["staff"]: s for s in answer["statements"]}
    assert by_staff[2]["lines"][0]["amount"] == -500  # no probation discount
    assert by_staff[3]["lines"][0]["amount"] == -300  # no cap
    assert answer["scheme"] == {"code": "soft", "version": 1}


def test_the_endpoint_is_in_the_openapi_schema(api, cast):
    schema = api(cast.admin).get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["post"]
    assert operation["operationId"] == "incentives_simulate"
    assert "examples" in operation["requestBody"]["content"]["application/json"]
    assert set(operation["responses"]) == {"200", "400", "403"}


# --------------------------------------------------------------------------- fuzzing

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**15), 10**15)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "2026-03",
            "2026-01",
            "2026-02-30",
            "default",
            "area_manager",
            "region_manager",
            "East",
            "-1",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*prefix, index)))
    return found


BASE = example()
BASE["scheme"] = {
    "code": "fuzz",
    "area_manager": {
        "thresholds": {"1": {"penalties": [500], "bonus_tiers": [{"from": 7950, "amount": 200}]}}
    },
}
BASE["staff"] = [
    {**row, "threshold": 1} if row["role"] == "area_manager" else row for row in BASE["staff"]
]
PATHS = _paths(BASE)


@pytest.mark.django_db
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(index=st.integers(0, len(PATHS) - 1), value=json_values)
def test_property_any_body_is_an_answer_or_a_validation_error(index, value):
    body = copy.deepcopy(BASE)
    path = PATHS[index]
    if not path:
        body = value
    else:
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    try:
        result = simulate(body)
    except ValidationError as exc:
        assert exc.message_dict
    else:
        json.dumps(result)
        pool = {k: Decimal(str(v)) for k, v in result["pool"].items()}
        assert (
            pool["bonuses"]
            == pool["penalties_used"] + pool["pool_used"] + pool["from_management_fund"]
        )


def test_an_approved_stored_scheme_is_found_through_the_services(api, cast):
    from kehu.incentives import services
    from kehu.incentives.choices import SchemeStatus
    from kehu.incentives.models import Scheme

    stored_default = Scheme.objects.filter(code="default").order_by("-version").first()
    assert stored_default is not None
    spring = services.copy_scheme(actor=cast.admin, scheme=stored_default, code="spring")
    Scheme.objects.filter(pk=spring.pk).update(status=SchemeStatus.APPROVED)  # setup only
    client = api(cast.manager)
    before = db_state()
    answer = post(client, _with(lambda b: b.update(scheme="spring")))
    assert answer.status_code == 200, answer.json()
    assert answer.json()["scheme"] == {"code": "spring", "version": 1}
    assert answer.json()["pool"] == simulate(example())["pool"]
    assert db_state() == before
    # not valid in 2010: unknown for that month
    response = post(client, _with(lambda b: b.update(scheme="spring", month="2010-01")))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["scheme"]


def test_a_stored_scheme_with_bad_parameters_names_them_under_scheme(api, cast, monkeypatch):
    import kehu.incentives.services as services

    monkeypatch.setattr(
        services, "find_scheme", lambda code, month: {"code": code, "fraud": {"developer": -1}}
    )
    response = post(api(cast.manager), _with(lambda b: b.update(scheme="broken")))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "scheme.fraud.developer": ["Must not be negative."]
    }
