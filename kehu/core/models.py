"""Shared bases: timestamps, the audit event, and the worker's bookkeeping."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.querysets import AuditEventQuerySet


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One write made through a service: who, what, on which object, before and after."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Copied at write time so the event still reads right after renames and moves, and
    # so a manager's "my subtree" filter is one indexed prefix match.
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    actor_node_path = models.CharField(max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=64)
    # Indexed with object_id below (every read names both).
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        # One index each (db_index=True on a CharField makes two on PostgreSQL, a plain
        # and a LIKE one): the node path is read by prefix (the LIKE operator class also
        # serves equality), the action by equality. Every write adds an event.
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(
                fields=["actor_node_path"],
                name="auditevent_node_path",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["action"], name="auditevent_action"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class WorkerHeartbeat(models.Model):
    """A running worker writes here every few seconds; a silent one is presumed dead
    and the tasks it had claimed are put back in the queue (see kehu.core.worker)."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["worker_id"]

    def __str__(self) -> str:
        return self.worker_id


class ScheduledJob(models.Model):
    """A periodic task the worker enqueues when due. Claimed with a conditional UPDATE
    on ``next_run_at`` so two workers never enqueue the same run."""

    name = models.CharField(max_length=100, unique=True)
    task_path = models.CharField(max_length=255)
    interval_seconds = models.PositiveIntegerField()
    next_run_at = models.DateTimeField(db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    is_enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval_seconds__gte=1), name="scheduledjob_interval_positive"
            )
        ]

    def __str__(self) -> str:
        return self.name


class TaskProbe(models.Model):
    """Written by the built-in ``kehu.core.tasks.probe`` task: lets operators (and the
    worker tests) check end to end that queued work runs exactly once."""

    key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
