"""Semantic checks of answers (chatconform.dialects.openai.checks.text)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from check_helpers import json_exchange, sse_bytes, sse_exchange, stream_exchange, summary

from chatconform.dialects.openai.checks import text
from chatconform.finding import Finding

CONTENT = "/choices/0/message/content"
FINISH = "/choices/0/finish_reason"
# stream_include_usage.sse: the event of the first content delta.
STREAM_CONTENT = "/events/1/choices/0/delta/content"

# (check, what the fixture accepts, a faithful answer, an answer that misses it)
ANSWER_CHECKS = [
    (
        text.answers_trivial_prompt,
        ("5", "five"),
        "bodies/response_arithmetic.json",
        "bodies/response_arithmetic_wrong.json",
    ),
    (
        text.follows_system_prompt,
        ("kiwi",),
        "bodies/response_system_codeword.json",
        "bodies/response_system_ignored.json",
    ),
    (
        text.follows_developer_message,
        ("mango",),
        "bodies/response_developer_codeword.json",
        "bodies/response_developer_ignored.json",
    ),
    (
        text.uses_earlier_turns,
        ("teal",),
        "bodies/response_multi_turn.json",
        "bodies/response_multi_turn_forgotten.json",
    ),
    (
        text.reads_content_parts,
        ("7", "seven"),
        "bodies/response_content_parts.json",
        "bodies/response_content_parts_unread.json",
    ),
]
AnswerCheck = Callable[..., list[Finding]]


@pytest.mark.parametrize(
    ("check", "accept", "good", "bad"), ANSWER_CHECKS, ids=lambda v: getattr(v, "rule_id", None)
)
def test_answer_check_accepts_a_correct_answer(
    check: AnswerCheck, accept: tuple[str, ...], good: str, bad: str
) -> None:
    assert check(json_exchange(good), accept) == []


@pytest.mark.parametrize(
    ("check", "accept", "good", "bad"), ANSWER_CHECKS, ids=lambda v: getattr(v, "rule_id", None)
)
def test_answer_check_flags_a_wrong_answer(
    check: AnswerCheck, accept: tuple[str, ...], good: str, bad: str
) -> None:
    findings = check(json_exchange(bad), accept)
    assert summary(findings) == [(check.rule_id, "must", CONTENT)]  # type: ignore[attr-defined]
    assert accept[0] in findings[0].message


def test_answer_check_is_case_insensitive() -> None:
    # "Mango" and "Teal." are answered with a capital; the fixtures accept lower case.
    assert (
        text.follows_developer_message(
            json_exchange("bodies/response_developer_codeword.json"), ["MANGO"]
        )
        == []
    )


def test_answer_check_reads_a_streamed_answer() -> None:
    exchange = stream_exchange("stream_include_usage.sse")
    assert text.answers_trivial_prompt(exchange, ["1 2 3"]) == []
    # Whole tokens: the commas of "1, 2, 3" separate words like spaces do.
    assert text.answers_trivial_prompt(exchange, ["1, 2, 3"]) == []
    findings = text.answers_trivial_prompt(exchange, ["1 3"])
    # The event where the streamed answer starts, not a message the stream does not have.
    assert summary(findings) == [("openai.text.answer", "must", STREAM_CONTENT)]


def test_answer_check_matches_whole_numbers_only() -> None:
    # "5" is not in "15" or "3.5"; "5." ends a sentence.
    assert (
        text.answers_trivial_prompt(json_exchange("bodies/response_arithmetic.json"), ["5"]) == []
    )
    exchange = stream_exchange("stream_include_usage.sse")
    assert text.answers_trivial_prompt(exchange, ["11"]) == []
    assert len(text.answers_trivial_prompt(exchange, ["12"])) == 1


def test_answer_check_flags_an_empty_body() -> None:
    exchange = json_exchange("bodies/response_html_gateway_page.html", content_type="text/html")
    findings = text.answers_trivial_prompt(exchange, ["5"])
    assert summary(findings) == [("openai.text.answer", "must", CONTENT)]
    assert "Received: ''" in findings[0].message


# --- answer_text / finish_reasons ---------------------------------------------------------------


def test_answer_text_of_a_response_and_of_a_stream() -> None:
    assert (
        text.answer_text(json_exchange("bodies/response_counting.json"))
        == "1 2 3 4 5 6 7 8 9 10 11"
    )
    assert (
        text.answer_text(stream_exchange("stream_include_usage.sse")) == "1 2 3 4 5 6 7 8 9 10 11"
    )
    assert text.answer_text(json_exchange("bodies/response_two_choices.json"), choice=1) == "Five."
    assert text.answer_text(json_exchange("response_tool_calls.json")) == ""


def test_finish_reasons_of_a_response_and_of_a_stream() -> None:
    assert text.finish_reasons(json_exchange("bodies/response_two_choices.json")) == [
        "stop",
        "stop",
    ]
    assert text.finish_reasons(stream_exchange("stream_max_tokens_cut.sse")) == ["length"]
    assert text.finish_reasons(stream_exchange("stream_finish_reason_missing.sse")) == []


# --- content_location / finish_reason_location ------------------------------------------------


def test_content_location_of_a_response_is_its_choice_position() -> None:
    exchange = json_exchange("bodies/response_two_choices.json")
    assert text.content_location(exchange) == CONTENT
    assert text.content_location(exchange, choice=1) == "/choices/1/message/content"
    assert text.finish_reason_location(exchange) == FINISH


def test_content_location_of_a_stream_is_the_event_where_the_answer_starts() -> None:
    exchange = stream_exchange("stream_include_usage.sse")
    # Event 0 carries the role and an empty content; the text starts in event 1.
    assert text.content_location(exchange) == STREAM_CONTENT
    assert text.finish_reason_location(exchange) == "/events/12/choices/0/finish_reason"


def test_content_location_of_interleaved_choices_uses_their_positions() -> None:
    exchange = stream_exchange("stream_two_choices_interleaved.sse")
    # Event 1 carries choice 1 first, then choice 0.
    assert text.content_location(exchange, choice=0) == "/events/1/choices/1/delta/content"
    assert text.content_location(exchange, choice=1) == "/events/1/choices/0/delta/content"
    assert text.finish_reason_location(exchange) == "/events/3/choices/0/finish_reason"
    assert text.answer_text(exchange, choice=1) == "Five."


def test_content_location_of_a_stream_without_text() -> None:
    # A tool-call stream: the first chunk of the choice, which has content null.
    exchange = stream_exchange("stream_tool_calls_parallel.sse")
    assert text.content_location(exchange) == "/events/0/choices/0/delta/content"
    assert text.content_location(exchange, choice=3) == "/events"
    assert text.finish_reason_location(stream_exchange("stream_finish_reason_missing.sse")) == (
        "/events"
    )


def test_finish_reasons_of_a_stream_with_malformed_indexes() -> None:
    # An index that is a list or a string must not crash the check, nor outrank index 0.
    chunks = [
        {"choices": [{"index": [1], "delta": {}, "finish_reason": "stop"}]},
        {"choices": [{"index": "1", "delta": {}, "finish_reason": "stop"}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]},
    ]
    reasons = text.finish_reasons(sse_exchange(sse_bytes(chunks)))
    assert reasons[0] == "length"
    assert sorted(reasons) == ["length", "stop", "stop"]


# --- max_tokens_honoured ------------------------------------------------------------------------


def test_max_tokens_accepts_a_cut_completion() -> None:
    exchange = json_exchange("bodies/response_max_tokens_cut.json")
    assert text.max_tokens_honoured(exchange, 5, exchange.json()["usage"]) == []


def test_max_tokens_accepts_a_cut_stream() -> None:
    exchange = stream_exchange("stream_max_tokens_cut.sse")
    usage = {"prompt_tokens": 22, "completion_tokens": 5, "total_tokens": 27}
    assert text.max_tokens_honoured(exchange, 5, usage) == []


def test_max_tokens_flags_an_ignored_limit() -> None:
    exchange = json_exchange("bodies/response_max_tokens_ignored.json")
    findings = text.max_tokens_honoured(exchange, 5, exchange.json()["usage"])
    assert summary(findings) == [
        ("openai.text.max-tokens", "must", "/usage/completion_tokens"),
        ("openai.text.max-tokens", "must", CONTENT),
        ("openai.text.max-tokens", "must", FINISH),
    ]
    assert "completion_tokens <= 5" in findings[0].message
    assert "30 words" in findings[1].message
    assert "'stop'" in findings[2].message


def test_max_tokens_flags_an_ignored_limit_in_a_stream() -> None:
    exchange = stream_exchange("stream_include_usage.sse")
    usage = {"prompt_tokens": 22, "completion_tokens": 11, "total_tokens": 33}
    findings = text.max_tokens_honoured(exchange, 5, usage)
    assert [f.location for f in findings] == [
        "/events/13/usage/completion_tokens",
        STREAM_CONTENT,
        "/events/12/choices/0/finish_reason",
    ]


def test_an_answer_shorter_than_the_cap_may_end_with_stop() -> None:
    # An empty answer never reached the cap: finish_reason stop says nothing about max_tokens.
    exchange = json_exchange("bodies/response_stop_honoured.json")
    payload = json.loads(exchange.body)
    payload["choices"][0]["message"]["content"] = ""
    exchange.body = json.dumps(payload).encode()
    assert text.max_tokens_honoured(exchange, 5, None) == []


def test_a_stream_cut_by_the_suite_is_judged_on_its_words_alone() -> None:
    exchange = stream_exchange("stream_include_usage.sse")
    exchange.cut = "41 words streamed for a cap of 5 tokens"
    findings = text.max_tokens_honoured(exchange, 5, None)
    assert [f.location for f in findings] == [STREAM_CONTENT], "no finish_reason to judge"
    assert "cut by the suite: 41 words streamed" in findings[0].message


def test_max_tokens_without_usage_judges_words_and_finish_reason() -> None:
    exchange = json_exchange("bodies/response_max_tokens_ignored.json")
    findings = text.max_tokens_honoured(exchange, 5, None)
    assert [f.location for f in findings] == [CONTENT, FINISH]


# --- stop_honoured ------------------------------------------------------------------------------


AFTER = tuple(str(n) for n in range(6, 31))


def stop_findings(sample: str) -> list:
    return text.stop_honoured(json_exchange(f"bodies/{sample}.json"), "5", "4", AFTER)


def test_stop_accepts_text_cut_before_the_stop_sequence() -> None:
    assert stop_findings("response_stop_honoured") == []


def test_stop_flags_text_past_the_stop_sequence() -> None:
    findings = stop_findings("response_stop_ignored")
    assert summary(findings) == [("openai.text.stop", "must", CONTENT)]
    assert "cut before '5'" in findings[0].message


def test_stop_flags_text_after_the_stop_sequence_even_without_it() -> None:
    findings = stop_findings("response_stop_dropped_not_applied")
    assert summary(findings) == [("openai.text.stop", "must", CONTENT)]
    assert "text after it ('6'" in findings[0].message


def test_an_answer_that_never_counted_proves_nothing_about_stop() -> None:
    # No stop sequence and nothing after it: no claim (the case ends inconclusive).
    assert stop_findings("response_stop_not_counting") == []
    assert not text.reaches(json_exchange("bodies/response_stop_not_counting.json"), "4")


def test_an_answer_cut_short_by_length_proves_nothing_about_stop() -> None:
    assert stop_findings("response_max_tokens_cut") == []


def test_numbers_quoted_from_the_prompt_before_counting_are_no_proof() -> None:
    exchange = json_exchange("bodies/response_stop_honoured.json")
    payload = json.loads(exchange.body)
    payload["choices"][0]["message"]["content"] = "Sure! Counting from 1 to 30: 1 2 3 4"
    exchange.body = json.dumps(payload).encode()
    assert text.stop_honoured(exchange, "5", "4", AFTER) == []


def test_stop_reached_with_the_wrong_finish_reason_is_flagged_at_the_finish_reason() -> None:
    exchange = json_exchange("bodies/response_stop_honoured.json")
    payload = json.loads(exchange.body)
    payload["choices"][0]["finish_reason"] = "length"
    exchange.body = json.dumps(payload).encode()
    findings = text.stop_honoured(exchange, "5", "4", AFTER)
    assert summary(findings) == [("openai.text.stop", "must", FINISH)]
    assert "'length'" in findings[0].message


# --- n_choices_honoured -------------------------------------------------------------------------


def test_n_choices_accepts_two_choices() -> None:
    assert text.n_choices_honoured(json_exchange("bodies/response_two_choices.json"), 2) == []


def test_n_choices_flags_one_choice_for_n_2() -> None:
    findings = text.n_choices_honoured(json_exchange("bodies/response_arithmetic.json"), 2)
    assert summary(findings) == [("openai.text.n-choices", "must", "/choices")]
    assert "indexes [0]" in findings[0].message


def test_n_choices_flags_two_choices_for_n_1() -> None:
    findings = text.n_choices_honoured(json_exchange("bodies/response_two_choices.json"), 1)
    assert summary(findings) == [("openai.text.n-choices", "must", "/choices")]


def test_two_streamed_choices_told_apart_by_index_pass_n() -> None:
    exchange = stream_exchange("stream_two_choices_interleaved.sse")
    assert text.n_choices_honoured(exchange, 2) == []


def test_a_stream_of_one_choice_for_n_2_is_flagged() -> None:
    findings = text.n_choices_honoured(stream_exchange("stream_include_usage.sse"), 2)
    assert summary(findings) == [("openai.text.n-choices", "must", "/events")]
    assert "indexes [0]" in findings[0].message
