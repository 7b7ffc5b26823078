"""Anthropic Messages streams one layer above SSE: typed events, their blocks, the message.

https://docs.anthropic.com/en/docs/build-with-claude/streaming

A stream is message_start, then for each content block content_block_start,
content_block_delta* and content_block_stop, then message_delta and message_stop;
ping may come anywhere, error ends the stream, and event types a client does not
know are ignored. ``parse`` sorts the events by what they carry and never raises:
what a provider sent is evidence, however hostile.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from chatconform.exchange import Exchange, load_json

MESSAGE_START = "message_start"
BLOCK_START = "content_block_start"
BLOCK_DELTA = "content_block_delta"
BLOCK_STOP = "content_block_stop"
MESSAGE_DELTA = "message_delta"
MESSAGE_STOP = "message_stop"
PING = "ping"
ERROR = "error"
# The events that build the message, in the order a stream sends them.
MESSAGE_EVENTS = (MESSAGE_START, BLOCK_START, BLOCK_DELTA, BLOCK_STOP, MESSAGE_DELTA, MESSAGE_STOP)
KNOWN_EVENTS = (*MESSAGE_EVENTS, PING, ERROR)
# The deltas each kind of block takes (anthropic-sdk-python lib/streaming/_messages.py
# accumulate_event); a delta type outside DELTA_TYPES is a newer one, ignored as clients do.
BLOCK_DELTAS: dict[str, tuple[str, ...]] = {
    "text": ("text_delta", "citations_delta"),
    "tool_use": ("input_json_delta",),
    "server_tool_use": ("input_json_delta",),
    "thinking": ("thinking_delta", "signature_delta"),
    "redacted_thinking": (),
}
DELTA_TYPES = (
    "text_delta",
    "citations_delta",
    "input_json_delta",
    "thinking_delta",
    "signature_delta",
)


@dataclass
class Block:
    """One content block as a client builds it from its events."""

    index: int
    # Event (position in exchange.events) of its first content_block_start, and of its
    # first content_block_stop (None: never closed).
    start_at: int
    stop_at: int | None = None
    # The block: content_block_start's content_block with its deltas applied.
    block: dict[str, Any] = field(default_factory=dict)
    # Events of the deltas applied to it, and of its input_json_delta events.
    delta_at: list[int] = field(default_factory=list)
    json_at: list[int] = field(default_factory=list)
    # The partial_json of its input_json_delta events, concatenated (None: there were none).
    json_text: str | None = None

    @property
    def type(self) -> str | None:
        kind = self.block.get("type")
        return kind if isinstance(kind, str) else None


@dataclass
class MessageStream:
    """The events of a streamed message, sorted by what they carry.

    Indexes are positions in ``exchange.events``, so a finding can point at
    ``/events/<i>``. ``events`` holds the message events (MESSAGE_EVENTS) in order.
    """

    events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    pings: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Events whose data is not JSON, or JSON but not an object.
    not_json: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Objects of a type no client knows (or without a string type): ignored, as clients do.
    unknown: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    message_stop_at: int | None = None

    def of_type(self, kind: str) -> list[tuple[int, dict[str, Any]]]:
        return [(i, e) for i, e in self.events if e.get("type") == kind]

    @property
    def message_start(self) -> tuple[int, dict[str, Any]] | None:
        """The first message_start event, if any."""
        return next(iter(self.of_type(MESSAGE_START)), None)

    @property
    def last_message_delta(self) -> tuple[int, dict[str, Any]] | None:
        found = self.of_type(MESSAGE_DELTA)
        return found[-1] if found else None

    def blocks(self) -> list[Block]:
        """The content blocks by index, as a client accumulates them (see ``accumulate``)."""
        return _assemble(self.events)

    def accumulate(self) -> dict[str, Any]:
        """The message a client builds, as anthropic-sdk-python's accumulator does.

        message_start's message; its content the blocks ordered by index, text,
        thinking and partial_json concatenated, the last signature_delta kept, a
        tool_use input parsed from the whole partial_json (when it parses); then
        message_delta's stop_reason, stop_sequence and usage merged (a usage count
        sent as null keeps the earlier one). Events that cannot apply are skipped:
        the checks report them. Without message_start the message holds only what
        the other events give.
        """
        start = self.message_start
        origin = start[1].get("message") if start else None
        message = dict(origin) if isinstance(origin, dict) else {}
        message["content"] = [b.block for b in self.blocks()]
        for _, event in self.of_type(MESSAGE_DELTA):
            delta = event.get("delta")
            if isinstance(delta, dict):
                for key in ("stop_reason", "stop_sequence"):
                    if key in delta:
                        message[key] = delta[key]
                message.update(
                    {k: v for k, v in delta.items() if k in ("stop_details", "container") and v}
                )
            usage = event.get("usage")
            if isinstance(usage, dict):
                before = message.get("usage")
                merged = dict(before) if isinstance(before, dict) else {}
                merged.update({k: v for k, v in usage.items() if v is not None})
                message["usage"] = merged
        return message


def parse(exchange: Exchange) -> MessageStream:
    """The exchange's events sorted by what they carry (computed once per exchange)."""
    return exchange.derive("anthropic.stream", _parse)


def _parse(exchange: Exchange) -> MessageStream:
    stream = MessageStream()
    for i, event in enumerate(exchange.events):
        try:
            payload = load_json(event.data)
        except ValueError:
            stream.not_json.append((i, event.data))
            continue
        if not isinstance(payload, dict):
            stream.not_json.append((i, event.data))
            continue
        kind = payload.get("type")
        if kind == ERROR or event.event == ERROR:
            # anthropic-sdk-python raises on an event named error, whatever its data.
            stream.errors.append((i, payload))
        elif kind == PING:
            stream.pings.append((i, payload))
        elif isinstance(kind, str) and kind in MESSAGE_EVENTS:
            stream.events.append((i, payload))
            if kind == MESSAGE_STOP and stream.message_stop_at is None:
                stream.message_stop_at = i
        else:
            stream.unknown.append((i, payload))
    return stream


def block_index(event: dict[str, Any]) -> int | None:
    """An event's block index, or None when it is not a non-negative integer."""
    index = event.get("index")
    if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
        return index
    return None


def delta_type(event: dict[str, Any]) -> str | None:
    delta = event.get("delta")
    kind = delta.get("type") if isinstance(delta, dict) else None
    return kind if isinstance(kind, str) else None


def _assemble(events: list[tuple[int, dict[str, Any]]]) -> list[Block]:
    blocks: dict[int, Block] = {}
    # Text pieces per block and field, joined once at the end: a stream of 100 000
    # deltas is not concatenated 100 000 times.
    parts: dict[tuple[int, str], list[str]] = {}
    for i, event in events:
        kind, index = event.get("type"), block_index(event)
        if index is None:
            continue
        if kind == BLOCK_START and index not in blocks:
            content = event.get("content_block")
            blocks[index] = Block(
                index, i, block=dict(content) if isinstance(content, dict) else {}
            )
        elif kind == BLOCK_DELTA and index in blocks:
            _apply(blocks[index], i, event.get("delta"), parts)
        elif kind == BLOCK_STOP and index in blocks and blocks[index].stop_at is None:
            blocks[index].stop_at = i
    for (index, key), pieces in parts.items():
        block = blocks[index]
        if key == "partial_json":
            block.json_text = "".join(pieces)
            continue
        before = block.block.get(key)
        block.block[key] = (before if isinstance(before, str) else "") + "".join(pieces)
    for block in blocks.values():
        # JSON text that does not parse is tools.input-stream-json's; the start's input stays.
        if block.json_text:
            with contextlib.suppress(ValueError):
                block.block["input"] = load_json(block.json_text)
    return [blocks[index] for index in sorted(blocks)]


def _apply(block: Block, at: int, delta: Any, parts: dict[tuple[int, str], list[str]]) -> None:
    """Apply one delta to its block, when it is of a kind the block takes."""
    if not isinstance(delta, dict):
        return
    kind = delta.get("type")
    if not isinstance(kind, str) or kind not in BLOCK_DELTAS.get(block.type or "", ()):
        return
    block.delta_at.append(at)
    if kind == "text_delta" and isinstance(delta.get("text"), str):
        parts.setdefault((block.index, "text"), []).append(delta["text"])
    elif kind == "thinking_delta" and isinstance(delta.get("thinking"), str):
        parts.setdefault((block.index, "thinking"), []).append(delta["thinking"])
    elif kind == "signature_delta":
        block.block["signature"] = delta.get("signature")
    elif kind == "citations_delta":
        before = block.block.get("citations")
        block.block["citations"] = [
            *(before if isinstance(before, list) else []),
            delta.get("citation"),
        ]
    elif kind == "input_json_delta":
        block.json_at.append(at)
        piece = delta.get("partial_json")
        parts.setdefault((block.index, "partial_json"), []).append(
            piece if isinstance(piece, str) else ""
        )
