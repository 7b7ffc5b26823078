"""Checks of extended thinking (chatconform.dialects.anthropic.checks.thinking)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from anthropic_helpers import (
    PLAIN_REQUEST,
    PLAIN_THINKING_REQUEST,
    THINKING_REQUEST,
    every_stream_finding,
    http_exchange,
    json_exchange,
    payloads,
    sample,
    sse_bytes,
    sse_exchange,
    stream_exchange,
    summary,
)

from chatconform.dialects.anthropic.checks import thinking
from chatconform.exchange import Exchange
from chatconform.finding import Finding

CHECKS: dict[str, Callable[[Exchange], list[Finding]]] = {
    "block": thinking.thinking_block_present,
    "signature": thinking.thinking_signed,
    "stream-deltas": thinking.thinking_streamed,
}
FAITHFUL: list[tuple[Callable[[], Exchange], str]] = [
    (lambda: json_exchange("message_thinking.json", request=PLAIN_THINKING_REQUEST), "message"),
    (lambda: stream_exchange("stream_thinking.sse", request=THINKING_REQUEST), "stream"),
    # Thinking not asked for: no thinking block is expected.
    (lambda: json_exchange("message_basic.json", request=PLAIN_REQUEST), "not asked"),
    (lambda: stream_exchange("stream_faithful_text.sse"), "stream not asked"),
]


def test_checks_cover_the_module() -> None:
    module = {fn.rule_id for fn in vars(thinking).values() if hasattr(fn, "rule_id")}
    assert module == {fn.rule_id for fn in CHECKS.values()}


@pytest.mark.parametrize(("make", "what"), FAITHFUL, ids=[w for _, w in FAITHFUL])
@pytest.mark.parametrize("check", sorted(CHECKS))
def test_faithful_thinking_gives_no_finding(
    make: Callable[[], Exchange], what: str, check: str
) -> None:
    assert CHECKS[check](make()) == []


def test_thinking_enabled_but_absent() -> None:
    exchange = json_exchange("message_basic.json", request=PLAIN_THINKING_REQUEST)
    found = thinking.thinking_block_present(exchange)
    assert summary(found) == [("anthropic.thinking.block", "should", "/content")]
    assert "blocks: text" in found[0].message
    streamed = stream_exchange("stream_faithful_text.sse", request=THINKING_REQUEST)
    assert summary(thinking.thinking_block_present(streamed)) == [
        ("anthropic.thinking.block", "should", "/events")
    ]


def test_thinking_block_not_judged_on_a_cut_stream() -> None:
    cut = stream_exchange("stream_message_stop_missing.sse", request=THINKING_REQUEST)
    assert thinking.thinking_block_present(cut) == []


@pytest.mark.parametrize("signature", [None, "", 42])
def test_unsigned_thinking_block(signature: Any) -> None:
    body = sample("message_thinking.json")
    if signature is None:
        del body["content"][0]["signature"]
    else:
        body["content"][0]["signature"] = signature
    found = thinking.thinking_signed(http_exchange(body, request=PLAIN_THINKING_REQUEST))
    assert summary(found) == [("anthropic.thinking.signature", "must", "/content/0/signature")]


def test_streamed_thinking_without_signature_delta() -> None:
    exchange = stream_exchange("stream_thinking_unsigned.sse", request=THINKING_REQUEST)
    assert every_stream_finding(exchange) == [
        ("anthropic.thinking.signature", "must", "/events/1/data/content_block/signature")
    ]
    assert "no signature_delta" in thinking.thinking_signed(exchange)[0].message


def test_streamed_thinking_with_an_empty_signature_delta() -> None:
    events = payloads("stream_thinking.sse")
    events[4]["delta"]["signature"] = ""
    exchange = sse_exchange(sse_bytes(events), request=THINKING_REQUEST)
    assert summary(thinking.thinking_signed(exchange)) == [
        ("anthropic.thinking.signature", "must", "/events/4/data/delta/signature")
    ]


def test_thinking_sent_whole_in_content_block_start() -> None:
    exchange = stream_exchange("stream_thinking_not_streamed.sse", request=THINKING_REQUEST)
    assert every_stream_finding(exchange) == [
        ("anthropic.thinking.stream-deltas", "should", "/events/1/data/content_block/thinking")
    ]
    assert "sent whole" in thinking.thinking_streamed(exchange)[0].message


def test_thinking_deltas_that_say_nothing() -> None:
    events = payloads("stream_thinking.sse")
    for k in (2, 3):
        events[k]["delta"]["thinking"] = ""
    exchange = sse_exchange(sse_bytes(events), request=THINKING_REQUEST)
    assert summary(thinking.thinking_streamed(exchange)) == [
        ("anthropic.thinking.stream-deltas", "should", "/events/2/data/delta/thinking")
    ]
