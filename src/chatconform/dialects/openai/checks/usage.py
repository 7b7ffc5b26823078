"""Usage honesty across requests in Chat Completions: the same prompt_tokens streamed and
not, and more prompt_tokens, at a tokenizer's rate, for a longer prompt."""

from __future__ import annotations

from typing import Any

from chatconform import usage_honesty
from chatconform.dialects.openai.checks.completion import prompt_chars
from chatconform.dialects.openai.stream import parse
from chatconform.exchange import Exchange, events_excerpt
from chatconform.usage_honesty import PromptCount


def prompt_count(exchange: Exchange) -> PromptCount:
    """usage.prompt_tokens of a response, or of a stream's last usage chunk."""
    request = exchange.request.json() if exchange.request.body else None
    chars, _ = prompt_chars(request if isinstance(request, dict) else {})
    usage: Any = None
    location, evidence = "/usage/prompt_tokens", exchange.excerpt()
    if exchange.streamed:
        carrying = [
            (i, c["usage"]) for i, c in parse(exchange).chunks if isinstance(c.get("usage"), dict)
        ]
        if carrying:
            i, usage = carrying[-1]
            location, evidence = f"/events/{i}/usage/prompt_tokens", events_excerpt(exchange, i)
    else:
        payload = exchange.json_or_none()
        usage = payload.get("usage") if isinstance(payload, dict) else None
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    counted = isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0
    return PromptCount(chars, tokens if counted else None, location, evidence)


streamed_usage_matches = usage_honesty.stream_matches_check(
    "openai.usage.stream-matches", prompt_count, "prompt_tokens"
)
usage_follows_prompt = usage_honesty.follows_prompt_check(
    "openai.usage.fixed", prompt_count, "prompt_tokens"
)
prompt_rate_plausible = usage_honesty.prompt_rate_check(
    "openai.usage.prompt-rate", prompt_count, "prompt_tokens"
)
