"""OpenAI Chat Completions tool calling: calls, arguments, tool_choice, streamed deltas, round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.openai.checks import tool_streams, tools
from chatconform.dialects.openai.probe import OpenAIProbe
from chatconform.dialects.openai.requests import function_tools, tool_chat_body
from chatconform.dialects.openai.tool_calls import ToolCall, calls
from chatconform.exchange import Exchange
from chatconform.finding import Finding
from chatconform.judgements import ExpectedCall
from chatconform.tool_probes import tool_probe

GUIDE = "https://platform.openai.com/docs/guides/function-calling"
API = "https://platform.openai.com/docs/api-reference/chat/create"
# Room for two calls with their arguments, and no more: a call costs 20-60 tokens.
CALL_TOKENS = 150
ANSWER_TOKENS = 60
# Sent back in a round trip when the provider's own call cannot be (no id, say).
FALLBACK_CALL = {
    "id": "call_cc0RoundTrip0000000000001",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris","unit":"celsius"}'},
}


both_forms = pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])


def _body(openai: OpenAIProbe, probe: str, stream: bool, **params: Any) -> dict[str, Any]:
    # Tool calls are core where the config names a model for tools, optional otherwise.
    openai.optional_unless_configured("tools")
    body = tool_chat_body(
        tool_probe(probe), openai.model("tools"), max_tokens=CALL_TOKENS, temperature=0, **params
    )
    return {**body, "stream": True} if stream else body


def _send(openai: OpenAIProbe, case: CaseRecord, body: dict[str, Any]) -> Exchange:
    """One request, judged on everything that does not depend on what the model chose."""
    exchange = openai.chat(body)
    openai.expect_success(exchange)
    if exchange.streamed:
        openai.check_stream(exchange)
    unreadable = [f for run in tool_streams.UNREADABLE for f in case.add(run(exchange), exchange)]
    if unreadable:
        case.broken("the tool calls cannot be read as sent (see findings)")
    for run in tool_streams.FIELDS:
        case.add(run(exchange), exchange)
    return exchange


def _expect_calls(
    openai: OpenAIProbe, case: CaseRecord, body: dict[str, Any], expect: tuple[ExpectedCall, ...]
) -> None:
    def attempt() -> list[Finding]:
        return tools.expected_calls_made(_send(openai, case, body), expect)

    # Which calls a model makes is a semantic claim: made only of a model that answers.
    case.until_accepted(attempt, openai.calibration("tools"))


@case(
    "openai/tools/single-call",
    title="A question a tool answers gets one well-formed call",
    requirement="finish_reason tool_calls; a unique non-empty id; type function; a defined name; arguments a JSON string valid against the parameters.",
    source=GUIDE,
)
@both_forms
def test_single_call(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    _expect_calls(openai, case, _body(openai, "weather", stream), tool_probe("weather").expect)


@case(
    "openai/tools/no-arguments",
    title='A function without parameters is called with arguments "{}"',
    requirement="A call to a function that takes no arguments has arguments '{}' (not '' or null).",
    source=GUIDE,
)
@both_forms
def test_no_arguments(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(openai, "current_time", stream)
    _expect_calls(openai, case, body, tool_probe("current_time").expect)


@case(
    "openai/tools/nested-arguments",
    title="Nested object and array parameters are filled",
    requirement="Arguments of a function with object and array parameters validate against its schema.",
    source=GUIDE,
)
@both_forms
def test_nested_arguments(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(openai, "calendar_event", stream)
    _expect_calls(openai, case, body, tool_probe("calendar_event").expect)


@case(
    "openai/tools/choose-tool",
    title="The tool that fits the question is chosen",
    requirement="Given two tools, the model calls the one that provides what the question asks for.",
    source=GUIDE,
)
@both_forms
def test_choose_tool(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(openai, "stock_price", stream)
    _expect_calls(openai, case, body, tool_probe("stock_price").expect)


@case(
    "openai/tools/parallel-calls",
    title="Two lookups give two calls with distinct ids",
    requirement="A question needing two lookups gets both calls in one response, each with its own id.",
    source=f"{GUIDE}#parallel-function-calling",
)
@both_forms
def test_parallel_calls(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(openai, "two_cities", stream)
    _expect_calls(openai, case, body, tool_probe("two_cities").expect)


@case(
    "openai/tools/parallel-disabled",
    title="parallel_tool_calls: false gives at most one call",
    requirement="With parallel_tool_calls false the model makes at most one tool call per response.",
    source=f"{API}#chat-create-parallel_tool_calls",
    optional="parallel_tool_calls: false",
)
@both_forms
def test_parallel_disabled(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(openai, "two_cities", stream, parallel_tool_calls=False)
    _expect_calls(openai, case, body, (ExpectedCall("get_weather"),))


def _tool_choice(
    openai: OpenAIProbe, case: CaseRecord, body: dict[str, Any], *, needed: bool = True
) -> None:
    if needed:
        # none, required and a named function are contracts of the API: every attempt is judged.
        exchange = _send(openai, case, body)
        case.add(tools.tool_choice_honoured(exchange), exchange)
        return

    def attempt() -> list[Finding]:
        return tools.tool_choice_honoured(_send(openai, case, body), needed=False)

    case.until_accepted(attempt)


@case(
    "openai/tools/tool-choice-none",
    title="tool_choice none gives no call",
    requirement="With tool_choice none the model answers in text and calls no tool.",
    source=f"{API}#chat-create-tool_choice",
)
@both_forms
def test_tool_choice_none(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    _tool_choice(openai, case, _body(openai, "weather", stream, tool_choice="none"))


@case(
    "openai/tools/tool-choice-required",
    title="tool_choice required gives a call",
    requirement="With tool_choice required the model calls at least one tool, even for a question no tool helps with.",
    source=f"{API}#chat-create-tool_choice",
    optional="tool_choice required",
)
@both_forms
def test_tool_choice_required(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    _tool_choice(openai, case, _body(openai, "unrelated", stream, tool_choice="required"))


@case(
    "openai/tools/tool-choice-named",
    title="A named tool_choice gives a call to that function",
    requirement="With tool_choice naming a function the model calls that function, whatever the question.",
    source=f"{API}#chat-create-tool_choice",
    optional="tool_choice naming a function",
)
@both_forms
def test_tool_choice_named(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    named = {"type": "function", "function": {"name": "get_current_time"}}
    _tool_choice(openai, case, _body(openai, "weather", stream, tool_choice=named))


@case(
    "openai/tools/tool-choice-auto",
    title="tool_choice auto calls no tool for an unrelated question",
    requirement="With tool_choice auto the model calls a tool only when the question needs one.",
    source=f"{API}#chat-create-tool_choice",
)
@both_forms
def test_tool_choice_auto(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(openai, "unrelated", stream, tool_choice="auto")
    _tool_choice(openai, case, body, needed=False)


def _usable(call: ToolCall) -> bool:
    return all(isinstance(v, str) and v for v in (call.id, call.name, call.arguments))


def _echo(call: ToolCall) -> dict[str, Any]:
    """The call as the client sends it back in the assistant message."""
    function = {"name": call.name, "arguments": call.arguments}
    return {"id": call.id, "type": "function", "function": function}


@case(
    "openai/tools/round-trip",
    title="A tool result sent back is used in the answer",
    requirement="A tool message (role tool, tool_call_id) gives a call's result; the next answer uses it.",
    source=GUIDE,
    round_trips=2,
)
@both_forms
def test_round_trip(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    probe = tool_probe("round_trip")
    body = _body(openai, "round_trip", stream)

    def attempt() -> list[Finding]:
        first = _send(openai, case, body)
        made = tools.expected_calls_made(first, probe.expect)
        # The provider's own calls go back as they came, so its ids are what is tested;
        # when none can be sent back, a well-formed call of ours still tests the result.
        sent = [_echo(c) for c in calls(first) if c.name == "get_weather" and _usable(c)]
        sent = sent or [FALLBACK_CALL]
        messages = [
            *body["messages"],
            {"role": "assistant", "content": None, "tool_calls": sent},
            *(
                {"role": "tool", "tool_call_id": c["id"], "content": json.dumps(probe.result)}
                for c in sent
            ),
        ]
        second = _send(openai, case, {**body, "messages": messages, "max_tokens": ANSWER_TOKENS})
        return case.tie(made, first) + case.tie(
            tools.tool_result_used(second, probe.accept), second
        )

    case.until_accepted(attempt, openai.control(probe.control, "tools", ANSWER_TOKENS))


@case(
    "openai/tools/strict",
    title="strict: true on a function is accepted (or refused cleanly)",
    requirement="A function with strict true is accepted, and its arguments follow the schema exactly; or the request is refused with a 4xx.",
    source=f"{GUIDE}#strict-mode",
    optional="strict functions",
)
@both_forms
def test_strict(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(openai, "weather", stream)
    body["tools"] = function_tools(tool_probe("weather"), strict=True)
    _expect_calls(openai, case, body, tool_probe("weather").expect)


@case(
    "openai/tools/stream-matches-non-streamed",
    title="Streamed calls reassemble to the non-streamed ones",
    requirement="The streamed calls, reassembled per index, name the same functions with arguments of the same shape as the non-streamed answer.",
    source=f"{GUIDE}#streaming",
    round_trips=2,
)
def test_stream_matches_non_streamed(openai: OpenAIProbe, case: CaseRecord) -> None:
    def attempt() -> list[Finding]:
        plain = _send(openai, case, _body(openai, "two_cities", False))
        streamed = _send(openai, case, _body(openai, "two_cities", True))
        return case.tie(tool_streams.stream_matches_non_streamed(streamed, plain), streamed)

    case.until_accepted(attempt)
