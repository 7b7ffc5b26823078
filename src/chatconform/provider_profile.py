"""The provider profile: how fast a provider answers, measured on a run's exchanges.

Information, never a verdict: time to first token, total latency, output tokens per
second and the gaps between a stream's content events, per dialect. Read from the
exchanges as results.json records them; fields an older file lacks (``streamed``,
``usage``, ``first_token_s``, ``content_gaps_s``) are inferred or left out, never
guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    unit: str  # "s" values are shown in ms or s; others as numbers with the unit
    what: str  # which exchanges it is measured on
    # Plotted one dot per value in the report; a metric with thousands of values a run
    # (one per chunk) is shown as numbers only.
    chart: bool = True


METRICS = (
    Metric("ttft", "Time to first token", "s", "streamed exchanges answered 2xx"),
    Metric("latency", "Total latency", "s", "exchanges answered 2xx"),
    Metric("tps", "Output tokens per second", "tokens/s", "streamed 2xx exchanges with usage"),
    Metric(
        "gap", "Inter-chunk gap", "s", "gaps between content events of 2xx streams", chart=False
    ),
)
# Names of the measures in results.json's ``profile``.
PROFILE_KEYS = {
    "ttft": "ttft_s",
    "latency": "latency_s",
    "tps": "output_tokens_per_s",
    "gap": "content_gap_s",
}


def samples(results: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    """Per metric key, per dialect, the values measured on the run's exchanges."""
    return samples_of(results["cases"])


def samples_of(cases: list[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """``samples`` of results.json's ``cases``."""
    out: dict[str, dict[str, list[float]]] = {m.key: {} for m in METRICS}
    for case in cases:
        dialect = str(case.get("dialect", ""))
        for exchange in case.get("exchanges", []):
            for key, values in _measures(exchange).items():
                out[key].setdefault(dialect, []).extend(values)
    return out


def run_profile(cases: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """results.json's ``profile``: per dialect, per measure measured at least once, its
    count ``n``, ``p50``, ``p95`` and ``max``."""
    profile: dict[str, dict[str, dict[str, float]]] = {}
    for key, per_dialect in samples_of(cases).items():
        for dialect, values in sorted(per_dialect.items()):
            profile.setdefault(dialect, {})[PROFILE_KEYS[key]] = summary(values)
    return profile


def summary(values: list[float]) -> dict[str, float]:
    """``n``, ``p50``, ``p95`` and ``max`` of measured values (none: ``n`` 0)."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.5), 4),
        "p95": round(percentile(values, 0.95), 4),
        "max": round(max(values), 4),
    }


def uses_first_byte(results: dict[str, Any]) -> bool:
    """Whether some time to first token is the first byte's: the token's was not recorded."""
    return any(
        _number(e.get("first_token_s")) is None and _streamed(e) and _ok(e)
        for c in results["cases"]
        for e in c.get("exchanges", [])
    )


def _measures(exchange: dict[str, Any]) -> dict[str, list[float]]:
    if not _ok(exchange):
        return {}
    elapsed = _number(exchange.get("elapsed_s"))
    found = {} if elapsed is None else {"latency": [elapsed]}
    if not _streamed(exchange):
        return found
    gaps = exchange.get("content_gaps_s")
    if isinstance(gaps, list):
        found["gap"] = [g for g in map(_number, gaps) if g is not None]
    first = _number(exchange.get("first_token_s"))
    if first is None:
        first = _number(exchange.get("first_byte_s"))
    if first is None:
        return found
    found["ttft"] = [first]
    usage = exchange.get("usage")
    tokens = _number(usage.get("output_tokens")) if isinstance(usage, dict) else None
    if tokens and elapsed is not None and elapsed > first:
        found["tps"] = [tokens / (elapsed - first)]
    return found


def _ok(exchange: dict[str, Any]) -> bool:
    status = exchange.get("status")
    return isinstance(status, int) and 200 <= status < 300


def _streamed(exchange: dict[str, Any]) -> bool:
    """``streamed`` where recorded; in older files, an event stream's content type."""
    if "streamed" in exchange:
        return exchange["streamed"] is True
    return "event-stream" in str(exchange.get("content_type") or "")


def _number(value: Any) -> float | None:
    """A finite, non-negative number from results.json, or None: a hand-edited file is
    no reason to crash, nor to plot a string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # a provider's token count beyond any float
        return None
    return number if math.isfinite(number) and number >= 0 else None


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
