"""API tests for bad input: every one answers a 4xx with the one error body

    {"error": {"code": "...", "message": "...", "fields": {...}}}

never a 500, and never a partial write (no row of any table changes).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from kehu.core.models import AuditEvent
from kehu.org import services
from kehu.org.models import ApiToken, OrgNode, Project, Staff, StaffRole

INVALID = "Please correct the errors below."
CJK = re.compile(r"[\u4e00-\u9fff]")


def everything() -> dict[str, list[dict]]:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (OrgNode, Project, Staff, StaffRole, ApiToken, AuditEvent)
    }


def error(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def invalid(**fields: list[str]) -> dict:
    return error("invalid", INVALID, fields)


@pytest.fixture
def ids(cast: Any) -> dict[str, int]:
    project = services.create_project(actor=None, name="一组项目", node=cast.team)
    token, _key = services.issue_api_token(actor=None, staff=cast.admin)
    values = {
        key: getattr(cast, key).pk for key in ("company", "region", "area", "team", "other_team")
    }
    values |= {name: staff.pk for name, staff in cast.all().items()}
    return values | {"project": project.pk, "token": token.pk}


def fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value):
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def send(client: Any, method: str, url: str, body: Any, ids: dict[str, int]) -> Any:
    return getattr(client, method)(fill(url, ids), fill(body, ids), format="json")


STAFF = "/api/v1/staff/"
CONSULTANT = "/api/v1/staff/{consultant}/"
NEWBIE = {"username": "newbie", "roles": ["consultant"], "node": "{team}"}
VALID_ROLES = "admin, manager, commissioner, consultant, promoter, broker"
LONG_101 = "长" * 101
LONG_10K = "x" * 10_000
TOO_LONG_100 = "Ensure this field has no more than 100 characters."

# (method, url, body, status, expected error body) — as the admin, who may do anything.
# fmt: off
BAD_JSON_BODIES = [
    # wrong types
    ("post", STAFF, NEWBIE | {"node": "abc"}, 400, invalid(node=["Expected an id (a whole number), got str."])),
    ("post", STAFF, NEWBIE | {"node": 1.5}, 400, invalid(node=["Expected an id (a whole number), got float."])),
    ("post", STAFF, NEWBIE | {"node": True}, 400, invalid(node=["Expected an id (a whole number), got bool."])),
    ("post", STAFF, NEWBIE | {"node": {"id": 4}}, 400, invalid(node=["Expected an id (a whole number), got dict."])),
    ("post", STAFF, NEWBIE | {"capacity": True}, 400, invalid(capacity=["A valid integer is required."])),
    ("post", STAFF, NEWBIE | {"capacity": "lots"}, 400, invalid(capacity=["A valid integer is required."])),
    ("post", STAFF, NEWBIE | {"capacity": -1}, 400, invalid(capacity=["Ensure this value is greater than or equal to 0."])),
    ("post", STAFF, NEWBIE | {"capacity": 2**70}, 400, invalid(capacity=["Ensure this value is less than or equal to 10000."])),
    ("post", STAFF, NEWBIE | {"roles": "consultant"}, 400, invalid(roles=['Expected a list of items but got type "str".'])),
    ("post", STAFF, NEWBIE | {"roles": []}, 400, invalid(roles=["Ensure this field has at least 1 elements."])),
    ("post", STAFF, NEWBIE | {"name": ["a", "b"]}, 400, invalid(name=["Not a valid string."])),
    ("post", STAFF, NEWBIE | {"hire_date": 20240101}, 400, invalid(hire_date=["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."])),
    ("post", STAFF, NEWBIE | {"hire_date": "2024-02-30"}, 400, invalid(hire_date=["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."])),
    ("post", STAFF, NEWBIE | {"email": "not-an-email"}, 400, invalid(email=["Enter a valid email address."])),
    ("post", STAFF, NEWBIE | {"username": "has space"}, 400, invalid(username=["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."])),
    ("post", STAFF, NEWBIE | {"username": "nul\u0000byte"}, 400, invalid(username=["Null characters are not allowed."])),
    ("post", "/api/v1/org-nodes/", {"name": ["a", "b"], "kind": "team", "parent": "{area}"}, 400, invalid(name=["Not a valid string."])),
    ("post", "/api/v1/org-nodes/", {"name": 42, "kind": "team", "parent": "abc"}, 400, invalid(parent=["Expected an id (a whole number), got str."])),
    ("post", "/api/v1/projects/", {"name": {"zh": "项目"}, "node": "{team}"}, 400, invalid(name=["Not a valid string."])),
    ("patch", "/api/v1/projects/{project}/", {"is_active": "maybe"}, 400, invalid(is_active=["Must be a valid boolean."])),
    ("patch", CONSULTANT, {"capacity": False}, 400, invalid(capacity=["A valid integer is required."])),
    ("post", "/api/v1/staff/{consultant}/move/", {"node": "{other_team}", "keep_records": "maybe"}, 400, invalid(keep_records=["Must be a valid boolean."])),
    ("post", "/api/v1/staff/{consultant}/leave/", {"left_on": "yesterday"}, 400, invalid(left_on=["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."])),
    ("put", "/api/v1/staff/{consultant}/roles/", {"roles": [1, 2]}, 400, invalid(**{"roles.0": [f"Unknown role 1; valid roles are: {VALID_ROLES}."], "roles.1": [f"Unknown role 2; valid roles are: {VALID_ROLES}."]})),
    # missing fields
    ("post", STAFF, {}, 400, invalid(username=["This field is required."], roles=["This field is required."])),
    ("post", "/api/v1/org-nodes/", {}, 400, invalid(name=["This field is required."], kind=["This field is required."], parent=["This field is required."])),
    ("post", "/api/v1/staff/{consultant}/move/", {}, 400, invalid(node=["This field is required."])),
    ("put", "/api/v1/staff/{consultant}/roles/", {}, 400, invalid(roles=["This field is required."])),
    # unknown ids
    ("post", STAFF, NEWBIE | {"node": 999999}, 400, invalid(node=["Unknown id 999999."])),
    ("post", STAFF, NEWBIE | {"node": 2**70}, 400, invalid(node=[f"Unknown id {2**70}."])),
    ("post", STAFF, NEWBIE | {"node": -3}, 400, invalid(node=["Unknown id -3."])),
    ("post", STAFF, NEWBIE | {"node": 0}, 400, invalid(node=["Unknown id 0."])),
    ("post", "/api/v1/projects/", {"name": "新项目", "node": 999999}, 400, invalid(node=["Unknown id 999999."])),
    ("patch", "/api/v1/org-nodes/{team}/", {"manager": 999999}, 400, invalid(manager=["Unknown id 999999."])),
    ("post", "/api/v1/staff/{consultant}/move/", {"node": 999999}, 400, invalid(node=["Unknown id 999999."])),
    ("post", "/api/v1/staff/{consultant}/leave/", {"reassign_to": 999999}, 400, invalid(reassign_to=["Unknown id 999999."])),
    ("patch", "/api/v1/staff/999999/", {"name": "x"}, 404, error("not_found", "Not found.")),
    ("put", "/api/v1/staff/999999/roles/", {"roles": ["consultant"]}, 404, error("not_found", "Not found.")),
    ("post", "/api/v1/staff/999999/move/", {"node": "{team}"}, 404, error("not_found", "Not found.")),
    ("post", "/api/v1/staff/999999/leave/", {}, 404, error("not_found", "Not found.")),
    ("patch", "/api/v1/org-nodes/999999/", {"name": "x"}, 404, error("not_found", "Not found.")),
    ("patch", "/api/v1/projects/999999/", {"name": "x"}, 404, error("not_found", "Not found.")),
    ("delete", "/api/v1/tokens/999999/", None, 404, error("not_found", "Not found.")),
    ("patch", f"/api/v1/staff/{2**70}/", {"name": "x"}, 404, error("not_found", "Not found.")),
    ("patch", "/api/v1/staff/abc/", {"name": "x"}, 404, error("not_found", "Not found.")),
    # oversized strings
    ("post", STAFF, NEWBIE | {"name": LONG_101}, 400, invalid(name=[TOO_LONG_100])),
    ("post", STAFF, NEWBIE | {"name": LONG_10K}, 400, invalid(name=[TOO_LONG_100])),
    ("post", STAFF, NEWBIE | {"username": "u" * 151}, 400, invalid(username=["Ensure this field has no more than 150 characters."])),
    ("post", STAFF, NEWBIE | {"phone": "1" * 10_000}, 400, invalid(phone=["Ensure this field has no more than 32 characters."])),
    ("patch", CONSULTANT, {"name": LONG_101}, 400, invalid(name=[TOO_LONG_100])),
    ("patch", CONSULTANT, {"name": LONG_10K}, 400, invalid(name=[TOO_LONG_100])),
    ("post", "/api/v1/org-nodes/", {"name": LONG_101, "kind": "area", "parent": "{region}"}, 400, invalid(name=[TOO_LONG_100])),
    ("post", "/api/v1/org-nodes/", {"name": LONG_10K, "kind": "area", "parent": "{region}"}, 400, invalid(name=[TOO_LONG_100])),
    ("patch", "/api/v1/org-nodes/{team}/", {"name": LONG_101}, 400, invalid(name=[TOO_LONG_100])),
    ("post", "/api/v1/projects/", {"name": LONG_101, "node": "{team}"}, 400, invalid(name=[TOO_LONG_100])),
    ("post", "/api/v1/projects/", {"name": "新项目", "node": "{team}", "address": LONG_10K}, 400, invalid(address=["Ensure this field has no more than 200 characters."])),
    ("patch", "/api/v1/projects/{project}/", {"name": LONG_10K}, 400, invalid(name=[TOO_LONG_100])),
    ("post", "/api/v1/tokens/", {"name": LONG_101}, 400, invalid(name=[TOO_LONG_100])),
    # blank where a value is needed
    ("post", "/api/v1/org-nodes/", {"name": "   ", "kind": "area", "parent": "{region}"}, 400, invalid(name=["This field may not be blank."])),
    ("patch", "/api/v1/projects/{project}/", {"name": ""}, 400, invalid(name=["This field may not be blank."])),
    # phone numbers
    ("patch", CONSULTANT, {"phone": "1380013800"}, 400, invalid(phone=["A mainland mobile number has 11 digits; this one has 10."])),
    ("patch", CONSULTANT, {"phone": "138001380001"}, 400, invalid(phone=["A mainland mobile number has 11 digits; this one has 12."])),
    ("patch", CONSULTANT, {"phone": "1380013800a"}, 400, invalid(phone=["A phone number may contain only digits, spaces, dashes and a leading +."])),
    ("patch", CONSULTANT, {"phone": "一三八"}, 400, invalid(phone=["A phone number may contain only digits, spaces, dashes and a leading +."])),
    ("patch", CONSULTANT, {"phone": "12012345678"}, 400, invalid(phone=["This number does not exist: check the prefix and the number of digits."])),
    ("patch", CONSULTANT, {"phone": "13800000003"}, 400, invalid(phone=["Another staff member already has this number."])),
    ("post", STAFF, NEWBIE | {"phone": "+86 138 0000 0003"}, 400, invalid(phone=["Another staff member already has this number."])),
    ("post", STAFF, NEWBIE | {"phone": "12012345678"}, 400, invalid(phone=["This number does not exist: check the prefix and the number of digits."])),
    # unknown choices name the valid ones
    ("post", STAFF, NEWBIE | {"roles": ["wizard"]}, 400, invalid(**{"roles.0": [f"Unknown role wizard; valid roles are: {VALID_ROLES}."]})),
    ("post", STAFF, NEWBIE | {"roles": ["consultant", "boss"]}, 400, invalid(**{"roles.1": [f"Unknown role boss; valid roles are: {VALID_ROLES}."]})),
    ("put", "/api/v1/staff/{consultant}/roles/", {"roles": ["consultant", "wizard"]}, 400, invalid(**{"roles.1": [f"Unknown role wizard; valid roles are: {VALID_ROLES}."]})),
    ("post", STAFF, NEWBIE | {"employment_type": "temp"}, 400, invalid(employment_type=['"temp" is not a valid choice; choose one of: full_time, part_time, outsourced, external.'])),
    ("patch", CONSULTANT, {"employment_type": "intern"}, 400, invalid(employment_type=['"intern" is not a valid choice; choose one of: full_time, part_time, outsourced, external.'])),
    ("post", "/api/v1/org-nodes/", {"name": "银河", "kind": "galaxy", "parent": "{company}"}, 400, invalid(kind=['"galaxy" is not a valid choice; choose one of: company, region, area, branch, team.'])),
    ("post", "/api/v1/projects/", {"name": "新项目", "node": "{team}", "kind": "castle"}, 400, invalid(kind=['"castle" is not a valid choice; choose one of: housing, dealership, club, other.'])),
    # dates that contradict each other
    ("post", STAFF, NEWBIE | {"hire_date": "2025-05-01", "probation_end": "2025-04-30"}, 400, invalid(probation_end=["Probation cannot end before the hire date."])),
    ("patch", CONSULTANT, {"hire_date": "2025-05-01", "probation_end": "2025-04-30"}, 400, invalid(probation_end=["Probation cannot end before the hire date."])),
    # an initial password must pass the password validators
    ("post", STAFF, NEWBIE | {"password": "123"}, 400, invalid(password=["This password is too short. It must contain at least 8 characters.", "This password is too common.", "This password is entirely numeric."])),
    ("post", STAFF, NEWBIE | {"password": "newbie-x", "name": "Newbie X"}, 400, invalid(password=["The password is too similar to the username."])),
    # rules the services enforce
    ("post", STAFF, NEWBIE | {"username": "consultant"}, 400, invalid(username=["This username is taken."])),
    ("post", "/api/v1/org-nodes/", {"name": "一组", "kind": "team", "parent": "{area}"}, 400, invalid(name=["There is already a node named 一组 here."])),
    ("post", "/api/v1/org-nodes/", {"name": "新组", "kind": "team", "parent": "{team}"}, 400, invalid(kind=["A Team cannot be placed under a Team."])),
    ("patch", "/api/v1/org-nodes/{area}/", {"parent": "{team}"}, 400, invalid(parent=["A node cannot be moved under itself."])),
    ("post", "/api/v1/projects/", {"name": "一组项目", "node": "{team}"}, 400, invalid(name=["This node already has a project named 一组项目."])),
    ("post", "/api/v1/staff/{consultant}/leave/", {"reassign_to": "{consultant}"}, 400, invalid(reassign_to=["Choose someone other than the person leaving."])),
    # bodies that are JSON but not an object
    ("post", STAFF, [], 400, error("invalid", "Invalid data. Expected a dictionary, but got list.", {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})),
    ("post", STAFF, "just a string", 400, error("invalid", "Invalid data. Expected a dictionary, but got str.", {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]})),
]
# fmt: on


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "expected"),
    BAD_JSON_BODIES,
    ids=[f"{b[0]}-{b[1]}-{json.dumps(b[2], ensure_ascii=False)[:60]}" for b in BAD_JSON_BODIES],
)
def test_bad_input_is_a_4xx_with_the_error_body_and_writes_nothing(
    cast: Any,
    api: Any,
    ids: dict[str, int],
    method: str,
    url: str,
    body: Any,
    status: int,
    expected: dict,
) -> None:
    before = everything()
    response = send(api(cast.admin), method, url, body, ids)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == fill(expected, ids)
    assert everything() == before


def test_a_good_field_next_to_a_bad_one_is_not_written(cast: Any, api: Any) -> None:
    before = everything()
    response = api(cast.admin).patch(
        f"/api/v1/staff/{cast.consultant.pk}/",
        {"name": "Good Name", "capacity": 5, "phone": "12012345678"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["phone"]
    assert everything() == before


def test_a_staff_member_rejected_by_the_service_leaves_no_roles_behind(cast: Any, api: Any) -> None:
    """The serializer accepts it; the service refuses it mid-way (the number is taken):
    neither the person nor their role rows nor an event remain."""
    before = everything()
    response = api(cast.admin).post(
        "/api/v1/staff/",
        {"username": "dup", "roles": ["consultant", "promoter"], "phone": "13800000005"},
        format="json",
    )
    assert response.status_code == 400
    assert everything() == before


# --- bodies that are not JSON, or too big --------------------------------------------------


def test_malformed_json(cast: Any, api: Any) -> None:
    before = everything()
    response = api(cast.admin).post(
        "/api/v1/org-nodes/", data='{"name": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == error(
        "malformed_request",
        "The request body is not valid JSON: "
        "JSON parse error - Expecting value: line 1 column 10 (char 9)",
    )
    assert everything() == before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b'{"username": "n", "roles": ["consultant"], "capacity": 1e400}',
            invalid(capacity=["A valid integer is required."]),
        ),
        (
            b'{"username": "n", "roles": ["consultant"], "capacity": NaN}',
            error(
                "malformed_request",
                "The request body is not valid JSON: JSON parse error - Out of range float values are not JSON compliant: 'NaN'",
            ),
        ),
        (
            b'{"username": "n", "roles": ["consultant"], "employment_type": "\\ud800"}',
            invalid(
                employment_type=[
                    '"\\ud800" is not a valid choice; choose one of: full_time, part_time, outsourced, external.'
                ]
            ),
        ),
        (
            b'{"username": "n\\ud800", "roles": ["consultant"]}',
            invalid(username=["Surrogate characters are not allowed: U+D800."]),
        ),
        (
            b'{"username": "n", "username": "m", "roles": ["consultant"], "node": 1.0}',
            invalid(node=["Expected an id (a whole number), got float."]),
        ),
    ],
)
def test_odd_json(cast: Any, api: Any, raw: bytes, expected: dict) -> None:
    before = everything()
    response = api(cast.admin).post("/api/v1/staff/", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == expected
    assert everything() == before


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": ',
        b"{'name': 'single quotes'}",
        b'{"name": "x",}',
        b"NaN-ish",
        b'{"name": "\xff\xfe"}',
        b"[" * 100_000,
        b'{"a":' * 50_000,
    ],
    ids=[
        "truncated",
        "single-quotes",
        "trailing-comma",
        "garbage",
        "bad-utf8",
        "deep-array",
        "deep-object",
    ],
)
def test_unreadable_json_is_400(cast: Any, api: Any, raw: bytes) -> None:
    before = everything()
    response = api(cast.admin).post("/api/v1/staff/", data=raw, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "malformed_request"
    assert body["error"]["message"].startswith("The request body is not valid JSON: ")
    assert body["error"]["fields"] == {}
    assert everything() == before


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/staff/"),
        ("patch", "/api/v1/staff/{consultant}/"),
        ("post", "/api/v1/org-nodes/"),
    ],
)
def test_a_10_mb_body_is_413(
    cast: Any, api: Any, ids: dict[str, int], method: str, url: str
) -> None:
    before = everything()
    body = json.dumps(
        {"username": "big", "roles": ["consultant"], "name": "x" * (10 * 1024 * 1024)}
    )
    response = getattr(api(cast.admin), method)(
        fill(url, ids), data=body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json() == error("too_large", "The request body is too large (at most 2 MB).")
    assert everything() == before


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("application/x-www-form-urlencoded", "username=newbie&roles=consultant"),
        ("text/plain", '{"username": "newbie", "roles": ["consultant"]}'),
        (
            "multipart/form-data; boundary=BoUnDaRy",
            '--BoUnDaRy\r\nContent-Disposition: form-data; name="username"\r\n\r\nnewbie\r\n--BoUnDaRy--\r\n',
        ),
        ("application/xml", "<staff><username>newbie</username></staff>"),
    ],
)
def test_a_body_that_is_not_json_is_415(cast: Any, api: Any, content_type: str, data: str) -> None:
    before = everything()
    response = api(cast.admin).post("/api/v1/staff/", data=data, content_type=content_type)
    assert response.status_code == 415
    media_type = content_type.split(";")[0] if "multipart" not in content_type else content_type
    assert response.json() == error(
        "unsupported_media_type", f'Unsupported media type "{media_type}" in request.'
    )
    assert everything() == before


# --- HTML is text ------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_html_in_a_name_is_stored_verbatim_and_rendered_escaped(
    cast: Any, api: Any, web: Any
) -> None:
    response = api(cast.admin).post(
        "/api/v1/staff/",
        {"username": "mallory", "name": SCRIPT, "roles": ["consultant"], "node": cast.team.pk},
        format="json",
    )
    assert response.status_code == 201
    staff = Staff.objects.get(username="mallory")
    assert staff.name == SCRIPT
    assert response.json()["name"] == SCRIPT
    assert api(cast.admin).get(f"/api/v1/staff/{staff.pk}/").json()["name"] == SCRIPT
    assert (
        AuditEvent.objects.get(action="org.staff.create", object_id=str(staff.pk)).after["name"]
        == SCRIPT
    )

    page = web(cast.admin).get(f"/org/staff/{staff.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html

    listing = web(cast.admin).get("/org/staff/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    assert "<script>alert(1)" not in listing


def test_html_in_a_node_name_is_stored_verbatim_and_rendered_escaped(
    cast: Any, api: Any, web: Any
) -> None:
    name = '<img src=x onerror="alert(1)">'
    response = api(cast.admin).patch(
        f"/api/v1/org-nodes/{cast.team.pk}/", {"name": name}, format="json"
    )
    assert response.status_code == 200
    cast.team.refresh_from_db()
    assert cast.team.name == name
    html = web(cast.admin).get("/org/").content.decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<img src=x" not in html
    staff_page = web(cast.admin).get(f"/org/staff/{cast.consultant.pk}/").content.decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in staff_page
    assert "<img src=x" not in staff_page


# --- routes and methods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/api/v1/nope/", "/api/nope", "/api/v1/staff/1/nope/", "/api/v2/staff/", "/api/v1/staff/abc/"],
)
@pytest.mark.parametrize("persona", ["admin", None])
def test_an_unknown_api_route_is_404_with_the_error_body(
    cast: Any, api: Any, url: str, persona: str | None
) -> None:
    client = api(cast.admin if persona else None)
    response = client.get(url)
    if persona is None and url == "/api/v1/staff/abc/":
        # A real route: authentication comes first.
        assert response.status_code == 401
        return
    assert response.status_code == 404
    assert response.json() == error("not_found", "Not found.")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("delete", "/api/v1/staff/{consultant}/"),
        ("put", "/api/v1/staff/{consultant}/"),
        ("get", "/api/v1/staff/{consultant}/roles/"),
        ("get", "/api/v1/staff/{consultant}/move/"),
        ("put", "/api/v1/org-nodes/{team}/"),
        ("delete", "/api/v1/org-nodes/{team}/"),
        ("delete", "/api/v1/projects/{project}/"),
        ("post", "/api/v1/roles/"),
        ("post", "/api/v1/audit-events/"),
        ("delete", "/api/v1/audit-events/"),
        ("patch", "/api/v1/tokens/{token}/"),
        ("post", "/api/v1/staff/me/"),
    ],
)
def test_a_method_not_allowed_is_405_with_the_error_body(
    cast: Any, api: Any, ids: dict[str, int], method: str, url: str
) -> None:
    before = everything()
    response = getattr(api(cast.admin), method)(fill(url, ids), {}, format="json")
    assert response.status_code == 405
    assert response.json() == error("method_not_allowed", f'Method "{method.upper()}" not allowed.')
    assert everything() == before


# --- bad query strings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status", "expected"),
    [
        ("/api/v1/staff/?node=abc", 400, invalid(node=["Enter a whole number."])),
        ("/api/v1/staff/?node=1.5", 400, invalid(node=["Enter a whole number."])),
        ("/api/v1/staff/?node=1e400", 400, invalid(node=["Enter a whole number."])),
        (
            "/api/v1/staff/?node=0",
            400,
            invalid(node=["Ensure this value is greater than or equal to 1."]),
        ),
        (
            f"/api/v1/staff/?node={2**70}",
            400,
            invalid(node=["Ensure this value is less than or equal to 9223372036854775807."]),
        ),
        ("/api/v1/org-nodes/?parent=1e30", 400, invalid(parent=["Enter a whole number."])),
        (
            "/api/v1/projects/?node=-1",
            400,
            invalid(node=["Ensure this value is greater than or equal to 1."]),
        ),
        (
            "/api/v1/staff/?role=wizard",
            400,
            invalid(role=["Select a valid choice. wizard is not one of the available choices."]),
        ),
        (
            "/api/v1/org-nodes/?kind=galaxy",
            400,
            invalid(kind=["Select a valid choice. galaxy is not one of the available choices."]),
        ),
        ("/api/v1/staff/?q=%00", 400, invalid(q=["Null characters are not allowed."])),
        ("/api/v1/staff/?page=abc", 404, error("not_found", "Invalid page.")),
        ("/api/v1/staff/?page=99", 404, error("not_found", "Invalid page.")),
    ],
)
def test_a_bad_query_string_is_a_4xx_with_the_error_body(
    cast: Any, api: Any, url: str, status: int, expected: dict
) -> None:
    response = api(cast.admin).get(url)
    assert response.status_code == status
    assert response.json() == expected


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/staff/?q=" + "x" * 5000,
        "/api/v1/staff/?q=%25_%25",
        "/api/v1/staff/?ordering=password",
        "/api/v1/staff/?ordering=-node__path,,",
        "/api/v1/staff/?page_size=-5",
        "/api/v1/staff/?page_size=abc",
        "/api/v1/org-nodes/?q=" + "区" * 3000,
    ],
)
def test_odd_query_strings_are_harmless(cast: Any, api: Any, url: str) -> None:
    response = api(cast.admin).get(url)
    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}


# --- no value in any field is a 500 --------------------------------------------------------------

ODD_VALUES = [
    None,
    True,
    0,
    -1,
    1.5,
    2**70,
    "",
    " ",
    "x" * 10_001,
    "\u0000",
    "\ud800",
    "<b>",
    [],
    ["x"],
    {},
    {"id": 1},
]
WRITES = [
    (
        "post",
        "/api/v1/staff/",
        NEWBIE | {"name": "新人", "phone": "13912345678", "hire_date": "2025-01-01"},
    ),
    (
        "patch",
        CONSULTANT,
        {
            "name": "n",
            "phone": "13912345678",
            "capacity": 3,
            "email": "a@b.cn",
            "hire_date": "2025-01-01",
            "probation_end": "2025-02-01",
            "employment_type": "part_time",
        },
    ),
    ("put", "/api/v1/staff/{consultant}/roles/", {"roles": ["consultant"]}),
    (
        "post",
        "/api/v1/staff/{consultant}/move/",
        {"node": "{other_team}", "keep_records": True, "reassign_to": "{manager}"},
    ),
    (
        "post",
        "/api/v1/staff/{consultant}/leave/",
        {"left_on": "2025-01-01", "reassign_to": "{manager}"},
    ),
    (
        "post",
        "/api/v1/org-nodes/",
        {"name": "新区域", "kind": "area", "parent": "{region}", "manager": "{region_manager}"},
    ),
    (
        "patch",
        "/api/v1/org-nodes/{team}/",
        {"name": "新名", "manager": "{consultant}", "parent": "{area}"},
    ),
    (
        "post",
        "/api/v1/projects/",
        {"name": "新项目", "node": "{team}", "kind": "club", "address": "a", "route": "r"},
    ),
    (
        "patch",
        "/api/v1/projects/{project}/",
        {
            "name": "新名",
            "node": "{other_team}",
            "kind": "club",
            "address": "a",
            "route": "r",
            "is_active": False,
        },
    ),
    ("post", "/api/v1/tokens/", {"name": "t"}),
]


@pytest.mark.parametrize(("method", "url", "base"), WRITES, ids=[f"{w[0]}-{w[1]}" for w in WRITES])
def test_no_odd_value_in_any_field_is_a_500(
    cast: Any, api: Any, ids: dict[str, int], method: str, url: str, base: dict
) -> None:
    client = api(cast.admin)
    for field in base:
        for value in ODD_VALUES:
            body = fill(base, ids) | {field: value}
            with transaction.atomic():
                before = everything()
                response = getattr(client, method)(
                    fill(url, ids), json.dumps(body), content_type="application/json"
                )
                assert response.status_code < 500, (field, value, response.content)
                if response.status_code >= 400:
                    payload = response.json()
                    assert set(payload) == {"error"}, (field, value)
                    assert set(payload["error"]) == {"code", "message", "fields"}
                    assert payload["error"]["message"]
                    assert everything() == before, (field, value)
                transaction.set_rollback(True)


# --- the request's language ------------------------------------------------------------------


def in_chinese(msgid: str) -> str:
    with translation.override("zh-hans"):
        text = gettext(msgid)
    assert CJK.search(text), text
    return text


def test_drf_messages_follow_accept_language(cast: Any, api: Any) -> None:
    english = api(cast.admin, "en").post("/api/v1/staff/", {}, format="json").json()
    chinese = api(cast.admin, "zh-Hans").post("/api/v1/staff/", {}, format="json").json()
    assert english["error"]["fields"] == {
        "username": ["This field is required."],
        "roles": ["This field is required."],
    }
    required = in_chinese("This field is required.")
    assert chinese["error"]["fields"] == {"username": [required], "roles": [required]}
    assert chinese["error"]["code"] == english["error"]["code"] == "invalid"


@pytest.mark.parametrize(
    ("method", "url", "persona", "msgid"),
    [
        ("get", "/api/v1/staff/999999/", "admin", "Not found."),
        ("get", "/api/v1/staff/", None, "Authentication credentials were not provided."),
        ("delete", "/api/v1/staff/1/", "admin", 'Method "{method}" not allowed.'),
    ],
)
def test_error_messages_follow_accept_language(
    cast: Any, api: Any, method: str, url: str, persona: str | None, msgid: str
) -> None:
    staff = cast.admin if persona else None
    english = getattr(api(staff, "en"), method)(url).json()["error"]["message"]
    chinese = getattr(api(staff, "zh-Hans"), method)(url).json()["error"]["message"]
    assert english == msgid.format(method="DELETE")
    assert chinese == in_chinese(msgid).format(method="DELETE")


def test_our_own_messages_are_english_for_en(cast: Any, api: Any) -> None:
    body = (
        api(cast.admin, "en")
        .post(
            "/api/v1/staff/", {"username": "x", "roles": ["wizard"], "node": 999999}, format="json"
        )
        .json()
    )
    assert body == invalid(
        **{
            "roles.0": [f"Unknown role wizard; valid roles are: {VALID_ROLES}."],
            "node": ["Unknown id 999999."],
        }
    )
    chinese = (
        api(cast.admin, "zh-Hans")
        .post(
            "/api/v1/staff/", {"username": "x", "roles": ["wizard"], "node": 999999}, format="json"
        )
        .json()
    )
    assert chinese["error"]["code"] == "invalid"
    assert sorted(chinese["error"]["fields"]) == ["node", "roles.0"]
