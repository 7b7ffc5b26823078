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
# Clients the rules' ``breaks`` lines name, as the headline says them: a manager knows
# "openai-node", not "JSON.parse of a non-string".
_CLIENTS = (
    ("Claude Code", "Claude Code"),
    ("anthropic-sdk-python", "anthropic-sdk-python"),
    ("anthropic-sdk-typescript", "anthropic-sdk-typescript"),
    ("openai-python", "openai-python"),
    ("openai-node", "openai-node"),
    ("OpenAI Agents SDK", "the OpenAI Agents SDK"),
    ("Vercel AI SDK", "the Vercel AI SDK"),
    ("LangChain", "LangChain"),
    ("LlamaIndex", "LlamaIndex"),
    ("LiteLLM", "LiteLLM"),
    ("instructor", "instructor"),
    ("async-openai", "async-openai"),
    ("Open WebUI", "Open WebUI"),
    ("LibreChat", "LibreChat"),
    ("Cherry Studio", "Cherry Studio"),
)
# Measured rows that neither conform nor fail, as the headline says them.
_NOT_CONFORMING = (
    (Verdict.ERROR, "could not be judged (harness error)"),
    (Verdict.INCONCLUSIVE, "inconclusive"),
    (Verdict.UNSUPPORTED, "unsupported"),
)
# A breaks line that only says what a deviation spares names no broken client.
_SPARES = "does not break"
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
    capabilities conform; openai/streaming fails (2 deviations that break openai-node and
    the Vercel AI SDK)``. A run that judged nothing says so, with ``headline``'s counts."""
    where = f"{results['provider']['name']}, {run_date(results)}: "
    if not judged_count(results):
        return where + headline(results)
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
        clients = broken_clients(rules)
        if clients:
            text += f" that break{'s' if len(rules) == 1 else ''} {clients}"
        text += ")"
    for status, said in _NOT_CONFORMING:
        rows = [names[k] for k in measured if statuses[k] == status]
        if rows:
            text += f"; {_and(rows)} {said}"
    if not results.get("complete", True):
        text += " (interrupted: partial results)"
    return where + text


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


def broken_clients(rule_ids: list[str]) -> str:
    """The clients the rules break, in the rules' order, named as a reader knows them:
    ``openai-node, LangChain and the Vercel AI SDK``; "" if the catalog names none."""
    rules = catalog()
    named: dict[str, None] = {}
    generic: dict[str, None] = {}
    for rule in (rules[r] for r in rule_ids if r in rules):
        for line in rule.breaks:
            if line.startswith(_SPARES):
                continue
            found = sorted((line.find(name), said) for name, said in _CLIENTS if name in line)
            named.update(dict.fromkeys(said for _, said in found))
            if not found and line.startswith("every "):
                generic[line.split(":")[0].split(" (")[0]] = None
    clients = list(named or generic)
    if len(clients) > _CLIENTS_NAMED:
        others = len(clients) - _CLIENTS_NAMED + 1
        return f"{', '.join(clients[: _CLIENTS_NAMED - 1])} and {others} other clients"
    return _and(clients)


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
    deviations = Counter(
        (f["severity"], f["rule"], f["title"]) for c in results["cases"] for f in c["findings"]
    )
    if deviations:
        lines.append("deviations:")
        for (severity, rule, title), count in sorted(deviations.items()):
            lines.append(f"  [{severity}] {rule}: {title} ({_plural(count, 'case', 'cases')})")
    return "\n".join(lines)
