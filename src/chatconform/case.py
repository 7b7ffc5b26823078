"""Cases: what each conformance test declares, and what it records while it runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest

from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding, deduplicate
from chatconform.verdict import Verdict, judge

MARK = "chatconform_case"
# Long enough for a request with small inline images to stay a runnable curl line.
REQUEST_CHARS = 64_000


@dataclass(frozen=True)
class CaseInfo:
    """What a case tests: a stable id (``dialect/capability/name``) and its requirement."""

    id: str
    title: str
    requirement: str
    source: str

    @property
    def dialect(self) -> str:
        return self.id.split("/")[0]

    @property
    def capability(self) -> str:
        return self.id.split("/")[1]


def case(id: str, *, title: str, requirement: str, source: str) -> pytest.MarkDecorator:
    """Declare a test function a conformance case (h2spec style: id, requirement, source)."""
    if id.count("/") != 2:
        raise ValueError(f"case id {id!r} is not dialect/capability/name")
    return getattr(pytest.mark, MARK)(
        CaseInfo(id=id, title=title, requirement=requirement, source=source)
    )


class CaseStop(Exception):
    """Ends a case early with a verdict that needs no findings (unsupported, inconclusive...)."""

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
    started: float = field(default_factory=time.monotonic)

    def add_exchange(self, exchange: Exchange) -> int:
        self.exchanges.append(exchange)
        return len(self.exchanges) - 1

    def add(self, findings: list[Finding], exchange: Exchange | None = None) -> list[Finding]:
        """Record findings, tied to the exchange that shows them."""
        index = self._index(exchange)
        tied = [
            f if index is None else Finding(**{**f.__dict__, "exchange": index}) for f in findings
        ]
        self.findings.extend(tied)
        return tied

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

    def until_accepted(self, attempt: Callable[[], list[Finding]]) -> None:
        """Run a semantic probe up to ``max_attempts`` times until its checks pass.

        Models are not deterministic; a semantic check judges only the last
        attempt. Structural checks inside ``attempt`` judge every attempt.
        """
        findings: list[Finding] = []
        for n in range(1, self.max_attempts + 1):
            self.attempts = n
            findings = attempt()
            if not findings:
                return
        self.add(findings, self.exchanges[-1] if self.exchanges else None)

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
            "findings": [f.to_dict() for f in self.unique_findings()],
            "attempts": self.attempts,
            "notes": self.notes,
            "duration_s": round(duration_s, 3),
            "usage": {
                "requests": sum(e.attempts for e in self.exchanges),
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
            },
            "exchanges": [_exchange_summary(e, key_env) for e in self.exchanges],
            **({"media": self.media} if self.media else {}),
        }


def _exchange_summary(exchange: Exchange, key_env: str | None) -> dict[str, Any]:
    return {
        # Bounded like every excerpt: a request can carry a 4 MB base64 image.
        "request": clip(exchange.request.curl(key_env), REQUEST_CHARS),
        "status": exchange.status,
        "content_type": exchange.content_type,
        "elapsed_s": round(exchange.elapsed_s, 3),
        "first_byte_s": None if exchange.first_byte_s is None else round(exchange.first_byte_s, 3),
        "events": len(exchange.events),
        "attempts": exchange.attempts,
        "error": exchange.error,
        "response_excerpt": exchange.excerpt(),
    }
