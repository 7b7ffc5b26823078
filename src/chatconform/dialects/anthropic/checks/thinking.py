"""Checks of extended thinking: thinking blocks, their signatures, how they are streamed.

https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
"""

from __future__ import annotations

from collections.abc import Iterator

from chatconform.check import Violation, check, expected
from chatconform.dialects.anthropic.checks.message import (
    content_blocks,
    evidence,
    message_of,
    request_body,
    show,
)
from chatconform.dialects.anthropic.stream import Block, delta_type, parse
from chatconform.exchange import Exchange, clip

THINKING_BLOCKS = ("thinking", "redacted_thinking")


def thinking_enabled(exchange: Exchange) -> bool:
    """Whether the request turned extended thinking on (thinking: {"type": "enabled"})."""
    thinking = request_body(exchange).get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") == "enabled"


def _thinking_blocks(exchange: Exchange) -> list[Block]:
    """A stream's completed thinking blocks (a block the stream never closed is truncated's)."""
    return [b for b in parse(exchange).blocks() if b.type == "thinking" and b.stop_at is not None]


@check("anthropic.thinking.block")
def thinking_block_present(exchange: Exchange) -> Iterator[Violation]:
    """With thinking enabled the answer starts with thinking blocks (extended thinking guide)."""
    message = message_of(exchange)
    if not thinking_enabled(exchange) or message is None:
        return
    if exchange.streamed and parse(exchange).message_stop_at is None:
        return  # cut or ended by an error: truncated and error-event say so
    blocks = content_blocks(exchange)
    if not any(
        b.get("type") in THINKING_BLOCKS for _, b in blocks if isinstance(b.get("type"), str)
    ):
        kinds = ", ".join(clip(str(b.get("type")), 40) for _, b in blocks) or "none"
        yield Violation(
            expected(
                "a thinking (or redacted_thinking) block before the answer", f"blocks: {kinds}"
            ),
            location="/events" if exchange.streamed else "/content",
            evidence=exchange.excerpt(),
        )


@check("anthropic.thinking.signature")
def thinking_signed(exchange: Exchange) -> Iterator[Violation]:
    """Each thinking block carries a non-empty signature (ThinkingBlock; streamed: signature_delta)."""
    if exchange.streamed:
        events = dict(parse(exchange).events)
        for block in _thinking_blocks(exchange):
            signature = block.block.get("signature")
            if isinstance(signature, str) and signature:
                continue
            sent = [i for i in block.delta_at if delta_type(events[i]) == "signature_delta"]
            received = (
                f"signature_delta with signature {show(signature)}"
                if sent
                else "no signature_delta before content_block_stop"
            )
            location = (
                f"/events/{sent[-1]}/data/delta/signature"
                if sent
                else f"/events/{block.start_at}/data/content_block/signature"
            )
            yield Violation(
                expected(f"a non-empty signature for thinking block {block.index}", received),
                location=location,
                evidence=evidence(exchange, location),
            )
        return
    for location, block in content_blocks(exchange):
        signature = block.get("signature")
        if block.get("type") == "thinking" and not (isinstance(signature, str) and signature):
            yield Violation(
                expected(
                    "a non-empty signature on each thinking block",
                    show(signature) if "signature" in block else "no signature",
                ),
                location=f"{location}/signature",
                evidence=exchange.excerpt(),
            )


@check("anthropic.thinking.stream-deltas")
def thinking_streamed(exchange: Exchange) -> Iterator[Violation]:
    """A streamed thinking block's text arrives in thinking_delta events, not empty (extended thinking guide)."""
    if not exchange.streamed:
        return
    events = dict(parse(exchange).events)
    for block in _thinking_blocks(exchange):
        sent = [i for i in block.delta_at if delta_type(events[i]) == "thinking_delta"]
        text = block.block.get("thinking")
        if not sent:
            whole = (
                f"; the thinking sent whole in content_block_start ({show(text)})" if text else ""
            )
            location = f"/events/{block.start_at}/data/content_block/thinking"
            received = f"no thinking_delta in block {block.index}{whole}"
        elif not (isinstance(text, str) and text.strip()):
            location = f"/events/{sent[0]}/data/delta/thinking"
            received = f"{len(sent)} thinking_delta events, the thinking empty"
        else:
            continue
        yield Violation(
            expected("the thinking text in thinking_delta events", received),
            location=location,
            evidence=evidence(exchange, location),
        )
