"""Usage honesty across requests (chatconform.dialects.anthropic.checks.usage)."""

from __future__ import annotations

import json
from typing import Any

from anthropic_helpers import (
    PLAIN_REQUEST,
    TEXT_REQUEST,
    http_exchange,
    json_exchange,
    read,
    sample,
    sse_exchange,
    stream_exchange,
    summary,
)

from chatconform.dialects.anthropic.checks import usage
from chatconform.dialects.anthropic.requests import message_body
from chatconform.prompts import prompt

PROSE_REQUEST = message_body(prompt("prose_arithmetic"), "claude-sonnet-4-5", 16, temperature=0)
# stream_faithful_text.sse answers the counting request with input_tokens 25.
STREAM_REQUEST = {**TEXT_REQUEST, "stream": True}


def _message(name: str, request: dict[str, Any], **usage: int) -> Any:
    body = sample(name)
    body["usage"].update(usage)
    return http_exchange(json.dumps(body).encode(), request=request)


def test_prompt_count_adds_the_cache_counts() -> None:
    cached = _message(
        "message_usage_prose.json",
        PROSE_REQUEST,
        input_tokens=10,
        cache_creation_input_tokens=0,
        cache_read_input_tokens=287,
    )
    count = usage.prompt_count(cached)
    assert (count.tokens, count.chars, count.location) == (297, 1169, "/usage/input_tokens")


def test_prompt_count_of_a_stream_is_message_starts() -> None:
    count = usage.prompt_count(stream_exchange("stream_faithful_text.sse", request=STREAM_REQUEST))
    assert (count.tokens, count.location) == (25, "/events/0/data/message/usage/input_tokens")


def test_stream_matching_the_message_gives_no_finding() -> None:
    plain = _message("message_basic.json", TEXT_REQUEST, input_tokens=25)
    streamed = stream_exchange("stream_faithful_text.sse", request=STREAM_REQUEST)
    assert usage.streamed_usage_matches(plain, streamed) == []


def test_stream_reporting_other_input_tokens_is_flagged_at_message_start() -> None:
    plain = _message("message_basic.json", TEXT_REQUEST, input_tokens=25)
    raw = read("stream_faithful_text.sse").replace(b'"input_tokens":25', b'"input_tokens":34', 1)
    found = usage.streamed_usage_matches(plain, sse_exchange(raw, request=STREAM_REQUEST))
    assert summary(found) == [
        ("anthropic.usage.stream-matches", "should", "/events/0/data/message/usage/input_tokens")
    ]
    assert "input tokens 25 in the stream" in found[0].message
    assert "input tokens 34" in found[0].message


def test_a_claude_rate_gives_no_finding() -> None:
    short = json_exchange("message_basic.json", request=PLAIN_REQUEST)
    long = json_exchange("message_usage_prose.json", request=PROSE_REQUEST)
    assert usage.prompt_rate_plausible(short, long) == []


def test_a_tripled_count_is_no_tokenizers_rate() -> None:
    short = json_exchange("message_basic.json", request=PLAIN_REQUEST)
    long = _message("message_usage_prose.json", PROSE_REQUEST, input_tokens=3 * 297)
    found = usage.prompt_rate_plausible(short, long)
    assert summary(found) == [("anthropic.usage.prompt-rate", "should", "/usage/input_tokens")]
    assert "879 more" in found[0].message


def test_a_count_that_does_not_grow_is_left_to_usage_fixed() -> None:
    short = json_exchange("message_basic.json", request=PLAIN_REQUEST)
    long = _message("message_usage_prose.json", PROSE_REQUEST, input_tokens=12)
    assert usage.prompt_rate_plausible(short, long) == []
