"""`chatconform compare`: several providers' runs side by side, for choosing between them.

A run is read from its results.json, which is untrusted: its shape is checked once here
(`load_run`), and every string from it is escaped where it is written into HTML.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chatconform.html_page import case_anchor, css_class, page
from chatconform.report_clients import CLIENTS_STYLE, vendors_html
from chatconform.results import RESULTS_FILE, status_label

REPORT_FILE = "report.html"
SCHEMA_VERSION = 2
EXIT_OK, EXIT_USAGE = 0, 2
# Capability statuses that say nothing about the provider: they do not count as measured.
UNMEASURED = frozenset({"not_measured", "skipped"})


class RunError(ValueError):
    """A run directory or results.json that cannot be read; its message is one line."""


@dataclass(frozen=True)
class Run:
    """One run's results, as `chatconform run` wrote them."""

    path: Path  # the run directory
    results: dict[str, Any]

    @property
    def provider(self) -> str:
        return self.results["provider"]["name"]

    @property
    def started_at(self) -> str:
        value = self.results.get("started_at")
        return value if isinstance(value, str) else ""

    @property
    def cases(self) -> list[dict[str, Any]]:
        return self.results["cases"]

    @property
    def complete(self) -> bool:
        return self.results.get("complete", True) is not False

    @property
    def report(self) -> Path | None:
        """The run's report.html, if it is there."""
        report = self.path / REPORT_FILE
        return report if report.is_file() else None

    def capabilities(self) -> dict[str, str]:
        """Status per ``dialect/capability``, as the run's scorecard gives it."""
        return _str_map(_dict(self.results.get("summary")).get("capabilities"))


def load_run(path: Path) -> Run:
    """The run in a run directory, or in a results.json file; a RunError if there is none."""
    file = path / RESULTS_FILE if path.is_dir() else path
    if not file.is_file():
        if not path.exists():
            raise RunError(f"{path}: no such file or directory")
        raise RunError(f"{path}: no {RESULTS_FILE} (not a chatconform run directory)")
    try:
        results = json.loads(file.read_bytes())
    except json.JSONDecodeError as exc:
        raise RunError(f"{file}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except (OSError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise RunError(f"{file}: cannot be read ({type(exc).__name__})") from None
    problem = _shape_problem(results)
    if problem:
        raise RunError(f"{file}: not a chatconform results.json ({problem})")
    return Run(path=file.parent, results=results)


def _shape_problem(results: Any) -> str:
    """What is wrong with the parts of a results.json this module reads, or ''."""
    if not isinstance(results, dict):
        return "not a JSON object"
    version = results.get("schema_version")
    if version != SCHEMA_VERSION:
        shown = json.dumps(version)[:20]
        return f"schema_version {shown}; this chatconform reads {SCHEMA_VERSION}"
    if not isinstance(_dict(results.get("provider")).get("name"), str):
        return "no provider.name"
    cases = results.get("cases")
    if not isinstance(cases, list):
        return "no cases list"
    for n, case in enumerate(cases):
        fields = ("id", "dialect", "capability", "verdict")
        if not isinstance(case, dict) or not all(isinstance(case.get(f), str) for f in fields):
            return f"case {n} lacks one of {', '.join(fields)}"
        findings = case.get("findings", [])
        if not isinstance(findings, list) or not all(
            isinstance(f, dict) and isinstance(f.get("rule"), str) for f in findings
        ):
            return f"case {n} has findings without a rule"
    return ""


# -- the comparison as data (the --json output) --------------------------------------------


def comparison(runs: list[Run]) -> dict[str, Any]:
    """The runs side by side: vendors and their metrics, capability totals, and every
    case's verdict and rules per vendor, grouped by dialect and capability."""
    labels = vendor_labels(runs)
    vendors = [_vendor(label, run) for label, run in zip(labels, runs, strict=True)]
    names = sorted({name for run in runs for name in run.capabilities()})
    capabilities = []
    for name in names:
        per_vendor = {
            label: _capability(run, name)
            for label, run in zip(labels, runs, strict=True)
            if name in run.capabilities()
        }
        # Vendors differ in a capability where its status does (its counts follow the cases).
        shown = {k: (v["status"], v["unsupported_features"]) for k, v in per_vendor.items()}
        capabilities.append(
            {"capability": name, "differs": _differs(shown, labels), "vendors": per_vendor}
        )
    groups: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for label, run in zip(labels, runs, strict=True):
        for case in run.cases:
            row = groups.setdefault((case["dialect"], case["capability"]), {}).setdefault(
                case["id"], {"id": case["id"], "title": "", "cells": {}}
            )
            row["title"] = row["title"] or _str(case.get("title"))
            row["cells"][label] = {
                "verdict": case["verdict"],
                "rules": sorted({f["rule"] for f in case.get("findings", [])}),
                "reason": _str(case.get("reason")),
            }
    rows = []
    for (dialect, capability), cases in sorted(groups.items()):
        for row in cases.values():
            row["differs"] = _differs(
                {k: (c["verdict"], c["rules"]) for k, c in row["cells"].items()}, labels
            )
        rows.append(
            {
                "dialect": dialect,
                "capability": capability,
                "cases": [cases[i] for i in sorted(cases)],
            }
        )
    total = sum(len(g["cases"]) for g in rows)
    differing = sum(c["differs"] for g in rows for c in g["cases"])
    ranking = _ranking(vendors, capabilities)
    return {
        "headline": _headline(ranking, vendors),
        "ranking": ranking,
        "vendors": vendors,
        "capabilities": capabilities,
        "cases": {"total": total, "differing": differing},
        "groups": rows,
        # Per vendor, its run's client matrix (None: the run has none).
        "clients": {label: _client_matrix(run) for label, run in zip(labels, runs, strict=True)},
    }


def _client_matrix(run: Run) -> dict[str, Any] | None:
    """A run's client matrix: per client, its version and outcome per capability."""
    clients = run.results.get("clients")
    if not isinstance(clients, dict):
        return None
    return {
        str(name): {
            "version": _str(entry.get("version")),
            "capabilities": _str_map(entry.get("capabilities")),
        }
        for name, entry in clients.items()
        if isinstance(entry, dict)
    }


def vendor_labels(runs: Sequence[Run]) -> list[str]:
    """A distinct column label per run: the provider's name, with the run's date (then
    time, then a number) where two runs share a name."""
    labels = [run.provider for run in runs]
    for widen in (
        lambda r: f"{r.provider} {r.started_at[:10]}",
        lambda r: f"{r.provider} {r.started_at[:10]} {r.started_at[11:19]}",
    ):
        counts = Counter(labels)
        labels = [widen(r) if counts[lab] > 1 else lab for lab, r in zip(labels, runs, strict=True)]
    seen: Counter[str] = Counter()
    distinct = []
    for label in labels:
        seen[label] += 1
        distinct.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return distinct


def _vendor(label: str, run: Run) -> dict[str, Any]:
    statuses = Counter(s for s in run.capabilities().values() if s not in UNMEASURED)
    return {
        "label": label,
        "provider": run.provider,
        "started_at": run.started_at,
        "date": run.started_at[:10],
        "run": str(run.path),
        "report": str(run.report) if run.report else None,
        "complete": run.complete,
        "case_count": len(run.cases),
        "capability_statuses": dict(statuses),
        "metrics": run_metrics(run),
    }


def run_metrics(run: Run) -> dict[str, Any]:
    """Tokens, requests, wall time, time to first token and latency (seconds, p50/p95
    over the 2xx answers), and the estimated cost where the run knows the prices."""
    usage = _dict(run.results.get("usage"))
    if not usage:  # an older writer: the cases' usage adds up to the run's
        usage = Counter()
        for case in run.cases:
            usage.update({k: _count(v) for k, v in _dict(case.get("usage")).items()})
    prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
    first_token, latency = [], []
    for case in run.cases:
        for exchange in _list(case.get("exchanges")):
            exchange = _dict(exchange)
            status = exchange.get("status")
            if not (isinstance(status, int) and 200 <= status < 300):
                continue
            elapsed = _number(exchange.get("elapsed_s"))
            if elapsed is not None:
                latency.append(elapsed)
            if _streamed(exchange):
                first = _number(exchange.get("first_token_s"))
                first = _number(exchange.get("first_byte_s")) if first is None else first
                if first is not None:
                    first_token.append(first)
    prices = _dict(_dict(run.results.get("provider")).get("prices"))
    price_in, price_out = _number(prices.get("input")), _number(prices.get("output"))
    cost = None
    if price_in is not None and price_out is not None:
        cost = {
            "input_per_million": price_in,
            "output_per_million": price_out,
            "total": (prompt * price_in + completion * price_out) / 1_000_000,
        }
    return {
        "tokens": {"prompt": prompt, "completion": completion, "total": prompt + completion},
        "requests": _count(usage.get("requests")),
        "wall_time_s": _number(run.results.get("duration_s")),
        "first_token_s": _percentiles(first_token),
        "latency_s": _percentiles(latency),
        "cost": cost,
    }


def _streamed(exchange: dict[str, Any]) -> bool:
    streamed = exchange.get("streamed")
    if isinstance(streamed, bool):
        return streamed
    # Files written before `streamed` was recorded: the content type tells.
    return _str(exchange.get("content_type")).startswith("text/event-stream")


def percentile(values: Iterable[float], q: float) -> float | None:
    """The nearest-rank percentile (an observed value: the smallest one that at least
    ``q`` percent of the values do not exceed); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _percentiles(values: list[float]) -> dict[str, Any]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "samples": len(values)}


def _capability(run: Run, name: str) -> dict[str, Any]:
    summary = _dict(run.results.get("summary"))
    return {
        "status": run.capabilities()[name],
        "counts": {
            k: _count(v)
            for k, v in _dict(_dict(summary.get("capability_counts")).get(name)).items()
        },
        "unsupported_features": [
            f
            for f in _list(_dict(summary.get("unsupported_features")).get(name))
            if isinstance(f, str)
        ],
    }


def _differs(cells: dict[str, Any], labels: list[str]) -> bool:
    """Whether the vendors disagree: different values, or some vendor lacks the row."""
    values = [cells.get(label) for label in labels]
    return any(v != values[0] for v in values)


def _ranking(vendors: list[dict[str, Any]], capabilities: list[dict[str, Any]]) -> dict[str, Any]:
    """The vendors best first: most capabilities passed, then most non-strict, then fewest
    failed; out of the capabilities that some vendor measured."""

    def key(vendor: dict[str, Any]) -> tuple[int, int, int]:
        statuses = vendor["capability_statuses"]
        failed = statuses.get("fail", 0) + statuses.get("error", 0)
        return (-statuses.get("pass", 0), -statuses.get("non_strict", 0), failed)

    ranked = sorted(vendors, key=key)
    measured = sum(
        any(v["status"] not in UNMEASURED for v in c["vendors"].values()) for c in capabilities
    )
    return {
        "measured_capabilities": measured,
        "order": [v["label"] for v in ranked],
        "leaders": [v["label"] for v in ranked if key(v) == key(ranked[0])],
    }


def _headline(ranking: dict[str, Any], vendors: list[dict[str, Any]]) -> str:
    leaders = ranking["leaders"]
    lead = next(v for v in vendors if v["label"] == leaders[0])
    passed = f"{lead['capability_statuses'].get('pass', 0)} of {ranking['measured_capabilities']}"
    if len(leaders) == 1:
        return f"Most conforming: {leaders[0]} ({passed} capabilities pass)"
    if len(leaders) == len(vendors):
        return f"No vendor conforms more than another: {passed} capabilities pass in each"
    return (
        f"Most conforming, tied: {', '.join(leaders[:-1])} and {leaders[-1]} "
        f"({passed} capabilities pass in each)"
    )


def standing(vendor: dict[str, Any], measured: int) -> str:
    """A vendor's capabilities in a few words: ``14 of 17 pass; 2 non-strict, 1 fail``."""
    statuses = vendor["capability_statuses"]
    rest = ", ".join(
        f"{statuses[s]} {s.replace('_', '-')}"
        for s in ("non_strict", "fail", "error", "inconclusive", "unsupported")
        if statuses.get(s)
    )
    return f"{statuses.get('pass', 0)} of {measured} pass" + (f"; {rest}" if rest else "")


# -- the comparison page ---------------------------------------------------------------------

_STYLE = """
.cc-cmp{table-layout:fixed;width:100%}
.cc-cmp col.cc-first{width:28%}
.cc-cmp td,.cc-cmp th{overflow-wrap:anywhere}
.cc-cmp td.cc-cell a{color:inherit;font-weight:bold}
.cc-cmp td small{display:block}
.cc-cmp td.cc-cell small{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace}
.cc-cmp thead th{position:sticky;top:0;z-index:1}
.cc-cmp th.cc-group{background:#f6f6f6}
.cc-cmp td.cc-notrun{background:#fff;color:#555555;font-style:italic}
.cc-cmp tr.cc-differs>td:first-child{border-left:4px solid #a00000}
.cc-diffmark{color:#a00000;font-weight:bold}
#cc-only-differing:checked~table tr.cc-same{display:none}
.cc-ranking{margin:4px 0 8px}
.cc-nowrap{white-space:nowrap}
"""
_MARK = '<span class="cc-diffmark" title="the vendors differ">≠</span> '


def render_comparison(runs: list[Run], output_path: Path) -> str:
    """The comparison page: headline, metrics, capability totals, then every case, each
    cell linking to the evidence in that vendor's report (relative to ``output_path``)."""
    return _page(comparison(runs), runs, output_path)


def _page(data: dict[str, Any], runs: list[Run], output_path: Path) -> str:
    labels = [v["label"] for v in data["vendors"]]
    # Each vendor's report, as linked from the page: None where the run has none.
    reports = {
        label: report_href(run.report, output_path.parent) if run.report else None
        for label, run in zip(labels, runs, strict=True)
    }
    head = "".join(f"<th>{escape(label)}</th>" for label in labels)
    counts = data["cases"]
    body = [
        f"<h1>Comparison of {len(runs)} runs</h1>",
        f'<p class="cc-headline">{escape(data["headline"])}</p>',
        _standings(data),
        f"<p>{counts['differing']} of {counts['total']} cases differ between the vendors "
        '(marked <span class="cc-diffmark">≠</span>).</p>',
        "<h2>Vendors</h2>",
        _metrics_table(data["vendors"], output_path),
        "<h2>Capabilities</h2>",
        _capabilities_table(data["capabilities"], labels, head),
        "<h2>Clients</h2>",
        vendors_html(data["clients"], labels),
        "<h2>Cases</h2>",
        '<div class="cc-cases">',
        '<input type="checkbox" id="cc-only-differing" class="cc-noprint">'
        '<label for="cc-only-differing" class="cc-controls"> Show only the '
        f"{counts['differing']} cases where the vendors differ</label>",
        f'<table class="cc-cmp">{_columns(labels)}<thead><tr><th>case</th>{head}</tr></thead>',
    ]
    for group in data["groups"]:
        differs = any(c["differs"] for c in group["cases"])
        body.append(
            f'<tbody><tr class="{"cc-differs" if differs else "cc-same"}">'
            f'<th class="cc-group" colspan="{len(labels) + 1}">'
            f"{escape(group['dialect'])} / {escape(group['capability'])}</th></tr>"
        )
        prefix = f"{group['dialect']}/{group['capability']}/"
        for case in group["cases"]:
            name = case["id"].removeprefix(prefix)
            cells = "".join(
                _case_cell(case["id"], case["cells"].get(label), reports[label]) for label in labels
            )
            body.append(
                f'<tr class="{"cc-differs" if case["differs"] else "cc-same"}">'
                f"<td>{_MARK if case['differs'] else ''}<code>{escape(name)}</code>"
                f" <small>{escape(case['title'])}</small></td>{cells}</tr>"
            )
        body.append("</tbody>")
    body.append("</table></div>")
    title = "chatconform comparison: " + ", ".join(labels)
    return page(title, "".join(body), extra_style=_STYLE + CLIENTS_STYLE)


def _standings(data: dict[str, Any]) -> str:
    vendors = {v["label"]: v for v in data["vendors"]}
    measured = data["ranking"]["measured_capabilities"]
    items = "".join(
        f"<li><b>{escape(label)}</b>: {escape(standing(vendors[label], measured))}</li>"
        for label in data["ranking"]["order"]
    )
    return f'<ol class="cc-ranking">{items}</ol>'


def _case_cell(case_id: str, cell: dict[str, Any] | None, report: str | None) -> str:
    if cell is None:
        return '<td class="cc-cell cc-notrun">not run</td>'
    verdict = escape(cell["verdict"].replace("_", "-"))
    if report:
        href = f"{report}#{case_anchor(case_id)}"
        verdict = f'<a href="{escape(href)}">{verdict}</a>'
    rules = "".join(f"<small>{escape(rule)}</small>" for rule in cell["rules"])
    reason = f' title="{escape(cell["reason"])}"' if cell["reason"] else ""
    return f'<td class="cc-cell {css_class(cell["verdict"])}"{reason}>{verdict}{rules}</td>'


def report_href(report: Path, from_dir: Path) -> str:
    """A link from a page in ``from_dir`` to ``report``: relative, each segment quoted (a
    provider's name may hold ``#``, ``?`` or ``:``), so no part of it reads as a scheme."""
    try:
        relative = os.path.relpath(report.resolve(), from_dir.resolve())
    except ValueError:  # another drive: only an absolute link reaches it
        return report.resolve().as_uri()
    return quote(relative.replace(os.sep, "/"))


def _metrics_table(vendors: list[dict[str, Any]], output_path: Path) -> str:
    def evidence(vendor: dict[str, Any]) -> str:
        if not vendor["report"]:
            return '<span class="cc-muted">no report.html</span>'
        href = report_href(Path(vendor["report"]), output_path.parent)
        return f'<a href="{escape(href)}">report.html</a>'

    def started(vendor: dict[str, Any]) -> str:
        when = f'<span class="cc-nowrap">{escape(vendor["started_at"].replace("T", " "))}</span>'
        return when + ("" if vendor["complete"] else " <b>(interrupted: partial results)</b>")

    def tokens(metrics: dict[str, Any]) -> str:
        count = metrics["tokens"]
        return f"{count['total']:,} <small>({count['prompt']:,} + {count['completion']:,})</small>"

    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("provider", lambda v: escape(v["provider"])),
        ("started", started),
        ("evidence", evidence),
        ("cases", lambda v: str(v["case_count"])),
        ("tokens (prompt + completion)", lambda v: tokens(v["metrics"])),
        ("requests", lambda v: f"{v['metrics']['requests']:,}"),
        ("wall time", lambda v: _seconds(v["metrics"]["wall_time_s"])),
        ("time to first token p50 / p95", lambda v: _spread(v["metrics"]["first_token_s"])),
        ("latency p50 / p95 (2xx answers)", lambda v: _spread(v["metrics"]["latency_s"])),
        ("estimated cost", lambda v: _cost(v["metrics"]["cost"])),
    ]
    if all(v["label"] == v["provider"] for v in vendors):
        rows = rows[1:]  # the column headers say it
    body = "".join(
        f"<tr><th>{name}</th>{''.join(f'<td>{cell(v)}</td>' for v in vendors)}</tr>"
        for name, cell in rows
    )
    head = "".join(f"<th>{escape(v['label'])}</th>" for v in vendors)
    columns = _columns([v["label"] for v in vendors])
    return f'<table class="cc-cmp">{columns}<tr><th></th>{head}</tr>{body}</table>'


def _columns(labels: list[str]) -> str:
    """The first column, then one of equal width per vendor."""
    return f'<colgroup><col class="cc-first"><col span="{len(labels)}"></colgroup>'


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _spread(stats: dict[str, Any]) -> str:
    if not stats["samples"]:
        return '<span class="cc-muted">no samples</span>'
    return (
        f"{_seconds(stats['p50'])} / {_seconds(stats['p95'])} <small>(n={stats['samples']})</small>"
    )


def _cost(cost: dict[str, Any] | None) -> str:
    if cost is None:
        return '<span class="cc-muted">no prices</span>'
    return (
        f"{cost['total']:.4f} <small>(at {cost['input_per_million']:g} in / "
        f"{cost['output_per_million']:g} out per M tokens)</small>"
    )


def _capabilities_table(capabilities: list[dict[str, Any]], labels: list[str], head: str) -> str:
    rows = []
    for capability in capabilities:
        cells = []
        for label in labels:
            entry = capability["vendors"].get(label)
            if entry is None:
                cells.append('<td class="cc-notrun">not run</td>')
                continue
            counts = ", ".join(
                f"{n} {v.replace('_', '-')}" for v, n in sorted(entry["counts"].items()) if n
            )
            status = status_label(entry["status"], entry["unsupported_features"])
            cells.append(
                f'<td class="{css_class(entry["status"])}">{escape(status.replace("_", "-"))}'
                f"<br><small>{escape(counts)}</small></td>"
            )
        differs = capability["differs"]
        rows.append(
            f'<tr class="{"cc-differs" if differs else "cc-same"}"><td>{_MARK if differs else ""}'
            f"{escape(capability['capability'])}</td>{''.join(cells)}</tr>"
        )
    return (
        f'<table class="cc-cmp">{_columns(labels)}<thead><tr><th>capability</th>{head}</tr>'
        f"</thead>{''.join(rows)}</table>"
    )


# -- the command -----------------------------------------------------------------------------


def add_parser(commands: Any) -> None:
    """Add ``compare`` to the CLI's subcommands."""
    parser = commands.add_parser(
        "compare",
        help="compare runs of several providers side by side (HTML, optionally JSON)",
        description="Put the results of two or more runs side by side: per case, the verdict "
        "and the rules that fired in each; per provider, tokens, latency and cost.",
    )
    parser.add_argument(
        "runs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories (or results.json)"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("comparison.html"),
        help="the HTML page to write (default ./comparison.html)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the data as JSON")
    parser.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    try:
        if len(args.runs) < 2:
            raise RunError(f"compare needs at least 2 runs, got {len(args.runs)}")
        runs = [load_run(path) for path in args.runs]
        data = comparison(runs)
        _write(args.output, _page(data, runs, args.output))
        if args.json:
            _write(args.json, json.dumps(data, indent=2) + "\n")
    except RunError as exc:
        print(f"chatconform: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(printable(data["headline"]))
    measured = data["ranking"]["measured_capabilities"]
    vendors = {v["label"]: v for v in data["vendors"]}
    for label in data["ranking"]["order"]:
        print(f"  {printable(label)}: {standing(vendors[label], measured)}")
    print(f"wrote {args.output}" + (f" and {args.json}" if args.json else ""))
    return EXIT_OK


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RunError(f"cannot write {path}: {exc.strerror or exc}") from None


# -- tolerant readers of untrusted values ----------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def printable(text: str) -> str:
    """Text from a results file, safe for a terminal: control characters shown escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _str_map(value: Any) -> dict[str, str]:
    return {k: v for k, v in _dict(value).items() if isinstance(v, str)}


def _number(value: Any) -> float | None:
    """A finite, non-negative number, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _count(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None else 0
