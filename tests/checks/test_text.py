"""Semantic checks of answers (chatconform.checks.text)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from check_helpers import json_exchange, sse_bytes, sse_exchange, stream_exchange, summary

from chatconform.checks import text
from chatconform.finding import Finding

CONTENT = "/choices/0/message/content"
FINISH = "/choices/0/finish_reason"

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
    findings = text.answers_trivial_prompt(exchange, ["1, 2, 3"])
    assert summary(findings) == [("openai.text.answer", "must", CONTENT)]


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
    assert [f.location for f in findings] == ["/usage/completion_tokens", CONTENT, FINISH]


def test_max_tokens_without_usage_judges_words_and_finish_reason() -> None:
    exchange = json_exchange("bodies/response_max_tokens_ignored.json")
    findings = text.max_tokens_honoured(exchange, 5, None)
    assert [f.location for f in findings] == [CONTENT, FINISH]


# --- stop_honoured ------------------------------------------------------------------------------


def test_stop_accepts_text_cut_before_the_stop_sequence() -> None:
    assert text.stop_honoured(json_exchange("bodies/response_stop_honoured.json"), "5", "4") == []


def test_stop_flags_text_past_the_stop_sequence() -> None:
    findings = text.stop_honoured(json_exchange("bodies/response_stop_ignored.json"), "5", "4")
    assert summary(findings) == [("openai.text.stop", "must", CONTENT)]
    assert "cut before '5'" in findings[0].message


def test_stop_flags_a_completion_cut_short_by_length() -> None:
    findings = text.stop_honoured(json_exchange("bodies/response_max_tokens_cut.json"), "5", "4")
    assert summary(findings) == [
        ("openai.text.stop", "must", CONTENT),
        ("openai.text.stop", "must", FINISH),
    ]
    assert "'4'" in findings[0].message
    assert "'length'" in findings[1].message


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
