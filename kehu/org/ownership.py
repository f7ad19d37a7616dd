"""The org app's own records that follow their owner: the nodes a person manages."""

from __future__ import annotations

from typing import Any

from kehu.core import ownership
from kehu.core.audit import record
from kehu.org.models import OrgNode


@ownership.register("org.managed_nodes")
def reassign_managed_nodes(*, actor: Any, from_staff: Any, to_staff: Any) -> int:
    moved = 0
    for node in OrgNode.objects.filter(manager=from_staff):
        node.manager = to_staff
        node.save(update_fields=["manager"])
        record(
            actor=actor,
            action="org.node.reassign_manager",
            obj=node,
            before={"manager": from_staff.pk},
            after={"manager": to_staff.pk},
        )
        moved += 1
    return moved


reassign_managed_nodes.count = lambda staff: OrgNode.objects.filter(manager=staff).count()  # type: ignore[attr-defined]
