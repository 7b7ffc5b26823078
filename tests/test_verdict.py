"""Tests of verdicts and capability statuses (chatconform.verdict)."""

from __future__ import annotations

import pytest

from chatconform.finding import Finding, make_finding
from chatconform.rules import Severity
from chatconform.verdict import NOT_MEASURED, Verdict, capability_status, judge

MUST = make_finding("openai.auth.not-enforced", "Expected: 401\nReceived: 200")
SHOULD = make_finding("openai.completion.created-unit", "Expected: seconds\nReceived: ms")
INFO = Finding(rule="x.info.note", severity=Severity.INFO, title="note", message="fyi")
STOPS = [Verdict.UNSUPPORTED, Verdict.INCONCLUSIVE, Verdict.SKIPPED]


def test_catalog_severities_used_here() -> None:
    assert (MUST.severity, SHOULD.severity) == (Severity.MUST, Severity.SHOULD)


@pytest.mark.parametrize(
    ("findings", "verdict"),
    [
        ([], Verdict.PASS),
        ([INFO], Verdict.PASS),
        ([SHOULD], Verdict.NON_STRICT),
        ([SHOULD, INFO], Verdict.NON_STRICT),
        ([MUST], Verdict.FAIL),
        ([SHOULD, MUST, INFO], Verdict.FAIL),
    ],
)
def test_judge_from_findings(findings: list[Finding], verdict: Verdict) -> None:
    assert judge(findings) is verdict


def test_judge_accepts_any_iterable() -> None:
    assert judge(iter([SHOULD])) is Verdict.NON_STRICT


@pytest.mark.parametrize("stopped", STOPS)
def test_early_stop_is_kept_without_a_must_finding(stopped: Verdict) -> None:
    assert judge([], stopped) is stopped
    assert judge([INFO, SHOULD], stopped) is stopped


@pytest.mark.parametrize("stopped", STOPS)
def test_must_finding_outweighs_an_early_stop(stopped: Verdict) -> None:
    assert judge([MUST], stopped) is Verdict.FAIL


@pytest.mark.parametrize("findings", [[], [SHOULD], [MUST]])
def test_harness_error_is_always_error(findings: list[Finding]) -> None:
    assert judge(findings, Verdict.ERROR) is Verdict.ERROR


@pytest.mark.parametrize(
    ("verdicts", "status"),
    [
        (["pass", "pass"], "pass"),
        # A refused optional feature does not outweigh core cases that pass.
        (["pass", "unsupported"], "pass"),
        (["unsupported", "unsupported"], "unsupported"),
        (["unsupported", "skipped"], "unsupported"),
        (["unsupported", "non_strict", "pass"], "non_strict"),
        (["non_strict", "inconclusive"], "inconclusive"),
        (["inconclusive", "fail", "pass"], "fail"),
        (["fail", "error"], "error"),
        (["skipped", "pass"], "pass"),
        ([Verdict.SKIPPED, Verdict.FAIL], "fail"),
    ],
)
def test_capability_status_is_the_worst_verdict(verdicts: list[str], status: str) -> None:
    assert capability_status(verdicts) == status


@pytest.mark.parametrize("verdicts", [[], ["skipped"], [Verdict.SKIPPED, "skipped"]])
def test_capability_with_nothing_judged_is_not_measured(verdicts: list[str]) -> None:
    assert capability_status(verdicts) == NOT_MEASURED


def test_capability_status_rejects_unknown_verdicts() -> None:
    with pytest.raises(ValueError):
        capability_status(["great"])
