"""The load probe (``chatconform run --load N``): after the suite, N identical small
requests at once, against the same request sent alone.

Information for the provider profile, never a verdict: it reports how many of the N
were answered, their latency against one request alone, and the errors by status, in
results.json (``load``) and the report. Every request is bounded by the provider's
timeouts, counted in the run's usage and token budget, and never sent when the budget
cannot pay for all of them.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from chatconform.budget import TokenLedger
from chatconform.client import http_transport, provider_headers, tls_context
from chatconform.config import ProviderConfig
from chatconform.prompts import prompt
from chatconform.provider_profile import percentile
from chatconform.reply import token_count
from chatconform.results import RESULTS_FILE, write_results

# Enough to see a provider queue or shed requests; more is a load test, not a probe.
MAX_LOAD = 256
# Requests sent one at a time first: their median is "one request alone".
ALONE = 3
# The answer is one number: a few tokens bound what each request costs.
MAX_TOKENS = 8
# What one request may cost at most, for the budget: its prompt (some 20 tokens with
# the framing) and its cap.
COST_BOUND = 40 + MAX_TOKENS
# Where each dialect's answer says what it read and wrote.
USAGE_KEYS = {
    "openai": ("prompt_tokens", "completion_tokens"),
    "anthropic": ("input_tokens", "output_tokens"),
}


def load_count(value: str) -> int:
    """``--load``'s argument: how many requests at once, 1 to ``MAX_LOAD``."""
    if not value.isdigit() or not 1 <= int(value) <= MAX_LOAD:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of requests (1-{MAX_LOAD})")
    return int(value)


@dataclass(frozen=True)
class Shot:
    """One request of the probe: its status (None: no response), how long it took, why it
    failed, and the tokens its answer reported."""

    status: int | None
    elapsed_s: float
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Target:
    """The request every shot sends: one dialect's plain question."""

    dialect: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any]


def after_run(provider: ProviderConfig, run_dir: Path, n: int) -> None:
    """Probe ``provider`` with ``n`` requests at once and add the outcome to the run's
    results.json and report. A run that wrote no results (interrupted, broken) is
    left as it is."""
    results_file = run_dir / RESULTS_FILE
    if not results_file.exists():
        return
    results = json.loads(results_file.read_text(encoding="utf-8"))
    ledger = TokenLedger(run_dir / ".tokens-spent", provider.max_tokens_total)
    outcome = probe(provider, n, ledger)
    results["load"] = outcome
    usage = outcome.get("usage", {})
    results["usage"] = {k: results["usage"].get(k, 0) + usage.get(k, 0) for k in results["usage"]}
    write_results(run_dir, results)
    # Imported here, like the plugin does: the report pulls in the rule catalog.
    from chatconform.report import write_report

    write_report(run_dir, results)
    print(f"load probe: {summary_line(outcome)}")


def probe(provider: ProviderConfig, n: int, ledger: TokenLedger) -> dict[str, Any]:
    """results.json's ``load``: ``ALONE`` requests one by one, then ``n`` at once."""
    target = _target(provider)
    needed = (ALONE + n) * COST_BOUND
    if ledger.limit is not None and ledger.spent() + needed > ledger.limit:
        return {
            "concurrency": n,
            "skipped": f"the token budget ({ledger.limit}) cannot pay for {ALONE + n} more "
            f"requests (up to {needed} tokens)",
        }
    timeout = httpx.Timeout(provider.timeout_s, connect=min(10.0, provider.timeout_s))
    # Each request on a connection of its own, alone or not, like N independent clients:
    # a reused connection would make "alone" cheaper than any of the N.
    pool = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    with httpx.Client(
        timeout=timeout, limits=pool, transport=http_transport(limits=pool), verify=tls_context()
    ) as client:
        alone = [_shoot(client, target) for _ in range(ALONE)]
        together = _volley(client, target, n, provider.timeout_s)
    shots = alone + together
    for shot in shots:
        ledger.spend(shot.input_tokens + shot.output_tokens)
    return {
        "dialect": target.dialect,
        "concurrency": n,
        "alone": _part(alone),
        "concurrent": _part(together),
        "success_rate": round(sum(s.ok for s in together) / n, 4),
        "slowdown_p50": _slowdown(alone, together),
        "errors": dict(sorted(Counter(_error_key(s) for s in together if not s.ok).items())),
        "usage": {
            "requests": len(shots),
            "prompt_tokens": sum(s.input_tokens for s in shots),
            "completion_tokens": sum(s.output_tokens for s in shots),
        },
    }


def summary_line(outcome: dict[str, Any]) -> str:
    """``8 at once: 8/8 answered, p50 0.05 s (alone 0.02 s, 2.5x)`` or why it was skipped."""
    if "skipped" in outcome:
        return f"not run: {outcome['skipped']}"
    together, alone = outcome["concurrent"], outcome["alone"]
    line = (
        f"{outcome['concurrency']} at once: {together['succeeded']}/{together['requests']} answered"
    )
    if together.get("latency_p50_s") is not None and alone.get("latency_p50_s") is not None:
        line += f", p50 {together['latency_p50_s']:.3f} s (alone {alone['latency_p50_s']:.3f} s"
        line += f", {outcome['slowdown_p50']}x)" if outcome.get("slowdown_p50") else ")"
    if outcome["errors"]:
        line += "; errors " + ", ".join(f"{k}: {v}" for k, v in outcome["errors"].items())
    return line


def _target(provider: ProviderConfig) -> Target:
    """The plain question in the first dialect the provider offers (OpenAI's first)."""
    name = "openai" if "openai" in provider.dialects else next(iter(provider.dialects))
    spoken = provider.dialects[name]
    model = spoken.model_for("text") or ""
    question = [dict(m) for m in prompt("liveness").messages]
    headers = provider_headers(provider, name)
    base = spoken.base_url.rstrip("/")
    if name == "openai":
        body = {"model": model, "messages": question, provider.token_param: MAX_TOKENS}
        return Target(name, f"{base}/chat/completions", headers, body)
    body = {"model": model, "messages": question, "max_tokens": MAX_TOKENS}
    return Target(name, f"{base}/v1/messages", headers, body)


def _shoot(client: httpx.Client, target: Target) -> Shot:
    started = time.monotonic()
    try:
        response = client.post(target.url, json=target.body, headers=target.headers)
    except httpx.TimeoutException:
        return Shot(None, time.monotonic() - started, "timeout")
    except httpx.HTTPError as exc:
        # The exception's name, not its message: nothing the provider sent is kept.
        return Shot(None, time.monotonic() - started, type(exc).__name__)
    elapsed = time.monotonic() - started
    counts = _usage(response, target.dialect) if response.is_success else (0, 0)
    return Shot(response.status_code, elapsed, None, *counts)


def _volley(client: httpx.Client, target: Target, n: int, timeout_s: float) -> list[Shot]:
    """``n`` shots released together; one still running after the client's own bounds
    (connect, read, and some slack) counts as timed out."""
    start = threading.Barrier(n)

    def shoot() -> Shot:
        start.wait(timeout=timeout_s)
        return _shoot(client, target)

    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="chatconform-load")
    futures = [pool.submit(shoot) for _ in range(n)]
    wait(futures, timeout=3 * timeout_s + 10)
    pool.shutdown(wait=False, cancel_futures=True)
    return [
        f.result() if f.done() and f.exception() is None else Shot(None, 3 * timeout_s, "timeout")
        for f in futures
    ]


def _usage(response: httpx.Response, dialect: str) -> tuple[int, int]:
    """(input, output) tokens the answer reported; 0 for a count it did not report."""
    try:
        payload = response.json()
    except (ValueError, RecursionError):
        return 0, 0
    usage = payload.get("usage") if isinstance(payload, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    read, written = USAGE_KEYS[dialect]
    return token_count(usage.get(read)), token_count(usage.get(written))


def _part(shots: list[Shot]) -> dict[str, Any]:
    """Requests, how many were answered 2xx, and the latency of those."""
    answered = [s.elapsed_s for s in shots if s.ok]
    return {
        "requests": len(shots),
        "succeeded": len(answered),
        "latency_p50_s": round(percentile(answered, 0.5), 4) if answered else None,
        "latency_p95_s": round(percentile(answered, 0.95), 4) if answered else None,
    }


def _slowdown(alone: list[Shot], together: list[Shot]) -> float | None:
    """p50 latency under load over p50 alone, of answered requests (None: not both)."""
    single = [s.elapsed_s for s in alone if s.ok]
    loaded = [s.elapsed_s for s in together if s.ok]
    if not single or not loaded or percentile(single, 0.5) <= 0:
        return None
    return round(percentile(loaded, 0.5) / percentile(single, 0.5), 2)


def _error_key(shot: Shot) -> str:
    """How results.json counts a failed request: its HTTP status, or what went wrong."""
    return str(shot.status) if shot.status is not None else shot.error or "no response"
