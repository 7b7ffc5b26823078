"""Exchanges built from the Anthropic wire samples in tests/data/anthropic."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from chatconform.dialects.anthropic.checks import message, streaming, thinking, tools
from chatconform.exchange import Exchange, RecordedRequest, StreamEvent
from chatconform.finding import Finding, deduplicate
from chatconform.sse import SSEDecoder

DATA_DIR = Path(__file__).parents[2] / "data" / "anthropic"
URL = "https://api.example.test/v1/messages"
MODELS_URL = "https://api.example.test/v1/models"
HEADERS = {
    "x-api-key": "[REDACTED]",
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
}
MODEL = "claude-sonnet-4-5"

COUNTING = [
    {
        "role": "user",
        "content": "Count from 1 to 11, separated by single spaces. Output only the numbers.",
    }
]
# The requests the samples answer (stream_faithful_text.sse, stream_thinking.sse, ...).
TEXT_REQUEST: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 64,
    "messages": COUNTING,
    "stream": True,
}
WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city and country"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location"],
    },
}
TOOL_REQUEST: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 256,
    "tools": [WEATHER_TOOL],
    "messages": [{"role": "user", "content": "What is the weather in Paris right now?"}],
    "stream": True,
}
THINKING_REQUEST: dict[str, Any] = {
    **TEXT_REQUEST,
    "max_tokens": 2048,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
}
# The requests of the non-streamed samples (message_basic.json, message_tool_use.json, ...).
PLAIN_REQUEST: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hello, Claude"}],
}
PLAIN_TOOL_REQUEST: dict[str, Any] = {
    **{k: v for k, v in TOOL_REQUEST.items() if k != "stream"},
    "messages": [{"role": "user", "content": "What is the weather in San Francisco?"}],
}
PLAIN_THINKING_REQUEST: dict[str, Any] = {
    **PLAIN_REQUEST,
    "max_tokens": 2048,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
}
# First event after 300 ms, then one every 40 ms: a model generating tokens.
FIRST_EVENT_S = 0.300
PACE_S = 0.040


def read(name: str) -> bytes:
    return (DATA_DIR / name).read_bytes()


def sample(name: str) -> Any:
    """A JSON sample, as a fresh object the test may change."""
    return copy.deepcopy(json.loads(read(name)))


def recorded(body: dict[str, Any] | None, url: str = URL) -> RecordedRequest:
    if body is None:
        return RecordedRequest("GET", url, {"x-api-key": "[REDACTED]"})
    return RecordedRequest("POST", url, dict(HEADERS), json.dumps(body).encode())


def http_exchange(
    body: bytes | Any,
    *,
    status: int = 200,
    content_type: str = "application/json",
    request: dict[str, Any] | None = PLAIN_REQUEST,
    url: str = URL,
) -> Exchange:
    """A non-streamed exchange; a body that is not bytes is sent as its JSON text."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": content_type} if content_type else {}
    return Exchange(request=recorded(request, url), status=status, headers=headers, body=raw)


def json_exchange(name: str, **kwargs: Any) -> Exchange:
    """The exchange of a JSON sample file; see ``http_exchange`` for the options."""
    return http_exchange(read(name), **kwargs)


def sse_exchange(
    raw: bytes,
    *,
    times: Sequence[float] | None = None,
    request: dict[str, Any] | None = TEXT_REQUEST,
    content_type: str = "text/event-stream; charset=utf-8",
    status: int = 200,
) -> Exchange:
    """A streamed exchange: ``raw`` decoded into events, event i arriving at ``times[i]``."""
    decoder = SSEDecoder()
    decoded = decoder.feed(raw)
    if times is None:
        times = [FIRST_EVENT_S + PACE_S * i for i in range(len(decoded))]
    if len(times) != len(decoded):
        raise ValueError(f"{len(times)} arrival times for {len(decoded)} events")
    events = [
        StreamEvent(e.data, e.event, e.id, e.retry, t) for e, t in zip(decoded, times, strict=True)
    ]
    return Exchange(
        request=recorded(request),
        status=status,
        headers={"content-type": content_type} if content_type else {},
        body=raw,
        streamed=True,
        events=events,
        unterminated_tail=decoder.unterminated(),
        elapsed_s=(times[-1] if times else 0.0) + 0.001,
        first_byte_s=times[0] if times else None,
    )


def stream_exchange(name: str, **kwargs: Any) -> Exchange:
    """The exchange of an .sse sample file; see ``sse_exchange`` for the options."""
    return sse_exchange(read(name), **kwargs)


def event_exchange(
    events: Sequence[StreamEvent], request: dict[str, Any] | None = TEXT_REQUEST
) -> Exchange:
    """A streamed exchange of already decoded events (property tests)."""
    return Exchange(
        request=recorded(request),
        status=200,
        headers={"content-type": "text/event-stream"},
        streamed=True,
        events=list(events),
    )


def sse_bytes(payloads: Sequence[Any], *, names: bool = True) -> bytes:
    """An event stream with one event per JSON value, named for its type (when it has one)."""
    out = []
    for payload in payloads:
        kind = payload.get("type") if isinstance(payload, dict) else None
        name = f"event: {kind}\n" if names and isinstance(kind, str) else ""
        out.append(f"{name}data: {json.dumps(payload)}\n\n")
    return "".join(out).encode()


def payloads(name: str) -> list[Any]:
    """The JSON data of each event of an .sse sample, to build variants from."""
    return [json.loads(e.data) for e in stream_exchange(name).events]


def summary(findings: list[Finding]) -> list[tuple[str, str, str]]:
    """(rule, severity, location) of each finding, in order."""
    return [(f.rule, str(f.severity), f.location) for f in findings]


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


# Every check of one streamed exchange, as a streamed case calls it (the pair and
# parameter checks, matches-message, usage.fixed, text.max-tokens and text.stop-sequence,
# are called by the tests that give them their second argument).
EVERY_STREAM_CHECK: dict[str, Callable[[Exchange], list[Finding]]] = {
    "anthropic.stream.content-type": streaming.content_type_is_event_stream,
    "anthropic.stream.event-json": streaming.events_are_json,
    "anthropic.stream.event-name": streaming.event_names_match,
    "anthropic.stream.event-order": streaming.event_order,
    "anthropic.stream.block-index": streaming.block_indices_contiguous,
    "anthropic.stream.block-lifecycle": streaming.block_lifecycle,
    "anthropic.stream.truncated": streaming.stream_not_truncated,
    "anthropic.stream.message-start": streaming.message_start_complete,
    "anthropic.stream.input-tokens": streaming.input_tokens_reported,
    "anthropic.stream.output-tokens": streaming.output_tokens_reported,
    "anthropic.stream.null-field-absent": streaming.delta_null_fields_present,
    "anthropic.stream.event-schema": streaming.events_match_schema,
    "anthropic.stream.error-event": streaming.no_error_event,
    "anthropic.stream.pseudo-streaming": streaming.delivered_incrementally,
    "anthropic.message.openai-shape": message.not_openai_shaped,
    "anthropic.message.stop-reason": message.stop_reason_defined,
    "anthropic.message.model-mismatch": message.model_matches_request,
    "anthropic.tools.block-fields": tools.tool_use_fields,
    "anthropic.tools.input-valid": tools.tool_input_valid,
    "anthropic.tools.stop-reason": tools.stop_reason_tool_use,
    "anthropic.tools.input-not-streamed": tools.tool_input_streamed,
    "anthropic.tools.input-stream-json": tools.tool_input_stream_json,
    "anthropic.tools.tool-choice": tools.tool_choice_honoured,
    "anthropic.tools.parallel-disabled": tools.parallel_disabled_honoured,
    "anthropic.thinking.block": thinking.thinking_block_present,
    "anthropic.thinking.signature": thinking.thinking_signed,
    "anthropic.thinking.stream-deltas": thinking.thinking_streamed,
}


def every_stream_finding(exchange: Exchange) -> list[tuple[str, str, str]]:
    """What every stream check finds, deduplicated as a report shows it."""
    return summary(deduplicate(f for run in EVERY_STREAM_CHECK.values() for f in run(exchange)))
