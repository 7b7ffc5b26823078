"""`chatconform trend`: a provider's runs over time, read from small run directories."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from chatconform import trend as trend_module
from chatconform.compare import RunError
from chatconform.html_page import case_anchor
from chatconform.trend import format_trend_text, render_trend, trend

HOSTILE = '<script>alert(1)</script>" onerror="alert(2)" javascript:alert(3)'
DAY = "2026-12-01T00:00:00Z"
DONE = "openai.stream.done-sentinel"
USAGE = "openai.usage.present"


def finding(rule: str) -> dict[str, Any]:
    return {"rule": rule, "severity": "must", "title": f"title of {rule}"}


def case(case_id: str, *rules: str) -> dict[str, Any]:
    dialect, capability, _ = case_id.split("/", 2)
    return {
        "id": case_id,
        "dialect": dialect,
        "capability": capability,
        "verdict": "fail" if rules else "pass",
        "findings": [finding(r) for r in rules],
    }


def write_run(
    reports: Path,
    name: str,
    provider: str,
    started_at: str | None,
    capabilities: dict[str, str],
    cases: list[dict[str, Any]],
    *,
    report: bool = True,
) -> Path:
    run_dir = reports / name
    run_dir.mkdir(parents=True)
    document = {
        "schema_version": 2,
        "provider": {"name": provider},
        "complete": True,
        "summary": {"capabilities": capabilities},
        "cases": cases,
    }
    if started_at is not None:
        document["started_at"] = started_at
    (run_dir / "results.json").write_text(json.dumps(document), encoding="utf-8")
    if report:
        (run_dir / "report.html").write_text("<html></html>", encoding="utf-8")
    return run_dir


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """Three dated runs of acme: usage missing in the second run only, [DONE] missing from
    the second on; the directories' names do not sort in time order."""
    reports = tmp_path / "reports"
    write_run(
        reports,
        "c-first",
        "acme",
        "2026-12-01T03:00:00Z",
        {"openai/text": "pass", "openai/streaming": "pass"},
        [case("openai/text/a"), case("openai/streaming/done")],
    )
    write_run(
        reports,
        "b-second",
        "acme",
        "2026-12-02T03:00:00Z",
        {"openai/text": "fail", "openai/streaming": "fail"},
        [case("openai/text/a", USAGE), case("openai/streaming/done", DONE, USAGE)],
    )
    write_run(
        reports,
        "a-third",
        "acme",
        "2026-12-03T03:00:00Z",
        {"openai/streaming": "fail", "anthropic/text": "non_strict"},
        [case("openai/streaming/done", DONE)],
    )
    return reports


def deviation(history: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(d for d in history["deviations"] if d["rule"] == rule)


def test_runs_are_ordered_by_start_and_statuses_lined_up(reports: Path) -> None:
    (history,) = trend(reports, None)["providers"]
    assert history["provider"] == "acme"
    assert [r["run"] for r in history["runs"]] == ["c-first", "b-second", "a-third"]
    assert history["capabilities"] == [
        {"capability": "anthropic/text", "statuses": [None, None, "non_strict"]},
        {"capability": "openai/streaming", "statuses": ["pass", "fail", "fail"]},
        {"capability": "openai/text", "statuses": ["pass", "fail", None]},
    ]


def test_a_deviation_is_dated_from_first_to_last_seen(reports: Path) -> None:
    (history,) = trend(reports, "acme")["providers"]
    gone = deviation(history, USAGE)
    assert gone["seen"] == [False, True, False]
    assert (gone["first_seen"], gone["last_seen"]) == ("2026-12-02T03:00:00Z",) * 2
    assert gone["runs"] == 1 and not gone["present"]
    assert gone["cases"] == ["openai/streaming/done", "openai/text/a"]
    persists = deviation(history, DONE)
    assert persists["seen"] == [False, True, True]
    assert persists["first_seen"] == "2026-12-02T03:00:00Z"
    assert persists["last_seen"] == "2026-12-03T03:00:00Z"
    assert persists["runs"] == 2 and persists["present"]
    assert persists["severity"] == "must" and persists["title"] == f"title of {DONE}"
    # Still present first.
    assert [d["rule"] for d in history["deviations"]] == [DONE, USAGE]


def test_providers_are_kept_apart_and_can_be_chosen(reports: Path) -> None:
    write_run(reports, "other", "bravo", "2026-12-02T00:00:00Z", {"openai/text": "pass"}, [])
    data = trend(reports, None)
    assert [h["provider"] for h in data["providers"]] == ["acme", "bravo"]
    assert len(data["providers"][0]["runs"]) == 3
    assert [h["provider"] for h in trend(reports, "bravo")["providers"]] == ["bravo"]
    with pytest.raises(RunError, match=r"no run of provider 'zulu'.*found acme, bravo"):
        trend(reports, "zulu")


def test_unreadable_runs_are_skipped_with_a_note(reports: Path) -> None:
    (reports / "20261204T030000Z-acme").mkdir()  # cut short: no results.json
    (reports / "bad").mkdir()
    (reports / "bad" / "results.json").write_text("{", encoding="utf-8")
    (reports / "notes").mkdir()  # not a run: ignored
    (reports / "trend.html").write_text("", encoding="utf-8")
    data = trend(reports, None)
    assert [s["run"] for s in data["skipped"]] == ["20261204T030000Z-acme", "bad"]
    assert "not valid JSON" in data["skipped"][1]["reason"]
    assert len(data["providers"][0]["runs"]) == 3
    assert "skipped bad: results.json: not valid JSON" in format_trend_text(data)


def test_the_directory_name_dates_a_run_without_started_at(tmp_path: Path) -> None:
    write_run(tmp_path, "20261205T010203Z-acme", "acme", None, {}, [])
    write_run(tmp_path, "undated", "acme", None, {}, [])
    data = trend(tmp_path, None)
    assert [r["started_at"] for r in data["providers"][0]["runs"]] == ["2026-12-05T01:02:03Z"]
    assert data["skipped"] == [{"run": "undated", "reason": "no valid started_at"}]


@pytest.mark.parametrize("layout", ["missing", "empty", "only broken", "a run itself"])
def test_no_runs_is_an_error(tmp_path: Path, layout: str) -> None:
    reports = tmp_path / "reports"
    if layout != "missing":
        reports.mkdir()
    if layout == "only broken":
        (reports / "x").mkdir()
        (reports / "x" / "results.json").write_text("[]", encoding="utf-8")
    if layout == "a run itself":
        (reports / "results.json").write_text("{}", encoding="utf-8")
    with pytest.raises(RunError) as caught:
        trend(reports, None)
    message = str(caught.value)
    assert "\n" not in message
    assert {
        "missing": "not a directory",
        "empty": "no runs under",
        "only broken": "1 skipped: x: results.json: not a chatconform results.json",
        "a run itself": "it is a run directory itself",
    }[layout] in message


def test_the_text_is_a_grid_then_the_deviations(reports: Path) -> None:
    text = format_trend_text(trend(reports, None))
    lines = text.splitlines()
    assert lines[0] == "acme: 3 runs"
    assert "1 2026-12-01 03:00" in lines[1] and "3 2026-12-03 03:00" in lines[1]
    grid = {line.split()[0]: line.split(maxsplit=1)[1] for line in lines[2:5]}
    assert grid == {"run": "1 2 3", "anthropic/text": "n", "openai/streaming": ". F F"}
    assert re.search(r"openai/text\s+\. F$", text, re.MULTILINE)
    done = next(line for line in lines if line.strip().startswith(DONE))
    assert ". x x  still present; first 2026-12-02 03:00, last 2026-12-03 03:00" in done
    assert "in 2 of 3 runs, 1 case" in done
    usage = next(line for line in lines if line.strip().startswith(USAGE))
    assert ". x .  gone; first 2026-12-02 03:00, last 2026-12-02 03:00" in usage


def test_the_text_escapes_control_characters(tmp_path: Path) -> None:
    write_run(tmp_path, "r", "evil\x1b[2J", "2026-12-01T00:00:00Z", {"a/b\x07": "pass"}, [])
    text = format_trend_text(trend(tmp_path, None))
    assert "\x1b" not in text and "\x07" not in text
    assert "evil\\x1b[2J" in text


def hrefs(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]*)"', html)


@pytest.mark.parametrize("where", ["default", "elsewhere"])
def test_run_headers_link_to_each_report_relatively(reports: Path, where: str) -> None:
    output = None if where == "default" else reports.parent / "site" / "t.html"
    html = render_trend(trend(reports, None), output)
    page_dir = reports if output is None else output.parent
    # Each table of the page has the runs' headers: the same links twice.
    linked = list(dict.fromkeys(h for h in hrefs(html) if h.endswith("report.html")))
    assert [(page_dir / unquote(h)).resolve() for h in linked] == [
        (reports / name / "report.html").resolve() for name in ("c-first", "b-second", "a-third")
    ]
    headers = re.findall(r'<th class="cc-run"[^>]*>.*?(2026-\d\d-\d\d)', html)
    assert headers[:3] == ["2026-12-01", "2026-12-02", "2026-12-03"]


def test_deviations_link_to_their_cases_in_the_last_run_that_showed_them(reports: Path) -> None:
    html = render_trend(trend(reports, None))
    target = f"b-second/report.html#{case_anchor('openai/text/a')}"
    assert f'href="{target}"' in html  # openai.usage.present, last seen in the second run


def test_status_cells_are_coloured(reports: Path) -> None:
    html = render_trend(trend(reports, None))
    assert '<td class="cc-mark cc-fail">fail</td>' in html
    assert '<td class="cc-mark cc-non_strict">non-strict</td>' in html
    assert '<td class="cc-absent"></td>' in html
    assert "1 deviation in the latest run" in html


def test_the_page_escapes_what_the_results_say(tmp_path: Path) -> None:
    hostile_case = case(f"openai/text/{HOSTILE}", HOSTILE)
    hostile_case["findings"][0]["severity"] = HOSTILE
    # Directory names come from the file system: as hostile as a name without "/" can be.
    name = HOSTILE.replace("/", "")
    cases = [hostile_case]
    write_run(tmp_path, "javascript:alert(1)", HOSTILE, DAY, {HOSTILE: HOSTILE}, cases)
    write_run(tmp_path, name, "second", DAY, {}, cases, report=False)
    (tmp_path / f"{name}-broken").mkdir()
    (tmp_path / f"{name}-broken" / "results.json").write_text(
        json.dumps({"schema_version": HOSTILE}), encoding="utf-8"
    )
    html = render_trend(trend(tmp_path, None))
    assert "<script" not in html and '" onerror="' not in html
    assert all(not h.lower().startswith("javascript:") for h in hrefs(html))
    assert "&lt;script&gt;" in html


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chatconform")
    trend_module.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["trend", *argv])


def test_the_command_prints_the_grid_and_writes_the_page(
    reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse([str(reports), "--provider", "acme"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("acme: 3 runs") and out.rstrip().endswith(f"wrote {reports}/trend.html")
    assert (reports / "trend.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_the_command_says_when_there_is_nothing_to_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse([str(tmp_path), "-o", str(tmp_path / "t.html")])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err == f"chatconform: error: no runs under {tmp_path}\n"
    assert not (tmp_path / "t.html").exists()
