"""The ``kehu`` command: a public interface operators script deployments with.

Most cases go through ``call_command`` for speed; one test drives the installed ``kehu``
entry point in child processes end to end against the test database.
"""

from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from kehu.core.models import AuditEvent
from kehu.core.phones import normalise_phone
from kehu.core.tests.procs import run_kehu
from kehu.org import services
from kehu.org.choices import Role
from kehu.org.models import ApiToken, OrgNode, Staff

ALL_ROLES = "admin, manager, commissioner, consultant, promoter, broker"
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def kehu(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def tree() -> list[tuple[int, str, str]]:
    return list(OrgNode.objects.order_by("path").values_list("depth", "name", "kind"))


# --- kehu org -----------------------------------------------------------------------------


def test_org_add_creates_the_company_and_three_levels(db):
    out = kehu("org", "add", "华东/上海/一组")
    assert tree() == [
        (0, "Kehu", "company"),
        (1, "华东", "region"),
        (2, "上海", "area"),
        (3, "一组", "team"),
    ]
    team = OrgNode.objects.get(name="一组")
    assert out == f"华东/上海/一组 (id {team.pk}, team)\n"
    assert (
        list(AuditEvent.objects.order_by("id").values_list("action", "source", "actor_id"))
        == [("org.node.create", "command", None)] * 4
    )


def test_org_add_is_idempotent(db):
    kehu("org", "add", "华东/上海/一组")
    events = AuditEvent.objects.count()
    kehu("org", "add", "华东/上海/一组")
    kehu("org", "add", "华东/上海")
    assert len(tree()) == 4
    assert AuditEvent.objects.count() == events


def test_org_add_names_the_company_on_first_use(db):
    kehu("org", "add", "华东", "--company", "华夏置业")
    assert tree() == [(0, "华夏置业", "company"), (1, "华东", "region")]


def test_org_add_rejects_a_fourth_level(db):
    with pytest.raises(CommandError) as exc:
        kehu("org", "add", "a/b/c/d")
    assert (
        str(exc.value)
        == "path: A path has at most three levels below the company: Region/Area/Team."
    )
    assert OrgNode.objects.count() == 0


def test_org_list_prints_the_tree(cast):
    assert kehu("org", "list") == (
        f"测试公司 [company] id={cast.company.pk}\n"
        f"  华东大区 [region] id={cast.region.pk}\n"
        f"    上海区域 [area] id={cast.area.pk}\n"
        f"      一组 [team] id={cast.team.pk}\n"
        f"      二组 [team] id={cast.other_team.pk}\n"
    )


# --- kehu user ----------------------------------------------------------------------------


STRONG = "wen-hua-sales-2026"


def test_user_add_refuses_a_weak_password_and_creates_nobody(db):
    kehu("org", "add", "华东/上海/一组")
    with pytest.raises(CommandError, match="password"):
        kehu("user", "add", "alice", "--role", "consultant", "--password", "123")
    assert not Staff.objects.filter(username="alice").exists()


def test_user_add_with_roles_node_and_password(db):
    kehu("org", "add", "华东/上海/一组")
    out = kehu(
        "user",
        "add",
        "alice",
        "--role",
        "consultant",
        "--role",
        "promoter",
        "--node",
        "华东/上海/一组",
        "--password",
        STRONG,
    )
    alice = Staff.objects.get(username="alice")
    assert out == f"Created alice (id {alice.pk}) with roles consultant, promoter.\n"
    assert alice.roles == frozenset({"consultant", "promoter"})
    assert alice.node == OrgNode.objects.get(name="一组")
    assert alice.check_password(STRONG)
    [event] = AuditEvent.objects.filter(action="org.staff.create")
    assert (event.source, event.actor_id, event.object_id) == ("command", None, str(alice.pk))


def test_user_add_with_a_phone_normalises_it(db):
    kehu("user", "add", "bob", "--role", "broker", "--phone", "138-1234-5678", "--name", "王伟")
    bob = Staff.objects.get(username="bob")
    assert (bob.phone, bob.name, bob.node_id, bob.has_usable_password()) == (
        "+8613812345678",
        "王伟",
        None,
        False,
    )


def test_user_add_with_a_wrong_role_lists_the_valid_roles(cast):
    with pytest.raises(CommandError) as exc:
        kehu("user", "add", "alice", "--role", "boss", "--role", "consultant")
    assert str(exc.value) == f"Unknown role boss; valid roles: {ALL_ROLES}."
    assert not Staff.objects.filter(username="alice").exists()


def test_user_add_without_a_role_lists_the_valid_roles(cast):
    with pytest.raises(CommandError) as exc:
        kehu("user", "add", "alice")
    assert str(exc.value) == f"Give at least one --role; valid roles: {ALL_ROLES}."


def test_user_add_with_a_wrong_node_lists_the_valid_nodes(cast):
    with pytest.raises(CommandError) as exc:
        kehu("user", "add", "alice", "--role", "consultant", "--node", "华东大区/上海区域/三组")
    assert str(exc.value) == (
        "Unknown node '华东大区/上海区域/三组'; valid nodes: "
        "华东大区, 华东大区/上海区域, 华东大区/上海区域/一组, 华东大区/上海区域/二组."
    )
    assert not Staff.objects.filter(username="alice").exists()


def test_user_add_with_a_node_before_any_exists_says_how_to_make_one(db):
    with pytest.raises(CommandError) as exc:
        kehu("user", "add", "alice", "--role", "consultant", "--node", "华东")
    assert (
        str(exc.value)
        == "Unknown node '华东'; valid nodes: none yet (create one with kehu org add)."
    )


def test_user_add_with_a_taken_username_says_so(cast):
    with pytest.raises(CommandError) as exc:
        kehu("user", "add", "consultant", "--role", "consultant")
    assert str(exc.value) == "username: This username is taken."


def test_user_add_with_a_bad_phone_says_why(cast):
    with pytest.raises(CommandError) as exc:
        kehu("user", "add", "alice", "--role", "consultant", "--phone", "1381234567")
    assert str(exc.value) == "phone: A mainland mobile number has 11 digits; this one has 10."


def test_user_leave_hands_records_to_the_nodes_manager(cast):
    out = kehu("user", "leave", "manager")
    counts = dict.fromkeys(_handler_names(), 0) | {"org.managed_nodes": 1}
    handed = ", ".join(f"{kind}={count}" for kind, count in sorted(counts.items()))
    assert out == f"manager has left; reassigned: {handed}.\n"
    assert "org.managed_nodes=1" in out
    cast.manager.refresh_from_db()
    cast.team.refresh_from_db()
    assert cast.manager.is_active is False
    assert cast.team.manager_id == cast.region_manager.pk
    [event] = AuditEvent.objects.filter(action="org.staff.leave")
    assert (event.source, event.actor_id) == ("command", None)


def test_user_leave_with_nothing_to_hand_on(cast):
    assert kehu("user", "leave", "broker") == "broker has left; reassigned: nothing.\n"


def test_user_leave_to_a_chosen_person(cast):
    kehu("user", "leave", "manager", "--reassign-to", "consultant")
    cast.team.refresh_from_db()
    assert cast.team.manager_id == cast.consultant.pk


def test_user_leave_refuses_when_nobody_can_take_the_records(cast):
    with pytest.raises(CommandError) as exc:
        kehu("user", "leave", "region_manager")
    assert (
        str(exc.value)
        == "reassign_to: Nobody to hand the records to: choose a person (the node has no manager)."
    )
    cast.region_manager.refresh_from_db()
    assert cast.region_manager.is_active is True


def test_user_leave_of_an_unknown_person(cast):
    with pytest.raises(CommandError) as exc:
        kehu("user", "leave", "nobody")
    assert str(exc.value) == "No user named 'nobody'."


def test_user_list(cast):
    lines = kehu("user", "list").splitlines()
    assert lines[0] == "admin\tadmin\t测试公司\tactive"
    assert "consultant\tconsultant\t华东大区/上海区域/一组\tactive" in lines
    assert "broker\tbroker\t-\tactive" in lines
    assert len(lines) == 9


def _handler_names() -> list[str]:
    from kehu.core import ownership

    return list(ownership._handlers)


# --- kehu token ---------------------------------------------------------------------------


def test_token_prints_a_key_the_api_accepts(cast):
    key = kehu("token", "consultant").strip()
    assert key.startswith("kehu_")
    response = Client().get("/api/v1/staff/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json()["username"] == "consultant"
    [token] = ApiToken.objects.filter(staff=cast.consultant)
    assert token.name == "cli"
    [event] = AuditEvent.objects.filter(action="org.token.issue")
    assert (event.source, event.actor_id) == ("command", None)


def test_token_for_an_unknown_user(cast):
    with pytest.raises(CommandError) as exc:
        kehu("token", "nobody")
    assert str(exc.value) == "No user named 'nobody'."


def test_token_for_someone_who_left(cast):
    services.mark_staff_left(actor=None, staff=cast.promoter)
    with pytest.raises(CommandError) as exc:
        kehu("token", "promoter")
    assert str(exc.value) == "staff: This person has left; no token can be issued."
    assert ApiToken.objects.count() == 0


# --- kehu demo ----------------------------------------------------------------------------


def demo_state() -> dict[str, int]:
    """Row counts of every Kehu model: a second run must not change any of them."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_config.name.startswith("kehu.")
    }


def printed_logins(out: str) -> list[str]:
    lines = out.split("Demo company ready. Log in with:\n", 1)[1].splitlines()
    return [line.split()[0] for line in lines]


@pytest.fixture
def org_demo_only(monkeypatch):
    """Only the organisation loader: later apps' loaders (thousands of customers) are
    tested by their own apps."""
    from kehu.core import demo

    demo.discover()  # every loader registered before we filter
    monkeypatch.setattr(
        demo, "_loaders", [item for item in demo._loaders if item[1] == "organisation"]
    )


def test_demo_organisation_twice_is_idempotent_and_realistic(db, org_demo_only):
    out = kehu("demo")
    first = demo_state()
    again = kehu("demo")
    assert demo_state() == first
    assert (
        printed_logins(out)
        == printed_logins(again)
        == [
            "admin",
            "gm",
            "region1",
            "manager1",
            "consultant11",
            "promoter1",
            "broker1",
        ]
    )
    assert OrgNode.objects.filter(kind="company").count() == 1
    assert OrgNode.objects.filter(kind="region").count() == 2
    assert OrgNode.objects.filter(kind="team").count() == 6
    assert Staff.objects.count() == 40
    assert set(Staff.objects.values_list("role_rows__role", flat=True)) == set(Role.values)
    for name, phone in Staff.objects.values_list("name", "phone"):
        assert CHINESE_NAME.match(name), name
        assert re.fullmatch(r"\+861[3-9]\d{9}", phone), phone
        assert normalise_phone(phone) == phone
    assert len(set(Staff.objects.values_list("phone", flat=True))) == 40
    assert not OrgNode.objects.filter(kind__in=["region", "team"], manager__isnull=True).exists()
    for username in printed_logins(out):
        assert Staff.objects.get(username=username).check_password("kehu-demo-2026")
    assert set(AuditEvent.objects.values_list("source", flat=True)) == {"command"}


@pytest.mark.parametrize("size", ["5", "11", "100001"])
def test_demo_rejects_a_size_out_of_range(db, size):
    with pytest.raises(CommandError) as exc:
        kehu("demo", "--size", size)
    assert str(exc.value) == "--size must be between 12 and 100000."
    assert Staff.objects.count() == 0


# --- end to end: the installed `kehu` in child processes ----------------------------------


@pytest.mark.django_db(transaction=True)
def test_kehu_end_to_end_in_child_processes():
    done = run_kehu("org", "add", "华东/上海/一组")
    assert (done.returncode, done.stderr) == (0, "")
    team = OrgNode.objects.get(name="一组")
    assert done.stdout == f"华东/上海/一组 (id {team.pk}, team)\n"
    assert run_kehu("org", "add", "华东/上海/一组").returncode == 0
    assert OrgNode.objects.count() == 4

    done = run_kehu(
        "user",
        "add",
        "alice",
        "--role",
        "consultant",
        "--role",
        "promoter",
        "--node",
        "华东/上海/一组",
        "--password",
        STRONG,
    )
    assert done.returncode == 0, done.stderr
    alice = Staff.objects.get(username="alice")
    assert (alice.roles, alice.node_id) == (frozenset({"consultant", "promoter"}), team.pk)

    done = run_kehu("user", "add", "bob", "--role", "boss")
    assert done.returncode == 1
    assert f"valid roles: {ALL_ROLES}." in done.stderr
    assert "Traceback" not in done.stderr

    done = run_kehu("user", "add", "bob", "--role", "consultant", "--node", "华东/杭州")
    assert done.returncode == 1
    assert "valid nodes: 华东, 华东/上海, 华东/上海/一组." in done.stderr
    assert not Staff.objects.filter(username="bob").exists()

    done = run_kehu("token", "alice")
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    response = Client().get("/api/v1/staff/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert (response.status_code, response.json()["username"]) == (200, "alice")

    done = run_kehu("demo", "--size", "5")
    assert done.returncode == 1
    assert "--size must be between 12 and 100000." in done.stderr

    done = run_kehu("user", "leave", "alice")
    assert done.returncode == 0, done.stderr
    alice.refresh_from_db()
    assert alice.is_active is False
    assert Client().get("/api/v1/staff/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401

    sources = set(AuditEvent.objects.values_list("source", flat=True))
    assert sources == {"command"}


def test_kehu_without_arguments_prints_its_usage():
    done = run_kehu()
    assert done.returncode == 0
    assert "kehu user add NAME --role R" in done.stdout


def test_org_list_orders_siblings_by_id_as_a_number(db):
    """Ids of different lengths (99 and 100) keep their order (as text, 100 sorts first)."""
    from kehu.org.models import OrgNode

    kehu("org", "add", "华东/上海/一组")
    team = OrgNode.objects.get(name="一组")
    # The next node gets an id with one more digit than the one before it.
    OrgNode.objects.filter(pk=team.pk).update(path=team.path.replace(f"/{team.pk}/", "/99/"))
    kehu("org", "add", "华东/上海/二组")
    second = OrgNode.objects.get(name="二组")
    OrgNode.objects.filter(pk=second.pk).update(path=second.path.replace(f"/{second.pk}/", "/100/"))
    lines = kehu("org", "list").splitlines()
    assert [line.strip().split(" ")[0] for line in lines[-2:]] == ["一组", "二组"]
