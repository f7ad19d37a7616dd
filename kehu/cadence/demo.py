"""Demo cadences: marketing milestones (company-wide and per team) and every demo
customer's next due date, from their real follow-ups, so My day has overdue, due and
callback items from the first login. Idempotent; through the services."""

from __future__ import annotations

import datetime

from django.utils import timezone

from kehu.cadence import services
from kehu.cadence.models import Milestone
from kehu.core import demo
from kehu.org.models import OrgNode, Staff

COMPANY_MILESTONES = [(-20, "样板间开放"), (10, "二期开盘"), (45, "业主答谢会")]
TEAM_MILESTONE = (5, "周末暖场活动")


@demo.register(60, "cadences and milestones")
def load_cadences(ctx: demo.DemoContext) -> None:
    today = timezone.localdate()
    admin = Staff.objects.filter(role_rows__role="admin", is_active=True).order_by("pk").first()
    if admin is not None and not Milestone.objects.exists():
        for offset, name in COMPANY_MILESTONES:
            services.create_milestone(
                actor=admin, date=today + datetime.timedelta(days=offset), name=name
            )
        teams = OrgNode.objects.filter(
            kind="team", manager__role_rows__role="manager"
        ).select_related("manager")
        for team in teams:
            offset, name = TEAM_MILESTONE
            services.create_milestone(
                actor=team.manager,
                date=today + datetime.timedelta(days=offset + ctx.rng.randrange(0, 10)),
                name=name,
                node=team,
            )
    count = services.recompute_all(today=today)
    ctx.say(f"  {count} customer cadences")
