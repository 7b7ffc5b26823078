"""Verdicts of cases and statuses of capabilities, derived from findings only."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from chatconform.finding import Finding
from chatconform.rules import Severity


class Verdict(StrEnum):
    PASS = "pass"
    NON_STRICT = "non_strict"
    FAIL = "fail"
    UNSUPPORTED = "unsupported"
    INCONCLUSIVE = "inconclusive"
    SKIPPED = "skipped"
    # The harness itself broke (a check crashed, a probe was invalid): never
    # blamed on the provider.
    ERROR = "error"


NOT_MEASURED = "not_measured"

# A capability's status is the worst verdict among its cases, except that a
# cleanly refused optional feature does not outweigh core cases that pass: the
# capability passes, and its refused features are listed beside the status.
_WORST_FIRST = (
    Verdict.ERROR,
    Verdict.FAIL,
    Verdict.INCONCLUSIVE,
    Verdict.NON_STRICT,
    Verdict.PASS,
    Verdict.UNSUPPORTED,
)


def judge(findings: Iterable[Finding], stopped: Verdict | None = None) -> Verdict:
    """The verdict of a case from its findings and how it stopped, if it stopped early.

    Deviations already observed outweigh an early stop: a case that saw a
    ``must`` finding and then ran into a rate limit still failed.
    """
    severities = {f.severity for f in findings}
    if stopped is Verdict.ERROR:
        return Verdict.ERROR
    if Severity.MUST in severities:
        return Verdict.FAIL
    if stopped is not None:
        return stopped
    if Severity.SHOULD in severities:
        return Verdict.NON_STRICT
    return Verdict.PASS


def capability_status(verdicts: Iterable[Verdict | str]) -> str:
    """The worst verdict of a capability's cases (unsupported ranking below pass);
    ``not_measured`` if none was judged."""
    seen = {Verdict(v) for v in verdicts}
    for verdict in _WORST_FIRST:
        if verdict in seen:
            return str(verdict)
    return NOT_MEASURED
