"""The scheme editor page beyond the numbers: the funding order (rule 10), adding and
removing thresholds (rules 2-3) and bonus tiers, as the API can by sending params."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from kehu.incentives import services
from kehu.incentives.models import Scheme
from kehu.incentives.tests.test_services import scheme_state


class _Form(HTMLParser):
    """The values a browser would post from the page's scheme form."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.data: dict[str, Any] = {}
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("data-testid") == "scheme-form":
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = a.get("type")
            if kind == "checkbox":
                if "checked" in a:
                    self.data.setdefault(name, []).append(a.get("value") or "on")
            else:
                self.data[name] = a.get("value") or ""
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = a.get("value")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        if tag == "form":
            self.inside = False


def form_of(html: str) -> dict[str, Any]:
    parser = _Form()
    parser.feed(html)
    return parser.data


def draft(cast: Any) -> Scheme:
    return services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get())


def save(client: Any, scheme: Scheme, **changes: Any) -> Any:
    url = f"/incentives/schemes/{scheme.pk}/"
    data = form_of(client.get(url).content.decode())
    data.update(changes)
    return client.post(url, data)


def test_the_page_saves_unchanged_params_unchanged(cast: Any, web: Any) -> None:
    scheme = draft(cast)
    params = dict(scheme.params)
    response = save(web(cast.admin), scheme)
    assert response.status_code == 302
    scheme.refresh_from_db()
    assert scheme.params == params


def test_the_funding_order_is_edited_on_the_page(cast: Any, web: Any) -> None:
    scheme = draft(cast)
    client = web(cast.admin)
    page = client.get(f"/incentives/schemes/{scheme.pk}/").content.decode()
    assert 'data-testid="funding-order"' in page and 'name="funding_1"' in page
    response = save(client, scheme, funding_1="pool", funding_2="penalties")
    assert response.status_code == 302
    scheme.refresh_from_db()
    assert scheme.params["funding_order"] == ["pool", "penalties", "management_fund"]


def test_a_source_twice_is_refused_and_nothing_changes(cast: Any, web: Any) -> None:
    scheme = draft(cast)
    before = scheme_state()
    response = save(web(cast.admin), scheme, funding_2="penalties")
    assert response.status_code == 200
    assert "Choose each source once." in response.content.decode()
    assert scheme_state() == before


def test_a_threshold_is_added_then_edited_and_removed(cast: Any, web: Any) -> None:
    scheme = draft(cast)
    client = web(cast.admin)
    assert save(client, scheme, add_threshold="3").status_code == 302
    scheme.refresh_from_db()
    thresholds = scheme.params["area_manager"]["thresholds"]
    assert sorted(thresholds) == ["1", "2", "3"]
    assert thresholds["3"]["penalties"] == [0, 0, 0]
    assert thresholds["3"]["bonus_tiers"] == thresholds["2"]["bonus_tiers"]
    # The new threshold's numbers are fields on the page now.
    response = save(
        client,
        scheme,
        p__area_manager__thresholds__3__penalties__0="1200",
        p__area_manager__thresholds__3__penalties__1="600",
    )
    assert response.status_code == 302
    scheme.refresh_from_db()
    assert scheme.params["area_manager"]["thresholds"]["3"]["penalties"] == [1200, 600, 0]
    assert save(client, scheme, remove_thresholds=["1"]).status_code == 302
    scheme.refresh_from_db()
    assert sorted(scheme.params["area_manager"]["thresholds"]) == ["2", "3"]


def test_existing_thresholds_and_removing_all_are_refused(cast: Any, web: Any) -> None:
    scheme = draft(cast)
    client = web(cast.admin)
    before = scheme_state()
    response = save(client, scheme, add_threshold="2")
    assert "This threshold exists already." in response.content.decode()
    response = save(client, scheme, remove_thresholds=["1", "2"])
    assert "Keep at least one threshold." in response.content.decode()
    response = save(client, scheme, add_threshold="21")
    assert response.status_code == 200
    assert scheme_state() == before


def test_bonus_tiers_are_added_in_order_and_removed(cast: Any, web: Any) -> None:
    scheme = draft(cast)
    client = web(cast.admin)
    response = save(client, scheme, add_tier__2__from="100000", add_tier__2__amount="1500.50")
    assert response.status_code == 302
    scheme.refresh_from_db()
    tiers = scheme.params["area_manager"]["thresholds"]["2"]["bonus_tiers"]
    assert tiers[-1] == {"from": 100000, "amount": 1500.5}
    response = save(client, scheme, add_tier__1__from="10000", add_tier__1__amount="250")
    scheme.refresh_from_db()
    froms = [t["from"] for t in scheme.params["area_manager"]["thresholds"]["1"]["bonus_tiers"]]
    assert froms == sorted(froms) and 10000 in froms
    response = save(client, scheme, remove_tiers=["2.0", "2.3"])
    assert response.status_code == 302
    scheme.refresh_from_db()
    assert scheme.params["area_manager"]["thresholds"]["2"]["bonus_tiers"] == [
        {"from": 20000, "amount": 500},
        {"from": 50000, "amount": 1000},
    ]


def test_half_a_new_tier_or_no_tier_left_is_refused(cast: Any, web: Any) -> None:
    scheme = draft(cast)
    client = web(cast.admin)
    before = scheme_state()
    response = save(client, scheme, add_tier__2__from="100000")
    assert "Give both the payment a new tier starts from and its amount." in (
        response.content.decode()
    )
    response = save(client, scheme, remove_tiers=["1.0", "1.1", "1.2"])
    assert response.status_code == 200
    assert "tiers" in response.content.decode()
    assert scheme_state() == before


def test_the_structure_is_read_only_for_approved_versions(cast: Any, web: Any) -> None:
    default = Scheme.objects.get()
    page = web(cast.admin).get(f"/incentives/schemes/{default.pk}/").content.decode()
    assert 'name="funding_1"' in page and 'name="add_threshold"' in page
    assert page.count("disabled") >= 5
    assert web(cast.manager).get(f"/incentives/schemes/{default.pk}/").status_code == 200


def test_the_api_removes_a_threshold_too(cast: Any, api: Any) -> None:
    scheme = draft(cast)
    params = dict(scheme.params)
    params["area_manager"] = {
        **params["area_manager"],
        "thresholds": {"2": params["area_manager"]["thresholds"]["2"]},
    }
    response = api(cast.admin).patch(
        f"/api/v1/incentive-schemes/{scheme.pk}/", {"params": params}, format="json"
    )
    assert response.status_code == 200
    scheme.refresh_from_db()
    # The defaults do not bring threshold 1 back.
    assert list(scheme.params["area_manager"]["thresholds"]) == ["2"]
