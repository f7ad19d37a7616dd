from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string

from kehu.core.worker import KehuWorker


class Command(BaseCommand):
    help = "Run queued and scheduled background tasks (kehu worker)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--queue-name", default="*", help="Comma-separated queues, or * for all (default)."
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds to wait when the queue is empty."
        )
        parser.add_argument(
            "--batch", action="store_true", help="Run everything that is due, then exit."
        )
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--worker-id", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = options["worker_id"] or f"kehu-{get_random_string(12)}"
        queues = [q.strip() for q in options["queue_name"].split(",") if q.strip()]
        self.stdout.write(f"kehu worker {worker_id} on queues {','.join(queues)}")
        worker = KehuWorker(
            queue_names=queues,
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=False,
            max_tasks=options["max_tasks"],
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()
