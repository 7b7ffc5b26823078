"""Checks of tool calling (chatconform.dialects.openai.checks.tools and tool_streams) against wire samples."""

from __future__ import annotations

import json
from typing import Any

import pytest
from check_helpers import (
    http_exchange,
    json_exchange,
    sample,
    sse_bytes,
    sse_exchange,
    stream_exchange,
    summary,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatconform.dialects.openai.checks import tool_streams, tools
from chatconform.dialects.openai.tool_calls import calls
from chatconform.exchange import Exchange
from chatconform.finding import Finding
from chatconform.judgements import ExpectedCall

REQUEST: dict[str, Any] = sample("bodies/request_tools_weather.json")
STREAM_REQUEST = {**REQUEST, "stream": True}
MESSAGE = "/choices/0/message/tool_calls"
# The samples' streams: call 0 starts at event 0, its 9 fragments follow, call 1 at event 10.
SECOND_CALL_EVENT = 10

# Everything the suite judges on a tool-calling answer, whatever the model chose.
STRUCTURAL = (*tool_streams.UNREADABLE, *tool_streams.FIELDS)


def plain(name: str, **request: Any) -> Exchange:
    return json_exchange(name, request={**REQUEST, **request})


def streamed(name: str, **request: Any) -> Exchange:
    return stream_exchange(name, request={**STREAM_REQUEST, **request})


def exchange_of(name: str, **request: Any) -> Exchange:
    return streamed(name, **request) if name.endswith(".sse") else plain(name, **request)


def structural(exchange: Exchange) -> list[tuple[str, str, str]]:
    return summary([f for run in STRUCTURAL for f in run(exchange)])


@pytest.mark.parametrize(
    "name",
    [
        "bodies/response_tool_calls_parallel.json",
        "bodies/response_tool_call_no_arguments.json",
        "stream_tool_calls_parallel.sse",
        "stream_tool_call_no_arguments.sse",
    ],
)
def test_faithful_samples_are_not_flagged(name: str) -> None:
    assert structural(exchange_of(name)) == []


def _delta(event: int, call: int = 0) -> str:
    return f"/events/{event}/choices/0/delta/tool_calls/{call}"


@pytest.mark.parametrize(
    ("name", "flagged"),
    [
        (
            "bodies/response_tool_call_args_object.json",
            [("openai.tools.arguments-not-string", f"{MESSAGE}/0/function/arguments")],
        ),
        (
            "bodies/response_tool_call_args_empty.json",
            [("openai.tools.arguments-valid", f"{MESSAGE}/0/function/arguments")],
        ),
        (
            "bodies/response_tool_call_args_truncated.json",
            [("openai.tools.arguments-valid", f"{MESSAGE}/0/function/arguments")],
        ),
        (
            "bodies/response_tool_call_args_off_schema.json",
            [
                ("openai.tools.arguments-valid", f"{MESSAGE}/0/function/arguments"),
                ("openai.tools.arguments-valid", f"{MESSAGE}/1/function/arguments"),
            ],
        ),
        (
            "bodies/response_tool_call_id_empty.json",
            [("openai.tools.call-fields", f"{MESSAGE}/0/id")],
        ),
        (
            "bodies/response_tool_call_unknown_function.json",
            [("openai.tools.call-fields", f"{MESSAGE}/0/function/name")],
        ),
        (
            "bodies/response_tool_calls_ids_duplicate.json",
            [("openai.tools.call-ids-unique", f"{MESSAGE}/0/id")],
        ),
        (
            "bodies/response_tool_call_finish_stop.json",
            [("openai.tools.finish-reason", "/choices/0/finish_reason")],
        ),
        (
            "bodies/response_tool_call_as_text.json",
            [("openai.tools.call-as-text", "/choices/0/message/content")],
        ),
        (
            "bodies/response_tool_call_as_json_text.json",
            [("openai.tools.call-as-text", "/choices/0/message/content")],
        ),
        ("stream_tool_calls_index_missing.sse", [("openai.tools.stream-index", _delta(0))]),
        (
            "stream_tool_calls_index_all_zero.sse",
            [
                ("openai.tools.stream-parallel-indices", f"{_delta(SECOND_CALL_EVENT)}/index"),
                ("openai.tools.arguments-valid", f"{_delta(0)}/function/arguments"),
            ],
        ),
        (
            "stream_tool_calls_index_from_one.sse",
            [("openai.tools.stream-parallel-indices", f"{_delta(SECOND_CALL_EVENT)}/index")],
        ),
        (
            "stream_tool_call_id_missing.sse",
            [
                ("openai.tools.stream-call-header", _delta(0)),
                ("openai.tools.stream-call-header", _delta(SECOND_CALL_EVENT)),
            ],
        ),
        (
            "stream_tool_call_header_repeated.sse",
            [
                ("openai.tools.stream-call-header", _delta(1)),
                ("openai.tools.stream-call-header", _delta(SECOND_CALL_EVENT + 1)),
            ],
        ),
        (
            "stream_tool_call_args_object.sse",
            [("openai.tools.arguments-not-string", f"{_delta(1)}/function/arguments")],
        ),
        (
            "stream_tool_call_args_empty.sse",
            [("openai.tools.arguments-valid", f"{_delta(0)}/function/arguments")],
        ),
        (
            "stream_tool_call_finish_stop.sse",
            [("openai.tools.finish-reason", "/events/20/choices/0/finish_reason")],
        ),
    ],
)
def test_deviating_samples_are_flagged_where_they_deviate(
    name: str, flagged: list[tuple[str, str]]
) -> None:
    assert [(rule, where) for rule, _, where in structural(exchange_of(name))] == flagged


def test_schema_mismatch_names_the_broken_argument() -> None:
    findings = tools.arguments_are_valid(plain("bodies/response_tool_call_args_off_schema.json"))
    assert "'kelvin' is not one of ['celsius', 'fahrenheit']" in findings[0].message
    assert "'city' is a required property" in findings[1].message


def test_a_function_without_parameters_takes_no_arguments() -> None:
    request = {**REQUEST, "tools": [{"type": "function", "function": {"name": "get_current_time"}}]}
    body = sample("bodies/response_tool_call_no_arguments.json")
    assert (
        tools.arguments_are_valid(http_exchange(json.dumps(body).encode(), request=request)) == []
    )
    body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = '{"tz":"UTC"}'
    findings = tools.arguments_are_valid(http_exchange(json.dumps(body).encode(), request=request))
    assert [f.rule for f in findings] == ["openai.tools.arguments-valid"]


@pytest.mark.parametrize(
    "name",
    [
        "bodies/response_tool_call_finish_stop.json",
        "stream_tool_call_finish_stop.sse",
        "bodies/response_tool_calls_parallel.json",
        "stream_tool_calls_parallel.sse",
    ],
)
@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "x"}}])
def test_a_forced_tool_choice_may_finish_with_stop_or_tool_calls(name: str, choice: Any) -> None:
    exchange = exchange_of(name, tool_choice=choice)
    assert tools.finish_reason_tool_calls(exchange) == []


def test_finish_reason_tool_calls_without_a_call_is_flagged() -> None:
    body = sample("bodies/response_tool_result_answer.json")
    body["choices"][0]["finish_reason"] = "tool_calls"
    exchange = http_exchange(json.dumps(body).encode(), request=REQUEST)
    assert summary(tools.finish_reason_tool_calls(exchange)) == [
        ("openai.tools.finish-reason", "must", "/choices/0/finish_reason")
    ]


def _deep_arguments(stream: bool) -> Exchange:
    """A call whose arguments are a string of JSON nested far deeper than Python parses."""
    call = {"id": "call_a", "type": "function"}
    call["function"] = {"name": "get_weather", "arguments": "[" * 100_000}
    if stream:
        delta = {"role": "assistant", "tool_calls": [{"index": 0, **call}]}
        chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": "tool_calls"}]}
        return sse_exchange(sse_bytes([chunk]), request=STREAM_REQUEST)
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    body = {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
    return http_exchange(json.dumps(body).encode(), request=REQUEST)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_arguments_nested_deeper_than_python_parses_are_invalid(stream: bool) -> None:
    exchange = _deep_arguments(stream)
    findings = tools.arguments_are_valid(exchange)
    assert [f.rule for f in findings] == ["openai.tools.arguments-valid"]
    assert "nested deeper" in findings[0].message
    assert all(isinstance(f, Finding) for f in _every_check(exchange))
    assert tools.expected_calls_made(exchange, [ExpectedCall("get_weather", {"city": "Paris"})])


def test_content_nested_deeper_than_python_parses_is_not_a_leaked_call() -> None:
    body = {"choices": [{"index": 0, "message": {"content": '{"a": ' * 100_000}}]}
    exchange = http_exchange(json.dumps(body).encode(), request=REQUEST)
    assert tools.call_not_in_content(exchange) == []


def test_content_naming_no_tool_is_not_a_leaked_call() -> None:
    assert tools.call_not_in_content(plain("bodies/response_tool_result_answer.json")) == []


def test_calls_may_start_in_any_order_if_indices_are_distinct() -> None:
    def delta(index: int, **item: Any) -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": index, **item}]}}]}

    header = {"type": "function", "function": {"name": "get_current_time", "arguments": "{}"}}
    finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
    chunks = [delta(1, id="call_b", **header), delta(0, id="call_a", **header), finish]
    exchange = sse_exchange(sse_bytes(chunks), request=STREAM_REQUEST)
    assert structural(exchange) == []
    assert [c.id for c in calls(exchange)] == ["call_a", "call_b"]


# --- semantic checks -------------------------------------------------------------------------

PARIS_AND_TOKYO = (
    ExpectedCall("get_weather", {"city": "Paris"}),
    ExpectedCall("get_weather", {"city": "tokyo"}),
)


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("bodies/response_tool_calls_parallel.json", MESSAGE),
        # A stream has no message: the finding points at the event of the first call.
        ("stream_tool_calls_parallel.sse", "/events/0/choices/0/delta/tool_calls/0"),
    ],
)
def test_expected_calls_made(name: str, where: str) -> None:
    assert tools.expected_calls_made(exchange_of(name), PARIS_AND_TOKYO) == []
    missing = tools.expected_calls_made(exchange_of(name), (ExpectedCall("get_stock_price"),))
    assert summary(missing) == [("openai.tools.expected-call", "must", where)]


def test_expected_calls_need_one_call_each() -> None:
    twice_paris = (ExpectedCall("get_weather", {"city": "Paris"}),) * 2
    exchange = plain("bodies/response_tool_calls_parallel.json")
    assert len(tools.expected_calls_made(exchange, twice_paris)) == 1


def test_expected_call_judges_what_was_called_not_the_form() -> None:
    exchange = plain("bodies/response_tool_call_args_object.json")
    assert tools.expected_calls_made(exchange, PARIS_AND_TOKYO[:1]) == []


def test_expected_call_reports_text_instead_of_a_call() -> None:
    [finding] = tools.expected_calls_made(
        plain("bodies/response_tool_call_as_text.json"), PARIS_AND_TOKYO
    )
    assert "Received: no tool call; content '<tool_call>" in finding.message


@pytest.mark.parametrize(
    ("name", "choice", "needed", "flagged"),
    [
        ("bodies/response_tool_calls_parallel.json", "none", True, True),
        ("bodies/response_tool_result_answer.json", "none", True, False),
        ("bodies/response_tool_call_as_text.json", "required", True, True),
        ("bodies/response_tool_call_no_arguments.json", "required", True, False),
        ("bodies/response_tool_calls_parallel.json", "get_current_time", True, True),
        ("bodies/response_tool_call_no_arguments.json", "get_current_time", True, False),
        ("bodies/response_tool_result_answer.json", "get_current_time", True, True),
        ("bodies/response_tool_calls_parallel.json", "auto", False, True),
        ("bodies/response_tool_calls_parallel.json", "auto", True, False),
        ("bodies/response_tool_result_answer.json", "auto", False, False),
        ("stream_tool_calls_parallel.sse", "none", True, True),
    ],
)
def test_tool_choice_honoured(name: str, choice: str, needed: bool, flagged: bool) -> None:
    named = {"type": "function", "function": {"name": choice}}
    wire = named if choice == "get_current_time" else choice
    findings = tools.tool_choice_honoured(exchange_of(name, tool_choice=wire), needed=needed)
    assert [f.rule for f in findings] == (["openai.tools.tool-choice"] if flagged else [])


@pytest.mark.parametrize(
    ("name", "flagged"),
    [
        ("bodies/response_tool_calls_parallel.json", True),
        ("bodies/response_tool_call_no_arguments.json", False),
    ],
)
def test_parallel_tool_calls_false(name: str, flagged: bool) -> None:
    findings = tools.parallel_tool_calls_honoured(exchange_of(name, parallel_tool_calls=False))
    assert [f.rule for f in findings] == (["openai.tools.parallel-disabled"] if flagged else [])
    assert tools.parallel_tool_calls_honoured(exchange_of(name)) == []


def test_tool_result_used() -> None:
    assert tools.tool_result_used(plain("bodies/response_tool_result_answer.json"), ["17.3"]) == []
    [finding] = tools.tool_result_used(plain("bodies/response_tool_result_ignored.json"), ["17.3"])
    assert finding.rule == "openai.tools.result-used"
    assert "It is around 20 °C in Paris." in finding.message
    assert finding.location == "/choices/0/message/content"


def test_tool_result_ignored_in_a_stream_points_at_the_answer_event() -> None:
    # The streamed answer counts 1 to 11 and never says 17.3; event 1 is where it starts.
    [finding] = tools.tool_result_used(streamed("stream_include_usage.sse"), ["17.3"])
    assert finding.location == "/events/1/choices/0/delta/content"
    assert tools.tool_result_used(streamed("stream_include_usage.sse"), ["11"]) == []


@pytest.mark.parametrize(
    ("streamed_name", "flagged"),
    [
        ("stream_tool_calls_parallel.sse", False),
        ("stream_tool_call_header_repeated.sse", False),
        ("stream_tool_calls_index_all_zero.sse", True),
        ("stream_tool_call_no_arguments.sse", True),
    ],
)
def test_stream_matches_non_streamed(streamed_name: str, flagged: bool) -> None:
    findings = tool_streams.stream_matches_non_streamed(
        streamed(streamed_name), plain("bodies/response_tool_calls_parallel.json")
    )
    assert [f.rule for f in findings] == (
        ["openai.tools.stream-matches-non-streamed"] if flagged else []
    )


# --- no check raises on arbitrary JSON -------------------------------------------------------

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return strategy | ANY_JSON


FUNCTION = st.fixed_dictionaries(
    {},
    optional={
        "name": _maybe(st.sampled_from(["get_weather", "get_current_time", ""])),
        "arguments": _maybe(st.sampled_from(["", "{}", '{"city":"Paris"}', '{"', "[1]"])),
    },
)
TOOL_CALL = st.fixed_dictionaries(
    {},
    optional={
        "index": _maybe(st.integers(0, 2)),
        "id": _maybe(st.sampled_from(["", "call_a", "call_b"])),
        "type": _maybe(st.just("function")),
        "function": _maybe(FUNCTION),
    },
)
REASON = _maybe(st.sampled_from([None, "stop", "tool_calls"]))
CALLS = _maybe(st.lists(TOOL_CALL, max_size=3))
CONTENT = _maybe(st.sampled_from([None, "", '{"name": "get_weather"}', "<tool_call>"]))
CHUNK = st.fixed_dictionaries(
    {
        "choices": _maybe(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "index": _maybe(st.just(0)),
                        "delta": _maybe(
                            st.fixed_dictionaries({"tool_calls": CALLS, "content": CONTENT})
                        ),
                        "finish_reason": REASON,
                    }
                ),
                max_size=2,
            )
        )
    }
)
RESPONSE = st.fixed_dictionaries(
    {
        "choices": _maybe(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "message": _maybe(
                            st.fixed_dictionaries({"tool_calls": CALLS, "content": CONTENT})
                        ),
                        "finish_reason": REASON,
                    }
                ),
                max_size=2,
            )
        )
    }
)
REQUESTS = st.sampled_from(
    [REQUEST, {**REQUEST, "tool_choice": "required", "parallel_tool_calls": False}, {}]
) | st.fixed_dictionaries({"tools": ANY_JSON, "tool_choice": ANY_JSON})
PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def _every_check(exchange: Exchange) -> list[Finding]:
    return [
        *(f for run in STRUCTURAL for f in run(exchange)),
        *tools.expected_calls_made(exchange, PARIS_AND_TOKYO),
        *tools.tool_choice_honoured(exchange, needed=False),
        *tools.tool_result_used(exchange, ["17.3"]),
        *tool_streams.stream_matches_non_streamed(exchange, exchange),
    ]


@PROPERTY
@given(payloads=st.lists(CHUNK | ANY_JSON, max_size=5), request=REQUESTS)
def test_no_tool_check_raises_on_any_stream(payloads: list[Any], request: Any) -> None:
    exchange = sse_exchange(sse_bytes(payloads), request={**request, "stream": True})
    assert all(isinstance(f, Finding) for f in _every_check(exchange))


@PROPERTY
@given(body=RESPONSE | ANY_JSON, request=REQUESTS)
def test_no_tool_check_raises_on_any_body(body: Any, request: Any) -> None:
    exchange = http_exchange(json.dumps(body).encode(), request=request)
    assert all(isinstance(f, Finding) for f in _every_check(exchange))
