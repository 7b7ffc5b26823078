"""Messages answers read as the neutral Reply (chatconform.dialects.anthropic.reply)."""

from __future__ import annotations

import json

import pytest
from anthropic_helpers import (
    PLAIN_THINKING_REQUEST,
    PLAIN_TOOL_REQUEST,
    THINKING_REQUEST,
    TOOL_REQUEST,
    event_exchange,
    http_exchange,
    json_exchange,
    payloads,
    sample,
    stream_exchange,
)

from chatconform.dialects.anthropic.reply import read
from chatconform.exchange import StreamEvent
from chatconform.reply import CAPPED, ENDED, TOOL, Reply, ToolCall, Usage


def test_plain_text_message() -> None:
    reply = read(json_exchange("message_basic.json"))
    assert reply == Reply(
        text="Hello! How can I help you today?",
        stop_reason="end_turn",
        ending=ENDED,
        usage=Usage(12, 11),
    )


def test_tool_use_message_gives_json_text_arguments() -> None:
    reply = read(json_exchange("message_tool_use.json", request=PLAIN_TOOL_REQUEST))
    assert reply.text == "I'll check the current weather in San Francisco."
    assert reply.tool_calls == (
        ToolCall(
            "toolu_01A09q90qw90lq917835lq9",
            "get_weather",
            '{"location": "San Francisco, CA", "unit": "celsius"}',
        ),
    )
    assert (reply.stop_reason, reply.ending) == ("tool_use", TOOL)


def test_thinking_goes_to_reasoning_not_text() -> None:
    reply = read(json_exchange("message_thinking.json", request=PLAIN_THINKING_REQUEST))
    assert reply.text == "27 × 453 = 12,231."
    assert reply.reasoning.startswith("The user asks for 27 * 453.")


@pytest.mark.parametrize(
    ("reason", "ending"),
    [
        ("end_turn", ENDED),
        ("stop_sequence", ENDED),
        ("max_tokens", CAPPED),
        ("tool_use", TOOL),
        ("refusal", None),
        ("pause_turn", None),
        ("stop", None),
    ],
)
def test_stop_reason_meaning(reason: str, ending: str | None) -> None:
    body = sample("message_basic.json")
    body["stop_reason"] = reason
    reply = read(http_exchange(body))
    assert (reply.stop_reason, reply.ending) == (reason, ending)


def test_streamed_text() -> None:
    reply = read(stream_exchange("stream_faithful_text.sse"))
    assert reply == Reply(
        text="1 2 3 4 5 6 7 8 9 10 11", stop_reason="end_turn", ending=ENDED, usage=Usage(25, 24)
    )


def test_streamed_tool_use_keeps_the_partial_json_as_sent() -> None:
    reply = read(stream_exchange("stream_faithful_tool_use.sse", request=TOOL_REQUEST))
    assert reply.text == "I'll check the weather in Paris for you."
    (call,) = reply.tool_calls
    assert call.arguments == '{"location": "Paris, France", "unit": "celsius"}'
    assert (call.id, call.name, reply.ending) == (
        "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        "get_weather",
        TOOL,
    )


def test_streamed_tool_use_without_deltas_gives_the_start_input() -> None:
    bare = read(stream_exchange("stream_tool_input_not_streamed.sse", request=TOOL_REQUEST))
    assert bare.tool_calls[0].arguments == "{}"
    whole = read(stream_exchange("stream_tool_input_in_start.sse", request=TOOL_REQUEST))
    assert json.loads(whole.tool_calls[0].arguments) == {
        "location": "Paris, France",
        "unit": "celsius",
    }


def test_streamed_bad_json_is_kept_as_sent() -> None:
    reply = read(stream_exchange("stream_tool_input_bad_json.sse", request=TOOL_REQUEST))
    assert reply.tool_calls[0].arguments == '{"location": "Paris, France"'
    assert reply.tool_calls[0].parsed() is None


def test_streamed_thinking() -> None:
    reply = read(stream_exchange("stream_thinking.sse", request=THINKING_REQUEST))
    assert reply.text == "1 2 3 4 5 6 7 8 9 10 11"
    assert reply.reasoning == "The user wants the numbers from 1 to 11. Plain counting; no trick."


def test_stream_usage_input_from_message_delta_overrides() -> None:
    events = payloads("stream_faithful_text.sse")
    events[-2]["usage"]["input_tokens"] = 30
    exchange = event_exchange([StreamEvent(json.dumps(e), e["type"]) for e in events])
    assert read(exchange).usage == Usage(30, 24)


def test_stream_without_usage_has_none() -> None:
    events = payloads("stream_faithful_text.sse")
    del events[0]["message"]["usage"]
    del events[-2]["usage"]
    exchange = event_exchange([StreamEvent(json.dumps(e), e["type"]) for e in events])
    assert read(exchange).usage is None


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"content": "text"}', b'{"content": [1, {"type": "text"}]}'],
)
def test_what_is_no_message_reads_as_an_empty_reply(body: bytes) -> None:
    assert read(http_exchange(body)).text == ""


def test_read_is_computed_once_per_exchange() -> None:
    exchange = stream_exchange("stream_faithful_text.sse")
    assert read(exchange) is read(exchange)
