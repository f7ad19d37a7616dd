"""The simulator page /incentives/simulate/."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from kehu.incentives.tests.test_simulate_api import db_state, example

URL = "/incentives/simulate/"


def test_the_page_is_prefilled_with_the_worked_example(web, cast, django_assert_num_queries):
    client = web(cast.manager)
    with django_assert_num_queries(3):  # session, user, roles
        response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="simulate-body"' in html
    assert "&quot;month&quot;: &quot;2026-03&quot;" in html
    assert 'data-testid="simulate-statements"' not in html
    assert 'class="nav-link active" href="/incentives/simulate/" data-testid="nav-simulate"' in html


@pytest.mark.parametrize("persona", ["admin", "manager", "region_manager"])
def test_simulating_shows_statements_pool_and_chart_and_stores_nothing(
    web, cast, persona, django_assert_num_queries
):
    client = web(getattr(cast, persona))
    before = db_state()
    with django_assert_num_queries(3):
        response = client.post(URL, {"body": json.dumps(example())})
    assert response.status_code == 200
    assert db_state() == before
    html = response.content.decode()
    assert 'data-testid="simulate-statement-29"' in html
    assert '<div class="fw-medium" data-testid="simulate-closing">4100</div>' in html
    assert "Customer beyond the threshold of 2, paid 25,000 in 2026-03: bonus 500." in html
    assert "Not assessed: 16 days on duty in 2026-03, fewer than 21 (rule 7)." in html
    chart = response.context["chart"]
    assert chart["names"][:3] == ["#1", "#2", "#3"]
    assert chart["values"] == [500, -500, -200, 0, -3500, -1000, 1000, 600, 0]
    assert 'id="simulate-chart-data"' in html
    assert 'data-testid="simulate-voided"' in html


def test_the_query_count_does_not_grow_with_the_facts(web, cast, django_assert_num_queries):
    body = example()
    for n in range(1, 100):
        body["staff"].append({**body["staff"][0], "id": 1000 + n, "name": f"张{n}"})
    client = web(cast.manager)
    with django_assert_num_queries(3):
        response = client.post(URL, {"body": json.dumps(body)})
    assert response.status_code == 200
    assert "张99" in response.content.decode()


def test_a_file_can_be_uploaded(web, cast):
    upload = SimpleUploadedFile(
        "body.json", json.dumps(example()).encode(), content_type="application/json"
    )
    response = web(cast.manager).post(URL, {"body": "", "file": upload})
    assert response.status_code == 200
    assert 'data-testid="simulate-statement-1"' in response.content.decode()
    bad = SimpleUploadedFile("body.json", b"\xff\xfe", content_type="application/json")
    response = web(cast.manager).post(URL, {"body": "", "file": bad})
    assert response.status_code == 400
    assert "The file is not UTF-8 text" in response.content.decode()


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("{not json", "The body is not valid JSON"),
        (
            json.dumps({**example(), "scheme": "nope"}),
            "Unknown scheme &quot;nope&quot; for 2026-03",
        ),
        (
            json.dumps(
                {**example(), "customers": [{**example()["customers"][0], "developed_by": 99}]}
            ),
            "<code>customers.0.developed_by</code>: No staff member with id 99 in this body.",
        ),
        (json.dumps([1, 2]), "Expected a JSON object with month, staff and customers."),
    ],
)
def test_bad_input_is_shown_and_nothing_is_stored(web, cast, body, shown):
    client = web(cast.manager)
    before = db_state()
    response = client.post(URL, {"body": body})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="simulate-errors"' in html
    assert shown in html
    assert db_state() == before
    assert response.context["text"] == body  # kept for correcting


def test_export_to_xlsx(web, cast):
    body: dict[str, Any] = example()
    body["staff"][0]["name"] = "王经理"
    response = web(cast.manager).post(URL, {"body": json.dumps(body), "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="simulation-2026-03.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[1][1:3] == (1, "王经理")
    assert len(book.worksheets) == 2


@pytest.mark.parametrize("persona", ["consultant", "commissioner", "promoter", "broker"])
def test_others_get_404(web, cast, persona):
    client = web(getattr(cast, persona))
    assert client.get(URL).status_code == 404
    before = db_state()
    assert client.post(URL, {"body": json.dumps(example())}).status_code == 404
    assert db_state() == before


def test_anonymous_is_sent_to_log_in(web, cast):
    response = web(None).get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]
