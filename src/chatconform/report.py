"""report.html: the run as a standalone page, rendered from results.json alone.

Headline, scorecard with its legend, provider facts and profile, deviations, then the
cases by dialect and capability: failures open with their evidence, the rest one line
each. No script (the page's CSP forbids it): verdict filters are checkboxes read by CSS
``:has()``. Everything results.json holds is untrusted (a provider wrote most of it,
anyone may edit it) and escaped; only inline ``data:image`` thumbnails are embedded, and
no URL from it becomes a link.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

from chatconform.config import NAMED_ONLY
from chatconform.html_page import css_class, page, rule_anchor
from chatconform.paths import SUITES_DIR
from chatconform.report_cases import VERDICTS, case_anchors, cases_html, filter_style, group_anchor
from chatconform.report_clients import CLIENTS_STYLE, clients_html, failing_clients
from chatconform.report_evidence import breakable, text
from chatconform.report_profile import duration, profile_html
from chatconform.results import (
    headline_sentence,
    judged_count,
    run_date,
    scorecard_key,
    status_label,
    verdict_counts,
)
from chatconform.rules import Rule, catalog
from chatconform.verdict import NOT_MEASURED, capability_status

REPORT_FILE = "report.html"
# The headline's class when no case was judged: the page then proves nothing.
NOTHING_JUDGED = "nothing_judged"
# What each verdict and status means, as the legend says it (see chatconform.verdict).
MEANINGS = {
    "pass": "no deviation",
    "non_strict": "only should-deviations, which major clients tolerate",
    "fail": "at least one must-deviation",
    "error": "the harness itself broke; never blamed on the provider",
    "unsupported": "the provider cleanly refused an optional feature (4xx, error envelope)",
    "inconclusive": "could not judge: rate limited, timed out, stalled, transient 5xx, budget "
    "spent, or the model failed the control question; never a pass",
    "skipped": "not applicable, or not configured",
    NOT_MEASURED: "no case of the row was judged; the row says why",
}

REPORT_STYLE = """
.cc-scorecard td:first-child{white-space:nowrap}
.cc-scorecard td,.cc-scorecard th{padding:1px 8px}
.cc-legend{display:grid;grid-template-columns:max-content 1fr max-content 1fr;gap:2px 8px;font-size:.9em;max-width:1100px}
.cc-legend dt,.cc-legend dd{display:block;margin:0}
.cc-charts{display:flex;flex-wrap:wrap;gap:4px 24px}.cc-charts figure{margin:0}
.cc-charts figcaption{font-weight:600;font-size:.9em}
.cc-profile,.cc-dialects{font-size:.9em}
.cc-deviations{width:100%}
.cc-deviations td:first-child{width:4em}.cc-deviations td:nth-child(2){width:24%}.cc-deviations td:nth-child(4){width:26%}
.cc-deviations td.cc-caselinks{font-size:.9em;border-top:none;width:auto}
.cc-deviations ul{margin:0;padding-left:1.1em}
.cc-caselinks a{margin-right:.7em}
.cc-controls{position:sticky;top:0;background:#ffffff;border:1px solid #bbb;padding:3px 8px;margin:6px 0;z-index:1}
.cc-controls legend{float:left;padding:0;margin-right:12px;font-weight:600}
.cc-case,.cc-group,.cc-deviations tr{scroll-margin-top:3.5em}
.cc-group>h3{margin:.7em 0 .2em;padding:2px 0;border-bottom:1px solid #ddd}
details.cc-case>summary{white-space:nowrap;overflow-x:clip;overflow-y:visible;text-overflow:ellipsis;cursor:pointer}
details.cc-case>div{border-left:3px solid #bbb;margin:0 0 6px 4px;padding:2px 8px}
.cc-case .cc-id{font-weight:600}
section.cc-case{border:1px solid #999;border-left:5px solid #a00000;padding:2px 10px 4px;margin:6px 0}
section.cc-case[data-verdict="non_strict"]{border-left-color:#7a4a00}
section.cc-case>h4{margin:.2em 0;font-size:1em}
.cc-case p{margin:.2em 0}
.cc-case pre{max-height:16em}
.cc-finding>p{margin:.5em 0 0}
.cc-folds{display:flex;flex-wrap:wrap;gap:0 2em;align-items:baseline}
.cc-folds>details[open]{flex-basis:100%}
pre.cc-msg{background:none;border:none;border-left:3px solid #bbb;padding:0 8px}
.cc-folds summary{cursor:pointer;font-size:.92em}
.cc-exchange>p{margin:.4em 0 0;font-size:.92em}
.cc-req{font-size:.92em}
.cc-media{display:flex;gap:10px;align-items:center;margin:.2em 0}
.cc-media img{border:1px solid #999;max-width:40px;max-height:40px}
.cc-media p{margin:0}
.cc-case:target,.cc-group:has(:target){display:block !important}
.cc-case:target{outline:3px solid #0b4fa8}
.cc-meta{font-size:.9em;border-top:1px solid #ccc;margin-top:16px}
@media print{
  .cc-nav{display:none}
  .cc-scorecard td,.cc-scorecard th,.cc-profile td,.cc-profile th,.cc-dialects td,.cc-dialects th{padding:0 6px;line-height:1.2}
  .cc-legend{font-size:.85em}
  details.cc-case>summary{list-style:none;line-height:1.15}
  details.cc-case>summary::-webkit-details-marker{display:none}
  details.cc-case .cc-v{min-width:4.6em;padding:0 2px;border:none;font-size:.8em}
  .cc-folds>.cc-evidence{flex-basis:100%}
  .cc-evidence::details-content{content-visibility:visible;display:block}
  .cc-evidence>summary{list-style:none}
  .cc-case pre{max-height:none}
  .cc-group>h3{margin:.4em 0 .1em;font-size:1em;border:none;padding:0}
  h2{margin:.8em 0 .3em}
  .cc-charts{gap:0 10px;flex-wrap:nowrap}.cc-charts figure{flex:1 1 0}
  .cc-chart{width:100%;height:auto}
}
"""


def write_report(directory: Path, results: dict[str, Any]) -> Path:
    """Write ``directory/report.html`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / REPORT_FILE
    path.write_text(render_report(results), encoding="utf-8")
    return path


def render_report(results: dict[str, Any]) -> str:
    """The whole report page for a results.json document."""
    anchors = case_anchors(results["cases"])
    body = "".join(
        [
            _headline(results),
            _nav(results),
            _scorecard(results),
            clients_html(results, anchors),
            _provider(results),
            _deviations(results, anchors),
            cases_html(results, anchors),
            _metadata(results),
        ]
    )
    title = f"chatconform: {results['provider']['name']}, {run_date(results)}"
    return page(title, body, extra_style=REPORT_STYLE + CLIENTS_STYLE + filter_style(results))


def _headline(results: dict[str, Any]) -> str:
    """The run in one sentence, coloured by its worst verdict; red when nothing could be
    judged, since then the page proves nothing about the provider."""
    judged = judged_count(results)
    status = capability_status(verdict_counts(results)) if judged else NOTHING_JUDGED
    return f'<h1 class="cc-headline {css_class(status)}">{text(headline_sentence(results))}</h1>'


def _nav(results: dict[str, Any]) -> str:
    rules = len({f["rule"] for c in results["cases"] for f in c["findings"]})
    return (
        '<p class="cc-nav"><a href="#scorecard">Scorecard</a><a href="#clients">Clients</a>'
        '<a href="#provider">Provider</a>'
        f'<a href="#deviations">Deviations ({rules})</a>'
        f'<a href="#cases">Cases ({len(results["cases"])})</a><a href="#run">Run</a></p>'
    )


NOT_SELECTED = "no case ran: not selected (--only or --case)"


def _scorecard(results: dict[str, Any]) -> str:
    summary = results["summary"]
    refused = summary.get("unsupported_features", {})
    head = "".join(f'<th class="cc-num">{v}</th>' for v in VERDICTS)
    ran = {scorecard_key(c) for c in results["cases"]}
    rows, unselected = [], []
    for key, status in summary["capabilities"].items():
        counts = summary.get("capability_counts", {}).get(key, {})
        cells = "".join(f'<td class="cc-num">{text(counts.get(v) or "")}</td>' for v in VERDICTS)
        label = text(status_label(status, refused.get(key, [])))
        if status == NOT_MEASURED:
            reason = _not_measured_reason(results, key)
            if reason == NOT_SELECTED:
                # A run narrowed by --only would fill the first screen with such rows.
                unselected.append(key)
                continue
            label += f" <small>({text(reason)})</small>"
        # A row links to its cases, where it has any (a not_measured row may have none).
        name = f'<a href="#{group_anchor(key)}">{text(key)}</a>' if key in ran else text(key)
        rows.append(f'<tr><td>{name}</td><td class="{css_class(status)}">{label}</td>{cells}</tr>')
    legend = "".join(
        f'<dt><span class="cc-v {css_class(v)}">{v}</span></dt><dd>{escape(meaning)}</dd>'
        for v, meaning in MEANINGS.items()
    )
    return (
        '<h2 id="scorecard">Scorecard</h2>'
        f'<table class="cc-scorecard"><tr><th>dialect/capability</th><th>status</th>{head}</tr>'
        f"{''.join(rows)}</table>"
        + (
            f"<p><small>not_measured, {text(NOT_SELECTED)}: "
            f"{text(', '.join(unselected))}</small></p>"
            if unselected
            else ""
        )
        + f'<dl class="cc-legend">{legend}</dl>'
    )


def _not_measured_reason(results: dict[str, Any], key: str) -> str:
    """Why no case of a scorecard row was judged, as far as results.json tells."""
    cases = [c for c in results["cases"] if scorecard_key(c) == key]
    if cases:
        reasons = sorted({str(c.get("reason") or "") for c in cases} - {""})
        said = f": {'; '.join(reasons[:3])}" if reasons else ""
        return f"all {len(cases)} cases skipped{said}"
    dialect, _, capability = key.partition("/")
    models = results["provider"].get("dialects", {}).get(dialect, {}).get("models", {})
    if capability in NAMED_ONLY and not models.get(capability):
        return f"no case ran: no model is configured for it (models.{capability})"
    if models.get(capability) == "":
        return f'no case ran: switched off in the config (models.{capability} = "")'
    if not results.get("complete", True):
        return "no case ran: the run was interrupted first"
    named = re.fullmatch(r"[a-z0-9_]+", dialect) and re.fullmatch(r"[a-z0-9_]+", capability)
    if named and not (SUITES_DIR / dialect / f"test_{capability}.py").is_file():
        return "no case ran: the suite has no case for it yet"
    return NOT_SELECTED


def _provider(results: dict[str, Any]) -> str:
    provider = results["provider"]
    usage = results.get("usage", {})
    rows = "".join(
        f"<tr><td>{text(name)}</td><td><code>{text(d.get('base_url', ''))}</code></td>"
        f"<td>{text(d.get('auth', ''))}</td><td>"
        + ", ".join(
            f"{text(k)}: <code>{text(v or '(off)')}</code>" for k, v in d.get("models", {}).items()
        )
        + "</td></tr>"
        for name, d in provider.get("dialects", {}).items()
    )
    prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
    spent = (
        f"{duration(results.get('duration_s'))} · {_count(usage.get('requests'))} requests · "
        f"{prompt:,} input + {completion:,} output tokens{_cost(provider, prompt, completion)}"
        f"{_waits(results.get('waits'))}"
    )
    return (
        '<h2 id="provider">Provider</h2>'
        f"<p><b>{text(provider['name'])}</b> · {spent}</p>"
        '<table class="cc-dialects"><tr><th>dialect</th><th>base URL</th><th>auth</th>'
        f"<th>models</th></tr>{rows}</table>{profile_html(results)}"
    )


def _waits(waits: Any) -> str:
    """`` · 3 retries · requests waited 4.20 s in all (1.50 s between attempts, 2.70 s for
    rate limits)``: time the run's requests spent that is not the provider's (summed over
    requests in flight together, so it may exceed the run's duration); "" when none (or an
    older results.json does not say)."""
    if not isinstance(waits, dict):
        return ""
    retries = _count(waits.get("retries"))
    parts = {
        "between attempts": waits.get("retry_s"),
        "for rate limits": waits.get("rate_limit_s"),
    }
    seconds = {
        said: float(value)
        for said, value in parts.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    }
    said = f" · {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    if seconds:
        detail = ", ".join(f"{duration(v)} {where}" for where, v in seconds.items())
        said += f" · requests waited {duration(sum(seconds.values()))} in all ({detail})"
    return said


def _cost(provider: dict[str, Any], prompt: int, completion: int) -> str:
    """`` · estimated cost 0.0123`` at the config's prices per million tokens, if it gave both."""
    prices = provider.get("prices") or {}
    rates = [prices.get(k) for k in ("input", "output")]
    if not all(isinstance(r, int | float) and not isinstance(r, bool) for r in rates):
        return ""
    try:
        cost = (prompt * rates[0] + completion * rates[1]) / 1_000_000
    except OverflowError:  # token counts a provider reported beyond any float
        return ""
    if not math.isfinite(cost):
        return ""
    return (
        f" · estimated cost <b>{cost:.4g}</b> (at {rates[0]:g} input and {rates[1]:g} output "
        "per million tokens)"
    )


def _deviations(results: dict[str, Any], anchors: dict[str, str]) -> str:
    """One row per rule that fired, worst first, then a row of links to its cases."""
    fired: dict[str, list[str]] = defaultdict(list)
    seen: dict[str, dict[str, Any]] = {}
    for case in results["cases"]:
        for finding in case["findings"]:
            if case["id"] not in fired[finding["rule"]]:
                fired[finding["rule"]].append(case["id"])
            seen.setdefault(finding["rule"], finding)
    if not fired:
        return f'<h2 id="deviations">Deviations</h2><p>{escape(_no_deviations(results))}</p>'
    rules = catalog()
    rows = []
    for rule_id in sorted(fired, key=lambda r: (_severity(r, seen) != "must", -len(fired[r]), r)):
        rule = rules.get(rule_id)
        severity = _severity(rule_id, seen)
        breaks = _breaks(results, rule, fired[rule_id])
        links = " ".join(
            f'<a href="#{anchors[case_id]}">{breakable(case_id)}</a>' for case_id in fired[rule_id]
        )
        count = len(fired[rule_id])
        rows.append(
            f'<tr id="{rule_anchor(rule_id)}"><td class="{css_class(severity)}" rowspan="2">'
            f"{text(severity)}</td><td><code>{breakable(rule_id)}</code><br>"
            f"{text(rule.title if rule else seen[rule_id].get('title', ''))}</td>"
            f"<td>{_requirement(rule)}</td><td>{f'<ul>{breaks}</ul>' if breaks else '-'}</td></tr>"
            f'<tr><td class="cc-caselinks" colspan="3">{count} case{"s" if count > 1 else ""}: '
            f"{links}</td></tr>"
        )
    return (
        '<h2 id="deviations">Deviations</h2><table class="cc-deviations"><tr><th>severity</th>'
        "<th>rule</th><th>requirement</th><th>what it breaks</th></tr>"
        f"{''.join(rows)}</table>"
    )


def _breaks(results: dict[str, Any], rule: Rule | None, case_ids: list[str]) -> str:
    """What a deviation breaks: the clients measured not to work in its cases (or, in a
    run without a client matrix, those the catalog says it breaks), then its impact."""
    if "clients" in results:
        failing = failing_clients(results, case_ids)
        measured = ", ".join(f"{name} {kind}" for name, kind in failing) or "no client fails"
        items = [f"<li><b>measured</b>: {text(measured)}</li>"]
    elif rule is not None and rule.breaks:
        items = [f"<li><b>breaks</b>: {escape(', '.join(rule.breaks))}</li>"]
    else:
        items = []
    if rule is not None:
        items += [f"<li>{escape(line)}</li>" for line in rule.impact]
    return "".join(items)


def _severity(rule_id: str, seen: dict[str, dict[str, Any]]) -> str:
    """A rule's severity from the catalog; from its finding when the catalog lacks it
    (a results.json from an older version)."""
    rule = catalog().get(rule_id)
    return str(rule.severity) if rule else str(seen[rule_id].get("severity", ""))


def _requirement(rule: Rule | None) -> str:
    if rule is None:
        return '<span class="cc-muted">not in this version\'s rule catalog</span>'
    return f"{escape(rule.requirement)}<br><small>{escape(rule.source)}</small>"


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


def _metadata(results: dict[str, Any]) -> str:
    tool = results.get("tool", {})
    facts = [
        f"{text(tool.get('name', 'chatconform'))} {text(tool.get('version', ''))}",
        f"results.json schema {text(results.get('schema_version', '?'))}",
        f"started {text(results.get('started_at', '?'))}",
        f"took {duration(results.get('duration_s'))}",
        f"{len(results['cases'])} cases",
        "complete" if results.get("complete", True) else "interrupted: partial results",
    ]
    rejudged = results.get("rejudged")
    if isinstance(rejudged, dict):
        # `chatconform rejudge`: this version's checks over a recorded run's answers.
        facts.append(
            f"re-judged {text(rejudged.get('at', '?'))} from a run recorded with chatconform "
            f"{text(rejudged.get('recorded_with') or '?')}"
        )
    return f'<footer class="cc-meta" id="run"><p>Run: {" · ".join(facts)}</p></footer>'


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
