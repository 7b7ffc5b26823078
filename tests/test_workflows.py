"""The nightly and procurement workflows end to end, on real runs against the reference:
a baseline that fails only on regressions, diff, compare, trend, and judging again offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from made_once import made_once

ONLY = "openai/text,openai/streaming,anthropic/streaming"
# Faster streams than the default: the nights are judged, not timed.
PACE = ("--pace", "0.01")
# Fires openai.stream.done-sentinel and anthropic.stream.block-index: known deviations.
KNOWN = ("--fault", "no-done-sentinel", "--fault", "anthropic-index-gap")
# Fires openai.usage.present on openai/text: the regression of the second night.
NEW = ("--fault", "usage-missing")


def chatconform(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess: a run nests a whole pytest session."""
    return subprocess.run(
        [sys.executable, "-m", "chatconform", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


# Re-judging redacts the key the run used, so it needs it (the reference's is public).
REFERENCE_KEY = {"CHATCONFORM_REFERENCE_KEY": "sk-reference"}


def results(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())


def verdicts(run_dir: Path) -> dict[str, tuple[str, list[str]]]:
    return {
        c["id"]: (c["verdict"], sorted(f["rule"] for f in c["findings"]))
        for c in results(run_dir)["cases"]
    }


def three_nights(work: Path) -> None:
    """Three nights against one vendor: known deviations; a new one; the known ones again.
    The second and third are judged against the first as the baseline."""
    reports = work / "reports"
    first = chatconform("run", "--only", ONLY, *PACE, "--reports", reports, *KNOWN, cwd=work)
    assert first.returncode == 1, first.stdout + first.stderr
    (night1,) = reports.iterdir()
    made = chatconform("baseline", night1, "-o", work / "accepted.json", cwd=work)
    assert made.returncode == 0, made.stdout + made.stderr
    nights = {"night1": night1.name}
    for night, faults in (("night2", KNOWN + NEW), ("night3", KNOWN)):
        before = set(reports.iterdir())
        done = chatconform(
            "run",
            "--only",
            ONLY,
            *PACE,
            "--reports",
            reports,
            *faults,
            "--baseline",
            work / "accepted.json",
            "--summary-md",
            work / f"{night}.md",
            cwd=work,
        )
        (made_dir,) = set(reports.iterdir()) - before
        nights[night] = made_dir.name
        nights[f"{night}.exit"] = done.returncode
        (work / f"{night}.out").write_text(done.stdout + done.stderr)
    (work / "nights.json").write_text(json.dumps(nights))


@pytest.fixture
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The three nights' run directories and exit codes, made once for the session."""
    work = made_once(tmp_path_factory, "nights", three_nights)
    made = json.loads((work / "nights.json").read_text())
    paths: dict[str, Any] = {"work": work, "reports": work / "reports"}
    for name, value in made.items():
        paths[name] = value if name.endswith(".exit") else work / "reports" / value
    return paths


def test_a_baseline_fails_the_night_only_for_its_regressions(nights: dict[str, Any]) -> None:
    work = nights["work"]
    assert nights["night2.exit"] == 1, (work / "night2.out").read_text()
    assert nights["night3.exit"] == 0, (work / "night3.out").read_text()
    out = (work / "night2.out").read_text()
    assert "openai.usage.present" in out
    summary = (work / "night2.md").read_text()
    assert "openai.usage.present" in summary
    # Known deviations are not regressions, in the summary either.
    regressions = summary.split("Fixed")[0] if "Fixed" in summary else summary
    assert "done-sentinel" not in regressions.split("Known")[0]


def test_diff_matches_cases_and_rules(nights: dict[str, Any]) -> None:
    work = nights["work"]
    done = chatconform("diff", nights["night1"], nights["night2"], "-o", work / "d.json", cwd=work)
    assert done.returncode == 1, done.stdout + done.stderr
    document = json.loads((work / "d.json").read_text())
    text = json.dumps(document)
    assert "openai.usage.present" in text
    same = chatconform("diff", nights["night1"], nights["night3"], cwd=work)
    assert same.returncode == 0, same.stdout + same.stderr


def test_compare_puts_vendors_side_by_side(nights: dict[str, Any]) -> None:
    work = nights["work"]
    done = chatconform(
        "compare",
        nights["night1"],
        nights["night2"],
        "-o",
        work / "comparison.html",
        "--json",
        work / "comparison.json",
        cwd=work,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((work / "comparison.json").read_text())
    assert len(data["vendors"]) == 2
    page = (work / "comparison.html").read_text()
    assert "report.html#case-" in page


def test_trend_lists_every_night(nights: dict[str, Any]) -> None:
    work = nights["work"]
    done = chatconform("trend", nights["reports"], "-o", work / "trend.html", cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "openai.usage.present" in done.stdout
    assert (work / "trend.html").is_file()


@pytest.mark.parametrize("night", ["night1", "night2"])
def test_rejudging_a_run_reproduces_its_verdicts(nights: dict[str, Any], night: str) -> None:
    """The reference that served the run is gone: a request sent now would fail, and the
    case would not keep its verdict. (The self-test re-judges a whole faithful run.)"""
    work = nights["work"]
    again = work / f"{night}-again"
    done = chatconform("rejudge", nights[night], "-o", again, cwd=work, env=REFERENCE_KEY)
    assert done.returncode == 1, done.stdout + done.stderr
    assert verdicts(again) == verdicts(nights[night])
    assert results(again)["rejudged"]["from"] == str(nights[night])
    assert results(again)["started_at"] == results(nights[night])["started_at"]
    assert (again / "report.html").is_file()


def test_rejudging_without_the_runs_key_is_refused(nights: dict[str, Any]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CHATCONFORM_REFERENCE_KEY"}
    done = subprocess.run(
        [sys.executable, "-m", "chatconform", "rejudge", str(nights["night1"])],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("chatconform: error: set CHATCONFORM_REFERENCE_KEY to the key")
    assert done.stderr.count("\n") == 1


def test_rejudging_onto_another_run_is_refused(nights: dict[str, Any]) -> None:
    work = nights["work"]
    done = chatconform(
        "rejudge", nights["night1"], "-o", nights["night3"], cwd=work, env=REFERENCE_KEY
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"chatconform: error: {nights['night3']} holds a run of its own: give -o a new directory\n"
    )


def test_rejudging_without_an_archive_is_one_line(tmp_path: Path) -> None:
    done = chatconform("rejudge", tmp_path, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("chatconform: error: no wire archive at ")
    assert done.stderr.count("\n") == 1
