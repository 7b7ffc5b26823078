"""The client matrix of a run: which real client libraries work with the provider.

Every replayable exchange of the run (see ``jobs``) is served, offline, to every client
of its dialect that can run here, called as an application calls it; each reading is
compared with what the suite read (see ``outcome``). results.json keeps, per client:

- ``version``: the client library's version;
- ``capabilities``: per scorecard row (``openai/streaming``), the worst outcome of its
  cases (works, wrong, breaks, hangs), ``n/a`` where nothing was replayed;
- ``cases``: per replayed case, its worst outcome;
- ``examples``: every call that did not work: case, exchange, call, outcome, detail.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from chatconform.clients import python
from chatconform.clients.jobs import run_jobs
from chatconform.clients.outcome import WORKS, outcome, worst
from chatconform.clients.reading import Job, Reading
from chatconform.exchange import clip
from chatconform.redaction import Redactor

# A replayed call returns in milliseconds; one that takes this long is stuck.
CALL_TIMEOUT_S = 10.0
# Examples kept per client: a provider that breaks every call needs no 400 of them.
MAX_EXAMPLES = 200
DETAIL_CHARS = 500


@dataclass
class Matrix:
    """The ``clients`` of results.json, and why any chosen family did not run."""

    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def node_module() -> ModuleType | str:
    """The Node clients' module, or why they cannot run."""
    try:
        node = importlib.import_module("chatconform.clients.node")
    except ImportError as exc:
        return f"the Node clients are not part of this installation ({exc})"
    reason = node.available()
    return node if reason is None else reason


def client_matrix(
    run_dir: Path,
    families: Sequence[str] | None = None,
    *,
    timeout_s: float = CALL_TIMEOUT_S,
    redactor: Redactor | None = None,
) -> Matrix:
    """Replay a run directory's archive through the chosen client families (None: every
    one that can run) and build its matrix; raises ``ValueError`` or
    ``archive.ArchiveError`` (one line) when the run cannot be read."""
    matrix = Matrix()
    if families == ():
        return matrix
    found = run_jobs(run_dir)
    readings: list[Reading] = []
    with ThreadPoolExecutor(1, thread_name_prefix="chatconform-node") as beside:
        # The Node clients run in their own process: replayed while the Python ones are.
        node_readings = None
        if families is None or "node" in families:
            node = node_module()
            if isinstance(node, str):
                if families is not None:
                    matrix.notes.append(f"node clients not run: {node}")
            else:
                node_readings = beside.submit(node.read, found.jobs, timeout_s)
        if families is None or "python" in families:
            # Asked for by name, say why a client cannot run (checking imports every SDK).
            reason = python.available() if families is not None else None
            if reason is not None:
                matrix.notes.append(f"python clients: {reason}")
            readings += python.read(found.jobs, timeout_s, redactor)
        if node_readings is not None:
            try:
                readings += node_readings.result()
            except node.NodeRunnerError as exc:
                matrix.notes.append(f"node clients not run: {exc}")
    rows = _rows(found.cases)
    matrix.clients = build(found.jobs, readings, rows)
    return matrix


def _rows(cases: dict[str, dict[str, Any]]) -> list[str]:
    return sorted({f"{c.get('dialect')}/{c.get('capability')}" for c in cases.values()})


def build(jobs: Iterable[Job], readings: Iterable[Reading], rows: list[str]) -> dict[str, Any]:
    """The ``clients`` of results.json from the jobs and their readings."""
    by_key = {(job.case_id, job.exchange_index): job for job in jobs}
    clients: dict[str, dict[str, Any]] = {}
    case_outcomes: dict[str, dict[str, list[str]]] = {}
    for reading in readings:
        job = by_key.get((reading.case_id, reading.exchange_index))
        if job is None or job.expected is None:
            continue
        entry = clients.setdefault(
            reading.client,
            {"version": reading.client_version, "capabilities": {}, "cases": {}, "examples": []},
        )
        if entry["version"] is None:
            entry["version"] = reading.client_version
        result = outcome(job.expected, reading)
        case_outcomes.setdefault(reading.client, {}).setdefault(job.case_id, []).append(result.kind)
        entry.setdefault("_rows", {}).setdefault(job.capability, []).append(result.kind)
        if result.kind != WORKS and len(entry["examples"]) < MAX_EXAMPLES:
            entry["examples"].append(
                {
                    "case": job.case_id,
                    "exchange": job.exchange_index,
                    "call": reading.call,
                    "outcome": result.kind,
                    "detail": clip(result.detail, DETAIL_CHARS),
                }
            )
    for name, entry in clients.items():
        measured = entry.pop("_rows", {})
        entry["capabilities"] = {row: worst(measured.get(row, [])) for row in rows}
        entry["cases"] = {
            case_id: worst(kinds) for case_id, kinds in sorted(case_outcomes[name].items())
        }
    return dict(sorted(clients.items()))


def attach(
    run_dir: Path, families: Sequence[str] | None, redactor: Redactor | None = None
) -> list[str]:
    """Compute a finished run's matrix into its results.json and report; the lines to
    print (why a chosen family did not run, or why no matrix could be made)."""
    import json

    from chatconform import archive
    from chatconform.report import write_report
    from chatconform.results import RESULTS_FILE, write_results

    if families == ():
        return []
    try:
        matrix = client_matrix(run_dir, families, redactor=redactor)
        results = json.loads((run_dir / RESULTS_FILE).read_text(encoding="utf-8"))
    except (archive.ArchiveError, ValueError, OSError) as exc:
        return [f"no client matrix: {exc}"]
    results["clients"] = matrix.clients
    write_results(run_dir, results)
    write_report(run_dir, results)
    return matrix.notes
