"""The incentives API: schemes and approval, runs, statements, the pool and the facts;
visibility, allowed and denied writes, bad input and query counts."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from kehu.incentives import services
from kehu.incentives.models import (
    CustomerPayment,
    DevelopedCustomer,
    MonthlyRun,
    RegionTarget,
    Scheme,
    Statement,
)
from kehu.incentives.tests import factories as f
from kehu.incentives.tests.test_services import run_state, scheme_state, second_admin


def error(response: Any) -> dict[str, Any]:
    return response.json()["error"]


# ---------------------------------------------------------------------------- schemes


def test_scheme_list_for_managers_and_admins_only(cast: Any, api: Any) -> None:
    assert api(cast.manager).get("/api/v1/incentive-schemes/").json()["count"] == 1
    assert api(cast.consultant).get("/api/v1/incentive-schemes/").json()["count"] == 0
    pk = Scheme.objects.get().pk
    assert api(cast.consultant).get(f"/api/v1/incentive-schemes/{pk}/").status_code == 404
    body = api(cast.admin).get(f"/api/v1/incentive-schemes/{pk}/").json()
    assert (body["code"], body["version"], body["status"]) == ("default", 1, "approved")
    assert body["params"]["effective"] == {"count_one_from": 7950, "count_two_from": 50000}


def test_scheme_copy_edit_submit_approve_over_the_api(cast: Any, api: Any) -> None:
    other = second_admin(cast)
    pk = Scheme.objects.get().pk
    response = api(cast.admin).post(f"/api/v1/incentive-schemes/{pk}/copy/", {}, format="json")
    assert response.status_code == 201
    draft = response.json()
    assert (draft["version"], draft["status"], draft["created_by"]) == (2, "draft", "admin")
    url = f"/api/v1/incentive-schemes/{draft['id']}/"
    params = dict(draft["params"], fraud={"developer": 5000, "region_manager": 1000})
    response = api(cast.admin).patch(url, {"params": params, "name": "Fraud 5000"}, format="json")
    assert response.status_code == 200
    assert response.json()["params"]["fraud"]["developer"] == 5000
    assert api(cast.admin).post(url + "submit/", format="json").json()["status"] == "pending"
    response = api(cast.admin).post(url + "approve/", {}, format="json")
    assert response.status_code == 403
    assert "second administrator" in error(response)["message"]
    response = api(other).post(url + "approve/", {"note": "ok"}, format="json")
    assert (response.status_code, response.json()["approved_by"]) == (200, "admin2")


def test_scheme_writes_denied_and_bad_input_change_nothing(cast: Any, api: Any) -> None:
    pk = Scheme.objects.get().pk
    draft = services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get())
    before = scheme_state()
    response = api(cast.manager).post(f"/api/v1/incentive-schemes/{pk}/copy/", {}, format="json")
    assert response.status_code == 403
    response = api(cast.consultant).post(f"/api/v1/incentive-schemes/{pk}/copy/", {}, format="json")
    assert response.status_code == 404
    url = f"/api/v1/incentive-schemes/{draft.pk}/"
    bad = dict(draft.params, fraud={"developer": -3000, "region_manager": 1000})
    response = api(cast.admin).patch(url, {"params": bad}, format="json")
    assert response.status_code == 400
    assert error(response)["fields"] == {"params.fraud.developer": ["Must not be negative."]}
    response = api(cast.admin).patch(url, {"owner": 1}, format="json")
    assert response.status_code == 400 and "owner" in error(response)["fields"]
    response = api(cast.admin).patch(
        f"/api/v1/incentive-schemes/{pk}/", {"name": "x"}, format="json"
    )
    assert response.status_code == 400 and "copy this version" in error(response)["message"]
    response = api(cast.admin).post(url + "approve/", {}, format="json")
    assert response.status_code == 400
    assert scheme_state() == before


# ---------------------------------------------------------------------------- runs


def test_admin_runs_a_month_and_managers_see_their_subtree(cast: Any, api: Any) -> None:
    f.world(cast)
    response = api(cast.admin).post("/api/v1/incentive-runs/", {"month": f.MONTH}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["month"], body["scheme"], body["scheme_version"]) == (f.MONTH, "default", 1)
    assert {s["staff_name"]: s["total"] for s in body["statements"]} == {
        "Region_Manager": "300.00",
        "Manager": "800.00",
        "Other_Manager": "-500.00",
    }
    assert body["pool"]["from_management_fund"] == "600.00"
    line = body["statements"][1]["lines"][0]
    assert set(line) == {"kind", "code", "amount", "customer", "rule", "month", "reason", "message"}
    run_url = f"/api/v1/incentive-runs/{body['id']}/"
    as_manager = api(cast.manager).get(run_url).json()
    assert [s["staff"] for s in as_manager["statements"]] == [cast.manager.pk]
    assert len(api(cast.region_manager).get(run_url).json()["statements"]) == 3
    assert api(cast.consultant).get(run_url).status_code == 404


def test_run_denied_and_bad_input_store_nothing(cast: Any, api: Any) -> None:
    before = run_state()
    response = api(cast.admin).post("/api/v1/incentive-runs/", {"month": f.MONTH}, format="json")
    assert response.status_code == 400
    assert error(response)["fields"]["month"] == [
        "There are no facts for 2026-03: record the people assessed, developed customers, "
        "payments or targets first."
    ]
    f.world(cast)
    before = run_state()
    response = api(cast.manager).post("/api/v1/incentive-runs/", {"month": f.MONTH}, format="json")
    assert response.status_code == 403
    response = api(cast.admin).post("/api/v1/incentive-runs/", {"month": "2026-3"}, format="json")
    assert response.status_code == 400 and list(error(response)["fields"]) == ["month"]
    response = api(cast.admin).post(
        "/api/v1/incentive-runs/", {"month": f.MONTH, "scheme": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "no approved version of scheme “nope”" in error(response)["fields"]["scheme"][0]
    assert run_state() == before


def test_run_statements_export_to_xlsx(cast: Any, api: Any, web: Any) -> None:
    f.world(cast)
    run = services.run_month(actor=cast.admin, month=f.MONTH)
    response = api(cast.admin).get(f"/api/v1/incentive-runs/{run.pk}/xlsx/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("Month", "Staff id", "Name")
    by_staff = {(r[2], r[8]) for r in rows[1:]}
    assert ("Manager", 300) in by_staff and ("Manager", 500) in by_staff
    assert ("Other_Manager", -500) in by_staff
    # A manager's export holds only their subtree.
    response = api(cast.manager).get(f"/api/v1/incentive-runs/{run.pk}/xlsx/")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(response.content))
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert {r[2] for r in rows[1:]} == {"Manager"}


# ---------------------------------------------------------------------------- statements, pool


def test_statements_visible_own_subtree_all(cast: Any, api: Any) -> None:
    f.world(cast)
    services.run_month(actor=cast.admin, month=f.MONTH)

    def staff_of(persona: Any) -> list[int]:
        return [
            s["staff"] for s in api(persona).get("/api/v1/incentive-statements/").json()["results"]
        ]

    assert sorted(staff_of(cast.admin)) == sorted(
        [cast.manager.pk, cast.other_manager.pk, cast.region_manager.pk]
    )
    assert staff_of(cast.manager) == [cast.manager.pk]
    assert staff_of(cast.other_manager) == [cast.other_manager.pk]
    assert staff_of(cast.consultant) == []
    other = Statement.objects.get(staff=cast.other_manager)
    assert api(cast.manager).get(f"/api/v1/incentive-statements/{other.pk}/").status_code == 404
    assert (
        api(cast.region_manager).get(f"/api/v1/incentive-statements/{other.pk}/").status_code == 200
    )


def test_pool_ledger_for_managers_and_admins(cast: Any, api: Any) -> None:
    f.world(cast)
    services.run_month(actor=cast.admin, month=f.MONTH)
    body = api(cast.manager).get("/api/v1/penalty-pool/").json()
    assert body["results"] == [
        {
            "month": f.MONTH,
            "opening": "0.00",
            "penalties": "500.00",
            "bonuses": "1100.00",
            "from_management_fund": "600.00",
            "closing": "0.00",
        }
    ]
    assert api(cast.manager).get(f"/api/v1/penalty-pool/{f.MONTH}/").status_code == 200
    assert api(cast.consultant).get("/api/v1/penalty-pool/").json()["count"] == 0
    assert api(cast.consultant).get(f"/api/v1/penalty-pool/{f.MONTH}/").status_code == 404


# ---------------------------------------------------------------------------- facts


def test_targets_allowed_denied_and_bad_input(cast: Any, api: Any) -> None:
    month = "2099-01"  # far ahead: before its deadline
    response = api(cast.region_manager).post(
        "/api/v1/region-targets/",
        {"region": cast.region.pk, "month": month, "target": 3},
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["target"], response.json()["is_late"]) == (3, False)
    state = lambda: list(RegionTarget.objects.values_list("region", "month", "target"))  # noqa: E731
    before = state()
    response = api(cast.manager).post(
        "/api/v1/region-targets/",
        {"region": cast.region.pk, "month": month, "target": 9},
        format="json",
    )
    assert response.status_code == 403
    for body, field in [
        ({"region": cast.region.pk, "month": month, "target": -1}, "target"),
        ({"region": 999999, "month": month, "target": 1}, "region"),
        ({"region": cast.region.pk, "month": "2099-13", "target": 1}, "month"),
    ]:
        response = api(cast.admin).post("/api/v1/region-targets/", body, format="json")
        assert response.status_code == 400 and list(error(response)["fields"]) == [field]
    response = api(cast.region_manager).post(
        "/api/v1/region-targets/",
        {"region": cast.region.pk, "month": "2020-01", "target": 1},
        format="json",
    )
    assert response.status_code == 400
    assert "08:00 on the 6th" in error(response)["fields"]["month"][0]
    assert state() == before


def test_developed_customers_payments_and_bad_staff(cast: Any, api: Any) -> None:
    f.profiles(cast)
    customer = f.customer(cast)
    body = {
        "customer": customer.pk,
        "developed_by": cast.manager.pk,
        "region": cast.region.pk,
        "developed_in": f.MONTH,
    }
    response = api(cast.admin).post(
        "/api/v1/developed-customers/", dict(body, developed_by=999999), format="json"
    )
    assert response.status_code == 400
    assert error(response)["fields"] == {"developed_by": ["Unknown staff id 999999."]}
    assert DevelopedCustomer.objects.count() == 0
    response = api(cast.manager).post("/api/v1/developed-customers/", body, format="json")
    assert response.status_code == 403
    response = api(cast.region_manager).post("/api/v1/developed-customers/", body, format="json")
    assert response.status_code == 201
    pk = response.json()["id"]
    assert response.json()["reported_order"] == 1
    url = f"/api/v1/developed-customers/{pk}/"
    response = api(cast.region_manager).post(
        url + "payments/", {"month": f.MONTH, "amount": -1}, format="json"
    )
    assert response.status_code == 400
    assert error(response)["fields"] == {"amount": ["The amount must not be negative."]}
    assert CustomerPayment.objects.count() == 0
    response = api(cast.region_manager).post(
        url + "payments/", {"month": f.MONTH, "amount": 8000}, format="json"
    )
    assert response.status_code == 201
    assert CustomerPayment.objects.get().amount == Decimal("8000")
    assert (
        api(cast.manager)
        .post(url + "payments/", {"month": f.MONTH, "amount": 1}, format="json")
        .status_code
        == 404
    )
    response = api(cast.region_manager).post(url + "fraud/", {"reason": "fake"}, format="json")
    assert response.json()["is_fraud"] is True
    response = api(cast.region_manager).post(
        url + "active-months/", {"month": f.MONTH}, format="json"
    )
    assert response.status_code == 200


def test_profiles_set_by_admins(cast: Any, api: Any) -> None:
    body = {
        "staff": cast.manager.pk,
        "role": "area_manager",
        "region": cast.region.pk,
        "threshold": 1,
        "performance_pay": 1800,
    }
    assert (
        api(cast.manager).post("/api/v1/incentive-profiles/", body, format="json").status_code
        == 403
    )
    response = api(cast.admin).post(
        "/api/v1/incentive-profiles/", dict(body, threshold=3), format="json"
    )
    assert response.status_code == 400 and list(error(response)["fields"]) == ["threshold"]
    response = api(cast.admin).post(
        "/api/v1/incentive-profiles/", dict(body, performance_pay=-1), format="json"
    )
    assert response.status_code == 400 and list(error(response)["fields"]) == ["performance_pay"]
    response = api(cast.admin).post("/api/v1/incentive-profiles/", body, format="json")
    assert response.status_code == 201
    assert response.json()["performance_pay"] == "1800.00"


# ---------------------------------------------------------------------------- query counts


def more_months(cast: Any, months: list[str]) -> None:
    for month in months:
        f.develop(cast, cast.manager, 8000, month=month)
        services.run_month(actor=cast.admin, month=month)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/incentive-schemes/",
        "/api/v1/incentive-runs/",
        "/api/v1/incentive-statements/",
        "/api/v1/penalty-pool/",
        "/api/v1/region-targets/",
        "/api/v1/developed-customers/",
        "/api/v1/incentive-profiles/",
    ],
)
def test_list_query_counts_are_constant(
    cast: Any, api: Any, url: str, django_assert_num_queries: Any
) -> None:
    f.world(cast)
    services.submit_target(
        actor=cast.admin,
        region=cast.region,
        month=f.MONTH,
        target=3,
        now=datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC),
    )
    services.run_month(actor=cast.admin, month=f.MONTH)
    client = api(cast.admin)
    expected = QUERIES[url]
    with django_assert_num_queries(expected):
        assert client.get(url).status_code == 200
    more_months(cast, ["2026-04", "2026-05"])
    services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get(version=1))
    services.submit_target(
        actor=cast.admin,
        region=cast.region,
        month="2026-05",
        target=2,
        now=datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC),
    )
    services.submit_target(
        actor=cast.admin,
        region=cast.area,
        month="2026-05",
        target=2,
        now=datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC),
    )
    assert MonthlyRun.objects.count() == 3
    with django_assert_num_queries(expected):
        assert client.get(url).status_code == 200


QUERIES = {
    "/api/v1/incentive-schemes/": 2,
    "/api/v1/incentive-runs/": 2,
    "/api/v1/incentive-statements/": 3,
    "/api/v1/penalty-pool/": 2,
    "/api/v1/region-targets/": 2,
    "/api/v1/developed-customers/": 2,
    "/api/v1/incentive-profiles/": 2,
}
