"""results.json: the run's machine-readable outcome, and its one-screen summary."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from chatconform import __version__
from chatconform.config import DIALECT_CAPABILITIES, ProviderConfig
from chatconform.provider_profile import run_profile
from chatconform.rules import catalog
from chatconform.verdict import NOT_MEASURED, Verdict, capability_status

# 2: scorecard rows keyed by dialect/capability; provider.dialects a table per dialect;
# openai.response.* rules renamed openai.completion.*.
SCHEMA_VERSION = 2
RESULTS_FILE = "results.json"
# Verdicts that judge the provider; a run with none of them concluded nothing,
# whatever else it counted.
JUDGED = frozenset({Verdict.PASS, Verdict.NON_STRICT, Verdict.FAIL})
# The headline's order and words: worst first, the way a reader triages a run.
_HEADLINE = (
    (Verdict.ERROR, "harness error"),
    (Verdict.FAIL, "failed"),
    (Verdict.NON_STRICT, "non-strict"),
    (Verdict.PASS, "passed"),
    (Verdict.INCONCLUSIVE, "inconclusive"),
    (Verdict.UNSUPPORTED, "unsupported"),
    (Verdict.SKIPPED, "skipped"),
)
# Statuses of a scorecard row that conform: only should-deviations, if any.
CONFORMING = frozenset({Verdict.PASS, Verdict.NON_STRICT})
# The clients a rule's ``breaks`` names (chatconform.rules.CLIENTS), as the headline says
# them: a manager knows "the Vercel AI SDK", not "vercel-ai".
_CLIENT_NAMES = {
    "openai-python": "openai-python",
    "anthropic-python": "anthropic-sdk-python",
    "openai-node": "openai-node",
    "vercel-ai": "the Vercel AI SDK",
}
# Client outcomes that say a client does not work with the provider (chatconform.clients).
_CLIENT_FAILS = frozenset({"wrong", "breaks", "hangs"})
# Measured rows that neither conform nor fail, as the headline says them.
_NOT_CONFORMING = (
    (Verdict.ERROR, "could not be judged (harness error)"),
    (Verdict.INCONCLUSIVE, "inconclusive"),
    (Verdict.UNSUPPORTED, "unsupported"),
)
# What stops cases for the run as a whole, as the reasons the client and probes give
# say it (chatconform.breaker, chatconform.probe): the headline names it.
_RUN_CAUSES = (
    ("rate limited", ("rate limited",)),
    ("provider unreachable", ("provider unreachable", "ConnectError", "connect timeout")),
)
# How many broken clients the headline names before "and N other clients".
_CLIENTS_NAMED = 4


def public_url(url: str) -> str:
    """A URL without credentials or query string, safe to print and store."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    host = parts.hostname or ""
    if port:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def build_results(
    provider: ProviderConfig,
    cases: list[dict[str, Any]],
    started_at: float,
    duration_s: float,
    *,
    complete: bool = True,
) -> dict[str, Any]:
    """The results.json document; ``complete`` is False for a run cut short (Ctrl-C)."""
    cases = sorted(cases, key=lambda c: c["id"])
    by_capability: dict[str, list[str]] = {
        f"{dialect}/{c}": [] for dialect in provider.dialects for c in DIALECT_CAPABILITIES[dialect]
    }
    for entry in cases:
        by_capability.setdefault(scorecard_key(entry), []).append(entry["verdict"])
    usage = Counter()
    for entry in cases:
        usage.update(entry.get("usage", {}))
    refused = unsupported_features(cases)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "chatconform", "version": __version__},
        "provider": {
            "name": provider.name,
            "dialects": {
                name: {
                    "base_url": public_url(spoken.base_url),
                    "auth": spoken.auth,
                    "models": dict(spoken.models),
                }
                for name, spoken in provider.dialects.items()
            },
            "prices": dict(provider.prices),
        },
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_at)),
        "duration_s": round(duration_s, 3),
        "complete": complete,
        "usage": {k: usage.get(k, 0) for k in ("requests", "prompt_tokens", "completion_tokens")},
        "waits": run_waits(cases),
        "profile": run_profile(cases),
        "summary": {
            "verdicts": {v.value: sum(c["verdict"] == v.value for c in cases) for v in Verdict},
            "capabilities": {
                name: _status(name.partition("/")[2], verdicts, refused.get(name, []))
                for name, verdicts in by_capability.items()
            },
            "capability_counts": {
                name: dict(Counter(verdicts)) for name, verdicts in by_capability.items()
            },
            "unsupported_features": refused,
        },
        "cases": cases,
    }


def run_waits(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's ``waits``: its cases' retries and seconds waited, summed."""
    total = {"retries": 0, "retry_s": 0.0, "rate_limit_s": 0.0}
    for case in cases:
        for key, value in (case.get("waits") or {}).items():
            if key in total and isinstance(value, int | float) and not isinstance(value, bool):
                total[key] += value
    return {
        **total,
        "retry_s": round(total["retry_s"], 3),
        "rate_limit_s": round(total["rate_limit_s"], 3),
    }


def scorecard_key(case: dict[str, Any]) -> str:
    """The scorecard row of a case: its dialect and capability, ``anthropic/text``."""
    return f"{case['dialect']}/{case['capability']}"


def _status(capability: str, verdicts: list[str], refused: list[str]) -> str:
    """``capability_status``, except that a provider refusing the capability itself (all
    images, say, where no model was configured for them) does not pass it on the
    strength of the cases that check how bad input is refused."""
    status = capability_status(verdicts)
    if status == Verdict.PASS and capability in refused:
        return str(Verdict.UNSUPPORTED)
    return status


def unsupported_features(cases: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per capability, the optional features the provider refused cleanly, sorted."""
    refused: dict[str, set[str]] = {}
    for entry in cases:
        if entry["verdict"] == Verdict.UNSUPPORTED:
            feature = entry.get("optional") or entry["id"].split("/")[-1]
            refused.setdefault(scorecard_key(entry), set()).add(feature)
    return {name: sorted(features) for name, features in sorted(refused.items())}


def status_label(status: str, features: list[str]) -> str:
    """A capability's status with its refused optional features: ``pass (1 optional
    feature unsupported: n)``."""
    if not features or status == Verdict.UNSUPPORTED:
        return status
    count = f"{len(features)} optional feature{'s' if len(features) > 1 else ''}"
    return f"{status} ({count} unsupported: {', '.join(features)})"


def write_results(directory: Path, results: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RESULTS_FILE
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return path


def verdict_counts(results: dict[str, Any]) -> Counter[str]:
    """How many cases got each verdict."""
    return Counter(c["verdict"] for c in results["cases"])


def judged_count(results: dict[str, Any]) -> int:
    """How many cases were judged (pass, non_strict or fail)."""
    counts = verdict_counts(results)
    return sum(counts[v] for v in JUDGED)


def headline(results: dict[str, Any]) -> str:
    """The run's outcome in one line, worst first: ``3 failed, 30 passed, 4 inconclusive``,
    or ``Nothing judged: 11 inconclusive`` when no case could be judged."""
    counts = verdict_counts(results)
    text = ", ".join(
        f"{counts[v]} {label}{'s' if v is Verdict.ERROR and counts[v] > 1 else ''}"
        for v, label in _HEADLINE
        if counts[v]
    )
    if not judged_count(results):
        text = f"Nothing judged: {text or 'no case ran'}"
    if not results.get("complete", True):
        text += " (interrupted: partial results)"
    return text


def headline_sentence(results: dict[str, Any]) -> str:
    """The run in one sentence a manager can quote: ``reference, 2026-12-02: 6 of 8
    capabilities conform; openai/streaming fails (2 deviations; openai-node and the Vercel
    AI SDK each break on at least one)``. A run that judged nothing says so, with ``headline``'s counts."""
    where = f"{results['provider']['name']}, {run_date(results)}: "
    if not judged_count(results):
        return where + headline(results) + _run_causes(results)
    statuses = results["summary"]["capabilities"]
    names = _row_names(statuses)
    measured = [k for k, status in statuses.items() if status != NOT_MEASURED]
    conform = [k for k in measured if statuses[k] in CONFORMING]
    lenient = [k for k in conform if statuses[k] == Verdict.NON_STRICT]
    of = _plural(len(measured), "capability conforms", "capabilities conform")
    text = f"{len(conform)} of {of}"
    if lenient:
        text += f", {len(lenient)} of them non-strict" if len(lenient) > 1 else " (1 non-strict)"
    failing = [k for k in measured if statuses[k] == Verdict.FAIL]
    if failing:
        rules = failing_rules(results, failing)
        text += f"; {_and([names[k] for k in failing])} fail{'s' if len(failing) == 1 else ''}"
        text += f" ({_plural(len(rules), 'deviation', 'deviations')}"
        clients = broken_clients(rules, measured_failing(results, failing))
        if clients and len(rules) == 1:
            text += f" that breaks {clients}"
        elif clients:
            # Not "that break X": of several deviations, X may break on one alone.
            one = " and " not in clients
            text += f"; {clients} {'breaks' if one else 'each break'} on at least one"
        text += ")"
    for status, said in _NOT_CONFORMING:
        rows = [names[k] for k in measured if statuses[k] == status]
        if rows:
            text += f"; {_and(rows)} {said}"
    text += _run_causes(results)
    if not results.get("complete", True):
        text += " (interrupted: partial results)"
    return where + text


def _run_causes(results: dict[str, Any]) -> str:
    """`` (rate limited: 60 cases)``: what stopped cases for the run as a whole (the
    provider refusing, or gone), from the reasons of its inconclusive cases; "" if
    nothing did."""
    counts: Counter[str] = Counter()
    for case in results["cases"]:
        if case["verdict"] != Verdict.INCONCLUSIVE:
            continue
        reason = str(case.get("reason", ""))
        for cause, marks in _RUN_CAUSES:
            if any(mark in reason for mark in marks):
                counts[cause] += 1
                break
    said = ", ".join(f"{cause}: {_plural(n, 'case', 'cases')}" for cause, n in counts.most_common())
    return f" ({said})" if said else ""


def run_date(results: dict[str, Any]) -> str:
    """The day the run started, ``2026-12-02`` (UTC), from ``started_at``."""
    started = str(results.get("started_at", ""))
    return started[:10] if len(started) >= 10 else "date unknown"


def failing_rules(results: dict[str, Any], rows: list[str]) -> list[str]:
    """The rules that fired in the cases of scorecard ``rows``, worst first: must before
    should, then the one that fired in most cases."""
    fired = Counter(
        f["rule"] for c in results["cases"] if scorecard_key(c) in rows for f in c["findings"]
    )
    rules = catalog()
    return sorted(
        fired, key=lambda r: (r not in rules or rules[r].severity != "must", -fired[r], r)
    )


def broken_clients(rule_ids: list[str], measured: list[str] | None = None) -> str:
    """The clients that break, named as a reader knows them: ``openai-node and the Vercel
    AI SDK``; those ``measured`` failing (the run's client matrix) when given, else those
    the rules' ``breaks`` name, in the rules' order; "" if none."""
    if measured is None:
        rules = catalog()
        claimed = [c for r in rule_ids if r in rules for c in rules[r].breaks]
    else:
        claimed = measured
    clients = list(dict.fromkeys(_CLIENT_NAMES.get(c, c) for c in claimed))
    if len(clients) > _CLIENTS_NAMED:
        others = len(clients) - _CLIENTS_NAMED + 1
        return f"{', '.join(clients[: _CLIENTS_NAMED - 1])} and {others} other clients"
    return _and(clients)


def measured_failing(results: dict[str, Any], rows: list[str]) -> list[str] | None:
    """The clients the run's client matrix shows not working in scorecard ``rows``, or
    None when the run has no matrix."""
    clients = results.get("clients")
    if not isinstance(clients, dict):
        return None
    return [
        name
        for name, entry in clients.items()
        if isinstance(entry, dict)
        and any(entry.get("capabilities", {}).get(row) in _CLIENT_FAILS for row in rows)
    ]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _and(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)


def _row_names(statuses: dict[str, str]) -> dict[str, str]:
    """Scorecard rows as the headline names them: the capability alone when every row
    is of one dialect (``streaming``), else the whole key (``openai/streaming``)."""
    dialects = {key.partition("/")[0] for key in statuses}
    return {key: key.partition("/")[2] or key if len(dialects) == 1 else key for key in statuses}


def _client_lines(results: dict[str, Any]) -> list[str]:
    """One line per replayed client: ``works``, or where it does not work and how."""
    clients = results.get("clients")
    if not isinstance(clients, dict) or not clients:
        return []
    lines = ["clients (recorded answers replayed to real client libraries):"]
    for name, entry in clients.items():
        rows = entry.get("capabilities", {}) if isinstance(entry, dict) else {}
        failing: dict[str, list[str]] = {}
        for row, kind in rows.items():
            if kind in _CLIENT_FAILS:
                failing.setdefault(kind, []).append(row)
        said = "; ".join(f"{kind} in {', '.join(where)}" for kind, where in failing.items())
        works = "works" if any(kind == "works" for kind in rows.values()) else "n/a"
        lines.append(f"  {name:<24} {said or works}")
    return lines


def verdict_reason(verdict: str, reason: str) -> str:
    """A verdict with why it was given, as a skip message reads: ``inconclusive: stalled``."""
    return f"{verdict}: {reason}" if reason else verdict


def findings_text(result: dict[str, Any]) -> str:
    """A case's requirement, why it stopped if it did, and its findings as plain text,
    Expected/Received included."""
    lines = [f"{result['id']}: {result['requirement']}"]
    if result["reason"]:
        lines.append(f"stopped: {result['reason']}")
    for finding in result["findings"]:
        lines.append(f"[{finding['severity']}] {finding['rule']}: {finding['title']}")
        lines.extend("    " + line for line in finding["message"].splitlines())
        if finding["location"]:
            lines.append(f"    at {finding['location']}")
    return "\n".join(lines)


def format_summary(results: dict[str, Any]) -> str:
    """The headline sentence, the outcome line (counts), per-capability status lines, then
    the deviations, for the terminal."""
    summary = results["summary"]
    where = ", ".join(f"{n} {d['base_url']}" for n, d in results["provider"]["dialects"].items())
    lines = [
        headline_sentence(results),
        f"outcome: {headline(results)}",
        f"chatconform: {results['provider']['name']} ({where}), "
        f"{len(results['cases'])} cases in {results['duration_s']:.1f} s, "
        f"{results['usage']['requests']} requests, "
        f"{results['usage']['prompt_tokens'] + results['usage']['completion_tokens']} tokens",
    ]
    for name, status in summary["capabilities"].items():
        counts = summary["capability_counts"].get(name, {})
        detail = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        label = status_label(status, summary.get("unsupported_features", {}).get(name, []))
        lines.append(f"  {name:<24} {label:<13} {detail}")
    lines.extend(_client_lines(results))
    deviations = Counter(
        (f["severity"], f["rule"], f["title"]) for c in results["cases"] for f in c["findings"]
    )
    if deviations:
        lines.append("deviations:")
        for (severity, rule, title), count in sorted(deviations.items()):
            lines.append(f"  [{severity}] {rule}: {title} ({_plural(count, 'case', 'cases')})")
    return "\n".join(lines)
