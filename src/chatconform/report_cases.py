"""The cases of a run's report, by dialect and capability, filtered by verdict with CSS.

A failing case (fail, error, non_strict, or any with findings) is a section, open: its
requirement, reason, media, findings with their evidence, and its exchanges folded to one
line. Each rule's evidence is open at the first case it fired in and folded beside the
exchanges at the others, so a page of 60 identical failures stays short; print opens
every evidence. The other cases are one line each, their details folded.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from html import escape
from typing import Any

from chatconform.html_page import case_anchor, css_class, rule_anchor
from chatconform.report_evidence import breakable, curl, pretty, text
from chatconform.report_profile import duration
from chatconform.results import scorecard_key, verdict_counts

VERDICTS = ("pass", "non_strict", "fail", "error", "unsupported", "inconclusive", "skipped")
# Cases shown open, evidence and all; the others are one line with their details folded.
_OPEN = frozenset({"fail", "error", "non_strict"})
# Within a capability, the worst cases first: the way a reader triages.
_ORDER = ("error", "fail", "non_strict", "inconclusive", "unsupported", "skipped", "pass")
# The only image sources the report embeds: inline thumbnails, never a URL to fetch.
_THUMBNAIL = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}")


def cases_html(results: dict[str, Any], anchors: dict[str, str]) -> str:
    """The filters, then the cases by scorecard row (in the scorecard's order), worst first."""
    groups: dict[str, list[dict[str, Any]]] = {k: [] for k in results["summary"]["capabilities"]}
    for case in results["cases"]:
        groups.setdefault(scorecard_key(case), []).append(case)
    parts = ['<h2 id="cases">Cases</h2>', _filters(results)]
    rules_shown: set[str] = set()
    for key, cases in groups.items():
        if not cases:
            continue
        cases = sorted(cases, key=lambda c: (_rank(c["verdict"]), c["id"]))
        counts = Counter(str(c["verdict"]) for c in cases)
        said = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda i: _rank(i[0])))
        status = results["summary"]["capabilities"].get(key, "")
        parts.append(
            f'<section class="cc-group {_set_class(counts)}" id="{group_anchor(key)}">'
            f'<h3>{text(key)} <span class="cc-v {css_class(status)}">{text(status)}</span> '
            f"<small>{text(said)}</small></h3>"
            + "".join(_case(c, anchors[c["id"]], rules_shown) for c in cases)
            + "</section>"
        )
    return "".join(parts)


def filter_style(results: dict[str, Any]) -> str:
    """A case is hidden when its verdict's box is unchecked; a capability when the boxes
    of all its cases' verdicts are (one rule per set of verdicts the page holds)."""
    rules = [
        f'body:has(#cc-show-{v}:not(:checked)) .cc-case[data-verdict="{v}"]{{display:none}}'
        for v in VERDICTS
    ]
    groups: dict[str, set[str]] = defaultdict(set)
    for case in results["cases"]:
        groups[scorecard_key(case)].add(str(case["verdict"]))
    for verdicts in sorted({tuple(sorted(v)) for v in groups.values() if v <= set(VERDICTS)}):
        unchecked = "".join(f":has(#cc-show-{v}:not(:checked))" for v in verdicts)
        rules.append(f"body{unchecked} .cc-set-{'-'.join(verdicts)}{{display:none}}")
    return "\n".join(rules)


def case_anchors(cases: list[dict[str, Any]]) -> dict[str, str]:
    """Each case id's anchor, unique on the page even where two ids spell the same one."""
    anchors: dict[str, str] = {}
    taken: set[str] = set()
    for case in cases:
        anchor = case_anchor(str(case["id"]))
        while anchor in taken:
            anchor += "-"
        taken.add(anchor)
        anchors[case["id"]] = anchor
    return anchors


def group_anchor(key: str) -> str:
    """The id of a scorecard row's cases: ``cap-openai-streaming``."""
    return "cap-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in key)


def _rank(verdict: str) -> int:
    return _ORDER.index(verdict) if verdict in _ORDER else -1


def _filters(results: dict[str, Any]) -> str:
    """Checkboxes that show or hide cases by verdict; CSS alone reads them."""
    counts = verdict_counts(results)
    boxes = "".join(
        f'<label><input type="checkbox" id="cc-show-{v}" checked'
        f'{"" if counts[v] else " disabled"}> <span class="cc-v {css_class(v)}">{v}</span> '
        f"{counts[v]}</label>"
        for v in VERDICTS
    )
    return f'<fieldset class="cc-controls"><legend>Show cases</legend>{boxes}</fieldset>'


def _set_class(counts: Counter[str]) -> str:
    """The group's class for the filter: its verdicts, when all are filterable ones."""
    return "cc-set-" + "-".join(sorted(counts)) if set(counts) <= set(VERDICTS) else ""


def _case(case: dict[str, Any], anchor: str, rules_shown: set[str]) -> str:
    verdict = str(case["verdict"])
    badge = f'<span class="cc-v {css_class(verdict)}">{text(verdict)}</span>'
    title = f'<code class="cc-id">{breakable(case["id"])}</code> {text(case.get("title", ""))}'
    attrs = f'class="cc-case" id="{anchor}" data-verdict="{text(verdict)}"'
    facts = f"attempts {text(case.get('attempts', 1))} · {duration(case.get('duration_s'))}"
    if verdict in _OPEN or case["findings"]:
        return (
            f"<section {attrs}><h4>{badge} {title} <small>{facts}</small></h4>"
            f"{_case_body(case, rules_shown)}</section>"
        )
    reason = f" <small>— {text(case['reason'])}</small>" if case.get("reason") else ""
    return (
        f"<details {attrs}><summary>{badge} {title}{reason}</summary>"
        f"<div>{_case_body(case, rules_shown, f' · {facts}')}</div></details>"
    )


def _case_body(case: dict[str, Any], rules_shown: set[str], facts: str = "") -> str:
    parts = [
        f'<p class="cc-req">{text(case.get("requirement", ""))} '
        f"<small>({text(case.get('source', ''))}){facts}</small></p>"
    ]
    if case.get("reason"):
        parts.append(f"<p><b>{text(case['verdict'])}</b>: {text(case['reason'])}</p>")
    if isinstance(case.get("media"), dict):
        parts.append(_media(case["media"]))
    parts.extend(f"<p><small>{text(note)}</small></p>" for note in case.get("notes", []))
    exchanges = case.get("exchanges", [])
    shown: set[str] = set()
    folds = []
    numbered = len(case["findings"]) > 1
    for number, finding in enumerate(case["findings"], 1):
        finding_html, fold = _finding(finding, exchanges, shown, rules_shown)
        parts.append(finding_html)
        if fold:
            folds.append(fold.replace("Evidence", f"Evidence {number}", 1) if numbered else fold)
    folds.append(_exchanges(exchanges, shown))
    parts.append(f'<div class="cc-folds">{"".join(folds)}</div>')
    return "".join(parts)


def _finding(
    finding: dict[str, Any],
    exchanges: list[dict[str, Any]],
    shown: set[str],
    rules_shown: set[str],
) -> tuple[str, str]:
    """A finding: what was expected and received, then its evidence, once per case; and
    the evidence folded instead, where the rule's was shown open at an earlier case."""
    severity, rule_id = str(finding.get("severity", "")), str(finding["rule"])
    where = f" at <code>{text(finding['location'])}</code>" if finding.get("location") else ""
    index = finding.get("exchange")
    index = index if isinstance(index, int) and 0 <= index < len(exchanges) else None
    if index is not None:
        where += f" (exchange {index})"
    evidence = str(finding.get("evidence") or "")
    block = fold = ""
    if evidence and _same(evidence, shown):
        block = '<p class="cc-muted"><small>Evidence: as above.</small></p>'
    elif evidence:
        shown.add(evidence)
        pre = f"<pre>{text(pretty(evidence))}</pre>"
        if rule_id not in rules_shown:
            block = pre
        else:
            response = "" if index is None else str(exchanges[index].get("response_excerpt") or "")
            whose = f" (the response of exchange {index})" if _same(evidence, {response}) else ""
            fold = f'<details class="cc-evidence"><summary>Evidence{whose}</summary>{pre}</details>'
    rules_shown.add(rule_id)
    finding_html = (
        f'<div class="cc-finding"><p><span class="{css_class(severity)}">{text(severity)}</span> '
        f'<a href="#{rule_anchor(rule_id)}"><code>{breakable(rule_id)}</code></a> '
        f"{text(finding.get('title', ''))}{where}</p>"
        f'<pre class="cc-msg">{text(pretty(str(finding.get("message", ""))))}</pre>{block}</div>'
    )
    return finding_html, fold


def _exchanges(exchanges: list[dict[str, Any]], shown: set[str]) -> str:
    """A case's exchanges folded into one line (statuses and times); inside, each one's
    facts, curl line and response (unless that is the evidence shown above)."""
    if not exchanges:
        return ""
    line = ", ".join(
        f"HTTP {text(e.get('status'))} in {duration(e.get('elapsed_s'))}" for e in exchanges
    )
    count = f"{len(exchanges)} exchange{'s' if len(exchanges) > 1 else ''}"
    inside = "".join(_exchange(i, e, shown) for i, e in enumerate(exchanges))
    return f'<details class="cc-exchanges"><summary>{count}: {line}</summary>{inside}</details>'


def _exchange(index: int, exchange: dict[str, Any], shown: set[str]) -> str:
    facts = [f"HTTP {text(exchange.get('status'))}"]
    if exchange.get("content_type"):
        facts.append(text(exchange["content_type"]))
    facts.append(duration(exchange.get("elapsed_s")))
    for key, said in (("first_byte_s", "first byte"), ("first_token_s", "first token")):
        if isinstance(exchange.get(key), int | float):
            facts.append(f"{said} {duration(exchange[key])}")
    if exchange.get("events"):
        facts.append(f"{text(exchange['events'])} events")
    usage = exchange.get("usage")
    if isinstance(usage, dict):
        facts.append(
            f"{text(usage.get('input_tokens'))} in, {text(usage.get('output_tokens'))} out tokens"
        )
    if isinstance(exchange.get("attempts"), int) and exchange["attempts"] > 1:
        facts.append(f"{exchange['attempts']} attempts")
    if exchange.get("error"):
        facts.append(f"error: {text(exchange['error'])}")
    excerpt = str(exchange.get("response_excerpt") or "")
    if not excerpt:
        response = ""
    elif _same(excerpt, shown):
        response = '<p class="cc-muted"><small>Response: the evidence above.</small></p>'
    else:
        response = f"<pre>{text(pretty(excerpt))}</pre>"
    return (
        f'<div class="cc-exchange"><p>Exchange {index}: {" · ".join(facts)}</p>'
        f"<pre>{text(curl(str(exchange.get('request', ''))))}</pre>{response}</div>"
    )


def _same(excerpt: str, shown: set[str]) -> bool:
    """Whether ``excerpt`` is already on the page: whole, or clipped at another length
    (the same first 200 characters)."""
    return any(excerpt[:200] == other[:200] for other in shown)


def _media(media: dict[str, Any]) -> str:
    """An image case's pictures as thumbnails, with the question asked and the answer given."""
    images = "".join(
        f'<img src="{escape(image["thumbnail"])}" alt="{text(image.get("file", ""))}" '
        f'title="{text(image.get("file", ""))}">'
        for image in media.get("images", [])
        if isinstance(image, dict) and _THUMBNAIL.fullmatch(str(image.get("thumbnail", "")))
    )
    said = "".join(
        f"<p>{label.capitalize()}: <q>{text(media[label])}</q></p>"
        for label in ("question", "answer")
        if label in media
    )
    return f'<div class="cc-media">{images}<div>{said}</div></div>'
