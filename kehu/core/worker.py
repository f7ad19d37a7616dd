"""``kehu worker``: runs queued and scheduled tasks from the database.

Built on django-tasks' database worker, with two additions a sales team relies on:

* **Nothing is lost when a worker dies.** Each worker writes a heartbeat every few
  seconds from a side thread. A task claimed (RUNNING) by a worker whose heartbeat has
  gone silent is put back to READY and run again by whoever is alive. Tasks are therefore
  written to be idempotent (STYLE rule 12).
* **Periodic jobs** come from the ``ScheduledJob`` table: a due job is claimed with a
  conditional UPDATE on its ``next_run_at`` (so two workers never enqueue the same run)
  and enqueued as an ordinary task.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import threading
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from kehu.core.context import acting
from kehu.core.models import ScheduledJob, WorkerHeartbeat

logger = logging.getLogger("kehu.worker")


def beat(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "seen_at": timezone.now(),
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
        },
    )


def requeue_orphans(stale_after: int | None = None, restarted: str = "") -> int:
    """Put back to READY every RUNNING task whose worker has stopped beating.

    ``restarted`` is the id of a worker that is starting: whatever is still RUNNING under
    that id was left by its previous life (operators often give a worker a fixed id), so
    it is an orphan even though the id is beating again.
    """
    stale_after = stale_after or settings.KEHU_WORKER_STALE_SECONDS
    cutoff = timezone.now() - datetime.timedelta(seconds=stale_after)
    alive = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).values_list("worker_id", flat=True)
    )
    alive.discard(restarted)
    requeued = 0
    for result in DBTaskResult.objects.filter(status="RUNNING").only("id", "worker_ids"):
        owner = result.worker_ids[-1] if result.worker_ids else ""
        if owner in alive:
            continue
        # Conditional: only if it is still RUNNING under the same dead worker.
        changed = DBTaskResult.objects.filter(
            pk=result.pk, status="RUNNING", worker_ids=result.worker_ids
        ).update(status="READY", started_at=None)
        if changed:
            logger.warning("Requeued task %s left running by dead worker %s", result.pk, owner)
            requeued += changed
    WorkerHeartbeat.objects.filter(seen_at__lt=cutoff - datetime.timedelta(hours=1)).delete()
    return requeued


def enqueue_due_jobs(now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every due ScheduledJob exactly once across all workers."""
    now = now or timezone.now()
    enqueued = []
    for job in ScheduledJob.objects.filter(is_enabled=True, next_run_at__lte=now):
        next_run = max(
            job.next_run_at + datetime.timedelta(seconds=job.interval_seconds),
            now + datetime.timedelta(seconds=1),
        )
        try:
            with transaction.atomic():
                claimed = ScheduledJob.objects.filter(
                    pk=job.pk, next_run_at=job.next_run_at
                ).update(next_run_at=next_run, last_run_at=now)
                if not claimed:
                    continue
                task = import_string(job.task_path)
                task.enqueue()
        except Exception:
            # A broken job (a task path that no longer imports) must not hold up the
            # others; it stays due, so the log says so until someone fixes it.
            logger.exception("Could not enqueue scheduled job %s (%s)", job.name, job.task_path)
            continue
        enqueued.append(job.name)
    return enqueued


class KehuWorker(Worker):
    """The django-tasks worker plus heartbeat, orphan recovery and the schedule."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stop_beating = threading.Event()

    def _heartbeat_loop(self) -> None:
        """Side thread, own connection: beat, recover orphans, enqueue due jobs. Runs
        while the main thread is busy with a long task, too."""
        interval = settings.KEHU_WORKER_HEARTBEAT_SECONDS
        while not self._stop_beating.wait(interval):
            try:
                with acting("task"):
                    beat(self.worker_id)
                    requeue_orphans()
                    enqueue_due_jobs()
            except Exception:  # the database may blink; the next round retries
                logger.exception("worker housekeeping failed")
            finally:
                connection.close()

    def run(self) -> None:
        requeue_orphans(restarted=self.worker_id)
        beat(self.worker_id)
        enqueue_due_jobs()
        close_old_connections()
        thread = threading.Thread(target=self._heartbeat_loop, daemon=True)
        thread.start()
        try:
            with acting("task"):
                super().run()
        finally:
            self._stop_beating.set()
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        with acting("task", request_id=str(db_task_result.pk)):
            super().run_task(db_task_result)
