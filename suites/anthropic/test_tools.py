"""Anthropic tool use: tool_use blocks, stop_reason, tool_choice, streamed input, tool results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.anthropic.checks import message, semantics
from chatconform.dialects.anthropic.checks import tools as checks
from chatconform.dialects.anthropic.probe import AnthropicProbe
from chatconform.dialects.anthropic.requests import assistant_turn, tool_body
from chatconform.exchange import Exchange
from chatconform.finding import Finding
from chatconform.judgements import ExpectedCall
from chatconform.tool_probes import tool_probe

GUIDE = "https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use"
CAPABILITY = "tools"
CALL_TOKENS = 200
ANSWER_TOKENS = 60
FIELDS = (checks.tool_use_fields, checks.tool_input_valid, checks.stop_reason_tool_use)

both_forms = pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])


def _body(anthropic: AnthropicProbe, probe: str, stream: bool, **params: Any) -> dict[str, Any]:
    # Tool use is core where the config names a model for tools, optional otherwise.
    anthropic.optional_unless_configured(CAPABILITY)
    body = tool_body(tool_probe(probe), anthropic.model(CAPABILITY), CALL_TOKENS, temperature=0)
    body.update(params)
    return {**body, "stream": True} if stream else body


def _send(anthropic: AnthropicProbe, case: CaseRecord, body: dict[str, Any]) -> Exchange:
    """One request, judged on everything that does not depend on what the model chose."""
    exchange = anthropic.messages(body)
    anthropic.expect_success(exchange)
    if exchange.streamed:
        anthropic.check_stream(exchange)
    if [f for run in checks.UNREADABLE for f in case.add(run(exchange), exchange)]:
        case.broken("the tool input cannot be read as sent (see findings)")
    for run in FIELDS:
        case.add(run(exchange), exchange)
    return exchange


def _expect_calls(
    anthropic: AnthropicProbe,
    case: CaseRecord,
    body: dict[str, Any],
    expect: tuple[ExpectedCall, ...],
    *extra: Any,
) -> None:
    def attempt() -> list[Finding]:
        exchange = _send(anthropic, case, body)
        for run in extra:
            case.add(run(exchange), exchange)
        return semantics.expected_calls_made(exchange, expect)

    # Which tools a model uses is a semantic claim: made only of a model that answers.
    case.until_accepted(attempt, anthropic.calibration(CAPABILITY))


@case(
    "anthropic/tools/single-call",
    title="A question a tool answers gets one well-formed tool_use",
    requirement="stop_reason tool_use; a tool_use block with a unique non-empty id, a defined name, and input an object valid against input_schema.",
    source=GUIDE,
)
@both_forms
def test_single_call(anthropic: AnthropicProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(anthropic, "weather", stream)
    _expect_calls(anthropic, case, body, tool_probe("weather").expect)


@case(
    "anthropic/tools/nested-input",
    title="A tool with nested arguments gets its whole input",
    requirement="input holds every argument, arrays and strings included; streamed, input_json_delta fragments concatenate to it.",
    source=f"{GUIDE}#controlling-claudes-output",
)
@both_forms
def test_nested_input(anthropic: AnthropicProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(anthropic, "calendar_event", stream)
    _expect_calls(anthropic, case, body, tool_probe("calendar_event").expect)


@case(
    "anthropic/tools/parallel",
    title="Two independent calls come as two tool_use blocks",
    requirement="A turn may hold several tool_use blocks, each with its own id.",
    source=f"{GUIDE}#parallel-tool-use",
)
@both_forms
def test_parallel(anthropic: AnthropicProbe, case: CaseRecord, stream: bool) -> None:
    body = _body(anthropic, "two_cities", stream)
    _expect_calls(anthropic, case, body, tool_probe("two_cities").expect)


@case(
    "anthropic/tools/choice-any",
    title='tool_choice {"type": "any"} makes the model use a tool',
    requirement="With tool_choice any, the answer uses one of the tools.",
    source=f"{GUIDE}#forcing-tool-use",
)
def test_choice_any(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    body = _body(anthropic, "stock_price", False, tool_choice={"type": "any"})
    _expect_calls(anthropic, case, body, (), checks.tool_choice_honoured)


@case(
    "anthropic/tools/choice-tool",
    title='tool_choice {"type": "tool"} makes the model use that tool',
    requirement="With tool_choice tool and a name, the answer uses that tool.",
    source=f"{GUIDE}#forcing-tool-use",
)
@both_forms
def test_choice_tool(anthropic: AnthropicProbe, case: CaseRecord, stream: bool) -> None:
    choice = {"type": "tool", "name": "get_current_time"}
    body = _body(anthropic, "weather", stream, tool_choice=choice)
    _expect_calls(anthropic, case, body, (), checks.tool_choice_honoured)


@case(
    "anthropic/tools/choice-none",
    title='tool_choice {"type": "none"} answers without tools',
    requirement="With tool_choice none, the answer uses no tool.",
    source=f"{GUIDE}#forcing-tool-use",
)
def test_choice_none(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    body = _body(anthropic, "weather", False, tool_choice={"type": "none"})
    exchange = _send(anthropic, case, body)
    case.add(checks.tool_choice_honoured(exchange), exchange)


@case(
    "anthropic/tools/parallel-disabled",
    title="disable_parallel_tool_use gives at most one tool_use",
    requirement="With disable_parallel_tool_use true, the answer uses at most one tool.",
    source=f"{GUIDE}#parallel-tool-use",
)
def test_parallel_disabled(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    choice = {"type": "auto", "disable_parallel_tool_use": True}
    body = _body(anthropic, "two_cities", False, tool_choice=choice)
    exchange = _send(anthropic, case, body)
    case.add(checks.parallel_disabled_honoured(exchange), exchange)


def _result_turns(
    case: CaseRecord,
    body: dict[str, Any],
    first: Exchange,
    result: Any,
    *,
    is_error: bool = False,
) -> list[dict[str, Any]]:
    """The conversation after ``first``: its answer as the assistant turn, then a
    tool_result for each of its tool_use blocks. Blocks that cannot be sent back as they
    came stop the case: the next request would be refused for them."""
    if checks.tool_use_fields(first):
        case.broken("the tool_use blocks cannot be sent back as they came (see findings)")
    blocks = [b for _, b in message.content_blocks(first)]
    results = [
        {
            "type": "tool_result",
            "tool_use_id": b["id"],
            "content": json.dumps(result),
            **({"is_error": True} if is_error else {}),
        }
        for b in blocks
        if b.get("type") == "tool_use"
    ]
    return [*body["messages"], assistant_turn(blocks), {"role": "user", "content": results}]


@case(
    "anthropic/tools/round-trip",
    title="A tool_result sent back is used in the answer",
    requirement="A tool_result block (tool_use_id) in the next user turn gives the tool's result; the answer uses it.",
    source=f"{GUIDE}#handling-results-from-client-tools",
    round_trips=2,
)
@both_forms
def test_round_trip(anthropic: AnthropicProbe, case: CaseRecord, stream: bool) -> None:
    probe = tool_probe("round_trip")
    body = _body(anthropic, "round_trip", stream)

    def attempt() -> list[Finding]:
        first = _send(anthropic, case, body)
        made = semantics.expected_calls_made(first, probe.expect)
        if made:
            return case.tie(made, first)
        messages = _result_turns(case, body, first, probe.result)
        second = _send(anthropic, case, {**body, "messages": messages, "max_tokens": ANSWER_TOKENS})
        return case.tie(semantics.tool_result_used(second, probe.accept), second)

    case.until_accepted(attempt, anthropic.control(probe.control, CAPABILITY, ANSWER_TOKENS))


@case(
    "anthropic/tools/error-result",
    title="A tool_result with is_error is accepted",
    requirement="A tool_result may be marked is_error; the request is answered (the model reads the error).",
    source=f"{GUIDE}#handling-results-from-client-tools",
    round_trips=2,
)
def test_error_result(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    probe = tool_probe("round_trip")
    body = _body(anthropic, "round_trip", False)

    def attempt() -> list[Finding]:
        first = _send(anthropic, case, body)
        made = semantics.expected_calls_made(first, probe.expect)
        if made:
            return case.tie(made, first)
        error = {"error": "the weather service is unavailable"}
        messages = _result_turns(case, body, first, error, is_error=True)
        _send(anthropic, case, {**body, "messages": messages, "max_tokens": ANSWER_TOKENS})
        return []

    case.until_accepted(attempt, anthropic.calibration(CAPABILITY))
