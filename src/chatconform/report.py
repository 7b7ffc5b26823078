"""HTML fragments for the pytest-html report: the scorecard and each case's evidence.

Everything a provider returned is untrusted: every value is escaped here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html import escape
from typing import Any

from chatconform.results import headline, judged_count, status_label, verdict_counts
from chatconform.rules import catalog
from chatconform.verdict import capability_status

STYLE = """<style>
.cc-card{border-collapse:collapse;margin:8px 0}
.cc-card td,.cc-card th{border:1px solid #ccc;padding:3px 8px;text-align:left;color:#222}
.cc-pass{background:#d8f5d0}.cc-fail{background:#f9d0d0}.cc-error{background:#f2c6ee}
.cc-non_strict{background:#fbeec1}.cc-inconclusive{background:#e4e4f7}
.cc-unsupported{background:#e8e8e8}.cc-skipped,.cc-not_measured{background:#f4f4f4;color:#666}
.cc-case pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:4px;max-height:24em;overflow:auto}
.cc-must{color:#a00;font-weight:bold}.cc-should{color:#a60}.cc-info{color:#555}
.cc-media img{border:1px solid #ccc;margin-right:6px;vertical-align:top}
.cc-headline{font-size:1.3em;font-weight:bold;padding:6px 10px;border:2px solid #999;color:#222}
.cc-headline.cc-nothing_judged{color:#a00;border-color:#a00;background:#f9d0d0}
#results-table td.cc-verdict{font-weight:bold;color:#222}
.cc-filters label{margin-right:10px;white-space:nowrap}
</style>"""

# The only image sources the report embeds: inline thumbnails, never a URL to fetch.
_THUMBNAIL = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}")
_VERDICT_COLUMNS = ("pass", "non_strict", "fail", "unsupported", "inconclusive", "skipped", "error")
# The headline's class when no case was judged: the page then proves nothing.
NOTHING_JUDGED = "nothing_judged"


def _cls(value: str) -> str:
    return "cc-" + "".join(ch for ch in value if ch.isalnum() or ch == "_")


def scorecard_html(results: dict[str, Any]) -> str:
    provider = results["provider"]
    summary = results["summary"]
    usage = results["usage"]
    rows = []
    refused = summary.get("unsupported_features", {})
    for name, status in summary["capabilities"].items():
        counts = summary["capability_counts"].get(name, {})
        cells = "".join(f"<td>{counts.get(v, 0) or ''}</td>" for v in _VERDICT_COLUMNS)
        rows.append(
            f'<tr><td>{escape(name)}</td><td class="{_cls(status)}">'
            f"{escape(status_label(status, refused.get(name, [])))}</td>{cells}</tr>"
        )
    head = "".join(f"<th>{v}</th>" for v in _VERDICT_COLUMNS)
    spoken = "; ".join(
        f"{escape(name)} at <code>{escape(d['base_url'])}</code> ({escape(d['auth'])}), models "
        + ", ".join(f"{escape(k)}: {escape(v or '(off)')}" for k, v in d["models"].items())
        for name, d in provider["dialects"].items()
    )
    parts = [
        STYLE,
        _headline_html(results),
        "<h2>Scorecard</h2>",
        f"<p>Provider <b>{escape(provider['name'])}</b> · {spoken}</p>",
        f"<p>Started {escape(results['started_at'])} · {results['duration_s']:.1f} s · "
        f"{usage['requests']} requests · {usage['prompt_tokens']} prompt + "
        f"{usage['completion_tokens']} completion tokens</p>",
        f'<table class="cc-card"><tr><th>capability</th><th>status</th>{head}</tr>{"".join(rows)}</table>',
        _deviations_html(results),
    ]
    return "".join(parts)


def _headline_html(results: dict[str, Any]) -> str:
    """The run's outcome in one line, coloured by its worst verdict; red when nothing
    could be judged, since then the page proves nothing about the provider."""
    judged = judged_count(results)
    status = capability_status(verdict_counts(results)) if judged else NOTHING_JUDGED
    return f'<p class="cc-headline {_cls(status)}">{escape(headline(results))}</p>'


def _deviations_html(results: dict[str, Any]) -> str:
    by_rule: dict[str, list[str]] = defaultdict(list)
    for entry in results["cases"]:
        for finding in entry["findings"]:
            by_rule[finding["rule"]].append(entry["id"])
    if not by_rule:
        return f"<p>{escape(_no_deviations(results))}</p>"
    rules = catalog()
    rows = []
    for rule_id in sorted(by_rule, key=lambda r: (rules[r].severity != "must", r)):
        rule = rules[rule_id]
        rows.append(
            f'<tr><td class="{_cls(rule.severity)}">{escape(rule.severity)}</td>'
            f"<td><code>{escape(rule_id)}</code><br>{escape(rule.title)}</td>"
            f"<td>{escape(rule.requirement)}<br><small>{escape(rule.source)}</small></td>"
            f"<td>{escape('; '.join(rule.breaks) or '-')}</td>"
            f"<td>{escape(', '.join(sorted(set(by_rule[rule_id]))))}</td></tr>"
        )
    return (
        "<h2>Deviations</h2>"
        '<table class="cc-card"><tr><th>severity</th><th>rule</th><th>requirement</th>'
        f"<th>what it breaks</th><th>cases</th></tr>{''.join(rows)}</table>"
    )


def _no_deviations(results: dict[str, Any]) -> str:
    """What a run without findings may claim: nothing when no case was judged, and
    never without saying which cases were not judged."""
    judged = judged_count(results)
    if not judged:
        return "No case was judged, so no deviation could be looked for."
    counts = verdict_counts(results)
    unjudged = ", ".join(
        f"{counts[v]} {v}" for v in ("error", "inconclusive", "unsupported", "skipped") if counts[v]
    )
    cases = f"{judged} judged case{'s' if judged > 1 else ''}"
    return f"No deviations found in {cases}" + (f"; not judged: {unjudged}." if unjudged else ".")


def verdict_filter_html(results: dict[str, Any]) -> str:
    """Checkboxes that show or hide the results table's rows by their verdict.

    pytest-html re-renders its table from JSON on every sort and filter, so rows
    are hidden by CSS alone (``:has`` on each row's verdict cell): no script, and
    it applies to whatever the table currently shows.
    """
    counts = verdict_counts(results)
    boxes, rules = [], []
    for verdict in _VERDICT_COLUMNS:
        box = f"cc-show-{verdict}"
        disabled = "" if counts[verdict] else " disabled"
        boxes.append(
            f'<label><input type="checkbox" id="{box}" checked{disabled}> '
            f'<span class="{_cls(verdict)}">{counts[verdict]} {verdict}</span></label>'
        )
        rules.append(
            f"body:has(#{box}:not(:checked)) #results-table "
            f"tbody:has(td.cc-verdict.{_cls(verdict)}){{display:none}}"
        )
    return (
        f'<style>{"".join(rules)}</style><p class="cc-filters">Show verdicts: {"".join(boxes)}</p>'
    )


def verdict_cell_html(verdict: str) -> str:
    """The results table's Verdict cell; ``col-verdict`` makes pytest-html sort by it."""
    return f'<td class="col-verdict cc-verdict {_cls(verdict)}">{escape(verdict)}</td>'


def case_html(result: dict[str, Any]) -> str:
    """The evidence block shown under a case's row."""
    parts = [
        '<div class="cc-case">',
        f"<p><b>{escape(result['id'])}</b>: {escape(result['title'])}<br>"
        f"Requirement: {escape(result['requirement'])} <small>({escape(result['source'])})</small></p>",
        f'<p>Verdict: <span class="{_cls(result["verdict"])}">{escape(result["verdict"])}</span>'
        + (f" — {escape(result['reason'])}" if result["reason"] else "")
        + f" · attempts {result['attempts']}</p>",
    ]
    if result.get("media"):
        parts.append(_media_html(result["media"]))
    for note in result["notes"]:
        parts.append(f"<p><small>{escape(note)}</small></p>")
    for finding in result["findings"]:
        parts.append(
            f'<p><span class="{_cls(finding["severity"])}">[{escape(finding["severity"])}]</span> '
            f"<code>{escape(finding['rule'])}</code> {escape(finding['title'])}"
            + (f" at <code>{escape(finding['location'])}</code>" if finding["location"] else "")
            + f"</p><pre>{escape(finding['message'])}</pre>"
        )
        if finding["evidence"]:
            parts.append(f"<pre>{escape(finding['evidence'])}</pre>")
    for i, exchange in enumerate(result["exchanges"]):
        parts.append(
            f"<details><summary>exchange {i}: HTTP {escape(str(exchange['status']))}, "
            f"{exchange['elapsed_s']} s</summary><pre>{escape(exchange['request'])}</pre>"
            f"<pre>{escape(exchange['response_excerpt'])}</pre></details>"
        )
    parts.append("</div>")
    return "".join(parts)


def _media_html(media: dict[str, Any]) -> str:
    """An image case's pictures as thumbnails, with the question asked and the answer given."""
    images = "".join(
        f'<img src="{escape(image["thumbnail"])}" alt="{escape(image["file"])}" '
        f'title="{escape(image["file"])}">'
        for image in media.get("images", [])
        if _THUMBNAIL.fullmatch(str(image.get("thumbnail", "")))
    )
    rows = [f"<p>{images}</p>"] if images else []
    for label in ("question", "answer"):
        if label in media:
            rows.append(f"<p>{label.capitalize()}: <q>{escape(str(media[label]))}</q></p>")
    return f'<div class="cc-media">{"".join(rows)}</div>'
