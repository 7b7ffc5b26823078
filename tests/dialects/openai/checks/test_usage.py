"""Usage honesty across requests (chatconform.dialects.openai.checks.usage)."""

from __future__ import annotations

import pytest
from check_helpers import (
    CHAT_REQUEST,
    STREAM_REQUEST,
    http_exchange,
    json_exchange,
    read,
    sse_exchange,
    stream_exchange,
    summary,
)

from chatconform.dialects.openai.checks import usage
from chatconform.dialects.openai.requests import chat_body
from chatconform.prompts import prompt

# The counting probe not streamed: the request stream_include_usage.sse answers, as sent.
COUNTING_REQUEST = {
    k: v for k, v in STREAM_REQUEST.items() if k not in ("stream", "stream_options")
}
PROSE_REQUEST = chat_body(prompt("prose_arithmetic"), "gpt-4o", max_tokens=16, temperature=0)


def _pair(long_body: str, short_body: str = "bodies/response_usage_arithmetic.json"):
    short = json_exchange(short_body, request=CHAT_REQUEST)
    return short, json_exchange(long_body, request=PROSE_REQUEST)


def test_prompt_count_reads_the_response_and_the_last_usage_chunk() -> None:
    plain = usage.prompt_count(json_exchange("bodies/response_usage_arithmetic.json"))
    assert (plain.tokens, plain.location, plain.chars) == (20, "/usage/prompt_tokens", 42)
    streamed = usage.prompt_count(stream_exchange("stream_include_usage.sse"))
    assert streamed.tokens == 22
    assert streamed.location.endswith("/usage/prompt_tokens")
    assert streamed.location.startswith("/events/")


def test_prompt_count_is_none_without_usage() -> None:
    assert usage.prompt_count(json_exchange("bodies/response_usage_missing.json")).tokens is None
    assert usage.prompt_count(stream_exchange("stream_faithful.sse")).tokens is None


def test_stream_matching_the_response_gives_no_finding() -> None:
    plain = json_exchange("bodies/response_usage_counting.json", request=COUNTING_REQUEST)
    assert usage.streamed_usage_matches(plain, stream_exchange("stream_include_usage.sse")) == []


def test_stream_counting_another_prompt_size_is_flagged_at_its_usage_chunk() -> None:
    plain = json_exchange("bodies/response_usage_counting.json", request=COUNTING_REQUEST)
    raw = (
        stream_exchange("stream_include_usage.sse")
        .body.replace(b'"prompt_tokens":22', b'"prompt_tokens":29')
        .replace(b'"total_tokens":33', b'"total_tokens":40')
    )
    streamed = sse_exchange(raw, request=STREAM_REQUEST)
    found = usage.streamed_usage_matches(plain, streamed)
    assert summary(found) == [
        ("openai.usage.stream-matches", "should", usage.prompt_count(streamed).location)
    ]
    assert "prompt_tokens 22 in the stream" in found[0].message
    assert "prompt_tokens 29" in found[0].message


def test_stream_without_usage_is_left_to_include_usage() -> None:
    plain = json_exchange("bodies/response_usage_counting.json", request=COUNTING_REQUEST)
    assert usage.streamed_usage_matches(plain, stream_exchange("stream_faithful.sse")) == []


def test_a_plausible_rate_gives_no_finding() -> None:
    short, long = _pair("bodies/response_usage_prose.json")
    assert usage.usage_follows_prompt(short, long) == []
    assert usage.prompt_rate_plausible(short, long) == []


def test_the_same_usage_for_prompts_of_44_and_1169_characters_is_fixed_not_a_rate() -> None:
    short, long = _pair(
        "bodies/response_usage_placeholder.json", "bodies/response_usage_placeholder.json"
    )
    found = usage.usage_follows_prompt(short, long)
    assert summary(found) == [("openai.usage.fixed", "should", "/usage/prompt_tokens")]
    assert "9 for the long prompt, 9 for the short one (the same count for both)" in (
        found[0].message
    )
    assert usage.prompt_rate_plausible(short, long) == []


def test_a_tripled_count_is_no_tokenizers_rate() -> None:
    short, long = _pair("bodies/response_usage_prose_inflated.json")
    assert usage.usage_follows_prompt(short, long) == []
    found = usage.prompt_rate_plausible(short, long)
    assert summary(found) == [("openai.usage.prompt-rate", "should", "/usage/prompt_tokens")]
    assert "one per 1.4 characters" in found[0].message


@pytest.mark.parametrize(
    ("extra_tokens", "flagged"),
    [(140, True), (141, False), (563, False), (564, True)],
    ids=["over-8-chars", "8-chars", "2-chars", "under-2-chars"],
)
def test_the_band_is_one_token_per_2_to_8_characters(extra_tokens: int, flagged: bool) -> None:
    """1127 extra characters: 140.9 tokens at 8 characters each, 563.5 at 2."""
    short = json_exchange("bodies/response_usage_arithmetic.json", request=CHAT_REQUEST)
    body = read("bodies/response_usage_prose.json").replace(
        b'"prompt_tokens": 273', f'"prompt_tokens": {20 + extra_tokens}'.encode()
    )
    long = http_exchange(body, request=PROSE_REQUEST)
    assert bool(usage.prompt_rate_plausible(short, long)) is flagged


def test_prompts_alike_in_length_or_zero_counts_are_not_compared() -> None:
    short = json_exchange("bodies/response_usage_arithmetic.json", request=CHAT_REQUEST)
    assert usage.usage_follows_prompt(short, short) == []
    assert usage.prompt_rate_plausible(short, short) == []
    body = read("bodies/response_usage_prose.json")
    zero = http_exchange(
        body.replace(b'"prompt_tokens": 273', b'"prompt_tokens": 0'), request=PROSE_REQUEST
    )
    assert usage.usage_follows_prompt(short, zero) == []
