"""`chatconform trend`: one provider's runs over time, from a directory of run directories.

Per provider: each capability's status in every run, oldest first, and each deviation (a
rule that fired) with when it was first and last seen and whether the latest run still
shows it. A run directory that cannot be read is skipped with a note, never fatal.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from chatconform.compare import Run, RunError, load_run, printable, report_href
from chatconform.html_page import case_anchor, css_class, page, rule_anchor
from chatconform.results import RESULTS_FILE

EXIT_OK, EXIT_USAGE = 0, 2
TREND_FILE = "trend.html"
# A run directory's name as `chatconform run` makes it: `<UTC stamp>-<provider>`.
_RUN_DIR = re.compile(r"^(\d{8}T\d{6}Z)-")
_STAMP = "%Y%m%dT%H%M%SZ"
_STARTED = "%Y-%m-%dT%H:%M:%SZ"
# The terminal grid's one character per status, after pytest's progress line.
STATUS_MARKS = {
    "pass": ".",
    "non_strict": "n",
    "fail": "F",
    "error": "E",
    "inconclusive": "?",
    "unsupported": "u",
    "skipped": "s",
    "not_measured": "-",
}
ABSENT_MARK = " "  # the capability is not in that run (another dialect, --only)
UNKNOWN_MARK = "!"  # a status this version does not know


def trend(reports_dir: Path, provider: str | None = None) -> dict[str, Any]:
    """Every run under ``reports_dir`` (one level deep), per provider in time order: the
    capabilities' statuses and the deviations' history. Only ``provider``'s if given.
    A RunError when there is no run to show."""
    if not reports_dir.is_dir():
        raise RunError(f"{reports_dir}: not a directory")
    snapshots: list[_Snapshot] = []
    skipped = []
    for path in sorted(p for p in reports_dir.iterdir() if p.is_dir()):
        if not (path / RESULTS_FILE).exists():
            if _RUN_DIR.match(path.name):
                skipped.append({"run": path.name, "reason": f"no {RESULTS_FILE}"})
            continue
        try:
            run = load_run(path)
        except RunError as exc:
            skipped.append({"run": path.name, "reason": str(exc).removeprefix(f"{path}/")})
            continue
        started = _started(run)
        if started is None:
            skipped.append({"run": path.name, "reason": "no valid started_at"})
            continue
        # Only what the trend shows is kept: a results.json can be megabytes.
        snapshots.append(_snapshot(run, started))
    names = sorted({s.provider for s in snapshots})
    if provider is not None and provider not in names:
        found = f"; found {', '.join(names)}" if names else ""
        raise RunError(f"no run of provider {provider!r} under {reports_dir}{found}")
    if not names:
        hint = ""
        if (reports_dir / RESULTS_FILE).exists():
            hint = " (it is a run directory itself: give the directory that holds the runs)"
        elif skipped:
            hint = f" ({_skips(skipped)})"
        raise RunError(f"no runs under {reports_dir}{hint}")
    return {
        "reports_dir": str(reports_dir),
        "providers": [
            _history(name, sorted((s for s in snapshots if s.provider == name), key=_order))
            for name in ([provider] if provider is not None else names)
        ],
        "skipped": skipped,
    }


@dataclass(frozen=True)
class _Snapshot:
    """What the trend needs of one run."""

    provider: str
    started: datetime
    column: dict[str, Any]  # the run, as the trend's columns describe it
    statuses: dict[str, str]  # dialect/capability -> status
    fired: dict[str, dict[str, Any]]  # rule -> its severity, title and cases


def _snapshot(run: Run, started: datetime) -> _Snapshot:
    fired: dict[str, dict[str, Any]] = {}
    for case in run.cases:
        for finding in case.get("findings", []):
            entry = fired.setdefault(finding["rule"], {"cases": set()})
            entry["cases"].add(case["id"])
            for field in ("severity", "title"):
                if isinstance(finding.get(field), str):
                    entry[field] = finding[field]
    column = {
        "run": run.path.name,
        "path": str(run.path),
        "started_at": started.strftime(_STARTED),
        "complete": run.complete,
        "report": str(run.report) if run.report else None,
    }
    return _Snapshot(run.provider, started, column, run.capabilities(), fired)


def _order(snapshot: _Snapshot) -> tuple[datetime, str]:
    return snapshot.started, snapshot.column["run"]


def _started(run: Run) -> datetime | None:
    """When the run started: its started_at, else the stamp in its directory's name."""
    for text, pattern in ((run.started_at, _STARTED), (_stamp(run.path.name), _STAMP)):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _stamp(name: str) -> str:
    match = _RUN_DIR.match(name)
    return match.group(1) if match else ""


def _skips(skipped: list[dict[str, str]]) -> str:
    return f"{len(skipped)} skipped: " + "; ".join(f"{s['run']}: {s['reason']}" for s in skipped)


def _history(provider: str, snapshots: list[_Snapshot]) -> dict[str, Any]:
    """One provider's runs, oldest first: statuses per capability, and each deviation."""
    columns = [s.column for s in snapshots]
    fired = [s.fired for s in snapshots]
    capabilities = [
        {"capability": name, "statuses": [s.statuses.get(name) for s in snapshots]}
        for name in sorted({name for s in snapshots for name in s.statuses})
    ]
    deviations = []
    for rule in sorted({rule for rules in fired for rule in rules}):
        seen = [i for i, rules in enumerate(fired) if rule in rules]
        last = fired[seen[-1]][rule]
        deviations.append(
            {
                "rule": rule,
                "severity": last.get("severity", ""),
                "title": last.get("title", ""),
                "cases": sorted(set().union(*(fired[i][rule]["cases"] for i in seen))),
                "last_cases": sorted(last["cases"]),
                "seen": [rule in rules for rules in fired],
                "first_seen": columns[seen[0]]["started_at"],
                "last_seen": columns[seen[-1]]["started_at"],
                "first_run": columns[seen[0]]["run"],
                "last_run": columns[seen[-1]]["run"],
                "runs": len(seen),
                "present": seen[-1] == len(fired) - 1,
            }
        )
    # Still present first, then by when they were last seen, latest first (stable sorts).
    deviations.sort(key=lambda d: d["last_seen"], reverse=True)
    deviations.sort(key=lambda d: not d["present"])
    return {
        "provider": provider,
        "runs": columns,
        "capabilities": capabilities,
        "deviations": deviations,
    }


# -- the terminal grid -----------------------------------------------------------------------


def format_trend_text(data: dict[str, Any]) -> str:
    """Per provider: a grid of capability rows, one character per run (oldest first),
    then the deviations, each with its runs marked and when it was first and last seen."""
    lines = []
    for history in data["providers"]:
        runs = history["runs"]
        names = [c["capability"] for c in history["capabilities"]]
        names += [d["rule"] for d in history["deviations"]]
        width = max([len(n) for n in names] + [10]) + 2
        lines.append(
            f"{printable(history['provider'])}: {len(runs)} run{'s' if len(runs) > 1 else ''}"
        )
        dated = [f"{n + 1:>3} {_when(run['started_at'])}" for n, run in enumerate(runs)]
        lines.extend("  " + "   ".join(dated[i : i + 4]) for i in range(0, len(dated), 4))
        # A ruler: each run's number, last digit, so the columns can be counted.
        lines.append(f"  {'run':<{width}}" + " ".join(str((i + 1) % 10) for i in range(len(runs))))
        for row in history["capabilities"]:
            marks = " ".join(
                ABSENT_MARK if s is None else STATUS_MARKS.get(s, UNKNOWN_MARK)
                for s in row["statuses"]
            )
            lines.append(f"  {printable(row['capability']):<{width}}{marks}".rstrip())
        if history["deviations"]:
            lines.append("deviations (x: seen in that run):")
        for deviation in history["deviations"]:
            marks = " ".join("x" if seen else "." for seen in deviation["seen"])
            state = "still present" if deviation["present"] else "gone"
            count = len(deviation["last_cases"] if deviation["present"] else deviation["cases"])
            lines.append(
                f"  {printable(deviation['rule']):<{width}}{marks}  {state}; "
                f"first {_when(deviation['first_seen'])}, last {_when(deviation['last_seen'])}, "
                f"in {deviation['runs']} of {len(runs)} runs, {count} case{'s' if count > 1 else ''}"
            )
        lines.append("")
    legend = "  ".join(f"{mark} {status}" for status, mark in STATUS_MARKS.items())
    lines.append(f"legend: {legend}  (blank: not in that run)")
    lines.extend(
        f"skipped {printable(s['run'])}: {printable(s['reason'])}" for s in data["skipped"]
    )
    return "\n".join(lines)


def _when(started_at: str) -> str:
    """``2026-12-03T03:22:19Z`` as ``2026-12-03 03:22``."""
    return started_at[:16].replace("T", " ")


# -- the page --------------------------------------------------------------------------------

_STYLE = """
.cc-trend td.cc-mark{text-align:center}
.cc-trend th.cc-run{text-align:center;font-weight:normal;white-space:nowrap}
.cc-trend td.cc-absent{background:#fff}
.cc-trend td{white-space:nowrap}
.cc-trend td:first-child{white-space:normal}
.cc-trend ul{margin:0;padding-left:1.2em}
"""
_CASES_SHOWN = 4  # a deviation's cases listed before the rest, folded
# How a deviation's runs are shaded: like the verdict its severity gives.
_SEVERITY_SHADES = {"must": "fail", "should": "non_strict"}


def render_trend(data: dict[str, Any], output_path: Path | None = None) -> str:
    """The trend page; run headers link to each run's report.html, relative to where the
    page is written (``output_path``, by default ``REPORTS_DIR/trend.html``)."""
    output_path = output_path or Path(data["reports_dir"]) / TREND_FILE
    histories = data["providers"]
    body = [f"<h1>Trend of {escape(', '.join(h['provider'] for h in histories))}</h1>"]
    if len(histories) > 1:
        body.append(
            "<ul>"
            + "".join(
                f'<li><a href="#provider-{n}">{escape(h["provider"])}</a> '
                f"({len(h['runs'])} runs)</li>"
                for n, h in enumerate(histories)
            )
            + "</ul>"
        )
    if data["skipped"]:
        body.append(
            '<p class="cc-muted">Skipped: '
            + "; ".join(f"{escape(s['run'])} ({escape(s['reason'])})" for s in data["skipped"])
            + "</p>"
        )
    for n, history in enumerate(histories):
        body.append(_history_html(n, history, output_path.parent))
    title = "chatconform trend: " + ", ".join(h["provider"] for h in histories)
    return page(title, "".join(body), extra_style=_STYLE)


def _history_html(n: int, history: dict[str, Any], page_dir: Path) -> str:
    runs = history["runs"]
    present = sum(d["present"] for d in history["deviations"])
    gone = len(history["deviations"]) - present
    when = escape(_when(runs[-1]["started_at"]))
    summary = (
        f"{present} deviation{'s' if present != 1 else ''} in the latest run ({when})"
        if present
        else f"No deviation in the latest run ({when})"
    ) + (f"; {gone} seen in earlier runs {'are' if gone > 1 else 'is'} gone" if gone else "")
    head = "".join(_run_header(run, page_dir) for run in runs)
    rows = []
    for row in history["capabilities"]:
        cells = "".join(
            '<td class="cc-absent"></td>'
            if status is None
            else f'<td class="cc-mark {css_class(status)}">{escape(status.replace("_", "-"))}</td>'
            for status in row["statuses"]
        )
        rows.append(f"<tr><th>{escape(row['capability'])}</th>{cells}</tr>")
    parts = [
        f'<h2 id="provider-{n}">{escape(history["provider"])}</h2>',
        f'<p class="cc-headline">{summary}</p>',
        "<h3>Capabilities</h3>",
        f'<table class="cc-trend"><tr><th>capability</th>{head}</tr>{"".join(rows)}</table>',
    ]
    if history["deviations"]:
        parts.append("<h3>Deviations</h3>")
        parts.append(_deviations_html(history, head, page_dir))
    else:
        parts.append("<p>No deviation in any run.</p>")
    return "".join(parts)


def _run_header(run: dict[str, Any], page_dir: Path) -> str:
    date, _, time = _when(run["started_at"]).partition(" ")
    text = f"{escape(date)}<br>{escape(time)}"
    if run["report"]:
        text = f'<a href="{escape(report_href(Path(run["report"]), page_dir))}">{text}</a>'
    if not run["complete"]:
        text += "<br><small>partial</small>"
    return f'<th class="cc-run" title="{escape(run["run"])}">{text}</th>'


def _deviations_html(history: dict[str, Any], head: str, page_dir: Path) -> str:
    runs = history["runs"]
    rows = []
    for deviation in history["deviations"]:
        # The evidence: the cases of the last run that showed it, in that run's report.
        last = next(r for r in runs if r["run"] == deviation["last_run"])
        report = Path(last["report"]) if last["report"] else None
        rule = f"<code>{escape(deviation['rule'])}</code>"
        if report:
            rule = _link(report, page_dir, rule_anchor(deviation["rule"]), rule)
        links = [
            f"<li>{_link(report, page_dir, case_anchor(c), f'<code>{escape(c)}</code>')}</li>"
            if report
            else f"<li><code>{escape(c)}</code></li>"
            for c in deviation["last_cases"]
        ]
        cases = f"<ul>{''.join(links[:_CASES_SHOWN])}</ul>"
        if len(links) > _CASES_SHOWN:
            cases += (
                f"<details><summary>{len(links) - _CASES_SHOWN} more</summary>"
                f"<ul>{''.join(links[_CASES_SHOWN:])}</ul></details>"
            )
        shade = css_class(_SEVERITY_SHADES.get(deviation["severity"], "inconclusive"))
        marks = "".join(
            f'<td class="cc-mark {shade}">seen</td>' if seen else '<td class="cc-mark">–</td>'
            for seen in deviation["seen"]
        )
        rows.append(
            f'<tr><td>{rule} <span class="{css_class(deviation["severity"])}">'
            f"{escape(deviation['severity'])}</span><br><small>{escape(deviation['title'])}"
            f"</small>{cases}</td>{marks}"
            f"<td>{'<b>yes</b>' if deviation['present'] else 'gone'}</td>"
            f"<td>{escape(_when(deviation['first_seen']))}</td>"
            f"<td>{escape(_when(deviation['last_seen']))}</td>"
            f"<td>{deviation['runs']} of {len(runs)}</td></tr>"
        )
    return (
        '<table class="cc-trend"><tr><th>rule, and the cases of the last run that showed it</th>'
        f"{head}<th>latest run</th><th>first seen</th><th>last seen</th><th>runs</th>"
        f"</tr>{''.join(rows)}</table>"
    )


def _link(report: Path, page_dir: Path, anchor: str, text: str) -> str:
    href = report_href(report, page_dir) + "#" + anchor
    return f'<a href="{escape(href)}">{text}</a>'


# -- the command -----------------------------------------------------------------------------


def add_parser(commands: Any) -> None:
    """Add ``trend`` to the CLI's subcommands."""
    parser = commands.add_parser(
        "trend",
        help="a provider's runs over time: statuses per run, deviations first and last seen",
        description="Read every run directory under REPORTS_DIR and show, per provider, each "
        "capability's status per run and when each deviation was first and last seen.",
    )
    parser.add_argument(
        "reports_dir", type=Path, metavar="REPORTS_DIR", help="the directory of run directories"
    )
    parser.add_argument("--provider", help="only this provider's runs (default: every provider)")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help=f"the HTML page to write (default REPORTS_DIR/{TREND_FILE})",
    )
    parser.set_defaults(func=cmd_trend)


def cmd_trend(args: argparse.Namespace) -> int:
    output = args.output or args.reports_dir / TREND_FILE
    try:
        data = trend(args.reports_dir, args.provider)
        try:
            output.write_text(render_trend(data, output), encoding="utf-8")
        except OSError as exc:
            raise RunError(f"cannot write {output}: {exc.strerror or exc}") from None
    except RunError as exc:
        print(f"chatconform: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    print(format_trend_text(data))
    print(f"wrote {output}")
    return EXIT_OK
