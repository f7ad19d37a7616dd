from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from kehu.core.management.base import AuditedCommand
from kehu.org import services
from kehu.org.models import OrgNode


class Command(AuditedCommand):
    help = 'Manage the company tree: kehu org add "Region/Area/Team" | kehu org list'

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Create the missing nodes of Region/Area/Team.")
        add.add_argument("path")
        add.add_argument("--company", default="Kehu", help="Company name if none exists yet.")
        sub.add_parser("list", help="Print the tree.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "add":
            node = services.add_node_path(
                actor=None, path=options["path"], company_name=options["company"]
            )
            self.stdout.write(f"{services.node_label(node)} (id {node.pk}, {node.kind})")
        elif options["action"] == "list":
            # By the path's ids as numbers: as text, /1/100/ sorts before /1/99/.
            nodes = sorted(
                OrgNode.objects.all(),
                key=lambda n: [int(p) for p in n.path.strip("/").split("/") if p],
            )
            for node in nodes:
                self.stdout.write(f"{'  ' * node.depth}{node.name} [{node.kind}] id={node.pk}")
        else:  # pragma: no cover - argparse rejects it first
            raise CommandError("unknown action")
