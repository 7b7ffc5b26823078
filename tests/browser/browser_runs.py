"""The run directories the page tests read: real `chatconform run`s against the embedded
reference, with the report.html each run wrote."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# The whole suite: "a clean run prints on at most 4 pages" is a claim about a whole run.
# Faster streams than the default pace keep it to seconds.
CLEAN_RUN = ("--pace", "0.01")
# A must failure in each dialect, a should deviation, and inconclusive cases (a fixed
# answer cannot pass the control probes).
FAILING_RUN = (
    "--pace",
    "0.01",
    "--only",
    "text,streaming",
    "--fault",
    "no-done-sentinel",
    "--fault",
    "fixed-answer",
    "--fault",
    "anthropic-message-stop-missing",
)
CLEAN_PROVIDER = "reference"
RUN_TIMEOUT_S = 300
_STAMP = "%Y%m%dT%H%M%SZ"
_STARTED = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Runs:
    """Two real runs in one reports directory, each with the report under test."""

    reports: Path
    clean: Path
    failing: Path

    def results(self, run_dir: Path) -> dict[str, Any]:
        return json.loads((run_dir / "results.json").read_text(encoding="utf-8"))


def make_runs(reports: Path) -> None:
    """The clean and the failing run, side by side (each mostly waits on paced streams)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        clean = pool.submit(_run, reports, CLEAN_RUN, 0)
        failing = pool.submit(_run, reports, FAILING_RUN, 1)
        clean.result(), failing.result()


def runs_in(reports: Path) -> Runs:
    """The two runs ``make_runs`` made in ``reports``."""
    run_dirs = {p.parent.name.partition("-")[2]: p.parent for p in reports.glob("*/results.json")}
    runs = Runs(
        reports=reports,
        clean=run_dirs.pop(CLEAN_PROVIDER),
        failing=next(iter(run_dirs.values())),
    )
    for run_dir in (runs.clean, runs.failing):
        if not (run_dir / "report.html").is_file():
            pytest.fail(f"chatconform run wrote no report.html in {run_dir}", pytrace=False)
    return runs


def _run(reports: Path, args: tuple[str, ...], expected_code: int) -> None:
    # A fresh directory as cwd: a developer's ./chatconform.toml must not be tested instead.
    process = subprocess.run(
        [sys.executable, "-m", "chatconform", "run", "--reports", str(reports), *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        cwd=reports,
    )
    if process.returncode != expected_code:
        pytest.fail(
            f"chatconform run {' '.join(args)} exited {process.returncode}, "
            f"expected {expected_code}\n{process.stdout}\n{process.stderr}",
            pytrace=False,
        )


def write_report_for(run_dir: Path, results: dict[str, Any]) -> Path:
    """A crafted run's report.html, as the report module writes it."""
    from chatconform.report import write_report

    written = write_report(run_dir, results)
    return written if isinstance(written, Path) else run_dir / "report.html"


def history(runs: Runs, into: Path) -> list[Path]:
    """A reports directory with the clean provider's history, oldest first: the failing
    run's results a day earlier under the clean provider's name, then the clean run;
    the failing run beside them as another provider. Returns the two history runs."""
    clean = runs.results(runs.clean)
    started = datetime.strptime(clean["started_at"], _STARTED).replace(tzinfo=UTC)
    earlier_start = started - timedelta(days=1)
    earlier = runs.results(runs.failing)
    earlier["provider"]["name"] = CLEAN_PROVIDER
    earlier["started_at"] = earlier_start.strftime(_STARTED)
    earlier_dir = into / f"{earlier_start.strftime(_STAMP)}-{CLEAN_PROVIDER}"
    earlier_dir.mkdir()
    (earlier_dir / "results.json").write_text(json.dumps(earlier, indent=2), encoding="utf-8")
    write_report_for(earlier_dir, earlier)
    copies = [into / runs.clean.name, into / runs.failing.name]
    shutil.copytree(runs.clean, copies[0])
    shutil.copytree(runs.failing, copies[1])
    return [earlier_dir, copies[0]]
