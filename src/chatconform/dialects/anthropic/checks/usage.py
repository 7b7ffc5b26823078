"""Usage honesty across requests in Messages: the same input tokens streamed and not, and
more input tokens, at a tokenizer's rate, for a longer prompt."""

from __future__ import annotations

from chatconform import usage_honesty
from chatconform.dialects.anthropic.checks.message import (
    INPUT_COUNTS,
    evidence,
    is_count,
    message_at,
    message_of,
    prompt_chars,
    request_body,
)
from chatconform.exchange import Exchange
from chatconform.reply import token_count
from chatconform.usage_honesty import PromptCount


def prompt_count(exchange: Exchange) -> PromptCount:
    """The message's input tokens, cache reads and writes included (types/usage.py: the
    prompt is their sum); for a stream, message_start's as message_delta updates them."""
    message = message_of(exchange)
    usage = message.get("usage") if message else None
    location = message_at(exchange, "/usage/input_tokens")
    counted = isinstance(usage, dict) and is_count(usage.get("input_tokens"))
    tokens = sum(token_count(usage.get(k)) for k in INPUT_COUNTS) if counted else None
    return PromptCount(
        prompt_chars(request_body(exchange)), tokens, location, evidence(exchange, location)
    )


streamed_usage_matches = usage_honesty.stream_matches_check(
    "anthropic.usage.stream-matches", prompt_count, "input tokens"
)
prompt_rate_plausible = usage_honesty.prompt_rate_check(
    "anthropic.usage.prompt-rate", prompt_count, "input tokens"
)
