"""Cases: what each conformance test declares, and what it records while it runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, NoReturn

import pytest

from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding, deduplicate
from chatconform.verdict import Verdict, judge

MARK = "chatconform_case"
# Asks the plain version of a semantic probe: None when the model answered it,
# else why not (the case is then inconclusive).
Control = Callable[[], str | None]
# Long enough for a request with small inline images to stay a runnable curl line.
REQUEST_CHARS = 64_000
# Gaps between content events kept per stream in results.json: a longer stream keeps an
# evenly spaced sample of its gaps, and its longest one.
MAX_GAPS = 1000


@dataclass(frozen=True)
class CaseInfo:
    """What a case tests: a stable id (``dialect/capability/name``) and its requirement."""

    id: str
    title: str
    requirement: str
    source: str
    # The optional feature the case tests (``n``, ``logprobs``, ``webp images``): a clean
    # refusal of it is ``unsupported``. None for a core request of the dialect, whose
    # refusal is a failure.
    optional: str | None = None
    # Requests the case sends one after another (a tool call, then its result): cases
    # kept in flight together start longest first, so none is left to run on alone.
    round_trips: int = 1

    @property
    def dialect(self) -> str:
        return self.id.split("/")[0]

    @property
    def capability(self) -> str:
        return self.id.split("/")[1]


def case(
    id: str,
    *,
    title: str,
    requirement: str,
    source: str,
    optional: str | None = None,
    round_trips: int = 1,
) -> pytest.MarkDecorator:
    """Declare a test function a conformance case (h2spec style: id, requirement, source).

    ``optional`` names the optional feature the case tests; without it the case
    sends a core request, which a provider speaking the dialect must not refuse.
    ``round_trips``: how many requests it sends one after another, when more than one.
    """
    if id.count("/") != 2:
        raise ValueError(f"case id {id!r} is not dialect/capability/name")
    if round_trips < 1:
        raise ValueError(f"case {id!r}: round_trips must be at least 1")
    info = CaseInfo(id, title, requirement, source, optional=optional, round_trips=round_trips)
    return getattr(pytest.mark, MARK)(info)


class CaseStop(Exception):
    """Ends a case early: unsupported, inconclusive, skipped, or (after a structural
    finding) fail, so that nothing downstream of the broken exchange is judged."""

    def __init__(self, verdict: Verdict, reason: str) -> None:
        super().__init__(reason)
        self.verdict = verdict
        self.reason = reason


@dataclass
class CaseRecord:
    """Everything one case observed: exchanges, findings, usage, attempts."""

    info: CaseInfo
    case_id: str
    max_attempts: int = 2
    exchanges: list[Exchange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What the report shows beside the evidence: image thumbnails, question, answer.
    media: dict[str, Any] = field(default_factory=dict)
    attempts: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Per exchange (by index), the tokens its answer reported: for the provider profile.
    exchange_usage: dict[int, tuple[int, int]] = field(default_factory=dict)
    # Per streamed exchange (by index), when its first content arrived: time to first token.
    first_tokens: dict[int, float] = field(default_factory=dict)
    # Per streamed exchange (by index), when each event carrying output arrived: the
    # inter-chunk gaps of the provider profile.
    content_times: dict[int, list[float]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    # The optional feature under test; starts as the case declares it, and a case
    # whose parameters decide it (an image format) sets it before sending.
    optional: str | None = None

    def __post_init__(self) -> None:
        if self.optional is None:
            self.optional = self.info.optional

    def add_exchange(self, exchange: Exchange) -> int:
        self.exchanges.append(exchange)
        return len(self.exchanges) - 1

    def count_usage(self, exchange: Exchange, input_tokens: int, output_tokens: int) -> None:
        """Add an answer's reported tokens to the case's, and remember them per exchange."""
        self.prompt_tokens += input_tokens
        self.completion_tokens += output_tokens
        index = self._index(exchange)
        if index is not None:
            self.exchange_usage[index] = (input_tokens, output_tokens)

    def first_token(self, exchange: Exchange, seconds: float) -> None:
        """Note when a stream's first content arrived (time to first token)."""
        self.note(
            f"time to first token {seconds * 1000:.0f} ms; {len(exchange.events)} events "
            f"in {exchange.elapsed_s * 1000:.0f} ms"
        )
        index = self._index(exchange)
        if index is not None:
            self.first_tokens[index] = seconds

    def content_events(self, exchange: Exchange, times: list[float]) -> None:
        """Note when each event of a stream that carried output (text, reasoning, tool
        arguments) arrived, in seconds from the request."""
        index = self._index(exchange)
        if index is not None:
            self.content_times[index] = times

    def add(self, findings: list[Finding], exchange: Exchange | None = None) -> list[Finding]:
        """Record findings, tied to the exchange that shows them (unless already tied)."""
        tied = self.tie(findings, exchange)
        self.findings.extend(tied)
        return tied

    def tie(self, findings: list[Finding], exchange: Exchange | None) -> list[Finding]:
        """The findings tied to ``exchange``, without recording them; those a check already
        tied to another exchange keep theirs (a pair check knows which one shows it)."""
        index = self._index(exchange)
        if index is None:
            return list(findings)
        return [
            f if f.exchange is not None else Finding(**{**f.__dict__, "exchange": index})
            for f in findings
        ]

    def note(self, text: str) -> None:
        self.notes.append(text)

    def stop(self, verdict: Verdict, reason: str) -> NoReturn:
        raise CaseStop(verdict, reason)

    def unsupported(self, reason: str) -> NoReturn:
        self.stop(Verdict.UNSUPPORTED, reason)

    def inconclusive(self, reason: str) -> NoReturn:
        self.stop(Verdict.INCONCLUSIVE, reason)

    def skip(self, reason: str) -> NoReturn:
        self.stop(Verdict.SKIPPED, reason)

    def broken(self, reason: str) -> NoReturn:
        """Stop after a structural finding: the exchange cannot be read (or sent back), so
        the rest is not judged (one root cause, one family of findings). The verdict is
        the finding's: fail for a must, non_strict for a should a client works around."""
        severities = {f.severity for f in self.findings}
        if not severities & {"must", "should"}:
            raise ValueError("broken() needs a recorded must or should finding that says why")
        self.stop(Verdict.FAIL if "must" in severities else Verdict.NON_STRICT, reason)

    def until_accepted(
        self, attempt: Callable[[], list[Finding]], control: Control | None = None
    ) -> None:
        """Run a semantic probe up to ``max_attempts`` times until its checks pass.

        Models are not deterministic; a semantic check judges only the last
        attempt. Structural checks inside ``attempt`` judge every attempt.
        When the probe is not accepted, ``control`` asks the plain version of the
        same probe: a model that cannot answer that either makes the case
        inconclusive, and the semantic claim is not made.
        """
        findings: list[Finding] = []
        for n in range(1, self.max_attempts + 1):
            self.attempts = n
            findings = attempt()
            if not findings:
                return
        last = self.exchanges[-1] if self.exchanges else None
        if control is not None:
            reason = control()
            if reason is not None:
                self.inconclusive(
                    f"not judged, the model cannot answer the plain version: {reason}"
                )
        self.add(findings, last)

    def verdict(self, stopped: Verdict | None) -> Verdict:
        return judge(self.unique_findings(), stopped)

    def unique_findings(self) -> list[Finding]:
        return deduplicate(self.findings)

    def _index(self, exchange: Exchange | None) -> int | None:
        if exchange is None:
            return None
        for i, recorded in enumerate(self.exchanges):
            if recorded is exchange:
                return i
        return None

    def result(
        self, verdict: Verdict, reason: str, duration_s: float, key_env: str | None
    ) -> dict[str, Any]:
        """The case's entry in results.json."""
        return {
            "id": self.case_id,
            "capability": self.info.capability,
            "dialect": self.info.dialect,
            "title": self.info.title,
            "requirement": self.info.requirement,
            "source": self.info.source,
            "verdict": str(verdict),
            "reason": reason,
            "optional": self.optional,
            "findings": [f.to_dict() for f in self.unique_findings()],
            "attempts": self.attempts,
            "notes": self.notes,
            "duration_s": round(duration_s, 3),
            "usage": {
                "requests": sum(e.attempts for e in self.exchanges),
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
            },
            "waits": waits(self.exchanges),
            "exchanges": [
                {
                    **_exchange_summary(
                        e, key_env, self.exchange_usage.get(i), self.first_tokens.get(i)
                    ),
                    **_gaps(self.content_times.get(i)),
                }
                for i, e in enumerate(self.exchanges)
            ],
            **({"media": self.media} if self.media else {}),
        }


def _exchange_summary(
    exchange: Exchange,
    key_env: str | None,
    usage: tuple[int, int] | None,
    first_token_s: float | None,
) -> dict[str, Any]:
    return {
        # Bounded like every excerpt: a request can carry a 4 MB base64 image.
        "request": clip(exchange.request.curl(key_env), REQUEST_CHARS),
        "status": exchange.status,
        "content_type": exchange.content_type,
        "elapsed_s": round(exchange.elapsed_s, 3),
        "first_byte_s": None if exchange.first_byte_s is None else round(exchange.first_byte_s, 3),
        "first_token_s": None if first_token_s is None else round(first_token_s, 3),
        "streamed": exchange.streamed,
        "events": len(exchange.events),
        "usage": None if usage is None else {"input_tokens": usage[0], "output_tokens": usage[1]},
        "attempts": exchange.attempts,
        "rate_wait_s": round(exchange.rate_wait_s, 3),
        "retry_wait_s": round(exchange.retry_wait_s, 3),
        "error": exchange.error,
        "response_excerpt": exchange.excerpt(),
    }


def waits(exchanges: list[Exchange]) -> dict[str, Any]:
    """A case's ``waits``: the retries its requests took, and the seconds spent waiting
    between attempts and for the run's rate limits (time that is not the provider's)."""
    return {
        "retries": sum(max(0, e.attempts - 1) for e in exchanges),
        "retry_s": round(sum(e.retry_wait_s for e in exchanges), 3),
        "rate_limit_s": round(sum(e.rate_wait_s for e in exchanges), 3),
    }


def _gaps(times: list[float] | None) -> dict[str, Any]:
    """``content_gaps_s``: the seconds between consecutive content events of a stream, at
    most ``MAX_GAPS`` of them (evenly spaced, the longest always kept); nothing for an
    exchange whose content events were not noted."""
    if times is None:
        return {}
    gaps = [round(b - a, 4) for a, b in pairwise(times)]
    if len(gaps) > MAX_GAPS:
        step = len(gaps) / (MAX_GAPS - 1)
        gaps = [gaps[int(k * step)] for k in range(MAX_GAPS - 1)] + [max(gaps)]
    return {"content_gaps_s": gaps}
