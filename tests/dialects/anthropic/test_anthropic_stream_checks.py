"""Checks of a streamed Message (chatconform.dialects.anthropic.checks.streaming)."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic_helpers import (
    EVERY_STREAM_CHECK,
    THINKING_REQUEST,
    TOOL_REQUEST,
    every_stream_finding,
    json_exchange,
    payloads,
    sse_bytes,
    sse_exchange,
    stream_exchange,
    summary,
)
from hypothesis import given, note, settings
from hypothesis import strategies as st

from chatconform.dialects.anthropic.checks import streaming
from chatconform.exchange import Exchange
from chatconform.schemas import schema_errors

FAITHFUL: list[tuple[str, dict[str, Any] | None]] = [
    ("stream_faithful_text.sse", None),
    ("stream_faithful_tool_use.sse", TOOL_REQUEST),
    ("stream_thinking.sse", THINKING_REQUEST),
    # Pings before message_start and between deltas, an event type and a delta type
    # clients do not know yet: all to be ignored.
    ("stream_ping_and_unknown_events.sse", None),
    # CRLF, comments, "data:" without its space, id fields, one event on two data lines.
    ("stream_crlf.sse", None),
    ("stream_max_tokens.sse", None),
]


def _exchange(name: str, request: dict[str, Any] | None) -> Exchange:
    return stream_exchange(name, **({"request": request} if request else {}))


def test_every_check_of_the_module_is_run_by_the_cases_map() -> None:
    module = {fn.rule_id for fn in vars(streaming).values() if hasattr(fn, "rule_id")}
    assert module - set(EVERY_STREAM_CHECK) == {"anthropic.stream.matches-message"}


@pytest.mark.parametrize(("name", "request_body"), FAITHFUL, ids=[n for n, _ in FAITHFUL])
@pytest.mark.parametrize("rule", sorted(EVERY_STREAM_CHECK))
def test_faithful_stream_gives_no_finding(
    name: str, request_body: dict[str, Any] | None, rule: str
) -> None:
    assert EVERY_STREAM_CHECK[rule](_exchange(name, request_body)) == []


# Each fault sample, and what every stream check finds on it: its rule, at the event that
# shows it, and nothing else (one root cause, one family of findings).
FLAGGED: list[tuple[str, dict[str, Any] | None, list[tuple[str, str, str]]]] = [
    (
        "stream_not_json.sse",
        None,
        [("anthropic.stream.event-json", "must", "/events/5/data")],
    ),
    (
        "stream_event_lines_missing.sse",
        None,
        [("anthropic.stream.event-name", "must", "/events/0/event")],
    ),
    (
        "stream_event_name_differs.sse",
        None,
        [("anthropic.stream.event-name", "must", "/events/3/event")],
    ),
    (
        "stream_events_after_stop.sse",
        None,
        [("anthropic.stream.event-order", "must", "/events/17")],
    ),
    (
        "stream_message_delta_before_block_stop.sse",
        None,
        [("anthropic.stream.event-order", "must", "/events/15/data/type")],
    ),
    (
        "stream_index_gap.sse",
        TOOL_REQUEST,
        [("anthropic.stream.block-index", "must", "/events/5/data/index")],
    ),
    (
        "stream_block_stop_missing.sse",
        None,
        [("anthropic.stream.block-lifecycle", "must", "/events/14/data/type")],
    ),
    (
        "stream_block_opened_twice.sse",
        None,
        [("anthropic.stream.block-lifecycle", "must", "/events/6/data/index")],
    ),
    (
        "stream_delta_wrong_kind.sse",
        None,
        [("anthropic.stream.block-lifecycle", "must", "/events/5/data/delta/type")],
    ),
    (
        "stream_message_stop_missing.sse",
        None,
        [("anthropic.stream.truncated", "must", "/events/15")],
    ),
    (
        "stream_message_start_incomplete.sse",
        None,
        [
            ("anthropic.stream.message-start", "must", f"/events/0/data/message/{key}")
            for key in ("id", "role", "content", "stop_reason", "stop_sequence")
        ],
    ),
    (
        "stream_input_tokens_zero.sse",
        None,
        [("anthropic.stream.input-tokens", "should", "/events/0/data/message/usage/input_tokens")],
    ),
    (
        "stream_output_tokens_missing.sse",
        None,
        [("anthropic.stream.output-tokens", "must", "/events/15/data/usage/output_tokens")],
    ),
    (
        "stream_delta_stop_sequence_absent.sse",
        None,
        [("anthropic.stream.null-field-absent", "should", "/events/15/data/delta")],
    ),
    (
        "stream_event_schema_wrong.sse",
        None,
        [("anthropic.stream.event-schema", "must", "/events/1/data/content_block/text")],
    ),
    (
        "stream_error_event.sse",
        None,
        [("anthropic.stream.error-event", "must", "/events/4/data/error")],
    ),
]


@pytest.mark.parametrize(("name", "request_body", "found"), FLAGGED, ids=[n for n, _, _ in FLAGGED])
def test_fault_sample_fires_its_rule_only(
    name: str, request_body: dict[str, Any] | None, found: list[tuple[str, str, str]]
) -> None:
    assert every_stream_finding(_exchange(name, request_body)) == found


def test_event_order_names_what_came_first() -> None:
    events = payloads("stream_faithful_text.sse")
    events.insert(0, events.pop(1))  # content_block_start before message_start
    found = streaming.event_order(sse_exchange(sse_bytes(events)))
    assert summary(found) == [("anthropic.stream.event-order", "must", "/events/0/data/type")]
    assert "content_block_start first" in found[0].message


def test_event_order_wants_message_delta_before_message_stop() -> None:
    events = [e for e in payloads("stream_faithful_text.sse") if e["type"] != "message_delta"]
    found = streaming.event_order(sse_exchange(sse_bytes(events)))
    assert summary(found) == [("anthropic.stream.event-order", "must", "/events/15/data/type")]


def test_event_order_flags_data_after_message_stop_without_a_blank_line() -> None:
    raw = stream_exchange("stream_faithful_text.sse").body + b"event: ping\ndata: {}"
    found = streaming.event_order(sse_exchange(raw))
    assert summary(found) == [("anthropic.stream.event-order", "must", "/events/17")]
    assert "more data" in found[0].message


def test_truncated_says_when_the_last_event_was_not_terminated() -> None:
    raw = stream_exchange("stream_faithful_text.sse").body.removesuffix(b"\n\n")
    found = streaming.stream_not_truncated(sse_exchange(raw))
    assert "unterminated last event" in found[0].message


def test_truncated_is_silent_when_the_suite_cut_the_stream() -> None:
    exchange = stream_exchange("stream_message_stop_missing.sse")
    exchange.cut = "far over max_tokens"
    assert streaming.stream_not_truncated(exchange) == []


def test_content_type() -> None:
    exchange = stream_exchange("stream_faithful_text.sse", content_type="application/json")
    assert summary(streaming.content_type_is_event_stream(exchange)) == [
        ("anthropic.stream.content-type", "must", "")
    ]


def test_block_index_not_an_integer() -> None:
    events = payloads("stream_faithful_text.sse")
    for event in events:
        if "index" in event:
            event["index"] = "0"
    found = every_stream_finding(sse_exchange(sse_bytes(events)))
    assert ("anthropic.stream.block-index", "must", "/events/1/data/index") in found
    assert not [
        f
        for f in found
        if f[0] == "anthropic.stream.event-schema" and f[2] == "/events/1/data/index"
    ]


def test_input_tokens_from_a_message_delta_are_enough() -> None:
    events = payloads("stream_input_tokens_zero.sse")
    events[-2]["usage"]["input_tokens"] = 25
    assert streaming.input_tokens_reported(sse_exchange(sse_bytes(events))) == []


@pytest.mark.parametrize(
    ("max_tokens", "output", "fires"), [(64, 24, False), (16, 24, True), (64, 0, True)]
)
def test_output_tokens_within_the_cap_and_counted(
    max_tokens: int, output: int, fires: bool
) -> None:
    events = payloads("stream_faithful_text.sse")
    events[-2]["usage"]["output_tokens"] = output
    exchange = sse_exchange(sse_bytes(events))
    found = streaming.output_tokens_reported(exchange, max_tokens=max_tokens)
    assert summary(found) == (
        [("anthropic.stream.output-tokens", "must", "/events/15/data/usage/output_tokens")]
        if fires
        else []
    )


def test_output_tokens_missing_usage_points_at_usage() -> None:
    events = payloads("stream_faithful_text.sse")
    del events[-2]["usage"]
    found = every_stream_finding(sse_exchange(sse_bytes(events)))
    assert found == [("anthropic.stream.output-tokens", "must", "/events/15/data/usage")]


def test_pseudo_streaming() -> None:
    burst = stream_exchange("stream_faithful_text.sse", times=[2.0] * 17)
    assert summary(streaming.delivered_incrementally(burst)) == [
        ("anthropic.stream.pseudo-streaming", "should", "/events")
    ]


@pytest.mark.parametrize(
    ("name", "request_body", "plain", "plain_request"),
    [
        ("stream_faithful_text.sse", None, "message_basic.json", None),
        ("stream_faithful_tool_use.sse", TOOL_REQUEST, "message_tool_use.json", TOOL_REQUEST),
        # redacted_thinking in one, not the other: the safety system redacts at random.
        ("stream_thinking.sse", THINKING_REQUEST, "message_thinking.json", THINKING_REQUEST),
    ],
)
def test_matches_message_faithful(
    name: str, request_body: Any, plain: str, plain_request: Any
) -> None:
    streamed = _exchange(name, request_body)
    other = json_exchange(plain, **({"request": plain_request} if plain_request else {}))
    assert streaming.matches_message(streamed, other) == []


def test_matches_message_fires_on_another_structure() -> None:
    streamed = stream_exchange("stream_faithful_text.sse")
    plain = json_exchange("message_tool_use.json", request=TOOL_REQUEST)
    found = streaming.matches_message(streamed, plain)
    assert summary(found) == [("anthropic.stream.matches-message", "must", "/events")]
    assert "tools [get_weather]" in found[0].message and "blocks [text]" in found[0].message


def test_matches_message_is_silent_on_a_cut_stream() -> None:
    streamed = stream_exchange("stream_message_stop_missing.sse")
    plain = json_exchange("message_tool_use.json", request=TOOL_REQUEST)
    assert streaming.matches_message(streamed, plain) == []


_PLAIN_DELTA = st.fixed_dictionaries(
    {
        "type": st.just("content_block_delta"),
        "index": st.integers(0, 5) | st.booleans() | st.text(max_size=2),
        "delta": st.fixed_dictionaries(
            {"type": st.sampled_from(["text_delta", "input_json_delta", "thinking_delta", "x"])},
            optional={
                k: st.text(max_size=3) | st.integers() | st.none()
                for k in ("text", "partial_json", "thinking", "extra")
            },
        ),
    },
    optional={"extra": st.integers()},
)


@settings(max_examples=200, deadline=None)
@given(event=_PLAIN_DELTA)
def test_deltas_the_schema_check_skips_are_valid_against_the_schema(event: dict[str, Any]) -> None:
    note(f"event: {event!r}")
    if streaming._plain_delta(event):
        assert schema_errors("anthropic", "stream_event", event) == []
