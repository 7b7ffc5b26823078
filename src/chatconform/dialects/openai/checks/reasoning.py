"""Checks of reasoning models: where the reasoning goes, how it is counted, when it streams.

The official API keeps the reasoning hidden and counts it in
``usage.completion_tokens_details.reasoning_tokens``, part of ``completion_tokens``.
Vendors that show it use fields of their own; those are recognised and reported for
information, and the answer is ``content`` alone, never the reasoning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.checks.text import answer_text, content_location
from chatconform.dialects.openai.stream import choice_entries, choice_index, parse
from chatconform.exchange import Exchange, clip

# Where vendors show the reasoning: DeepSeek, vLLM and SiliconFlow (reasoning_content),
# OpenRouter and newer vLLM (reasoning), OpenRouter's structured blocks (reasoning_details).
VENDOR_FIELDS = ("reasoning_content", "reasoning", "reasoning_details")
# Reasoning a server without a reasoning parser leaves in the text (DeepSeek-R1, QwQ).
_THINK_TAG = re.compile(r"</?think(ing)?>", re.I)


def _shown(value: Any) -> bool:
    return value not in (None, "", [], {})


def _size(value: Any) -> str:
    if isinstance(value, str):
        return f"{len(value)} characters"
    if isinstance(value, list):
        return f"{len(value)} items"
    return type(value).__name__


def shown_reasoning(exchange: Exchange) -> dict[str, tuple[str, Any]]:
    """Each vendor reasoning field the answer carries: its first location and its value
    (the streamed pieces of a string field joined)."""
    found: dict[str, tuple[str, Any]] = {}
    if not exchange.streamed:
        for j, entry in choice_entries(exchange.json_or_none()):
            message = entry.get("message")
            for name in VENDOR_FIELDS:
                if isinstance(message, dict) and _shown(message.get(name)) and name not in found:
                    found[name] = (f"/choices/{j}/message/{name}", message[name])
        return found
    for i, chunk in parse(exchange).chunks:
        for j, entry in choice_entries(chunk):
            delta = entry.get("delta")
            for name in VENDOR_FIELDS:
                value = delta.get(name) if isinstance(delta, dict) else None
                if not _shown(value):
                    continue
                if name not in found:
                    found[name] = (f"/events/{i}/choices/{j}/delta/{name}", value)
                elif isinstance(value, str) and isinstance(found[name][1], str):
                    found[name] = (found[name][0], found[name][1] + value)
    return found


@check("openai.reasoning.vendor-field")
def reasoning_fields_reported(exchange: Exchange) -> Iterator[Violation]:
    """A vendor field carrying the reasoning is recognised and named (info: not a deviation)."""
    for name, (where, value) in shown_reasoning(exchange).items():
        yield Violation(
            expected(
                "the answer in content; the official API keeps reasoning hidden",
                f"{name}, a vendor extension carrying the model's reasoning ({_size(value)}); "
                "read apart from the answer",
            ),
            location=where,
            evidence=clip(value if isinstance(value, str) else repr(value), 300),
        )


@check("openai.reasoning.in-content")
def reasoning_not_in_content(exchange: Exchange) -> Iterator[Violation]:
    """The reasoning is never part of content: clients show content as the answer (reasoning guide)."""
    text = answer_text(exchange)
    match = _THINK_TAG.search(text)
    if match:
        yield Violation(
            expected(
                "content holding the answer only (reasoning hidden, or in a field of its own)",
                f"{match.group(0)} in content: {clip(text, 160)!r}",
            ),
            location=content_location(exchange),
            evidence=exchange.excerpt(),
        )


def _reasoning_tokens(usage: Any) -> Any:
    details = usage.get("completion_tokens_details") if isinstance(usage, dict) else None
    return details.get("reasoning_tokens") if isinstance(details, dict) else None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def usage_location(exchange: Exchange) -> str:
    """Where the answer's usage is: the response's, or the last usage chunk's."""
    if exchange.streamed:
        carrying = [i for i, c in parse(exchange).chunks if isinstance(c.get("usage"), dict)]
        return f"/events/{carrying[-1]}/usage" if carrying else "/events"
    return "/usage"


@check("openai.reasoning.tokens")
def reasoning_tokens_counted(exchange: Exchange, usage: Any) -> Iterator[Violation]:
    """reasoning_tokens counts the reasoning and is part of completion_tokens (CompletionUsage)."""
    if not isinstance(usage, dict):
        return  # usage missing is openai.usage.present's
    reasoning, completion = _reasoning_tokens(usage), usage.get("completion_tokens")
    where = f"{usage_location(exchange)}/completion_tokens_details/reasoning_tokens"
    shown = shown_reasoning(exchange)
    if shown and not (_is_count(reasoning) and reasoning > 0):
        yield Violation(
            expected(
                "usage.completion_tokens_details.reasoning_tokens counting the reasoning",
                f"{', '.join(shown)} carries reasoning, reasoning_tokens is {reasoning!r}",
            ),
            location=where,
            evidence=exchange.excerpt(),
        )
        return
    if not (_is_count(reasoning) and _is_count(completion)):
        return
    # The visible answer costs at least one token on top of the reasoning.
    floor = reasoning + (1 if answer_text(exchange) else 0)
    if completion < floor:
        yield Violation(
            expected(
                f"completion_tokens >= reasoning_tokens ({reasoning}) plus the answer's tokens",
                f"completion_tokens {completion}: the reasoning is not counted in it",
            ),
            location=f"{usage_location(exchange)}/completion_tokens",
            evidence=exchange.excerpt(),
        )


@check("openai.reasoning.stream-order")
def reasoning_before_content(exchange: Exchange) -> Iterator[Violation]:
    """Streamed reasoning deltas of a choice come before its content deltas (a model thinks, then answers)."""
    answering: set[int | str] = set()
    reported: set[int | str] = set()
    for i, chunk in parse(exchange).chunks:
        for j, entry in choice_entries(chunk):
            delta = entry.get("delta")
            if not isinstance(delta, dict):
                continue
            key = choice_index(entry)
            late = [n for n in VENDOR_FIELDS if _shown(delta.get(n))]
            if late and key in answering and key not in reported:
                reported.add(key)
                yield Violation(
                    expected(
                        "every reasoning delta before the first content delta of the choice",
                        f"{late[0]} after content had started: {clip(str(delta[late[0]]), 80)!r}",
                    ),
                    location=f"/events/{i}/choices/{j}/delta/{late[0]}",
                    evidence=exchange.excerpt(),
                )
            if isinstance(delta.get("content"), str) and delta["content"]:
                answering.add(key)
