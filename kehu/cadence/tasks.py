"""Background entry points of the cadence app; each is idempotent (STYLE rule 12)."""

from __future__ import annotations

from django_tasks import task

from kehu.cadence.services import recompute_all


@task()
def recompute_cadences_task(grades: list[str] | None = None) -> dict[str, int]:
    """Recompute next-due dates: nightly (the ``cadence-recompute`` ScheduledJob) for
    every customer, or after a rule or milestone change for the grades it concerns."""
    return {"recomputed": recompute_all(grades=grades)}
