"""The client matrix in HTML: which real client libraries work with the provider.

For the report, a table of dialect/capability × clients right under the scorecard, each
cell where a client does not work linking to the first case that shows it, with the
exception or difference; then every such call, per client. For the comparison, one row
per client and a cell per vendor saying where it does not work. Everything in
results.json is untrusted: escaped here.
"""

from __future__ import annotations

from html import escape
from typing import Any

from chatconform.html_page import VERDICT_BACKGROUNDS, case_anchor, css_class
from chatconform.report_evidence import breakable, text

# An outcome's colour: as good or bad as the verdict it reads like.
OUTCOME_COLOURS = {
    "works": VERDICT_BACKGROUNDS["pass"],
    "wrong": VERDICT_BACKGROUNDS["non_strict"],
    "breaks": VERDICT_BACKGROUNDS["fail"],
    "hangs": VERDICT_BACKGROUNDS["error"],
    "n/a": VERDICT_BACKGROUNDS["skipped"],
}
FAILING = ("wrong", "breaks", "hangs")
MEANINGS = {
    "works": "returned what the suite read from the wire (or raised its typed API error "
    "for an error status)",
    "wrong": "returned without error, but not what the answer holds (the cell says what)",
    "breaks": "raised an exception",
    "hangs": "never returned",
    "n/a": "nothing replayed for it",
}
CLIENTS_STYLE = "".join(
    f".cc-{css_class(kind)[3:]}{{background:{colour}}}\n"
    for kind, colour in OUTCOME_COLOURS.items()
) + (
    ".cc-clients td,.cc-clients th{padding:1px 6px;font-size:.92em}\n"
    ".cc-clients td small{display:block;max-width:16em;overflow-wrap:anywhere}\n"
    ".cc-calls{font-size:.9em}.cc-calls li{margin:.1em 0}\n"
)
DETAIL_CHARS = 90
NOT_COMPUTED = (
    "No client matrix in this run: it ran with --clients none, or its results.json "
    "predates the matrix."
)


def clients_html(results: dict[str, Any], anchors: dict[str, str]) -> str:
    """The report's client matrix section (``anchors``: case id -> its section's id)."""
    clients = results.get("clients")
    head = '<h2 id="clients">Clients</h2>'
    if not isinstance(clients, dict):
        return f"{head}<p>{escape(NOT_COMPUTED)}</p>"
    if not clients:
        return f"{head}<p>No client library could run here (see README: clients).</p>"
    rows = [
        row
        for row in _rows(clients)
        if any(_cell(e, row) != "n/a" for e in clients.values() if isinstance(e, dict))
    ]
    entries = {name: e for name, e in clients.items() if isinstance(e, dict)}
    body = [
        f"<tr><td>{breakable(row)}</td>"
        + "".join(_matrix_cell(entry, row, anchors) for entry in entries.values())
        + "</tr>"
        for row in rows
    ]
    head_cells = "".join(
        f"<th>{text(name)}<br><small>{text(entry.get('version') or '')}</small></th>"
        for name, entry in entries.items()
    )
    legend = "".join(
        f'<dt><span class="cc-v {css_class(kind)}">{escape(kind)}</span></dt>'
        f"<dd>{escape(meaning)}</dd>"
        for kind, meaning in MEANINGS.items()
    )
    return (
        f"{head}<p>Each recorded answer, replayed offline to real client libraries called "
        "as an application calls them.</p>"
        f'<table class="cc-clients"><tr><th>dialect/capability</th>{head_cells}</tr>'
        f"{''.join(body)}</table>"
        f'<dl class="cc-legend">{legend}</dl>{_calls(clients, anchors)}'
    )


def _rows(clients: dict[str, Any]) -> list[str]:
    found: dict[str, None] = {}
    for entry in clients.values():
        capabilities = entry.get("capabilities") if isinstance(entry, dict) else None
        if isinstance(capabilities, dict):
            found.update(dict.fromkeys(str(k) for k in capabilities))
    return sorted(found)


def _cell(entry: dict[str, Any], row: str) -> str:
    capabilities = entry.get("capabilities")
    value = capabilities.get(row) if isinstance(capabilities, dict) else None
    return value if value in OUTCOME_COLOURS else "n/a"


def _examples(entry: dict[str, Any]) -> list[dict[str, Any]]:
    examples = entry.get("examples")
    return [e for e in examples if isinstance(e, dict)] if isinstance(examples, list) else []


def _matrix_cell(entry: dict[str, Any], row: str, anchors: dict[str, str]) -> str:
    kind = _cell(entry, row)
    if kind not in FAILING:
        return f'<td class="{css_class(kind)}">{escape(kind)}</td>'
    shown = next(
        (
            e
            for e in _examples(entry)
            if e.get("outcome") == kind and str(e.get("case", "")).startswith(row + "/")
        ),
        None,
    )
    if shown is None:
        return f'<td class="{css_class(kind)}">{escape(kind)}</td>'
    case_id = str(shown.get("case", ""))
    href = anchors.get(case_id) or case_anchor(case_id)
    detail = str(shown.get("detail", ""))
    if len(detail) > DETAIL_CHARS:
        detail = detail[:DETAIL_CHARS] + "…"
    return (
        f'<td class="{css_class(kind)}"><a href="#{escape(href)}">{escape(kind)}</a>'
        f"<small>{text(detail)}</small></td>"
    )


def _calls(clients: dict[str, Any], anchors: dict[str, str]) -> str:
    """Every call that did not work, per client, linking to its case."""
    parts = []
    for name, entry in clients.items():
        examples = [e for e in _examples(entry) if isinstance(entry, dict)]
        if not examples:
            continue
        items = "".join(
            f'<li><span class="cc-v {css_class(str(e.get("outcome", "")))}">'
            f"{text(e.get('outcome', ''))}</span> "
            f'<a href="#{escape(anchors.get(str(e.get("case", ""))) or case_anchor(str(e.get("case", ""))))}">'
            f"{breakable(str(e.get('case', '')))}</a> <code>{text(e.get('call', ''))}</code>: "
            f"{text(e.get('detail', ''))}</li>"
            for e in examples
        )
        unsent = sum(1 for e in examples if e.get("outcome") == "n/a")
        said = [
            f"{len(examples) - unsent} calls that did not work" if len(examples) > unsent else "",
            f"{unsent} requests it would not send (n/a)" if unsent else "",
        ]
        parts.append(
            f"<details><summary>{text(name)}: {text(', '.join(s for s in said if s))}</summary>"
            f'<ul class="cc-calls">{items}</ul></details>'
        )
    return "".join(parts)


def failing_clients(results: dict[str, Any], case_ids: list[str]) -> list[tuple[str, str]]:
    """(client, worst outcome) of the clients that did not work in any of these cases."""
    clients = results.get("clients")
    if not isinstance(clients, dict):
        return []
    found = []
    for name, entry in clients.items():
        cases = entry.get("cases") if isinstance(entry, dict) else None
        if not isinstance(cases, dict):
            continue
        kinds = [cases.get(c) for c in case_ids]
        worst = max((FAILING.index(k) for k in kinds if k in FAILING), default=None)
        if worst is not None:
            found.append((str(name), FAILING[worst]))
    return found


def vendors_html(per_vendor: dict[str, Any], labels: list[str]) -> str:
    """The comparison's client table: a row per client, a cell per vendor with where the
    client does not work there (``per_vendor``: label -> that run's ``clients``)."""
    names = sorted(
        {str(n) for clients in per_vendor.values() if isinstance(clients, dict) for n in clients}
    )
    if not names:
        return f"<p>{escape(NOT_COMPUTED)}</p>"
    rows = []
    for name in names:
        cells = []
        for label in labels:
            clients = per_vendor.get(label)
            entry = clients.get(name) if isinstance(clients, dict) else None
            if not isinstance(entry, dict):
                cells.append('<td class="cc-notrun">not run</td>')
                continue
            failing = {r: _cell(entry, r) for r in _rows({name: entry})}
            bad = {r: k for r, k in failing.items() if k in FAILING}
            if not bad:
                measured = any(k == "works" for k in failing.values())
                kind = "works" if measured else "n/a"
                cells.append(f'<td class="{css_class(kind)}">{escape(kind)}</td>')
                continue
            worst = max(bad.values(), key=FAILING.index)
            listed = "".join(f"<small>{text(r)}: {escape(k)}</small>" for r, k in bad.items())
            cells.append(f'<td class="{css_class(worst)}">{escape(worst)}{listed}</td>')
        rows.append(f"<tr><td>{text(name)}</td>{''.join(cells)}</tr>")
    head = "".join(f"<th>{escape(label)}</th>" for label in labels)
    return (
        f'<table class="cc-cmp cc-clients"><thead><tr><th>client</th>{head}</tr></thead>'
        f"{''.join(rows)}</table>"
    )
