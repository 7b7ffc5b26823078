"""An Anthropic Messages answer read as the neutral ``Reply``, streamed or not."""

from __future__ import annotations

import json
from typing import Any

from chatconform.dialects.anthropic.stream import parse
from chatconform.exchange import Exchange
from chatconform.reply import CAPPED, ENDED, TOOL, Reply, ToolCall, Usage, token_count

# What each stop_reason means (anthropic-sdk-python types/stop_reason.py); the others
# (pause_turn, refusal, model_context_window_exceeded) have no neutral meaning.
ENDINGS = {"end_turn": ENDED, "stop_sequence": ENDED, "max_tokens": CAPPED, "tool_use": TOOL}


def read(exchange: Exchange) -> Reply:
    """The answer a client gets from the exchange (computed once per exchange).

    Text is the text blocks joined (thinking goes to ``reasoning``), tool calls are
    the tool_use blocks with their input as JSON text: for a stream the partial_json
    as sent, concatenated. A body that is no message reads as an empty reply.
    """
    return exchange.derive("anthropic.reply", _read)


def _read(exchange: Exchange) -> Reply:
    if exchange.streamed:
        stream = parse(exchange)
        message = stream.accumulate()
        blocks = [(b.block, b.json_text or None) for b in stream.blocks()]
    else:
        payload = exchange.json_or_none()
        message = payload if isinstance(payload, dict) else {}
        content = message.get("content")
        entries = content if isinstance(content, list) else []
        blocks = [(b, None) for b in entries if isinstance(b, dict)]
    text = "".join(_text(b, "text") for b, _ in blocks if b.get("type") == "text")
    reasoning = "".join(_text(b, "thinking") for b, _ in blocks if b.get("type") == "thinking")
    calls = tuple(
        ToolCall(
            id=_string(block.get("id")),
            name=_string(block.get("name")),
            arguments=json_text if json_text is not None else _dumps(block),
        )
        for block, json_text in blocks
        if block.get("type") == "tool_use"
    )
    reason = _string(message.get("stop_reason"))
    return Reply(
        text=text,
        tool_calls=calls,
        stop_reason=reason,
        ending=ENDINGS.get(reason) if reason is not None else None,
        usage=_usage(message.get("usage")),
        reasoning=reasoning,
    )


def _text(block: dict[str, Any], key: str) -> str:
    value = block.get(key)
    return value if isinstance(value, str) else ""


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dumps(block: dict[str, Any]) -> str:
    """A tool_use block's input as JSON text ("" when it has none)."""
    if "input" not in block:
        return ""
    try:
        return json.dumps(block["input"], ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return ""


def _usage(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    return Usage(token_count(usage.get("input_tokens")), token_count(usage.get("output_tokens")))
