"""`chatconform compare`: runs side by side, read from small results.json files."""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from chatconform import compare
from chatconform.compare import (
    RunError,
    comparison,
    load_run,
    percentile,
    render_comparison,
    report_href,
)
from chatconform.html_page import case_anchor
from chatconform.verdict import capability_status

HOSTILE = '<script>alert(1)</script>" onerror="alert(2)" javascript:alert(3)'


def exchange(
    status: int = 200,
    elapsed: float = 0.5,
    first_byte: float | None = 0.1,
    *,
    streamed: bool = False,
    first_token: float | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "status": status,
        "elapsed_s": elapsed,
        "first_byte_s": first_byte,
        "streamed": streamed,
    }
    if first_token is not None:
        entry["first_token_s"] = first_token
    return entry


def case(
    case_id: str,
    verdict: str = "pass",
    rules: tuple[str, ...] = (),
    exchanges: tuple[dict[str, Any], ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    dialect, capability, _ = case_id.split("/", 2)
    findings = [{"rule": r, "severity": "must", "title": f"title of {r}"} for r in rules]
    entry = {
        "id": case_id,
        "dialect": dialect,
        "capability": capability,
        "title": f"title of {case_id}",
        "verdict": verdict,
        "reason": "",
        "findings": findings,
        "usage": {"requests": 1, "prompt_tokens": 10, "completion_tokens": 2},
        "duration_s": 0.5,
        "exchanges": list(exchanges),
    }
    return {**entry, **extra}


def results(
    provider: str, cases: list[dict[str, Any]], started_at: str = "2026-12-01T03:00:00Z", **top: Any
) -> dict[str, Any]:
    verdicts: dict[str, list[str]] = defaultdict(list)
    for entry in cases:
        verdicts[f"{entry['dialect']}/{entry['capability']}"].append(entry["verdict"])
    document = {
        "schema_version": 2,
        "provider": {"name": provider, "dialects": {}, "prices": {}},
        "started_at": started_at,
        "duration_s": 12.5,
        "complete": True,
        "usage": {"requests": 7, "prompt_tokens": 100, "completion_tokens": 20},
        "summary": {
            "capabilities": {k: status(v) for k, v in verdicts.items()},
            "capability_counts": {k: {x: v.count(x) for x in set(v)} for k, v in verdicts.items()},
            "unsupported_features": {},
        },
        "cases": cases,
    }
    return {**document, **top}


def status(verdicts: list[str]) -> str:
    try:
        return capability_status(verdicts)
    except ValueError:  # a verdict no chatconform writes: kept as the status
        return verdicts[0]


def write_run(
    root: Path, name: str, document: dict[str, Any] | str, *, report: bool = True
) -> Path:
    run_dir = root / name
    run_dir.mkdir(parents=True)
    text = document if isinstance(document, str) else json.dumps(document)
    (run_dir / "results.json").write_text(text, encoding="utf-8")
    if report:
        (run_dir / "report.html").write_text("<html></html>", encoding="utf-8")
    return run_dir


def two_runs(tmp_path: Path) -> list[compare.Run]:
    acme = results(
        "acme",
        [
            case("openai/text/basic", "pass"),
            case("openai/streaming/done", "fail", ("openai.stream.done-sentinel",)),
            case("anthropic/text/basic", "pass"),
        ],
    )
    bravo = results(
        "bravo",
        [
            case("openai/text/basic", "pass"),
            case("openai/streaming/done", "pass"),
            case("openai/streaming/usage", "non_strict", ("b.rule", "a.rule", "b.rule")),
        ],
    )
    return [
        load_run(write_run(tmp_path / "reports", "20261201T030000Z-acme", acme)),
        load_run(write_run(tmp_path / "reports", "20261201T040000Z-bravo", bravo)),
    ]


def cell(data: dict[str, Any], case_id: str, label: str) -> dict[str, Any] | None:
    for group in data["groups"]:
        for row in group["cases"]:
            if row["id"] == case_id:
                return row["cells"].get(label)
    raise AssertionError(f"no row {case_id}")


def row(data: dict[str, Any], case_id: str) -> dict[str, Any]:
    return next(r for g in data["groups"] for r in g["cases"] if r["id"] == case_id)


# -- loading ---------------------------------------------------------------------------------


def test_load_run_reads_a_run_directory_or_its_results_file(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path, "20261201T030000Z-acme", results("acme", [case("openai/text/a")]))
    for path in (run_dir, run_dir / "results.json"):
        run = load_run(path)
        assert run.provider == "acme" and run.path == run_dir
        assert run.report == run_dir / "report.html"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file or directory"),
        ("", "no results.json"),
        ('{"schema_version": 2, "cases": [', "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"schema_version": 1, "provider": {"name": "x"}, "cases": []}', "schema_version 1"),
        ('{"schema_version": 2, "cases": []}', "no provider.name"),
        ('{"schema_version": 2, "provider": {"name": "x"}, "cases": [{"id": 3}]}', "case 0"),
        (
            '{"schema_version": 2, "provider": {"name": "x"}, "cases": [{"id": "a/b/c", '
            '"dialect": "a", "capability": "b", "verdict": "pass", "findings": [{}]}]}',
            "findings without a rule",
        ),
    ],
)
def test_load_run_refuses_missing_or_invalid_runs_in_one_line(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "run"
    if content is not None:
        path.mkdir()
        if content:
            (path / "results.json").write_text(content, encoding="utf-8")
    with pytest.raises(RunError, match=re.escape(message)) as caught:
        load_run(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


# -- the comparison as data ------------------------------------------------------------------


def test_rows_are_the_union_of_cases_grouped_by_dialect_and_capability_sorted(
    tmp_path: Path,
) -> None:
    data = comparison(two_runs(tmp_path))
    assert [(g["dialect"], g["capability"]) for g in data["groups"]] == [
        ("anthropic", "text"),
        ("openai", "streaming"),
        ("openai", "text"),
    ]
    streaming = data["groups"][1]["cases"]
    assert [c["id"] for c in streaming] == ["openai/streaming/done", "openai/streaming/usage"]
    assert data["cases"] == {"total": 4, "differing": 3}


def test_a_cell_holds_the_verdict_and_the_rules_that_fired_or_is_absent(tmp_path: Path) -> None:
    data = comparison(two_runs(tmp_path))
    assert cell(data, "openai/streaming/done", "acme") == {
        "verdict": "fail",
        "rules": ["openai.stream.done-sentinel"],
        "reason": "",
    }
    assert cell(data, "openai/streaming/usage", "bravo")["rules"] == ["a.rule", "b.rule"]
    assert cell(data, "openai/streaming/usage", "acme") is None  # not run
    assert cell(data, "anthropic/text/basic", "bravo") is None


def test_rows_differ_when_a_verdict_a_rule_or_the_case_itself_differs(tmp_path: Path) -> None:
    data = comparison(two_runs(tmp_path))
    assert not row(data, "openai/text/basic")["differs"]
    assert row(data, "openai/streaming/done")["differs"]  # fail vs pass
    assert row(data, "openai/streaming/usage")["differs"]  # not run by acme
    same_verdict = [
        results("a", [case("openai/text/x", "fail", ("r.one",))]),
        results("b", [case("openai/text/x", "fail", ("r.two",))]),
    ]
    runs = [load_run(write_run(tmp_path, n, d)) for n, d in zip("ab", same_verdict, strict=True)]
    assert row(comparison(runs), "openai/text/x")["differs"]  # other rules


def test_capability_totals_and_the_headline_rank_the_vendors(tmp_path: Path) -> None:
    data = comparison(two_runs(tmp_path))
    streaming = next(c for c in data["capabilities"] if c["capability"] == "openai/streaming")
    assert streaming["vendors"]["acme"] == {
        "status": "fail",
        "counts": {"fail": 1},
        "unsupported_features": [],
    }
    assert streaming["vendors"]["bravo"]["status"] == "non_strict"
    anthropic = next(c for c in data["capabilities"] if c["capability"] == "anthropic/text")
    assert set(anthropic["vendors"]) == {"acme"} and anthropic["differs"]
    # acme passes anthropic/text and openai/text; bravo passes openai/text only.
    assert data["ranking"] == {
        "measured_capabilities": 3,
        "order": ["acme", "bravo"],
        "leaders": ["acme"],
    }
    assert data["headline"] == "Most conforming: acme (2 of 3 capabilities pass)"


def test_a_tie_is_called_a_tie(tmp_path: Path) -> None:
    runs = [
        load_run(write_run(tmp_path, name, results(name, [case("openai/text/x")])))
        for name in ("a", "b")
    ]
    assert comparison(runs)["headline"].startswith("No vendor conforms more than another")


def test_two_runs_of_one_provider_get_distinct_labels(tmp_path: Path) -> None:
    stamps = ["2026-12-01T03:00:00Z", "2026-12-02T03:00:00Z", "2026-12-02T04:00:00Z"]
    runs = [
        load_run(write_run(tmp_path, f"r{n}", results("acme", [case("openai/text/x")], stamp)))
        for n, stamp in enumerate(stamps)
    ]
    runs.append(runs[-1])
    assert compare.vendor_labels(runs) == [
        "acme 2026-12-01",
        "acme 2026-12-02 03:00:00",
        "acme 2026-12-02 04:00:00",
        "acme 2026-12-02 04:00:00 #2",
    ]
    labels = [v["label"] for v in comparison(runs)["vendors"]]
    assert len(set(labels)) == 4


# -- metrics ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        (range(1, 21), 50, 10),
        (range(1, 21), 95, 19),
        (range(1, 21), 100, 20),
        ([3, 1, 2], 50, 2),
        ([3, 1, 2], 95, 3),
        ([7], 95, 7),
        ([], 50, None),
    ],
)
def test_percentiles_are_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected


def test_metrics_come_from_the_usage_and_the_2xx_exchanges(tmp_path: Path) -> None:
    cases = [
        case(
            "openai/streaming/a",
            exchanges=(
                exchange(elapsed=1.0, first_byte=0.2, streamed=True, first_token=0.3),
                exchange(elapsed=2.0, first_byte=0.4, streamed=True),  # no first_token_s
                exchange(status=429, elapsed=0.01, first_byte=0.01, streamed=True),
            ),
        ),
        case("openai/text/b", exchanges=(exchange(elapsed=3.0, first_byte=0.9),)),
        # An older file: no `streamed`, the content type tells.
        case(
            "openai/streaming/c",
            exchanges=(
                {
                    "status": 200,
                    "elapsed_s": 4.0,
                    "first_byte_s": 0.5,
                    "content_type": "text/event-stream",
                },
                {"status": 200, "elapsed_s": "slow", "first_byte_s": None},
            ),
        ),
    ]
    run = load_run(write_run(tmp_path, "r", results("acme", cases)))
    metrics = compare.run_metrics(run)
    assert metrics["tokens"] == {"prompt": 100, "completion": 20, "total": 120}
    assert metrics["requests"] == 7 and metrics["wall_time_s"] == 12.5
    assert metrics["first_token_s"] == {"p50": 0.4, "p95": 0.5, "samples": 3}
    assert metrics["latency_s"] == {"p50": 2.0, "p95": 4.0, "samples": 4}
    assert metrics["cost"] is None


def test_tokens_add_up_from_the_cases_when_the_run_has_no_usage(tmp_path: Path) -> None:
    document = results("acme", [case("openai/text/a"), case("openai/text/b")])
    del document["usage"]
    metrics = compare.run_metrics(load_run(write_run(tmp_path, "r", document)))
    assert metrics["tokens"] == {"prompt": 20, "completion": 4, "total": 24}
    assert metrics["requests"] == 2


@pytest.mark.parametrize(
    ("prices", "total"),
    [
        ({"input": 2.5, "output": 10.0}, (100 * 2.5 + 20 * 10.0) / 1_000_000),
        ({"input": 2.5}, None),
        ({}, None),
        ({"input": "cheap", "output": 1}, None),
    ],
)
def test_the_cost_is_estimated_from_the_prices_per_million_tokens(
    tmp_path: Path, prices: dict[str, Any], total: float | None
) -> None:
    document = results("acme", [case("openai/text/a")])
    document["provider"]["prices"] = prices
    cost = compare.run_metrics(load_run(write_run(tmp_path, "r", document)))["cost"]
    assert (cost and cost["total"]) == (total and pytest.approx(total))


# -- the page --------------------------------------------------------------------------------


def hrefs(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]*)"', html)


def test_cells_link_to_the_case_in_each_vendors_report(tmp_path: Path) -> None:
    runs = two_runs(tmp_path)
    output = tmp_path / "out" / "deeper" / "comparison.html"
    output.parent.mkdir(parents=True)
    html = render_comparison(runs, output)
    anchor = case_anchor("openai/streaming/done")
    targets = [h for h in hrefs(html) if h.endswith("#" + anchor)]
    assert len(targets) == 2
    resolved = {(output.parent / unquote(h.partition("#")[0])).resolve() for h in targets}
    assert resolved == {run.path.resolve() / "report.html" for run in runs}
    assert all(not h.startswith(("/", "file:")) for h in targets)


def test_links_survive_odd_directory_names(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path, "20261201T030000Z-a#b?c d%e", results("x", [case("a/b/c")]))
    href = report_href(run_dir / "report.html", tmp_path / "pages")
    assert "#" not in href and "?" not in href and " " not in href
    assert (tmp_path / "pages" / unquote(href)).resolve() == (run_dir / "report.html").resolve()


def test_a_run_without_report_html_gets_no_links(tmp_path: Path) -> None:
    runs = [
        load_run(write_run(tmp_path, n, results(n, [case("openai/text/x")]), report=False))
        for n in ("a", "b")
    ]
    html = render_comparison(runs, tmp_path / "c.html")
    assert not hrefs(html) and "no report.html" in html


def test_differing_rows_are_marked_and_can_be_shown_alone(tmp_path: Path) -> None:
    html = render_comparison(two_runs(tmp_path), tmp_path / "c.html")
    rows = re.findall(r'<tr class="(cc-differs|cc-same)"><td>(.*?)</td>', html)
    marked = {re.sub("<[^>]+>", "", text).strip("≠ ") for cls, text in rows if cls == "cc-differs"}
    assert {
        "done title of openai/streaming/done",
        "usage title of openai/streaming/usage",
    } <= marked
    assert any("basic" in text for cls, text in rows if cls == "cc-same")
    assert 'id="cc-only-differing"' in html
    assert "#cc-only-differing:checked~table tr.cc-same{display:none}" in html


def test_cells_are_coloured_by_verdict_and_not_run_is_said(tmp_path: Path) -> None:
    html = render_comparison(two_runs(tmp_path), tmp_path / "c.html")
    assert '<td class="cc-cell cc-fail">' in html
    assert '<td class="cc-cell cc-non_strict">' in html
    assert '<td class="cc-cell cc-notrun">not run</td>' in html
    assert "openai.stream.done-sentinel" in html


# What the page is made of: anything else got in from the results, unescaped.
SAFE_TAGS = {
    *("h1", "h2", "p", "ol", "li", "b"),
    *("table", "colgroup", "col", "thead", "tbody", "tr", "th", "td", "a", "small", "code"),
    *("span", "div", "input", "label", "br"),
}
SAFE_ATTRIBUTES = {"class", "id", "href", "title", "colspan", "span", "type", "for"}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes.update(name for name, _ in attrs)


def test_everything_from_the_results_is_escaped(tmp_path: Path) -> None:
    hostile = [
        case(
            f"openai/text/{HOSTILE}",
            verdict=HOSTILE,
            rules=(HOSTILE,),
            reason=HOSTILE,
            title=HOSTILE,
        ),
        case(f"openai/{HOSTILE}/x", "fail"),
        case("a/b/c", dialect=HOSTILE),
        # Passes enough to lead: the headline names this vendor.
        *(case(f"anthropic/{name}/x") for name in ("text", "models")),
    ]
    document = results(HOSTILE, hostile, started_at=HOSTILE)
    document["summary"]["unsupported_features"] = {"openai/text": [HOSTILE]}
    runs = [
        load_run(write_run(tmp_path, "javascript:alert(1)", document)),
        load_run(write_run(tmp_path, "plain", results("plain", [case("openai/text/x")]))),
    ]
    html = render_comparison(runs, tmp_path / "c.html")
    tags = Tags()
    tags.feed(html.partition("<body>")[2])  # what the page shell holds is not ours
    assert tags.names <= SAFE_TAGS, tags.names - SAFE_TAGS
    assert tags.attributes <= SAFE_ATTRIBUTES, tags.attributes - SAFE_ATTRIBUTES
    assert all(not h.lower().startswith("javascript:") for h in hrefs(html))
    assert "&lt;script&gt;" in html
    data = comparison(runs)
    assert data["vendors"][0]["provider"] == HOSTILE  # the JSON keeps the text as it was


# -- the command -----------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chatconform")
    compare.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["compare", *argv])


def test_the_command_writes_the_page_and_the_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = two_runs(tmp_path)
    output, data = tmp_path / "comparison.html", tmp_path / "comparison.json"
    args = parse([str(r.path) for r in runs] + ["-o", str(output), "--json", str(data)])
    assert args.func(args) == 0
    assert output.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert json.loads(data.read_text(encoding="utf-8"))["cases"]["differing"] == 3
    assert capsys.readouterr().out.startswith("Most conforming: acme")


@pytest.mark.parametrize("which", ["one run", "a missing run", "invalid json"])
def test_the_command_refuses_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    good = str(write_run(tmp_path, "good", results("acme", [case("openai/text/x")])))
    other = {
        "one run": [],
        "a missing run": [str(tmp_path / "nowhere")],
        "invalid json": [str(write_run(tmp_path, "bad", "{"))],
    }[which]
    args = parse([good, *other, "-o", str(tmp_path / "c.html")])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("chatconform: error: ") and err.count("\n") == 1
    assert not (tmp_path / "c.html").exists()
