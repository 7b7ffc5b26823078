"""Anthropic Messages streams: event names, order, block lifecycle, usage, errors, timing."""

from __future__ import annotations

from typing import Any

from chatconform.case import CaseRecord, case
from chatconform.dialects.anthropic.checks import streaming as checks
from chatconform.dialects.anthropic.probe import AnthropicProbe, over_cap
from chatconform.dialects.anthropic.requests import message_body
from chatconform.exchange import Exchange
from chatconform.prompts import prompt

GUIDE = "https://docs.anthropic.com/en/docs/build-with-claude/streaming"
CAPABILITY = "streaming"
MAX_TOKENS = 60


def _stream(anthropic: AnthropicProbe, name: str = "counting", **params: Any) -> Exchange:
    """A stream, framed readably (or the case stops), of a prompt's answer."""
    body = message_body(
        prompt(name), anthropic.model(CAPABILITY), MAX_TOKENS, temperature=0, stream=True, **params
    )
    exchange = anthropic.messages(body, cut=over_cap(MAX_TOKENS))
    anthropic.expect_success(exchange)
    anthropic.check_stream(exchange)
    return exchange


@case(
    "anthropic/streaming/content-type",
    title="A stream is served as text/event-stream",
    requirement="stream: true answers with server-sent events (Content-Type text/event-stream).",
    source=GUIDE,
)
def test_content_type(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    _stream(anthropic)


@case(
    "anthropic/streaming/event-names",
    title="Every event names its type",
    requirement="Each event has an event: line equal to its data's type; clients dispatch on it.",
    source=f"{GUIDE}#event-types",
)
def test_event_names(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = _stream(anthropic)
    case.add(checks.event_names_match(exchange), exchange)


@case(
    "anthropic/streaming/event-order",
    title="Events come in the documented order",
    requirement="message_start; per block content_block_start, deltas, content_block_stop; message_delta; message_stop, nothing after it.",
    source=f"{GUIDE}#event-types",
)
def test_event_order(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = _stream(anthropic)
    case.add(checks.event_order(exchange), exchange)


@case(
    "anthropic/streaming/block-lifecycle",
    title="Content blocks are indexed from 0, opened and closed once",
    requirement="Block indices are contiguous from 0; each block opens once, closes once, and gets deltas of its kind only while open.",
    source=f"{GUIDE}#content-block-delta-types",
)
def test_block_lifecycle(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = _stream(anthropic)
    case.add(checks.block_indices_contiguous(exchange), exchange)
    case.add(checks.block_lifecycle(exchange), exchange)


@case(
    "anthropic/streaming/event-schema",
    title="Every event matches its schema",
    requirement="Each known event has the fields and types of the official stream event types; unknown ones are ignored.",
    source="anthropic-sdk-python: types/raw_message_stream_event.py",
)
def test_event_schema(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = _stream(anthropic)
    case.add(checks.events_match_schema(exchange), exchange)
    # What the schema tolerates because the SDKs do is a should, at its own place.
    case.add(checks.delta_null_fields_present(exchange), exchange)


@case(
    "anthropic/streaming/message-start",
    title="message_start carries the whole empty message",
    requirement="message_start.message has id, type, role, content [], model, stop_reason null and usage with the real input_tokens.",
    source=f"{GUIDE}#event-types",
)
def test_message_start(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = _stream(anthropic)
    if not case.add(checks.message_start_complete(exchange), exchange):
        case.add(checks.input_tokens_reported(exchange), exchange)


@case(
    "anthropic/streaming/usage",
    title="message_delta reports the output tokens",
    requirement="message_delta.usage.output_tokens is the cumulative output, within max_tokens.",
    source="anthropic-sdk-python: types/message_delta_usage.py",
)
def test_usage(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = _stream(anthropic)
    case.add(checks.output_tokens_reported(exchange, MAX_TOKENS), exchange)


@case(
    "anthropic/streaming/matches-message",
    title="The streamed message equals the non-streamed one in structure",
    requirement="Accumulated, a stream gives the message the same request gets without streaming.",
    source=GUIDE,
    round_trips=2,
)
def test_matches_message(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    streamed = _stream(anthropic, "arithmetic")
    body = message_body(
        prompt("arithmetic"), anthropic.model(CAPABILITY), MAX_TOKENS, temperature=0
    )
    plain = anthropic.messages(body)
    anthropic.expect_success(plain)
    case.add(checks.matches_message(streamed, plain), streamed)


@case(
    "anthropic/streaming/incremental",
    title="Text arrives incrementally",
    requirement="Deltas are sent as they are generated, not buffered and released at the end.",
    source=GUIDE,
)
def test_incremental(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    exchange = _stream(anthropic)
    case.add(checks.delivered_incrementally(exchange), exchange)
