"""``kehu incentives simulate FILE.json`` and ``kehu incentives run --month YYYY-MM``.

    kehu incentives simulate FILE.json   print the simulator's answer (JSON); "-" reads stdin
    kehu incentives run --month 2026-03 [--scheme default]
                                         run and store the month (as the worker does)

Bad input exits with status 1 and the problem on stderr; nothing is stored by simulate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from kehu.core.management.base import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Incentives: `simulate FILE.json` prints the statements and the pool for the facts "
        "in FILE (- for stdin), storing nothing; `run --month YYYY-MM` runs and stores a month."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        simulate = sub.add_parser(
            "simulate", help="Print the simulator's JSON answer for the body in FILE."
        )
        simulate.add_argument("file", help='A simulate body (JSON); "-" reads stdin.')
        simulate.add_argument(
            "--indent", type=int, default=2, help="JSON indentation (0: one line)."
        )
        run = sub.add_parser("run", help="Run and store the month's statements.")
        run.add_argument("--month", required=True, help="YYYY-MM")
        run.add_argument("--scheme", default="default", help="The scheme's code.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "simulate":
            self._simulate(options["file"], options["indent"])
        elif options["action"] == "run":
            self._run(options["month"], options["scheme"])
        else:  # pragma: no cover - argparse rejects it first
            raise CommandError("unknown action")

    def _read(self, name: str) -> Any:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read {name}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{name} is not UTF-8 text: {exc.reason}") from exc
        try:
            return json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{name} is not valid JSON: {exc}") from exc
        except RecursionError as exc:
            raise CommandError(f"{name} is not valid JSON: nested too deeply") from exc

    def _simulate(self, name: str, indent: int) -> None:
        from kehu.incentives.simulate import simulate

        result = simulate(self._read(name))
        self.stdout.write(
            json.dumps(result, ensure_ascii=False, indent=indent or None, sort_keys=False)
        )

    def _run(self, month: str, scheme: str) -> None:
        try:
            from kehu.incentives.services import run_month
        except ImportError as exc:  # pragma: no cover - the stored side is part of the app
            raise CommandError("the monthly run is not available") from exc
        run = run_month(actor=None, month=month, scheme=scheme)
        result = getattr(run, "result", None) or {}
        statements = result.get("statements", [])
        pool = result.get("pool", {})
        self.stdout.write(
            f"{month}: {len(statements)} statements, total {getattr(run, 'total', '')}, "
            f"pool closing {pool.get('closing', '')}"
        )
