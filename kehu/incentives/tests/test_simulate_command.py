"""``kehu incentives simulate FILE.json`` and ``kehu incentives run --month``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kehu.incentives.simulate import simulate
from kehu.incentives.tests.test_simulate_api import db_state

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "docs" / "examples" / "simulate.json"


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("incentives", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_simulate_prints_the_answer_and_stores_nothing():
    before = db_state()
    printed = run_command("simulate", str(EXAMPLE))
    assert json.loads(printed) == simulate(example())
    assert db_state() == before


@pytest.mark.django_db
def test_simulate_reads_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(EXAMPLE.read_text(encoding="utf-8")))
    printed = run_command("simulate", "-", "--indent", "0")
    assert "\n" not in printed.strip()
    assert json.loads(printed)["pool"]["closing"] == 4100


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"month": "2026-3", "staff": []}', "month: Enter the month to run as YYYY-MM."),
        (
            '{"scheme": "nope", "month": "2026-03", "staff": []}',
            'scheme: Unknown scheme "nope" for 2026-03',
        ),
        (
            json.dumps(
                {**example(), "customers": [{**example()["customers"][0], "developed_by": 99}]}
            ),
            "customers.0.developed_by: No staff member with id 99 in this body.",
        ),
    ],
)
def test_bad_input_is_an_error_naming_the_problem(tmp_path, content, message):
    path = tmp_path / "body.json"
    path.write_text(content, encoding="utf-8")
    before = db_state()
    with pytest.raises(CommandError) as caught:
        run_command("simulate", str(path))
    assert message in str(caught.value)
    assert db_state() == before


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run_command("simulate", str(tmp_path / "missing.json"))


def test_the_kehu_command_exits_non_zero_with_the_error_on_stderr(tmp_path):
    path = tmp_path / "body.json"
    path.write_text(json.dumps({**example(), "pool_opening": -1}), encoding="utf-8")
    kehu = Path(sys.executable).parent / "kehu"
    done = subprocess.run(  # noqa: S603 - our own entry point, fixed arguments
        [str(kehu), "incentives", "simulate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 1
    # The command speaks the installation's language (LANGUAGE_CODE, zh-hans by default).
    assert "pool_opening: 不能为负数。" in done.stderr
    assert done.stdout == ""


def test_run_calls_the_monthly_run_as_the_worker(monkeypatch):
    import kehu.incentives.services as services

    calls = []

    def run_month(*, actor: Any, month: str, scheme: str = "default") -> Any:
        calls.append((actor, month, scheme))
        return SimpleNamespace(
            total=-700, result={"statements": [{}, {}], "pool": {"closing": 300}}
        )

    monkeypatch.setattr(services, "run_month", run_month)
    assert (
        run_command("run", "--month", "2026-03")
        == "2026-03: 2 statements, total -700, pool closing 300\n"
    )
    assert calls == [(None, "2026-03", "default")]
