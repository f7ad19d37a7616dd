"""``kehu worker``: queued tasks run exactly once, a killed worker loses nothing, and a
scheduled job is enqueued once however many workers look at it.

The process tests start the real ``kehu worker`` against the test database, so they use
``transactional_db`` (the child must see committed rows) and always kill their children
in a ``finally``.
"""

from __future__ import annotations

import datetime
import signal
import threading
import time
import uuid
from collections.abc import Callable

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from kehu.core.models import AuditEvent, ScheduledJob, TaskProbe, WorkerHeartbeat
from kehu.core.tasks import probe
from kehu.core.tests.procs import run_kehu, start_kehu, stop
from kehu.core.worker import KehuWorker, beat, enqueue_due_jobs, requeue_orphans
from kehu.org import services
from kehu.org.models import OrgNode

PROCESS = pytest.mark.django_db(transaction=True)
FAST_BEAT = {"KEHU_WORKER_HEARTBEAT_SECONDS": "1", "KEHU_WORKER_STALE_SECONDS": "3"}


def quiet_schedule() -> None:
    """Apps schedule their own jobs in migrations (the nightly pool rules); switch them
    off so that only what a test schedules can be due while it runs."""
    ScheduledJob.objects.update(is_enabled=False)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def status(result_id: str) -> str:
    return DBTaskResult.objects.values_list("status", flat=True).get(pk=result_id)


def in_process_worker(worker_id: str = "in-process") -> KehuWorker:
    return KehuWorker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


@task()
def rename_node(node_id: int, name: str) -> str:
    """A task that writes through a service, to see how the worker audits it."""
    node = OrgNode.objects.get(pk=node_id)
    services.update_node(actor=None, node=node, name=name)
    return node.name


# --- in process ---------------------------------------------------------------------------


def test_probe_is_idempotent(db):
    assert probe.call("k") == "done"
    assert probe.call("k") == "already-done"
    assert list(TaskProbe.objects.values_list("key", flat=True)) == ["k"]


def test_tasks_run_by_the_worker_are_audited_as_task(cast):
    result = rename_node.enqueue(cast.team.pk, "一组（新）")
    db_result = DBTaskResult.objects.get(pk=result.id)
    db_result.claim("in-process")
    in_process_worker().run_task(db_result)
    db_result.refresh_from_db()
    assert (db_result.status, db_result.return_value) == ("SUCCESSFUL", "一组（新）")
    [event] = AuditEvent.objects.filter(source="task")
    assert event.action == "org.node.update"
    assert (event.source, event.request_id, event.actor_id, event.actor_label) == (
        "task",
        str(db_result.pk),
        None,
        "task",
    )


def test_requeue_orphans_puts_back_only_tasks_of_silent_workers(db):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="alive", seen_at=now)
    WorkerHeartbeat.objects.create(worker_id="silent", seen_at=now - datetime.timedelta(seconds=60))
    ids = {}
    for owner in ("alive", "silent", "gone"):
        result = probe.enqueue(owner)
        DBTaskResult.objects.get(pk=result.id).claim(owner)
        ids[owner] = result.id
    done = probe.enqueue("done")
    DBTaskResult.objects.filter(pk=done.id).update(status="SUCCESSFUL")
    assert requeue_orphans(stale_after=30) == 2
    assert {owner: status(pk) for owner, pk in ids.items()} == {
        "alive": "RUNNING",
        "silent": "READY",
        "gone": "READY",
    }
    assert status(done.id) == "SUCCESSFUL"
    assert DBTaskResult.objects.get(pk=ids["silent"]).started_at is None
    assert requeue_orphans(stale_after=30) == 0


def test_a_restarting_worker_requeues_what_its_previous_life_left_running(db):
    beat("fixed-id")
    result = probe.enqueue("left")
    DBTaskResult.objects.get(pk=result.id).claim("fixed-id")
    assert requeue_orphans(stale_after=30) == 0  # the id beats: looks alive
    assert requeue_orphans(stale_after=30, restarted="fixed-id") == 1
    assert status(result.id) == "READY"


def test_requeue_orphans_forgets_workers_silent_for_an_hour(db):
    WorkerHeartbeat.objects.create(
        worker_id="old", seen_at=timezone.now() - datetime.timedelta(hours=2)
    )
    beat("new")
    requeue_orphans(stale_after=30)
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["new"]


def test_a_due_job_is_enqueued_and_rescheduled(db):
    quiet_schedule()
    now = timezone.now()
    job = ScheduledJob.objects.create(
        name="probe",
        task_path="kehu.core.tasks.probe",
        interval_seconds=60,
        next_run_at=now - datetime.timedelta(seconds=5),
    )
    ScheduledJob.objects.create(
        name="later",
        task_path="kehu.core.tasks.probe",
        interval_seconds=60,
        next_run_at=now + datetime.timedelta(seconds=30),
    )
    ScheduledJob.objects.create(
        name="off",
        task_path="kehu.core.tasks.probe",
        interval_seconds=60,
        next_run_at=now - datetime.timedelta(seconds=5),
        is_enabled=False,
    )
    assert enqueue_due_jobs(now) == ["probe"]
    assert enqueue_due_jobs(now) == []
    job.refresh_from_db()
    assert (job.next_run_at, job.last_run_at) == (now + datetime.timedelta(seconds=55), now)
    assert DBTaskResult.objects.filter(task_path="kehu.core.tasks.probe").count() == 1


def test_a_long_overdue_job_runs_once_not_once_per_missed_interval(db):
    quiet_schedule()
    now = timezone.now()
    job = ScheduledJob.objects.create(
        name="probe",
        task_path="kehu.core.tasks.probe",
        interval_seconds=60,
        next_run_at=now - datetime.timedelta(days=1),
    )
    assert enqueue_due_jobs(now) == ["probe"]
    assert enqueue_due_jobs(now) == []
    job.refresh_from_db()
    assert job.next_run_at == now + datetime.timedelta(seconds=1)


def test_a_broken_job_does_not_hold_up_the_others(db, caplog):
    quiet_schedule()
    now = timezone.now()
    due = now - datetime.timedelta(seconds=5)
    ScheduledJob.objects.create(
        name="a-broken", task_path="kehu.nowhere.task", interval_seconds=60, next_run_at=due
    )
    ScheduledJob.objects.create(
        name="b-good",
        task_path="kehu.core.tasks.scheduled_probe",
        interval_seconds=60,
        next_run_at=due,
    )
    assert enqueue_due_jobs(now) == ["b-good"]
    assert ScheduledJob.objects.get(name="a-broken").next_run_at == due  # still due
    assert "Could not enqueue scheduled job a-broken (kehu.nowhere.task)" in caplog.text
    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "kehu.core.tasks.scheduled_probe"
    ]


@PROCESS
def test_two_concurrent_schedulers_enqueue_a_due_job_once():
    quiet_schedule()
    due = timezone.now() - datetime.timedelta(seconds=1)
    ScheduledJob.objects.create(
        name="probe", task_path="kehu.core.tasks.probe", interval_seconds=3600, next_run_at=due
    )
    start = threading.Barrier(4)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            start.wait(timeout=10)
            results.append(enqueue_due_jobs())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [[], [], [], ["probe"]]
    assert DBTaskResult.objects.filter(task_path="kehu.core.tasks.probe").count() == 1
    assert ScheduledJob.objects.get(name="probe").next_run_at > timezone.now() + datetime.timedelta(
        minutes=59
    )


# --- real worker processes ----------------------------------------------------------------


@PROCESS
def test_batch_worker_runs_each_task_exactly_once():
    quiet_schedule()
    keys = [f"batch-{i}" for i in range(5)]
    results = [probe.enqueue(key) for key in keys]
    done = run_kehu("worker", "--batch", "--interval", "0", **FAST_BEAT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(TaskProbe.objects.values_list("key", flat=True)) == keys
    for result in results:
        row = DBTaskResult.objects.get(pk=result.id)
        assert (row.status, row.return_value, len(row.worker_ids)) == ("SUCCESSFUL", "done", 1)
    # A second batch finds nothing to do and changes nothing.
    again = run_kehu("worker", "--batch", "--interval", "0", **FAST_BEAT)
    assert again.returncode == 0, again.stdout + again.stderr
    assert TaskProbe.objects.count() == 5
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 5
    # A worker that stopped by itself leaves no heartbeat behind.
    assert WorkerHeartbeat.objects.count() == 0


@PROCESS
def test_a_worker_restarted_under_the_same_id_finishes_its_previous_task():
    quiet_schedule()
    beat("host-1")
    result = probe.enqueue("restarted")
    DBTaskResult.objects.get(pk=result.id).claim("host-1")
    done = run_kehu("worker", "--batch", "--interval", "0", "--worker-id", "host-1", **FAST_BEAT)
    assert done.returncode == 0, done.stdout + done.stderr
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, row.worker_ids) == ("SUCCESSFUL", ["host-1", "host-1"])
    assert TaskProbe.objects.filter(key="restarted").count() == 1


@PROCESS
def test_batch_worker_enqueues_and_runs_a_due_scheduled_job():
    quiet_schedule()
    ScheduledJob.objects.create(
        name="nightly",
        task_path="kehu.core.tasks.scheduled_probe",
        interval_seconds=86400,
        next_run_at=timezone.now(),
    )
    done = run_kehu("worker", "--batch", "--interval", "0", **FAST_BEAT)
    assert done.returncode == 0, done.stdout + done.stderr
    [row] = DBTaskResult.objects.all()
    assert (row.task_path, row.status) == ("kehu.core.tasks.scheduled_probe", "SUCCESSFUL")
    assert TaskProbe.objects.count() == 1


@PROCESS
def test_a_worker_killed_mid_task_loses_nothing_and_does_nothing_twice():
    quiet_schedule()
    key = f"kill-{uuid.uuid4().hex}"
    first = second = None
    try:
        first = start_kehu("worker", "--interval", "0.2", "--worker-id", "first", **FAST_BEAT)
        result = probe.enqueue(key, sleep_seconds=5)
        wait_for(lambda: status(result.id) == "RUNNING", 30, "the first worker to start the task")
        assert DBTaskResult.objects.get(pk=result.id).worker_ids == ["first"]
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL
        close_old_connections()
        assert status(result.id) == "RUNNING"
        assert TaskProbe.objects.filter(key=key).count() == 0

        second = start_kehu("worker", "--interval", "0.2", "--worker-id", "second", **FAST_BEAT)
        wait_for(
            lambda: status(result.id) == "SUCCESSFUL", 30, "the second worker to finish the task"
        )
        row = DBTaskResult.objects.get(pk=result.id)
        assert (row.worker_ids, row.return_value) == (["first", "second"], "done")
        assert TaskProbe.objects.filter(key=key).count() == 1
        assert second.poll() is None  # still serving
    finally:
        for process in (first, second):
            if process is not None:
                stop(process)


@PROCESS
def test_a_stopped_worker_finishes_its_task_and_removes_its_heartbeat():
    quiet_schedule()
    worker = None
    try:
        worker = start_kehu("worker", "--interval", "0.2", "--worker-id", "polite", **FAST_BEAT)
        result = probe.enqueue("polite", sleep_seconds=1)
        wait_for(lambda: status(result.id) == "RUNNING", 30, "the worker to start the task")
        assert WorkerHeartbeat.objects.filter(worker_id="polite").exists()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        assert status(result.id) == "SUCCESSFUL"
        assert WorkerHeartbeat.objects.filter(worker_id="polite").count() == 0
    finally:
        if worker is not None:
            stop(worker)
