"""The company tree, its projects, its people and their roles, and API tokens."""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.org.choices import EmploymentType, NodeKind, ProjectKind, Role
from kehu.org.querysets import OrgNodeQuerySet, ProjectQuerySet, StaffManager


class OrgNode(TimeStampedModel):
    """A node of the company tree. ``path`` is the materialised path of ids,
    ``/1/4/9/``, so a subtree is one indexed prefix match."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=NodeKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    manager = models.ForeignKey(
        "org.Staff",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_nodes",
    )

    objects = OrgNodeQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("organisation node")
        verbose_name_plural = _("organisation nodes")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="orgnode_unique_sibling_name"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="orgnode_unique_root_name"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in NodeKind]), name="orgnode_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]


class Project(TimeStampedModel):
    """A housing development, a dealership, a club: what is sold, attached to a node."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=16, choices=ProjectKind.choices, default=ProjectKind.HOUSING
    )
    node = models.ForeignKey(
        OrgNode,
        verbose_name=_("organisation node"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    route = models.TextField(_("driving route"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.UniqueConstraint(fields=["node", "name"], name="project_unique_name_per_node")
        ]

    def __str__(self) -> str:
        return self.name


class Staff(AbstractUser):
    """A person who logs in: employees and outside brokers alike."""

    name = models.CharField(_("name"), max_length=100, blank=True)
    phone = models.CharField(_("mobile"), max_length=20, null=True, blank=True)
    node = models.ForeignKey(
        OrgNode,
        verbose_name=_("organisation node"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    probation_end = models.DateField(_("probation ends"), null=True, blank=True)
    employment_type = models.CharField(
        _("employment type"),
        max_length=16,
        choices=EmploymentType.choices,
        default=EmploymentType.FULL_TIME,
    )
    left_on = models.DateField(_("left on"), null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=100, help_text=_("Weight for round-robin assignment.")
    )

    objects = StaffManager()  # type: ignore[misc]  # django-stubs: UserManager override

    class Meta:
        ordering = ["username"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=Q(phone__isnull=False), name="staff_unique_phone"
            ),
            models.CheckConstraint(
                condition=Q(probation_end__isnull=True)
                | Q(hire_date__isnull=True)
                | Q(probation_end__gte=models.F("hire_date")),
                name="staff_probation_after_hire",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(is_active=False),
                name="staff_left_is_inactive",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.username

    @cached_property
    def roles(self) -> frozenset[str]:
        if not self.pk:
            return frozenset()
        return frozenset(self.role_rows.values_list("role", flat=True))

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_any_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or Role.ADMIN in self.roles

    @property
    def is_manager(self) -> bool:
        return Role.MANAGER in self.roles

    @property
    def managed_paths(self) -> list[str]:
        """Paths of the subtrees this person manages: their node, if they are a manager."""
        if self.is_manager and self.node is not None:
            return [self.node.path]
        return []

    @cached_property
    def managed_node_ids(self) -> list[int]:
        """Ids of every node in the subtrees this person manages (one query, kept for the
        request). Large tables filter on these ids rather than on a subquery: PostgreSQL
        plans an index scan for a literal id list, a sequential scan for the subquery."""
        paths = self.managed_paths
        if not paths:
            return []
        query = Q()
        for path in paths:
            query |= Q(path__startswith=path)
        return list(OrgNode.objects.filter(query).values_list("pk", flat=True))

    @property
    def is_on_probation(self) -> bool:
        from django.utils import timezone

        return bool(self.probation_end and self.probation_end >= timezone.localdate())

    def role_labels(self) -> list[str]:
        return [str(label) for value, label in Role.choices if value in self.roles]


class StaffRole(models.Model):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="role_rows")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    class Meta:
        ordering = ["staff_id", "role"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "role"], name="staffrole_unique"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="staffrole_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id}:{self.role}"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the key is stored; the key is shown once."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, default="default")
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
