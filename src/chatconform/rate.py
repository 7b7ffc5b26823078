"""Rate control: when a request may be sent, and how long to wait before sending it again.

A provider counts requests and tokens per minute for a key, not per worker: every thread
and process of a run asks one ``RateLimiter`` before each request, and they share its
record (``SharedState``, a locked file in the run's report directory). A ``Retry-After``
a provider sends holds every request of the run, not only the one that got it. Between
attempts of one request, ``backoff_s`` waits exponentially longer, with jitter, so that
workers refused together do not come back together.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chatconform.shared_state import SharedState

# Both limits are per minute, over a sliding window: no 60 s span ever holds more.
WINDOW_S = 60.0
# A base64 image or document is counted as this many prompt tokens, not by its size:
# providers charge images by their pixels, a few hundred to a few thousand tokens.
BLOB_TOKENS = 1000
_BLOB = re.compile(rb"[A-Za-z0-9+/=]{2000,}")
# Where a request says how many tokens it may produce, in the dialects the suite speaks.
_CAP_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens")


@dataclass(frozen=True)
class RateLimits:
    """A provider's limits per minute; None is no limit."""

    rpm: int | None = None
    tpm: int | None = None


class RateLimiter:
    """Admits the run's requests within its ``RateLimits`` and a provider's Retry-After.

    Tokens are counted when a request is sent, as the request's cap plus its prompt's
    estimated size (``estimated_tokens``), the way providers count them against a
    limit: an answer cannot push the run over it after the fact.
    """

    def __init__(
        self,
        limits: RateLimits | None = None,
        state: SharedState | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or RateLimits()
        self._state = state or SharedState()
        # Wall-clock time: the one clock every process of the run reads alike.
        self._clock = clock

    def try_admit(self, tokens: int, waited_until: float = 0.0) -> float:
        """0 when a request of ``tokens`` may go now (and is counted as sent), else the
        seconds to wait before asking again. ``waited_until``: the hold the request
        already waited out itself (its own Retry-After; see ``hold``)."""
        rpm, tpm = self.limits.rpm, self.limits.tpm
        with self._state.change() as state:
            now = self._clock()
            since = now - WINDOW_S
            sent = sorted(t for t in state.get("sent", []) if t > since)
            spent = sorted((t, n) for t, n in state.get("tokens", []) if t > since)
            hold_until = float(state.get("hold_until", 0.0))
            waits = [hold_until - now if hold_until > waited_until else 0.0]
            if rpm is not None and len(sent) >= rpm:
                waits.append(sent[-rpm] + WINDOW_S - now)
            if tpm is not None:
                waits.append(_until_tokens_fit(spent, tokens, tpm) - now)
            wait = max(waits)
            if wait <= 0:
                wait = 0.0
                if rpm is not None:
                    sent.append(now)
                if tpm is not None:
                    spent.append((now, tokens))
            state["sent"] = sent
            state["tokens"] = [list(entry) for entry in spent]
        return wait

    def hold(self, seconds: float) -> float:
        """Make every request of the run wait ``seconds`` from now (a provider's
        Retry-After applies to the key, not to one request); the time it holds until,
        which the request that was told waits out itself."""
        with self._state.change() as state:
            until = max(float(state.get("hold_until", 0.0)), self._clock() + seconds)
            state["hold_until"] = until
        return until


def _until_tokens_fit(spent: list[tuple[float, int]], tokens: int, tpm: int) -> float:
    """When ``tokens`` more fit in the window: once enough of the oldest entries leave it.
    A request larger than the whole limit goes alone, into an empty window."""
    excess = sum(n for _, n in spent) + tokens - tpm
    if excess <= 0 or not spent:
        return -math.inf
    freed = 0
    for t, n in spent:
        freed += n
        if freed >= excess:
            return t + WINDOW_S
    return spent[-1][0] + WINDOW_S


def estimated_tokens(payload: Any, body: bytes | None) -> int:
    """What a request may cost: the output cap it sets plus about one token per four
    bytes of the rest of its body, each base64 blob (an image, a document) counted as
    ``BLOB_TOKENS``."""
    cap = 0
    if isinstance(payload, dict):
        for key in _CAP_KEYS:
            value = payload.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                cap = max(cap, value)
    if not body:
        return cap
    blobs = _BLOB.findall(body)
    rest = len(body) - sum(len(b) for b in blobs)
    return cap + rest // 4 + BLOB_TOKENS * len(blobs)


def retry_after_s(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds a provider asks to wait: ``retry-after-ms`` (OpenAI's), else ``Retry-After``
    as delay-seconds or an HTTP date (RFC 9110 §10.2.3); None when it asks nothing."""
    milliseconds = _seconds(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # "-0000" parses naive; HTTP dates are UTC, never the local time zone.
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _seconds(value: str | None) -> float | None:
    """A finite, non-negative number of seconds (a fraction tolerated), else None."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def backoff_s(attempt: int, jitter: float, *, base_s: float = 1.0, max_s: float = 8.0) -> float:
    """The wait after failed attempt ``attempt`` (1, 2, ...) when the provider asked for
    none: doubling from ``base_s`` up to ``max_s``, between half of that and all of it
    (``jitter`` in [0, 1])."""
    ceiling = min(max_s, base_s * 2 ** (attempt - 1))
    return ceiling / 2 + ceiling / 2 * jitter
