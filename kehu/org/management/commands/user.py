from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from kehu.core.management.base import AuditedCommand
from kehu.org import services
from kehu.org.choices import Role
from kehu.org.models import OrgNode, Staff


def valid_node_paths() -> list[str]:
    return [
        services.node_label(n)
        for n in OrgNode.objects.exclude(parent__isnull=True).order_by("path")
    ]


class Command(AuditedCommand):
    help = (
        "Manage people: kehu user add USERNAME --role ROLE [--role ROLE…] "
        '[--node "Region/Area/Team"] [--password P] | kehu user leave USERNAME | '
        "kehu user list"
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Create a person with one or more roles.")
        add.add_argument("username")
        add.add_argument(
            "--role",
            action="append",
            default=[],
            dest="roles",
            help=f"One of: {', '.join(Role.values)}. Repeat for several.",
        )
        add.add_argument("--node", default="", help='Where they work: "Region/Area/Team".')
        add.add_argument("--password", default="")
        add.add_argument("--name", default="")
        add.add_argument("--phone", default=None)
        leave = sub.add_parser("leave", help="Mark a person as left, handing on their records.")
        leave.add_argument("username")
        leave.add_argument("--reassign-to", default="")
        sub.add_parser("list", help="List people and their roles.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            self._add(options)
        elif action == "leave":
            staff = self._get(options["username"])
            target = self._get(options["reassign_to"]) if options["reassign_to"] else None
            moved = services.mark_staff_left(actor=None, staff=staff, reassign_to=target)
            handed = ", ".join(f"{kind}={count}" for kind, count in sorted(moved.items()))
            self.stdout.write(f"{staff.username} has left; reassigned: {handed or 'nothing'}.")
        elif action == "list":
            for staff in Staff.objects.prefetch_related("role_rows").select_related("node"):
                roles = ",".join(sorted(r.role for r in staff.role_rows.all()))
                state = "active" if staff.is_active else "left"
                node = (services.node_label(staff.node) or staff.node.name) if staff.node else "-"
                self.stdout.write(f"{staff.username}\t{roles}\t{node}\t{state}")

    def _get(self, username: str) -> Staff:
        staff = Staff.objects.filter(username=username).first()
        if staff is None:
            raise CommandError(f"No user named {username!r}.")
        return staff

    def _add(self, options: dict[str, Any]) -> None:
        roles = options["roles"]
        if not roles:
            raise CommandError(f"Give at least one --role; valid roles: {', '.join(Role.values)}.")
        unknown = [r for r in roles if r not in Role.values]
        if unknown:
            raise CommandError(
                f"Unknown role {', '.join(unknown)}; valid roles: {', '.join(Role.values)}."
            )
        node = None
        if options["node"]:
            node = services.find_node(options["node"])
            if node is None:
                valid = valid_node_paths()
                raise CommandError(
                    f"Unknown node {options['node']!r}; valid nodes: "
                    f"{', '.join(valid) if valid else 'none yet (create one with kehu org add)'}."
                )
        staff = services.create_staff(
            actor=None,
            username=options["username"],
            roles=roles,
            node=node,
            password=options["password"] or None,
            name=options["name"],
            phone=options["phone"],
        )
        self.stdout.write(
            f"Created {staff.username} (id {staff.pk}) with roles {', '.join(roles)}."
        )
