"""results.json: the run's machine-readable outcome, and its one-screen summary."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from chatconform import __version__
from chatconform.config import CAPABILITIES, ProviderConfig
from chatconform.verdict import Verdict, capability_status

SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"


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
    by_capability: dict[str, list[str]] = {c: [] for c in CAPABILITIES}
    for entry in cases:
        by_capability.setdefault(entry["capability"], []).append(entry["verdict"])
    usage = Counter()
    for entry in cases:
        usage.update(entry.get("usage", {}))
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "chatconform", "version": __version__},
        "provider": {
            "name": provider.name,
            "base_url": public_url(provider.base_url),
            "dialects": list(provider.dialects),
            "models": dict(provider.models),
        },
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_at)),
        "duration_s": round(duration_s, 3),
        "complete": complete,
        "usage": {k: usage.get(k, 0) for k in ("requests", "prompt_tokens", "completion_tokens")},
        "summary": {
            "verdicts": {v.value: sum(c["verdict"] == v.value for c in cases) for v in Verdict},
            "capabilities": {
                name: capability_status(verdicts) for name, verdicts in by_capability.items()
            },
            "capability_counts": {
                name: dict(Counter(verdicts)) for name, verdicts in by_capability.items()
            },
        },
        "cases": cases,
    }


def write_results(directory: Path, results: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RESULTS_FILE
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return path


def format_summary(results: dict[str, Any]) -> str:
    """Per-capability status lines, then the deviations, for the terminal."""
    summary = results["summary"]
    lines = [
        f"chatconform: {results['provider']['name']} ({results['provider']['base_url']}), "
        f"{len(results['cases'])} cases in {results['duration_s']:.1f} s, "
        f"{results['usage']['requests']} requests, "
        f"{results['usage']['prompt_tokens'] + results['usage']['completion_tokens']} tokens"
    ]
    for name, status in summary["capabilities"].items():
        counts = summary["capability_counts"].get(name, {})
        detail = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        lines.append(f"  {name:<18} {status:<13} {detail}")
    deviations = Counter(
        (f["severity"], f["rule"], f["title"]) for c in results["cases"] for f in c["findings"]
    )
    if deviations:
        lines.append("deviations:")
        for (severity, rule, title), count in sorted(deviations.items()):
            lines.append(f"  [{severity}] {rule}: {title} ({count} cases)")
    return "\n".join(lines)
