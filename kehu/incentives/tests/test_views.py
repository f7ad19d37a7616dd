"""The incentives pages: who sees what, the writes they make, query counts, and that the
simulator, the stored run and the statement page agree."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from kehu.incentives import engine, services
from kehu.incentives.models import RegionTarget, Scheme, Statement
from kehu.incentives.tests import factories as f
from kehu.incentives.tests.test_api import more_months
from kehu.incentives.tests.test_services import run_state, scheme_state, second_admin

PAGES = [
    "/incentives/schemes/",
    "/incentives/runs/",
    "/incentives/pool/",
    "/incentives/targets/",
]


@pytest.mark.parametrize("url", PAGES)
def test_reader_pages_for_managers_and_admins_only(cast: Any, web: Any, url: str) -> None:
    assert web(cast.admin).get(url).status_code == 200
    assert web(cast.manager).get(url).status_code == 200
    assert web(cast.consultant).get(url).status_code == 404
    assert web(cast.broker).get(url).status_code == 404
    assert web(None).get(url).status_code == 302


def test_the_simulator_the_run_and_the_statement_page_agree(cast: Any, web: Any) -> None:
    f.world(cast)
    params = services.find_scheme("default", f.MONTH)
    simulated = engine.compute(params, services.build_facts(f.MONTH, params=params))
    response = web(cast.admin).post("/incentives/runs/", {"month": f.MONTH})
    assert response.status_code == 302 and response["Location"] == "/incentives/runs/2026-03/"
    run_page = web(cast.admin).get("/incentives/runs/2026-03/").content.decode()
    for s in simulated["statements"]:
        stored = Statement.objects.get(month=f.MONTH, staff_id=s["staff"])
        assert stored.total == Decimal(str(s["total"]))
        page = (
            web(cast.admin)
            .get(f"/incentives/statement/?month={f.MONTH}&staff={s['staff']}")
            .content.decode()
        )
        total = re.search(r'data-testid="statement-total"[^>]*>([^<]+)<', page).group(1)
        assert Decimal(total) == Decimal(str(s["total"]))
        assert page.count('data-testid="line"') == len(s["lines"])
        for line in s["lines"]:
            assert line["message"] in page
        assert f'data-testid="statement-{s["staff"]}"' in run_page
    total = re.search(r'data-testid="run-total">([^<]+)<', run_page).group(1)
    assert Decimal(total) == sum(Decimal(str(s["total"])) for s in simulated["statements"])


def test_run_button_with_htmx_redirects_and_shows_errors(cast: Any, web: Any) -> None:
    client = web(cast.admin)
    response = client.post("/incentives/runs/", {"month": f.MONTH}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "There are no facts for 2026-03" in response.content.decode()
    f.world(cast)
    response = client.post("/incentives/runs/", {"month": f.MONTH}, HTTP_HX_REQUEST="true")
    assert (response.status_code, response["HX-Redirect"]) == (204, "/incentives/runs/2026-03/")


def test_run_denied_for_managers_nothing_stored(cast: Any, web: Any) -> None:
    f.world(cast)
    before = run_state()
    assert web(cast.manager).post("/incentives/runs/", {"month": f.MONTH}).status_code == 404
    assert web(cast.consultant).post("/incentives/runs/", {"month": f.MONTH}).status_code == 404
    assert run_state() == before


def test_statement_page_own_subtree_and_404(cast: Any, web: Any) -> None:
    f.world(cast)
    services.run_month(actor=cast.admin, month=f.MONTH)
    page = web(cast.manager).get("/incentives/statement/").content.decode()
    assert "Manager · 2026-03" in page and 'id="st-staff"' not in page
    other = cast.other_manager.pk
    assert web(cast.manager).get(f"/incentives/statement/?staff={other}").status_code == 404
    page = web(cast.region_manager).get(f"/incentives/statement/?staff={other}").content.decode()
    assert "Other_Manager · 2026-03" in page and 'id="st-staff"' in page
    page = web(cast.consultant).get("/incentives/statement/").content.decode()
    assert "There is no statement for you yet." in page
    assert web(cast.consultant).get("/incentives/statement/?month=2026-03").status_code == 404
    assert web(cast.consultant).get("/incentives/runs/2026-03/").status_code == 404


def test_run_xlsx_export_from_the_page(cast: Any, web: Any) -> None:
    f.world(cast)
    services.run_month(actor=cast.admin, month=f.MONTH)
    response = web(cast.region_manager).get("/incentives/runs/2026-03/statements.xlsx")
    assert response.status_code == 200
    rows = list(
        openpyxl.load_workbook(io.BytesIO(response.content))
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert {r[2] for r in rows[1:]} == {"Manager", "Other_Manager", "Region_Manager"}
    # One total per person: 800 - 500 + 300.
    assert sum({r[1]: r[6] for r in rows[1:]}.values()) == 600


def test_scheme_editor_save_submit_approve(cast: Any, web: Any) -> None:
    other = second_admin(cast)
    draft = services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get())
    client = web(cast.admin)
    page = client.get(f"/incentives/schemes/{draft.pk}/").content.decode()
    assert (
        'name="p__fraud__developer"' in page
        and 'name="p__area_manager__thresholds__2__penalties__0"' in page
    )
    form = dict(re.findall(r'name="(p__[^"]+|name|valid_from)" [^>]*?value="([^"]*)"', page))
    form.update({"name": "Stricter", "valid_from": "2026-01-01", "p__fraud__developer": "5000"})
    form.update(funding_1="penalties", funding_2="pool", funding_3="management_fund")
    for name in re.findall(r'type="checkbox" name="(p__[^"]+)"[^>]*checked', page):
        form[name] = "on"
    response = client.post(f"/incentives/schemes/{draft.pk}/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    draft.refresh_from_db()
    assert (draft.name, draft.params["fraud"]["developer"]) == ("Stricter", 5000)
    assert draft.params["activity_check"]["enabled"] is True
    assert draft.params["effective"] == {"count_one_from": 7950, "count_two_from": 50000}
    bad = dict(form, p__probation_factor="2")
    response = client.post(f"/incentives/schemes/{draft.pk}/", bad)
    assert response.status_code == 200 and "Must be at most 1." in response.content.decode()
    client.post(f"/incentives/schemes/{draft.pk}/submit/")
    before = scheme_state()
    client.post(f"/incentives/schemes/{draft.pk}/approve/")
    assert scheme_state() == before
    assert web(cast.manager).post(f"/incentives/schemes/{draft.pk}/approve/").status_code == 302
    assert scheme_state() == before
    web(other).post(f"/incentives/schemes/{draft.pk}/approve/")
    draft.refresh_from_db()
    assert (draft.status, draft.approved_by) == ("approved", other)


def test_scheme_edit_denied_for_managers_and_approved_versions(cast: Any, web: Any) -> None:
    default = Scheme.objects.get()
    before = scheme_state()
    assert (
        web(cast.manager).post(f"/incentives/schemes/{default.pk}/", {"name": "x"}).status_code
        == 404
    )
    assert (
        web(cast.admin).post(f"/incentives/schemes/{default.pk}/", {"name": "x"}).status_code == 404
    )
    assert web(cast.consultant).get(f"/incentives/schemes/{default.pk}/").status_code == 404
    assert scheme_state() == before


def test_targets_page_allowed_and_late_refused(cast: Any, web: Any) -> None:
    response = web(cast.region_manager).post(
        "/incentives/targets/", {"region": cast.region.pk, "month": "2099-01", "target": "3"}
    )
    assert response.status_code == 302
    assert RegionTarget.objects.get().target == 3
    response = web(cast.region_manager).post(
        "/incentives/targets/", {"region": cast.region.pk, "month": "2020-01", "target": "3"}
    )
    assert "08:00 on the 6th" in response.content.decode()
    response = web(cast.manager).post(
        "/incentives/targets/", {"region": cast.region.pk, "month": "2099-01", "target": "9"}
    )
    assert response.status_code == 200  # the region is not among the manager's choices
    assert RegionTarget.objects.get().target == 3


QUERIES = {
    "/incentives/schemes/": 4,
    "/incentives/runs/": 4,
    "/incentives/runs/2026-03/": 8,
    "/incentives/statement/": 8,
    "/incentives/pool/": 4,
    "/incentives/targets/": 7,
}


@pytest.mark.parametrize("url", list(QUERIES))
def test_page_query_counts_are_constant(
    cast: Any, web: Any, url: str, django_assert_num_queries: Any
) -> None:
    f.world(cast)
    now = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    services.submit_target(actor=cast.admin, region=cast.region, month=f.MONTH, target=3, now=now)
    services.run_month(actor=cast.admin, month=f.MONTH)
    client = web(cast.region_manager)
    client.get(url)
    with django_assert_num_queries(QUERIES[url]):
        assert client.get(url).status_code == 200
    more_months(cast, ["2026-01", "2026-02"])
    services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get(version=1))
    services.submit_target(actor=cast.admin, region=cast.region, month="2026-02", target=2, now=now)
    f.develop(cast, cast.other_manager, 60000)
    services.run_month(actor=cast.admin, month=f.MONTH)
    with django_assert_num_queries(QUERIES[url]):
        assert client.get(url).status_code == 200
