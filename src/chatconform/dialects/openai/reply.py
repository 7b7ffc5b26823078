"""A chat completion, streamed or not, read as the neutral ``Reply``."""

from __future__ import annotations

import json
from typing import Any

from chatconform.dialects.openai.checks.text import answer_text, finish_reasons
from chatconform.dialects.openai.stream import parse
from chatconform.dialects.openai.tool_calls import calls
from chatconform.exchange import Exchange
from chatconform.reply import CAPPED, ENDED, TOOL, Reply, ToolCall, Usage, token_count

ENDINGS = {"stop": ENDED, "length": CAPPED, "tool_calls": TOOL, "function_call": TOOL}


def read(exchange: Exchange) -> Reply:
    """Choice 0 of the exchange's answer, as a client reads it (computed once)."""
    return exchange.derive("openai.reply", _read)


def _read(exchange: Exchange) -> Reply:
    reasons = finish_reasons(exchange)
    reason = reasons[0] if reasons and isinstance(reasons[0], str) else None
    return Reply(
        text=answer_text(exchange),
        tool_calls=tuple(
            ToolCall(
                id=c.id if isinstance(c.id, str) else None,
                name=c.name if isinstance(c.name, str) else None,
                arguments=c.arguments if isinstance(c.arguments, str) else json.dumps(c.arguments),
            )
            for c in calls(exchange)
        ),
        stop_reason=reason,
        ending=ENDINGS.get(reason or ""),
        usage=_usage(exchange),
    )


def _usage(exchange: Exchange) -> Usage | None:
    usage: Any
    if exchange.streamed:
        usage = parse(exchange).usage()
    else:
        payload = exchange.json_or_none()
        usage = payload.get("usage") if isinstance(payload, dict) else None
    if not isinstance(usage, dict):
        return None
    return Usage(
        token_count(usage.get("prompt_tokens")), token_count(usage.get("completion_tokens"))
    )
