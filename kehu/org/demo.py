"""The demo company: 华夏置业 with 2 regions, 6 teams and about 40 people in every role."""

from __future__ import annotations

import datetime

from django.db import transaction

from kehu.core import demo
from kehu.core.phones import normalise_phone
from kehu.org import services
from kehu.org.choices import EmploymentType, ProjectKind
from kehu.org.models import OrgNode, Staff

COMPANY = "华夏置业"
# region → area → teams, with a project per area (name, address, route)
TREE = {
    "华东大区": {
        "上海区域": (
            ["浦东一组", "浦东二组"],
            (
                "滨江壹号院",
                "上海市浦东新区滨江大道 1888 号",
                "地铁 2 号线陆家嘴站 3 号口，步行 10 分钟",
            ),
        ),
        "杭州区域": (
            ["西湖组"],
            ("西溪雅苑", "杭州市西湖区文二西路 666 号", "地铁 3 号线文新站 B 口，右转 300 米"),
        ),
    },
    "华南大区": {
        "广州区域": (
            ["天河组", "番禺组"],
            (
                "珠江御景",
                "广州市天河区珠江新城华夏路 88 号",
                "地铁 5 号线猎德站 A 口，沿花城大道东行 500 米",
            ),
        ),
        "深圳区域": (
            ["南山组"],
            ("深湾壹号", "深圳市南山区科技南路 18 号", "地铁 2 号线登良站 D 口，步行 8 分钟"),
        ),
    },
}


def _staff(
    ctx: demo.DemoContext,
    username: str,
    roles: list[str],
    node: OrgNode | None,
    *,
    employment: str = EmploymentType.FULL_TIME,
    hired_days_ago: int = 400,
    probation_days: int = 90,
) -> Staff:
    existing = Staff.objects.filter(username=username).first()
    if existing is not None:
        return existing
    phone = None
    for _attempt in range(20):
        candidate = normalise_phone(demo.mobile(ctx.rng))
        if not Staff.objects.filter(phone=candidate).exists():
            phone = candidate
            break
    hire = datetime.date(2026, 11, 1) - datetime.timedelta(days=hired_days_ago)
    return services.create_staff(
        actor=None,
        username=username,
        roles=roles,
        node=node,
        password=ctx.password,
        name=demo.chinese_name(ctx.rng),
        phone=phone,
        email=f"{username}@example.com",
        hire_date=hire,
        probation_end=hire + datetime.timedelta(days=probation_days),
        employment_type=employment,
    )


@demo.register(10, "organisation")
@transaction.atomic
def load_org(ctx: demo.DemoContext) -> None:
    rng = ctx.rng
    root = services.ensure_company(actor=None, name=COMPANY)
    admin = _staff(ctx, "admin", ["admin"], root)
    gm = _staff(ctx, "gm", ["manager"], root)
    if root.manager_id is None:
        services.update_node(actor=None, node=root, manager=gm)
    teams: list[OrgNode] = []
    for region_name, areas in TREE.items():
        region = services.add_node_path(actor=None, path=region_name, company_name=COMPANY)
        index = list(TREE).index(region_name) + 1
        rm = _staff(ctx, f"region{index}", ["manager"], region)
        if region.manager_id is None:
            services.update_node(actor=None, node=region, manager=rm)
        for area_name, (team_names, project) in areas.items():
            area = services.add_node_path(actor=None, path=f"{region_name}/{area_name}")
            if not area.projects.exists():
                services.create_project(
                    actor=None,
                    name=project[0],
                    node=area,
                    kind=ProjectKind.HOUSING,
                    address=project[1],
                    route=project[2],
                )
            for team_name in team_names:
                teams.append(
                    services.add_node_path(
                        actor=None, path=f"{region_name}/{area_name}/{team_name}"
                    )
                )
    # Per team: a manager (team lead), consultants, a commissioner running promoters,
    # and promoters. Sizes scale with --size (about 40 people at the default).
    per_team_consultants = max(1, round((ctx.size - 22) / len(teams)))
    for t, team in enumerate(teams, start=1):
        lead = _staff(ctx, f"manager{t}", ["manager", "consultant"], team)
        if team.manager_id is None:
            services.update_node(actor=None, node=team, manager=lead)
        for c in range(1, per_team_consultants + 1):
            _staff(
                ctx,
                f"consultant{t}{c}",
                ["consultant"],
                team,
                hired_days_ago=rng.randrange(20, 900),
            )
        if t % 2 == 1:
            _staff(ctx, f"commissioner{t}", ["commissioner"], team)
        _staff(
            ctx,
            f"promoter{t}",
            ["promoter"],
            team,
            employment=EmploymentType.PART_TIME,
            hired_days_ago=rng.randrange(10, 200),
            probation_days=30,
        )
    for b in range(1, 4):
        _staff(ctx, f"broker{b}", ["broker"], None, employment=EmploymentType.EXTERNAL)
    ctx.data["admin"] = admin
    ctx.logins.extend(
        [
            ("admin", "administrator / 管理员"),
            ("gm", "general manager / 总经理"),
            ("region1", "region manager / 大区经理"),
            ("manager1", "team manager / 团队经理"),
            ("consultant11", "consultant / 置业顾问"),
            ("promoter1", "promoter / 拓客员"),
            ("broker1", "broker / 经纪人"),
        ]
    )
