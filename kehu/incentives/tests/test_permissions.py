"""Who may write which incentive fact, through the services and the API: fraud flags and
active months (managers over the region), market approval (the general manager, rule 12),
and scheme decisions and edits (administrators). Every refusal leaves the data and the
audit trail as they were."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core.testing import actions_since, mark, refuser
from kehu.incentives import services
from kehu.incentives.models import ActiveMonth, DevelopedCustomer, MarketApproval, Scheme
from kehu.incentives.tests import factories as f
from kehu.incentives.tests.test_services import scheme_state, second_admin
from kehu.org import services as org_services


def developed_state() -> tuple:
    return (
        list(
            DevelopedCustomer.objects.order_by("pk").values_list("pk", "is_fraud", "fraud_reason")
        ),
        list(ActiveMonth.objects.values_list("developed_id", "month")),
        list(MarketApproval.objects.values_list("developed_id", "approved_by")),
        mark(),
    )


def general_manager(cast: Any) -> Any:
    gm = org_services.create_staff(
        actor=None,
        username="gm",
        roles=["manager"],
        node=cast.company,
        password="correct-horse-battery-staple",
        name="Gm",
        phone="13800000020",
    )
    org_services.update_node(actor=None, node=cast.company, manager=gm)
    gm.refresh_from_db()
    return gm


def outside(cast: Any) -> DevelopedCustomer:
    f.profiles(cast)
    market = services.add_market(actor=cast.admin, name="外省", on_list=False)
    return services.develop_customer(
        actor=cast.admin,
        customer=f.customer(cast),
        developed_by=cast.manager,
        region=cast.region,
        developed_in=f.MONTH,
        market=market,
    )


# ---------------------------------------------------------------------------- fraud, active


@pytest.mark.parametrize("who", ["manager", "consultant", "promoter", "broker", None])
def test_fraud_and_active_months_refused_outside_the_region(cast: Any, who: Any) -> None:
    f.profiles(cast)
    developed = f.develop(cast, cast.manager, 8000)
    actor = getattr(cast, who) if who else None
    refused = refuser(developed_state)
    refused(PermissionDenied, services.flag_fraud, actor=actor, developed=developed, reason="fake")
    refused(
        PermissionDenied,
        services.mark_active_month,
        actor=actor,
        developed=developed,
        month="2026-04",
    )


def test_fraud_and_active_months_over_the_api(cast: Any, api: Any) -> None:
    f.profiles(cast)
    developed = f.develop(cast, cast.manager, 8000)
    url = f"/api/v1/developed-customers/{developed.pk}/"
    before = developed_state()
    for who in ("manager", "consultant", "promoter"):
        client = api(getattr(cast, who))
        assert client.post(url + "fraud/", {"reason": "fake"}, format="json").status_code == 404
        response = client.post(url + "active-months/", {"month": "2026-04"}, format="json")
        assert response.status_code == 404
    assert api(None).post(url + "fraud/", {"reason": "x"}, format="json").status_code in (401, 403)
    assert developed_state() == before
    since = mark()
    response = api(cast.region_manager).post(url + "fraud/", {"reason": "fake"}, format="json")
    assert (response.status_code, response.json()["is_fraud"]) == (200, True)
    response = api(cast.region_manager).post(
        url + "active-months/", {"month": "2026-04"}, format="json"
    )
    assert response.status_code == 200
    assert actions_since(since) == [
        ("incentives.customer.fraud", "region_manager"),
        ("incentives.customer.active", "region_manager"),
    ]


# ---------------------------------------------------------------------------- rule 12


def test_only_the_general_manager_approves_a_market_outside_the_list(cast: Any) -> None:
    developed = outside(cast)
    gm = general_manager(cast)
    assert services.general_manager_id() == gm.pk
    refused = refuser(developed_state)
    for actor in (cast.admin, cast.region_manager, cast.manager, None):
        exc = refused(PermissionDenied, services.approve_market, actor=actor, developed=developed)
        assert "Only the general manager" in str(exc)
    since = mark()
    approval = services.approve_market(actor=gm, developed=developed, note="ok")
    assert approval.approved_by == gm
    assert actions_since(since) == [("incentives.market.approve", "gm")]
    assert [c["id"] for c in services.build_facts(f.MONTH)["customers"]] == [developed.customer_id]


def test_without_a_general_manager_an_administrator_acts_for_them(cast: Any) -> None:
    developed = outside(cast)
    assert services.general_manager_id() is None
    refused = refuser(developed_state)
    refused(
        PermissionDenied, services.approve_market, actor=cast.region_manager, developed=developed
    )
    assert services.approve_market(actor=cast.admin, developed=developed).approved_by == cast.admin


def test_approve_market_over_the_api(cast: Any, api: Any) -> None:
    developed = outside(cast)
    gm = general_manager(cast)
    url = f"/api/v1/developed-customers/{developed.pk}/approve-market/"
    before = developed_state()
    for who, code in (("admin", 403), ("region_manager", 403), ("manager", 404)):
        response = api(getattr(cast, who)).post(url, {"note": "ok"}, format="json")
        assert response.status_code == code, who
    assert developed_state() == before
    response = api(gm).post(url, {"note": "ok"}, format="json")
    assert (response.status_code, response.json()["market_approved"]) == (200, True)
    on_list = f.develop(cast, cast.manager, 8000)
    response = api(gm).post(
        f"/api/v1/developed-customers/{on_list.pk}/approve-market/", {}, format="json"
    )
    assert response.status_code == 400


# ---------------------------------------------------------------------------- schemes


def pending(cast: Any) -> Scheme:
    draft = services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get())
    return services.submit_scheme(actor=cast.admin, scheme=draft)


def test_scheme_reject_over_the_api(cast: Any, api: Any) -> None:
    other = second_admin(cast)
    scheme = pending(cast)
    url = f"/api/v1/incentive-schemes/{scheme.pk}/reject/"
    before = scheme_state()
    assert api(cast.manager).post(url, {"note": "no"}, format="json").status_code == 403
    assert api(cast.consultant).post(url, {"note": "no"}, format="json").status_code == 404
    response = api(cast.admin).post(url, {"note": "no"}, format="json")
    assert (
        response.status_code == 403
        and "second administrator" in response.json()["error"]["message"]
    )
    response = api(other).post(url, {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"note": ["Say why the version is rejected."]}
    assert scheme_state() == before
    since = mark()
    response = api(other).post(url, {"note": "Too generous"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    assert actions_since(since) == [("incentives.scheme.reject", "admin2")]


def test_scheme_reject_from_the_page(cast: Any, web: Any) -> None:
    other = second_admin(cast)
    scheme = pending(cast)
    url = f"/incentives/schemes/{scheme.pk}/reject/"
    before = scheme_state()
    assert web(cast.admin).post(url, {"note": "no"}).status_code == 302  # the submitter
    assert web(cast.manager).post(url, {"note": "no"}).status_code == 302
    assert web(other).post(url, {"note": ""}).status_code == 302  # no reason given
    assert web(cast.consultant).post(url, {"note": "no"}).status_code == 404
    assert scheme_state() == before
    response = web(other).post(url, {"note": "Too generous"}, follow=True)
    assert "Rejected." in response.content.decode()
    scheme.refresh_from_db()
    assert (scheme.status, scheme.decision_note) == ("rejected", "Too generous")


def test_scheme_patch_by_a_non_admin_over_the_api(cast: Any, api: Any) -> None:
    draft = services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get())
    url = f"/api/v1/incentive-schemes/{draft.pk}/"
    before = scheme_state()
    response = api(cast.manager).patch(url, {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Only an administrator can do this."
    for who in ("consultant", "promoter", "broker"):
        assert api(getattr(cast, who)).patch(url, {"name": "x"}, format="json").status_code == 404
    assert scheme_state() == before
    response = api(cast.admin).patch(url, {"name": "Mine"}, format="json")
    assert (response.status_code, response.json()["name"]) == (200, "Mine")


def test_approve_market_refuses_a_customer_on_the_list(cast: Any) -> None:
    gm = general_manager(cast)
    f.profiles(cast)
    developed = f.develop(cast, cast.manager, 8000)
    refuser(developed_state)(
        ValidationError, services.approve_market, actor=gm, developed=developed
    )
