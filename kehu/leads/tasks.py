"""Background entry points of the leads app; each is idempotent (STYLE rule 12)."""

from __future__ import annotations

from django_tasks import task

from kehu.leads.pool import run_pool_rules


@task()
def run_pool_rules_task() -> dict[str, int]:
    """The daily pool rules (scheduled by the ``pool-rules`` ScheduledJob). Running it
    twice returns nothing the second time: returned customers have no owner left."""
    return {"returned": len(run_pool_rules())}
