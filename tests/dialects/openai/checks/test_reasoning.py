"""Checks of reasoning models (chatconform.dialects.openai.checks.reasoning)."""

from __future__ import annotations

import pytest
from check_helpers import PLAIN_STREAM_REQUEST, json_exchange, stream_exchange, summary, usage_of

from chatconform.dialects.openai.checks import reasoning
from chatconform.exchange import Exchange


def streamed(name: str) -> Exchange:
    return stream_exchange(name, request=PLAIN_STREAM_REQUEST)


def test_hidden_reasoning_counted_in_completion_tokens_passes() -> None:
    exchange = json_exchange("bodies/response_reasoning_hidden.json")
    assert reasoning.reasoning_fields_reported(exchange) == []
    assert reasoning.reasoning_not_in_content(exchange) == []
    assert reasoning.reasoning_tokens_counted(exchange, usage_of(exchange)) == []


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("bodies/response_reasoning_content.json", ["reasoning_content"]),
        ("bodies/response_reasoning_openrouter.json", ["reasoning", "reasoning_details"]),
    ],
)
def test_vendor_fields_are_named_for_information_only(name: str, fields: list[str]) -> None:
    exchange = json_exchange(name)
    findings = reasoning.reasoning_fields_reported(exchange)
    assert summary(findings) == [
        ("openai.reasoning.vendor-field", "info", f"/choices/0/message/{field}") for field in fields
    ]
    assert all(field in f.message for f, field in zip(findings, fields, strict=True))
    # Never counted as answer text, never a deviation by themselves.
    assert reasoning.reasoning_not_in_content(exchange) == []
    assert reasoning.reasoning_tokens_counted(exchange, usage_of(exchange)) == []


def test_streamed_vendor_field_is_named_at_its_first_delta() -> None:
    findings = reasoning.reasoning_fields_reported(streamed("stream_reasoning_before_content.sse"))
    assert summary(findings) == [
        ("openai.reasoning.vendor-field", "info", "/events/1/choices/0/delta/reasoning_content")
    ]
    assert findings[0].evidence == "The user asks for 2 + 3. That is 5."


def test_think_tags_in_content_are_reasoning_in_the_answer() -> None:
    exchange = json_exchange("bodies/response_reasoning_think_tags.json")
    assert summary(reasoning.reasoning_not_in_content(exchange)) == [
        ("openai.reasoning.in-content", "must", "/choices/0/message/content")
    ]


def test_reasoning_tokens_outside_completion_tokens_are_flagged() -> None:
    exchange = json_exchange("bodies/response_reasoning_tokens_not_counted.json")
    findings = reasoning.reasoning_tokens_counted(exchange, usage_of(exchange))
    assert summary(findings) == [("openai.reasoning.tokens", "should", "/usage/completion_tokens")]


def test_shown_reasoning_without_reasoning_tokens_is_flagged() -> None:
    exchange = json_exchange("bodies/response_reasoning_shown_not_counted.json")
    findings = reasoning.reasoning_tokens_counted(exchange, usage_of(exchange))
    assert summary(findings) == [
        (
            "openai.reasoning.tokens",
            "should",
            "/usage/completion_tokens_details/reasoning_tokens",
        )
    ]


def test_no_usage_is_not_this_rules_to_judge() -> None:
    exchange = json_exchange("bodies/response_reasoning_content.json")
    assert reasoning.reasoning_tokens_counted(exchange, None) == []


def test_reasoning_streamed_before_the_answer_passes() -> None:
    exchange = streamed("stream_reasoning_before_content.sse")
    assert reasoning.reasoning_before_content(exchange) == []
    assert reasoning.reasoning_not_in_content(exchange) == []


def test_reasoning_streamed_after_the_answer_is_flagged_once() -> None:
    findings = reasoning.reasoning_before_content(streamed("stream_reasoning_after_content.sse"))
    assert summary(findings) == [
        ("openai.reasoning.stream-order", "should", "/events/2/choices/0/delta/reasoning_content")
    ]
