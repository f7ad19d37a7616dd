"""The fixed cast every test is built from, created through the services.

company 测试公司
└── 华东大区 (region)            region_manager
    └── 上海区域 (area)
        ├── 一组 (team)          manager, consultant, promoter, commissioner
        └── 二组 (team)          other_manager, other_consultant
broker: no node (an outsider)    admin: at the company
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from kehu.org import services
from kehu.org.models import OrgNode, Staff

# No per-example deadline: the machines the suite runs on are shared, and a first call
# that loads a calendar or a cache can take longer than Hypothesis' 200 ms without
# anything being wrong (it then calls the run "flaky" and fails it).
hypothesis_settings.register_profile("kehu", deadline=None)
hypothesis_settings.load_profile("kehu")

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Cast:
    company: OrgNode
    region: OrgNode
    area: OrgNode
    team: OrgNode
    other_team: OrgNode
    admin: Staff
    region_manager: Staff
    manager: Staff
    other_manager: Staff
    consultant: Staff
    other_consultant: Staff
    commissioner: Staff
    promoter: Staff
    broker: Staff

    def all(self) -> dict[str, Staff]:
        return {
            name: getattr(self, name)
            for name in (
                "admin",
                "region_manager",
                "manager",
                "other_manager",
                "consultant",
                "other_consultant",
                "commissioner",
                "promoter",
                "broker",
            )
        }


def build_cast() -> Cast:
    company = services.ensure_company(actor=None, name="测试公司")
    team = services.add_node_path(actor=None, path="华东大区/上海区域/一组")
    other_team = services.add_node_path(actor=None, path="华东大区/上海区域/二组")
    area = team.parent
    region = area.parent

    def person(username: str, roles: list[str], node: OrgNode | None, phone: str) -> Staff:
        return services.create_staff(
            actor=None,
            username=username,
            roles=roles,
            node=node,
            password=PASSWORD,
            name=username.title(),
            phone=phone,
        )

    cast = Cast(
        company=company,
        region=region,
        area=area,
        team=team,
        other_team=other_team,
        admin=person("admin", ["admin"], company, "13800000001"),
        region_manager=person("region_manager", ["manager"], region, "13800000002"),
        manager=person("manager", ["manager"], team, "13800000003"),
        other_manager=person("other_manager", ["manager"], other_team, "13800000004"),
        consultant=person("consultant", ["consultant"], team, "13800000005"),
        other_consultant=person("other_consultant", ["consultant"], other_team, "13800000006"),
        commissioner=person("commissioner", ["commissioner"], team, "13800000007"),
        promoter=person("promoter", ["promoter"], team, "13800000008"),
        broker=person("broker", ["broker"], None, "13800000009"),
    )
    services.update_node(actor=None, node=region, manager=cast.region_manager)
    services.update_node(actor=None, node=team, manager=cast.manager)
    services.update_node(actor=None, node=other_team, manager=cast.other_manager)
    for staff in cast.all().values():
        staff.refresh_from_db()
        staff.__dict__.pop("roles", None)
    for node in (company, region, area, team, other_team):
        node.refresh_from_db()
    return cast


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: Any, settings: Any) -> None:
    """argon2 at full cost takes ~0.5 s a hash on this machine; the cast hashes nine.
    Tests marked ``argon2`` keep the configured hashers (and check them)."""
    if request.node.get_closest_marker("argon2") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Configuration read on hot paths is cached; no test may see another's."""
    from django.core.cache import cache

    from kehu.core.memo import Memo

    cache.clear()
    Memo.forget_all()
    yield
    cache.clear()
    Memo.forget_all()


@pytest.fixture
def cast(db: Any) -> Cast:
    return build_cast()


@pytest.fixture
def api(cast: Cast):
    """``api(persona)`` → an APIClient authenticated as that persona (session-less)."""

    def make(staff: Staff | None, language: str = "en") -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        if staff is not None:
            client.force_authenticate(user=staff)
        return client

    return make


@pytest.fixture
def web(cast: Cast):
    """``web(persona)`` → a Django test Client logged in as that persona."""

    def make(staff: Staff | None, language: str = "en") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        if staff is not None:
            client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make
