"""Checks of tool use (chatconform.dialects.anthropic.checks.tools)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from anthropic_helpers import (
    PLAIN_REQUEST,
    PLAIN_TOOL_REQUEST,
    TOOL_REQUEST,
    WEATHER_TOOL,
    every_stream_finding,
    http_exchange,
    json_exchange,
    payloads,
    sample,
    sse_bytes,
    sse_exchange,
    stream_exchange,
    summary,
)

from chatconform.dialects.anthropic.checks import tools
from chatconform.exchange import Exchange
from chatconform.finding import Finding

CHECKS: dict[str, Callable[[Exchange], list[Finding]]] = {
    "block-fields": tools.tool_use_fields,
    "input-valid": tools.tool_input_valid,
    "stop-reason": tools.stop_reason_tool_use,
    "input-not-streamed": tools.tool_input_streamed,
    "input-stream-json": tools.tool_input_stream_json,
    "tool-choice": tools.tool_choice_honoured,
    "parallel-disabled": tools.parallel_disabled_honoured,
}
TIME_TOOL = {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
FORCED = {**PLAIN_TOOL_REQUEST, "tool_choice": {"type": "tool", "name": "get_weather"}}
FAITHFUL: list[tuple[Callable[[], Exchange], str]] = [
    (lambda: json_exchange("message_tool_use.json", request=PLAIN_TOOL_REQUEST), "tool_use"),
    (lambda: json_exchange("message_tool_use.json", request=FORCED), "forced"),
    (lambda: json_exchange("message_basic.json", request=PLAIN_TOOL_REQUEST), "no call"),
    (lambda: stream_exchange("stream_faithful_tool_use.sse", request=TOOL_REQUEST), "streamed"),
    (lambda: stream_exchange("stream_faithful_text.sse"), "streamed text"),
]


def test_checks_cover_the_module() -> None:
    module = {fn.rule_id for fn in vars(tools).values() if hasattr(fn, "rule_id")}
    assert module == {fn.rule_id for fn in CHECKS.values()}


@pytest.mark.parametrize(("make", "what"), FAITHFUL, ids=[w for _, w in FAITHFUL])
@pytest.mark.parametrize("check", sorted(CHECKS))
def test_faithful_tool_use_gives_no_finding(
    make: Callable[[], Exchange], what: str, check: str
) -> None:
    assert CHECKS[check](make()) == []


def _tool_message(*blocks: dict[str, Any], reason: str = "tool_use") -> dict[str, Any]:
    body = sample("message_tool_use.json")
    body["content"] = [body["content"][0], *blocks]
    body["stop_reason"] = reason
    return body


def _call(**changes: Any) -> dict[str, Any]:
    block = sample("message_tool_use.json")["content"][1]
    block.update(changes)
    return {k: v for k, v in block.items() if v is not None}


def _all(exchange: Exchange) -> list[tuple[str, str, str]]:
    return summary([f for run in CHECKS.values() for f in run(exchange)])


@pytest.mark.parametrize(
    ("blocks", "found"),
    [
        ([_call(id="")], [("anthropic.tools.block-fields", "must", "/content/1/id")]),
        ([_call(id=None)], [("anthropic.tools.block-fields", "must", "/content/1/id")]),
        (
            [_call(), _call(input={"location": "Paris"})],
            [("anthropic.tools.block-fields", "must", "/content/1/id")],
        ),
        ([_call(name="get_wether")], [("anthropic.tools.block-fields", "must", "/content/1/name")]),
        (
            [_call(input='{"location": "San Francisco, CA"}')],
            [("anthropic.tools.block-fields", "must", "/content/1/input")],
        ),
        (
            [_call(input={"unit": "kelvin"})],
            [("anthropic.tools.input-valid", "must", "/content/1/input")],
        ),
    ],
)
def test_tool_use_block_faults(
    blocks: list[dict[str, Any]], found: list[tuple[str, str, str]]
) -> None:
    exchange = http_exchange(_tool_message(*blocks), request=PLAIN_TOOL_REQUEST)
    assert _all(exchange) == found


def test_input_valid_names_the_schema_problem() -> None:
    exchange = http_exchange(
        _tool_message(_call(input={"unit": "kelvin"})), request=PLAIN_TOOL_REQUEST
    )
    (finding,) = tools.tool_input_valid(exchange)
    assert "'location' is a required property" in finding.message


def test_stop_reason_after_a_tool_use_block() -> None:
    exchange = http_exchange(_tool_message(_call(), reason="end_turn"), request=PLAIN_TOOL_REQUEST)
    assert _all(exchange) == [("anthropic.tools.stop-reason", "must", "/stop_reason")]
    capped = http_exchange(_tool_message(_call(), reason="max_tokens"), request=PLAIN_TOOL_REQUEST)
    assert _all(capped) == []


def test_stop_reason_tool_use_without_a_block() -> None:
    body = sample("message_basic.json")
    body["stop_reason"] = "tool_use"
    exchange = http_exchange(body, request=PLAIN_TOOL_REQUEST)
    assert _all(exchange) == [("anthropic.tools.stop-reason", "must", "/stop_reason")]


@pytest.mark.parametrize(
    ("choice", "body", "location"),
    [
        ({"type": "any"}, "message_basic.json", "/content/0/text"),
        ({"type": "tool", "name": "get_time"}, "message_tool_use.json", "/content/1"),
        ({"type": "none"}, "message_tool_use.json", "/content/1"),
    ],
)
def test_tool_choice_not_honoured(choice: dict[str, Any], body: str, location: str) -> None:
    request = {**PLAIN_TOOL_REQUEST, "tools": [WEATHER_TOOL, TIME_TOOL], "tool_choice": choice}
    assert summary(tools.tool_choice_honoured(json_exchange(body, request=request))) == [
        ("anthropic.tools.tool-choice", "must", location)
    ]


def test_parallel_disabled() -> None:
    request = {
        **PLAIN_TOOL_REQUEST,
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    }
    two = _tool_message(_call(), _call(id="toolu_02", input={"location": "Paris"}))
    assert summary(tools.parallel_disabled_honoured(http_exchange(two, request=request))) == [
        ("anthropic.tools.parallel-disabled", "must", "/content/2")
    ]
    assert tools.parallel_disabled_honoured(http_exchange(two, request=PLAIN_TOOL_REQUEST)) == []


def test_no_tools_offered_makes_every_name_undefined() -> None:
    exchange = json_exchange("message_tool_use.json", request=PLAIN_REQUEST)
    found = tools.tool_use_fields(exchange)
    assert summary(found) == [("anthropic.tools.block-fields", "must", "/content/1/name")]
    assert "none defined" in found[0].message


# --- streamed tool use ------------------------------------------------------------------------

STREAM_FLAGGED = [
    (
        "stream_tool_input_not_streamed.sse",
        [("anthropic.tools.input-not-streamed", "must", "/events/5/data/content_block/input")],
    ),
    (
        "stream_tool_input_in_start.sse",
        [("anthropic.tools.input-not-streamed", "must", "/events/5/data/content_block/input")],
    ),
    (
        "stream_tool_input_bad_json.sse",
        [("anthropic.tools.input-stream-json", "must", "/events/6/data/delta/partial_json")],
    ),
    (
        "stream_tool_use_end_turn.sse",
        [("anthropic.tools.stop-reason", "must", "/events/10/data/delta/stop_reason")],
    ),
]


@pytest.mark.parametrize(("name", "found"), STREAM_FLAGGED, ids=[n for n, _ in STREAM_FLAGGED])
def test_stream_fault_fires_its_rule_only(name: str, found: list[tuple[str, str, str]]) -> None:
    assert every_stream_finding(stream_exchange(name, request=TOOL_REQUEST)) == found


def test_input_in_start_is_named_as_such() -> None:
    exchange = stream_exchange("stream_tool_input_in_start.sse", request=TOOL_REQUEST)
    assert (
        "the whole input in content_block_start" in tools.tool_input_streamed(exchange)[0].message
    )


def test_a_tool_without_required_arguments_may_stream_no_input() -> None:
    request = {**TOOL_REQUEST, "tools": [{**WEATHER_TOOL, "input_schema": {"type": "object"}}]}
    exchange = stream_exchange("stream_tool_input_not_streamed.sse", request=request)
    assert tools.tool_input_streamed(exchange) == []


def test_streamed_input_invalid_points_at_its_first_delta() -> None:
    events = payloads("stream_faithful_tool_use.sse")
    events[8]["delta"]["partial_json"] = 'is, France", "unit": "kelvin"}'
    found = every_stream_finding(sse_exchange(sse_bytes(events), request=TOOL_REQUEST))
    assert found == [("anthropic.tools.input-valid", "must", "/events/6/data/delta/partial_json")]


def test_streamed_input_that_is_an_array() -> None:
    events = payloads("stream_faithful_tool_use.sse")
    for k, fragment in zip((6, 7, 8), ("", "[1, ", "2]"), strict=True):
        events[k]["delta"]["partial_json"] = fragment
    found = every_stream_finding(sse_exchange(sse_bytes(events), request=TOOL_REQUEST))
    assert found == [
        ("anthropic.tools.input-stream-json", "must", "/events/6/data/delta/partial_json")
    ]


def test_a_cut_tool_block_is_not_judged() -> None:
    events = payloads("stream_tool_input_bad_json.sse")[:8]
    exchange = sse_exchange(sse_bytes(events), request=TOOL_REQUEST)
    assert (
        tools.tool_input_stream_json(exchange) == [] and tools.tool_input_streamed(exchange) == []
    )


def test_duplicate_ids_in_a_stream() -> None:
    events = payloads("stream_faithful_tool_use.sse")
    again = [{**e, "index": 2} for e in events[5:10]]
    events[10:10] = again
    found = every_stream_finding(sse_exchange(sse_bytes(events), request=TOOL_REQUEST))
    assert found == [("anthropic.tools.block-fields", "must", "/events/5/data/content_block/id")]
