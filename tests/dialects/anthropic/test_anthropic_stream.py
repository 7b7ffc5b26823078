"""The Messages stream reader (chatconform.dialects.anthropic.stream), and that nothing
reading a stream raises, whatever events a provider sends."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from anthropic_helpers import (
    EVERY_STREAM_CHECK,
    THINKING_REQUEST,
    TOOL_REQUEST,
    event_exchange,
    json_exchange,
    payloads,
    stream_exchange,
)
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from chatconform.dialects.anthropic.checks import message, streaming
from chatconform.dialects.anthropic.reply import read
from chatconform.dialects.anthropic.stream import KNOWN_EVENTS, parse
from chatconform.exchange import Exchange, StreamEvent
from chatconform.finding import Finding

FAITHFUL = ["stream_faithful_text.sse", "stream_faithful_tool_use.sse", "stream_thinking.sse"]


def test_events_are_sorted_by_what_they_carry() -> None:
    stream = parse(stream_exchange("stream_ping_and_unknown_events.sse"))
    assert [i for i, _ in stream.pings] == [0, 3, 17]
    assert [(i, e["type"]) for i, e in stream.unknown] == [(9, "content_block_annotation")]
    assert stream.events[0] == (1, payloads("stream_ping_and_unknown_events.sse")[1])
    assert stream.message_stop_at == 20
    assert stream.not_json == [] and stream.errors == []


def test_not_json_and_error_events_are_recorded() -> None:
    broken = parse(stream_exchange("stream_not_json.sse"))
    assert [i for i, _ in broken.not_json] == [5]
    errored = parse(stream_exchange("stream_error_event.sse"))
    assert [(i, e["error"]["type"]) for i, e in errored.errors] == [(4, "overloaded_error")]
    assert errored.message_stop_at is None


def test_an_event_named_error_is_an_error_whatever_its_data() -> None:
    # anthropic-sdk-python raises on event: error before it reads the data.
    exchange = event_exchange([StreamEvent('{"type": "message_stop"}', "error")])
    stream = parse(exchange)
    assert len(stream.errors) == 1 and stream.events == []


def test_parse_is_computed_once_per_exchange() -> None:
    exchange = stream_exchange("stream_faithful_text.sse")
    assert parse(exchange) is parse(exchange)


@pytest.mark.parametrize("name", FAITHFUL)
def test_accumulate_builds_the_message_the_sdk_builds(name: str) -> None:
    accumulating = pytest.importorskip("anthropic.lib.streaming._messages")
    snapshot, buffers = None, {}
    for event in payloads(name):
        if event["type"] not in ("ping", "error"):
            snapshot = accumulating.accumulate_event(
                event=event, current_snapshot=snapshot, json_bufs=buffers
            )
    assert snapshot is not None
    built = snapshot.to_dict()
    built.pop("stop_details")  # the SDK sets it from every message_delta, None here
    assert parse(stream_exchange(name)).accumulate() == built


def test_accumulate_concatenates_and_merges() -> None:
    stream = parse(stream_exchange("stream_faithful_tool_use.sse"))
    built = stream.accumulate()
    assert built["content"][1]["input"] == {"location": "Paris, France", "unit": "celsius"}
    assert built["stop_reason"] == "tool_use"
    assert built["usage"]["input_tokens"] == 472 and built["usage"]["output_tokens"] == 89
    block = stream.blocks()[1]
    assert (block.index, block.start_at, block.stop_at) == (1, 5, 9)
    assert block.json_text == '{"location": "Paris, France", "unit": "celsius"}'
    assert block.json_at == [6, 7, 8]


def test_message_delta_input_tokens_override_and_null_counts_keep() -> None:
    events = payloads("stream_faithful_text.sse")
    events[-2]["usage"] = {"output_tokens": 30, "input_tokens": 27, "cache_read_input_tokens": None}
    exchange = event_exchange([StreamEvent(json.dumps(e), e["type"]) for e in events])
    usage = parse(exchange).accumulate()["usage"]
    assert usage == {
        "input_tokens": 27,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 30,
    }


def test_crlf_comments_and_split_data_decode_to_the_same_events() -> None:
    plain = parse(stream_exchange("stream_faithful_text.sse"))
    framed = parse(stream_exchange("stream_crlf.sse"))
    assert framed.events == plain.events
    assert framed.message_stop_at == plain.message_stop_at == 16


def test_deltas_of_another_kind_or_unknown_type_are_not_applied() -> None:
    text = parse(stream_exchange("stream_delta_wrong_kind.sse")).accumulate()["content"][0]
    assert text == {"type": "text", "text": "1 2 3 4 5 6 7 8 9 10 11"}
    unknown = parse(stream_exchange("stream_ping_and_unknown_events.sse")).accumulate()
    assert unknown["content"] == [{"type": "text", "text": "1 2 3 4 5 6 7 8 9 10 11"}]


# --- nothing that reads a stream raises ----------------------------------------------------------

# Every check a streamed case may run, the pair and parameter checks with an argument.
STREAM_CHECKS: dict[str, Callable[[Exchange], list[Finding]]] = {
    **EVERY_STREAM_CHECK,
    "anthropic.stream.matches-message": lambda ex: streaming.matches_message(
        ex, json_exchange("message_tool_use.json", request=TOOL_REQUEST)
    ),
    "anthropic.usage.fixed": lambda ex: message.usage_follows_prompt(ex, ex),
    "anthropic.text.max-tokens": message.max_tokens_honoured,
    "anthropic.text.stop-sequence": lambda ex: message.stop_sequence_honoured(
        ex, "5", "4", ("6", "7")
    ),
}

KEY_NAMES = [
    "type", "index", "delta", "content_block", "message", "usage", "text", "partial_json",
    "thinking", "signature", "stop_reason", "stop_sequence", "input_tokens", "output_tokens",
    "input", "id", "name", "error", "content", "model", "role",
]  # fmt: skip
KEYS = st.sampled_from(KEY_NAMES)
TYPES = st.sampled_from(
    [
        *KNOWN_EVENTS, "text", "tool_use", "thinking", "redacted_thinking", "text_delta",
        "input_json_delta", "thinking_delta", "signature_delta", "citations_delta",
        "end_turn", "max_tokens", "message", "get_weather", "future",
    ]
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-2, 5)
    | st.integers(min_value=10**12, max_value=10**40)
    | st.floats()  # NaN and Infinity too: Python's json reads them
    | st.text(max_size=6)
    | TYPES
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(KEYS | st.text(max_size=3), children, max_size=5)
    ),
    max_leaves=20,
)
# An event object: usually with a known type, so the checks get past their first test.
EVENT_OBJECT = st.fixed_dictionaries(
    {"type": TYPES | JSON}, optional={k: JSON | TYPES for k in KEY_NAMES if k != "type"}
)
DATA = st.one_of(
    EVENT_OBJECT.map(json.dumps),
    JSON.map(json.dumps),
    st.text(max_size=20),
    st.sampled_from(["", "[DONE]", "{", '{"type": "message_stop"}', "1e999999", "9" * 5000]),
)
EVENT = st.builds(
    StreamEvent,
    data=DATA,
    event=st.none() | TYPES | st.text(max_size=5),
    t=st.floats(0, 5),
)
REQUEST = st.sampled_from(
    [
        None,
        TOOL_REQUEST,
        THINKING_REQUEST,
        {"tool_choice": {"type": "any", "disable_parallel_tool_use": True}, **TOOL_REQUEST},
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(EVENT, max_size=14), request=REQUEST)
def test_reading_and_checking_any_event_list_never_raises(
    events: list[StreamEvent], request: dict[str, Any] | None
) -> None:
    note(f"events: {events!r}")
    exchange = event_exchange(events, request=request)
    stream = parse(exchange)
    stream.accumulate()
    read(exchange)
    for run in STREAM_CHECKS.values():
        for finding in run(exchange):
            assert finding.message and finding.location.startswith("/events")


@settings(max_examples=75, deadline=None)
@given(payload=EVENT_OBJECT)
def test_every_event_of_a_faithful_stream_may_be_replaced_by_garbage(payload: Any) -> None:
    events = payloads("stream_faithful_tool_use.sse")
    for position in (0, 5, 7, 10):
        changed = [*events[:position], payload, *events[position + 1 :]]
        exchange = event_exchange(
            [
                StreamEvent(
                    json.dumps(e), e.get("type") if isinstance(e.get("type"), str) else None
                )
                for e in changed
            ],
            request=TOOL_REQUEST,
        )
        note(f"event {position}: {payload!r}")
        read(exchange)
        for run in STREAM_CHECKS.values():
            run(exchange)


def test_a_huge_stream_is_read_and_judged_in_linear_time() -> None:
    events = payloads("stream_faithful_text.sse")
    deltas = [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " x"}}
    ]
    big = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "y" * 2_000_000},
    }
    stream = [*events[:3], *deltas * 20_000, big, *events[-3:]]
    exchange = event_exchange([StreamEvent(json.dumps(e), e["type"]) for e in stream])
    assert len(read(exchange).text) == 40_000 + 2_000_000
    for run in STREAM_CHECKS.values():
        for finding in run(exchange):
            assert len(finding.evidence) < 2000 and len(finding.message) < 2100
