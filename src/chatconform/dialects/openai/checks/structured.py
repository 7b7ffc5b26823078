"""Checks of structured output: JSON mode, json_schema (streamed or not), strict mode's subset.

The content is read as a client reads it (``json.loads`` of message.content, or of
the concatenated content deltas); a refusal (message.refusal) is the model's answer
in place of the JSON, never content that fails to parse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.checks.text import answer_text, content_location
from chatconform.dialects.openai.stream import choice_entries, parse
from chatconform.exchange import Exchange, clip
from chatconform.schemas import request_schema_problem

# A Markdown code fence around the whole content: ```json ... ``` (language optional).
_FENCED = re.compile(r"^\s*```[\w-]*[ \t]*\r?\n(.*?)\r?\n?```\s*$", re.S)
_NOT_JSON = object()


def refusal_text(exchange: Exchange, choice: int = 0) -> str | None:
    """The model's refusal of one choice (message.refusal, or the streamed delta.refusal
    pieces joined), or None when it did not refuse."""
    parts: list[str] = []
    if exchange.streamed:
        for _, chunk in parse(exchange).chunks:
            for _, entry in choice_entries(chunk, choice):
                delta = entry.get("delta")
                if isinstance(delta, dict) and isinstance(delta.get("refusal"), str):
                    parts.append(delta["refusal"])
    else:
        for _, entry in choice_entries(exchange.json_or_none(), choice):
            message = entry.get("message")
            if isinstance(message, dict) and isinstance(message.get("refusal"), str):
                parts.append(message["refusal"])
    return "".join(parts) or None


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def fenced_json(text: str) -> Any:
    """The JSON inside a Markdown code fence that wraps the whole text, else _NOT_JSON."""
    match = _FENCED.match(text)
    return _loads(match.group(1)) if match else _NOT_JSON


def content_json(exchange: Exchange) -> Any:
    """The answer's content parsed as JSON, as a client parses it (``_NOT_JSON`` if not)."""
    return _loads(answer_text(exchange))


@check("openai.structured.fenced")
def json_not_fenced(exchange: Exchange) -> Iterator[Violation]:
    """Structured output is bare JSON, not wrapped in a Markdown fence (structured outputs guide)."""
    text = answer_text(exchange)
    if content_json(exchange) is _NOT_JSON and fenced_json(text) is not _NOT_JSON:
        yield Violation(
            expected(
                "content that is the JSON itself", f"JSON inside a code fence: {clip(text, 120)!r}"
            ),
            location=content_location(exchange),
            evidence=exchange.excerpt(),
        )


@check("openai.structured.not-json")
def content_is_json_object(exchange: Exchange) -> Iterator[Violation]:
    """With response_format json_object or json_schema the content is a JSON object (create chat: response_format)."""
    text = answer_text(exchange)
    value = content_json(exchange)
    if value is _NOT_JSON and fenced_json(text) is not _NOT_JSON:
        return  # openai.structured.fenced says so
    if not isinstance(value, dict):
        received = (
            "no content"
            if not text
            else f"{'not JSON' if value is _NOT_JSON else 'JSON, not an object'}: {clip(text, 120)!r}"
        )
        yield Violation(
            expected(
                "content that parses as a JSON object (response_format asks for one)", received
            ),
            location=content_location(exchange),
            evidence=exchange.excerpt(),
        )


@check("openai.structured.schema-violated")
def content_matches_schema(exchange: Exchange, schema: dict[str, Any]) -> Iterator[Violation]:
    """With a strict json_schema the content validates against the schema (structured outputs guide)."""
    value = content_json(exchange)
    if not isinstance(value, dict):
        return  # not JSON at all is openai.structured.not-json's (or fenced's)
    problem = request_schema_problem(value, schema)
    if problem is not None:
        yield Violation(
            expected(
                "content valid against the request's json_schema",
                f"at {problem.pointer or '/'} of the content: {clip(problem.message, 200)}",
            ),
            location=content_location(exchange),
            evidence=exchange.excerpt(),
        )


@check("openai.structured.strict-subset")
def unsupported_schema_refused(exchange: Exchange, feature: str) -> Iterator[Violation]:
    """A strict schema outside the supported subset is refused with a 400, not accepted (structured outputs guide: supported schemas)."""
    status = exchange.status or 0
    if 200 <= status < 300:
        yield Violation(
            expected(
                f"HTTP 400: strict mode does not support {feature}",
                f"HTTP {status}: the schema was accepted, so strict mode cannot guarantee it",
            ),
            evidence=exchange.excerpt(),
        )
