"""The streamed form of a Messages answer: Anthropic's named SSE events, in the official order.

message_start (the message with empty content and no stop reason), then for each
content block content_block_start, its deltas (text_delta, input_json_delta,
thinking_delta then signature_delta) and content_block_stop, a ``ping`` after
the first block starts, and message_delta (stop reason, output tokens) and
message_stop to end. Each frame is ``event: <type>`` and ``data: <json>``.
The stream faults of the catalog bend this sequence or its framing here.
"""

from __future__ import annotations

import json
from typing import Any

from chatconform.reference.faults import FaultSet
from chatconform.reference.messages_answer import Reply
from chatconform.reference.messages_input import arguments
from chatconform.reference.model import token_pieces
from chatconform.reference.tools import fragments
from chatconform.reference.usage_faults import estimated

Event = tuple[str, dict[str, Any]]
# What anthropic-overloaded-mid-stream sends after the first delta, as the API does when it
# runs out of capacity mid-answer.
OVERLOADED: dict[str, Any] = {
    "type": "error",
    "error": {"type": "overloaded_error", "message": "Overloaded"},
}
# What an OpenAI-style writer ends a stream with (anthropic-done-sentinel).
DONE_FRAME = b"data: [DONE]\n\n"


def _start_block(block: dict[str, Any], faults: FaultSet) -> dict[str, Any]:
    """A block as content_block_start announces it, before any delta."""
    if block["type"] == "tool_use":
        return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
    if block["type"] == "thinking":
        whole = "anthropic-thinking-not-streamed" in faults
        return {"type": "thinking", "thinking": block["thinking"] if whole else "", "signature": ""}
    return {"type": "text", "text": ""}


def _json_pieces(tool_input: dict[str, Any], faults: FaultSet) -> list[str]:
    """The input's JSON in input_json_delta pieces; under anthropic-tool-input-json-broken the
    last one, which closes the object, is left out (``{}`` is sent as ``{`` then)."""
    pieces = fragments(arguments(tool_input))
    if "anthropic-tool-input-json-broken" not in faults:
        return pieces
    if len(pieces) == 1:
        pieces = list(pieces[0])
    return pieces[:-1]


def _deltas(block: dict[str, Any], faults: FaultSet) -> list[dict[str, Any]]:
    if block["type"] == "tool_use":
        if "anthropic-tool-input-not-streamed" in faults:
            return []
        pieces = _json_pieces(block["input"], faults)
        return [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
    if block["type"] == "thinking":
        deltas = [
            {"type": "thinking_delta", "thinking": piece}
            for piece in token_pieces(block["thinking"])
        ]
        if "anthropic-thinking-not-streamed" in faults:
            deltas = []
        if block["signature"]:
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        return deltas
    return [{"type": "text_delta", "text": piece} for piece in token_pieces(block["text"])]


def _streamed_input_tokens(reply: Reply, faults: FaultSet) -> int:
    """message_start's input_tokens: the reply's count, unless a fault miscounts it."""
    if "anthropic-input-tokens-zero" in faults:
        return 0
    if "anthropic-usage-stream-differs" in faults:
        return estimated(reply.input_tokens)
    return reply.input_tokens


def _message_start(reply: Reply, faults: FaultSet) -> Event:
    message: dict[str, Any] = {
        "id": reply.id,
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": reply.model,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": _streamed_input_tokens(reply, faults),
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    if "anthropic-message-start-incomplete" in faults:
        del message["content"], message["stop_reason"], message["usage"]
    return "message_start", {"type": "message_start", "message": message}


def _blocks(reply: Reply, faults: FaultSet) -> list[dict[str, Any]]:
    """The blocks the stream carries: the reply's, after an empty text block under
    anthropic-stream-extra-block."""
    extra = [{"type": "text", "text": ""}] if "anthropic-stream-extra-block" in faults else []
    return [*extra, *reply.content]


def _broken_off(events: list[Event]) -> list[Event]:
    """The events up to the first content delta (or the message_delta without one), then the
    overloaded error that ends the stream."""
    kinds = [kind for kind, _ in events]
    if "content_block_delta" in kinds:
        cut = kinds.index("content_block_delta") + 1
    else:
        cut = kinds.index("message_delta")
    return [*events[:cut], ("error", OVERLOADED)]


def message_events(reply: Reply, faults: FaultSet) -> list[Event]:
    """Every event of the stream, in order, as (event type, data)."""
    events: list[Event] = [_message_start(reply, faults)]
    blocks = _blocks(reply, faults)
    first = 1 if "anthropic-index-gap" in faults else 0
    for index, block in enumerate(blocks, start=first):
        start = {
            "type": "content_block_start",
            "index": index,
            "content_block": _start_block(block, faults),
        }
        events.append(("content_block_start", start))
        if index == first:
            events.append(("ping", {"type": "ping"}))
        events.extend(
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in _deltas(block, faults)
        )
        if "anthropic-block-stop-missing" not in faults:
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    if not blocks:
        events.append(("ping", {"type": "ping"}))
    delta = {"stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence}
    if "anthropic-delta-null-absent" in faults and delta["stop_sequence"] is None:
        del delta["stop_sequence"]
    message_delta: dict[str, Any] = {"type": "message_delta", "delta": delta}
    if "anthropic-output-tokens-missing" not in faults:
        message_delta["usage"] = {"output_tokens": reply.output_tokens}
    events.append(("message_delta", message_delta))
    if "anthropic-message-stop-missing" not in faults:
        events.append(("message_stop", {"type": "message_stop"}))
    if "anthropic-events-after-stop" in faults:
        events.append(("message_delta", message_delta))
    if "anthropic-overloaded-mid-stream" in faults:
        return _broken_off(events)
    return events


def frames(events: list[Event], faults: FaultSet) -> list[bytes]:
    """The bytes of each event: an ``event:`` line (none under anthropic-event-lines-missing),
    then its ``data:`` line; ``data: [DONE]`` last under anthropic-done-sentinel."""
    named = "anthropic-event-lines-missing" not in faults
    out = []
    for kind, data in events:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        head = f"event: {kind}\n" if named else ""
        out.append(f"{head}data: {payload}\n\n".encode())
    if "anthropic-done-sentinel" in faults:
        out.append(DONE_FRAME)
    return out
