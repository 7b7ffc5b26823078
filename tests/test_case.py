"""Cases: semantic attempts, controls, findings tied to the exchange that shows them."""

from __future__ import annotations

import pytest

from chatconform.case import CaseInfo, CaseRecord, CaseStop
from chatconform.exchange import Exchange, RecordedRequest
from chatconform.finding import make_finding
from chatconform.verdict import Verdict

SEMANTIC = make_finding("openai.text.system-prompt", "Expected: kiwi\nReceived: hello")
STRUCTURAL = make_finding("openai.stream.event-json", "Expected: JSON\nReceived: junk")


def record(optional: str | None = None) -> CaseRecord:
    info = CaseInfo("openai/text/x", "t", "r", "s", optional=optional)
    return CaseRecord(info=info, case_id="openai/text/x", max_attempts=2)


def exchange(n: int) -> Exchange:
    return Exchange(request=RecordedRequest("POST", f"http://p.test/v1/{n}", {}))


def test_an_accepted_probe_asks_no_control() -> None:
    case = record()
    asked = []
    case.until_accepted(lambda: [], lambda: asked.append(1) or None)
    assert asked == [] and case.findings == [] and case.attempts == 1


def test_a_failed_probe_is_claimed_when_the_model_answers_the_control() -> None:
    case = record()
    case.add_exchange(exchange(0))
    case.until_accepted(lambda: [SEMANTIC], lambda: None)
    assert [f.rule for f in case.findings] == ["openai.text.system-prompt"]
    assert case.attempts == 2
    assert case.verdict(None) is Verdict.FAIL


def test_a_model_that_cannot_answer_the_control_makes_the_case_inconclusive() -> None:
    case = record()
    with pytest.raises(CaseStop) as stop:
        case.until_accepted(lambda: [SEMANTIC], lambda: "it answered 'hello' to everything")
    assert stop.value.verdict is Verdict.INCONCLUSIVE
    assert "cannot answer the plain version: it answered 'hello'" in stop.value.reason
    assert case.findings == [], "no semantic claim without a control"
    assert case.verdict(stop.value.verdict) is Verdict.INCONCLUSIVE


def test_structural_findings_recorded_during_attempts_stay_when_the_control_fails() -> None:
    case = record()

    def attempt() -> list:
        case.add([STRUCTURAL], case.exchanges[case.add_exchange(exchange(0))])
        return [SEMANTIC]

    with pytest.raises(CaseStop) as stop:
        case.until_accepted(attempt, lambda: "no answer")
    assert {f.rule for f in case.unique_findings()} == {"openai.stream.event-json"}
    assert case.verdict(stop.value.verdict) is Verdict.FAIL


def test_findings_stay_tied_to_the_exchange_that_shows_them() -> None:
    case = record()
    first, second = exchange(0), exchange(1)
    case.add_exchange(first)
    case.add_exchange(second)
    tied = case.tie([SEMANTIC], first)
    case.until_accepted(lambda: tied, lambda: None)
    assert [f.exchange for f in case.findings] == [0], "not the last exchange"
    case.add(case.tie([STRUCTURAL], second), first)
    assert [f.exchange for f in case.findings] == [0, 1]


def test_untied_findings_of_an_attempt_go_to_the_last_exchange() -> None:
    case = record()
    case.add_exchange(exchange(0))
    case.add_exchange(exchange(1))
    case.until_accepted(lambda: [SEMANTIC], None)
    assert [f.exchange for f in case.findings] == [1]


def test_broken_needs_the_finding_that_says_why() -> None:
    case = record()
    with pytest.raises(ValueError):
        case.broken("no reason recorded")
    case.add([STRUCTURAL])
    with pytest.raises(CaseStop) as stop:
        case.broken("the stream cannot be read")
    assert case.verdict(stop.value.verdict) is Verdict.FAIL


def test_broken_by_a_should_finding_is_non_strict() -> None:
    case = record()
    case.add([make_finding("anthropic.thinking.block", "Expected: a thinking block")])
    with pytest.raises(CaseStop) as stop:
        case.broken("the thinking blocks cannot be sent back")
    assert case.verdict(stop.value.verdict) is Verdict.NON_STRICT


def test_the_optional_feature_starts_as_declared_and_is_in_the_result() -> None:
    case = record(optional="n")
    assert case.optional == "n"
    case.optional = "webp images"
    assert case.result(Verdict.UNSUPPORTED, "refused", 0.1, None)["optional"] == "webp images"
