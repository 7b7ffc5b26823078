"""Cases: semantic attempts, controls, findings tied to the exchange that shows them."""

from __future__ import annotations

import pytest

from chatconform.case import MAX_GAPS, CaseInfo, CaseRecord, CaseStop
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


def test_content_gaps_are_the_seconds_between_content_events_of_a_stream() -> None:
    case = record()
    stream, plain = exchange(0), exchange(1)
    case.add_exchange(stream)
    case.add_exchange(plain)
    case.content_events(stream, [0.3, 0.34, 0.5])
    summaries = case.result(Verdict.PASS, "", 1.0, None)["exchanges"]
    assert summaries[0]["content_gaps_s"] == [0.04, 0.16]
    assert "content_gaps_s" not in summaries[1]


def test_a_long_streams_gaps_are_sampled_and_keep_the_longest() -> None:
    case = record()
    stream = exchange(0)
    case.add_exchange(stream)
    times = [i * 0.01 for i in range(5000)]
    times[2500:] = [t + 3.0 for t in times[2500:]]  # one stall of 3 s in the middle
    case.content_events(stream, times)
    gaps = case.result(Verdict.PASS, "", 1.0, None)["exchanges"][0]["content_gaps_s"]
    assert len(gaps) == MAX_GAPS
    assert max(gaps) == 3.01
    assert sorted(gaps)[MAX_GAPS // 2] == 0.01


def test_the_waits_of_a_cases_requests_are_in_its_result() -> None:
    case = record()
    retried, held, not_sent = exchange(1), exchange(2), exchange(3)
    retried.attempts, retried.retry_wait_s = 3, 1.5
    held.rate_wait_s = 12.25
    not_sent.attempts = 0
    for sent in (retried, held, not_sent):
        case.add_exchange(sent)
    result = case.result(Verdict.PASS, "", 1.0, None)
    assert result["waits"] == {"retries": 2, "retry_s": 1.5, "rate_limit_s": 12.25}
    assert result["usage"]["requests"] == 4
    assert [(e["retry_wait_s"], e["rate_wait_s"]) for e in result["exchanges"]] == [
        (1.5, 0.0),
        (0.0, 12.25),
        (0.0, 0.0),
    ]
