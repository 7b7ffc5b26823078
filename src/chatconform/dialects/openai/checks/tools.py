"""Checks of tool calls: their fields and arguments, finish_reason, tool_choice, results.

The checks of how calls are streamed (delta by delta) are in ``tool_streams``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from chatconform.answers import accepted
from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.checks.completion import FINISH_REASONS
from chatconform.dialects.openai.checks.text import (
    answer_text,
    content_location,
    located_finish_reasons,
)
from chatconform.dialects.openai.tool_calls import ToolCall, calls
from chatconform.exchange import Exchange, clip
from chatconform.judgements import ExpectedCall
from chatconform.schemas import request_schema_problem

# How a call leaks into content when a provider (or its chat template) does not parse it.
_CALL_MARKERS = re.compile(
    r"<tool_call>|</tool_call>|<\|tool_call\|>|<\|python_tag\|>|\[TOOL_CALLS\]|<function=|"
    r"<｜tool▁call|<tool_use>|<function_call>|\"tool_calls\"\s*:",
)
# Bounds the search for a JSON object naming a tool in a long answer.
_MAX_OBJECT_STARTS = 200


def _request(exchange: Exchange) -> dict[str, Any]:
    try:
        request = exchange.request.json()
    except ValueError:
        return {}
    return request if isinstance(request, dict) else {}


def defined_tools(exchange: Exchange) -> dict[str, dict[str, Any]]:
    """The function definitions the request offered, by name."""
    tools = _request(exchange).get("tools")
    found = {}
    for entry in tools if isinstance(tools, list) else []:
        fn = entry.get("function") if isinstance(entry, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            found[fn["name"]] = fn
    return found


def evidence(exchange: Exchange, location: str) -> str:
    """The event a location points into (for a stream), or the response excerpt."""
    match = re.match(r"/events/(\d+)", location)
    if exchange.streamed and match and int(match.group(1)) < len(exchange.events):
        i = int(match.group(1))
        return f"[{i}] data: {clip(exchange.events[i].data, 600)}"
    return exchange.excerpt()


def _summary(call: ToolCall) -> str:
    return f"{call.name}({clip(json.dumps(call.arguments), 120)})"


def _calls_text(found: list[ToolCall]) -> str:
    return ", ".join(_summary(c) for c in found) if found else "no tool call"


def _received(exchange: Exchange, found: list[ToolCall]) -> str:
    if found:
        return _calls_text(found)
    return f"no tool call; content {clip(answer_text(exchange), 120)!r}"


@check("openai.tools.arguments-not-string")
def arguments_are_strings(exchange: Exchange) -> Iterator[Violation]:
    """function.arguments is a JSON-encoded string (ChatCompletionMessageToolCall)."""
    for call in calls(exchange):
        if isinstance(call.arguments, str):
            continue
        received = "no arguments" if call.arguments is None else json.dumps(call.arguments)
        yield Violation(
            expected(
                f"arguments of {call.name!r} as a JSON-encoded string",
                clip(f"{received} ({type(call.arguments).__name__})", 200),
            ),
            location=call.arguments_pointer,
            evidence=evidence(exchange, call.arguments_pointer),
        )


@check("openai.tools.arguments-valid")
def arguments_are_valid(exchange: Exchange) -> Iterator[Violation]:
    """arguments parse as a JSON object valid against the tool's parameters (function calling guide)."""
    tools = defined_tools(exchange)
    for call in calls(exchange):
        if not isinstance(call.arguments, str):
            continue  # arguments-not-string says so
        ok, value = call.parsed_arguments()
        problem = None
        received = repr(clip(call.arguments, 160))
        if not ok:
            problem = f"{received}: {value}"
        elif not isinstance(value, dict):
            problem = f"{received}: a JSON {type(value).__name__}, not an object"
        elif isinstance(call.name, str) and call.name in tools:
            # A function without parameters takes none: {} is its only valid argument.
            parameters = tools[call.name].get("parameters", {"type": "object", "maxProperties": 0})
            schema_problem = request_schema_problem(value, parameters)
            if schema_problem:
                problem = f"{received}: {schema_problem}"
        if problem:
            yield Violation(
                expected(
                    f"arguments of {call.name!r}: a JSON object valid against its parameters",
                    clip(problem, 300),
                ),
                location=call.arguments_pointer,
                evidence=evidence(exchange, call.arguments_pointer),
            )


@check("openai.tools.call-fields")
def call_fields_valid(exchange: Exchange) -> Iterator[Violation]:
    """Each call has a non-empty id, type function and a defined name (ChatCompletionMessageToolCall)."""
    tools = defined_tools(exchange)
    # In a stream an absent field is the first delta's fault (stream-call-header says so).
    absent_ok = exchange.streamed
    for call in calls(exchange):
        problems = []
        if not (absent_ok and call.id is None) and not (isinstance(call.id, str) and call.id):
            problems.append(("id", "a non-empty id", json.dumps(call.id)))
        if not (absent_ok and call.type is None) and call.type != "function":
            problems.append(("type", "type 'function'", json.dumps(call.type)))
        defined = isinstance(call.name, str) and call.name in tools
        if not (absent_ok and call.name is None) and not defined:
            names = ", ".join(sorted(tools)) or "none"
            problems.append(
                ("function/name", f"a defined function name ({names})", json.dumps(call.name))
            )
        for field, wanted, got in problems:
            location = f"{call.location}/{field}"
            yield Violation(
                expected(wanted, got), location=location, evidence=evidence(exchange, location)
            )


@check("openai.tools.call-ids-unique")
def call_ids_unique(exchange: Exchange) -> Iterator[Violation]:
    """Each tool call's id is unique in the response (results are matched by tool_call_id)."""
    found = calls(exchange)
    ids = [c.id for c in found if isinstance(c.id, str) and c.id]
    counts = Counter(ids)
    reported: set[str] = set()
    for call in found:
        if call.id in ids and counts[call.id] > 1 and call.id not in reported:
            reported.add(call.id)
            location = f"{call.location}/id"
            yield Violation(
                expected(
                    "a distinct id for each tool call",
                    f"id {call.id!r} on {counts[call.id]} of {len(found)} calls",
                ),
                location=location,
                evidence=evidence(exchange, location),
            )


def _forced(exchange: Exchange) -> bool:
    choice = _request(exchange).get("tool_choice")
    return choice == "required" or isinstance(choice, dict)


@check("openai.tools.finish-reason")
def finish_reason_tool_calls(exchange: Exchange) -> Iterator[Violation]:
    """A choice ending in tool calls has finish_reason tool_calls, and only such a choice."""
    found = calls(exchange)
    reasons = located_finish_reasons(exchange)
    nowhere = (None, "/events" if exchange.streamed else "/choices/0/finish_reason")
    reason, location = reasons[0] if reasons else nowhere
    # The official API answers a forced tool_choice with finish_reason stop.
    allowed = ("tool_calls", "stop") if _forced(exchange) else ("tool_calls",)
    # A value outside the enum is openai.completion.finish-reason's to report, not this rule's.
    official = reason is None or reason in FINISH_REASONS
    if found and official and reason not in allowed:
        yield Violation(
            expected(
                f"finish_reason {' or '.join(map(repr, allowed))} after {len(found)} tool call(s)",
                repr(reason),
            ),
            location=location,
            evidence=evidence(exchange, location),
        )
    elif not found and reason == "tool_calls":
        yield Violation(
            expected("tool calls in a choice whose finish_reason is 'tool_calls'", "no tool call"),
            location=location,
            evidence=evidence(exchange, location),
        )


def _names_a_tool(value: Any, names: set[str]) -> bool:
    if not isinstance(value, dict):
        return False
    fn = value.get("function")
    named = [value.get("name"), value.get("tool"), fn.get("name") if isinstance(fn, dict) else fn]
    return any(isinstance(n, str) and n in names for n in named) or bool(set(value) & names)


def _leaked_call(text: str, names: set[str]) -> str | None:
    """The piece of ``text`` that is a tool call written as text, if any."""
    marker = _CALL_MARKERS.search(text)
    if marker:
        return text[max(0, marker.start() - 40) : marker.end() + 120]
    decoder = json.JSONDecoder()
    starts = [m.start() for m in re.finditer(r"\{", text)][:_MAX_OBJECT_STARTS]
    for start in starts:
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
            continue
        if _names_a_tool(value, names):
            return text[start:end]
    for name in names:
        call = re.search(rf"\b{re.escape(name)}\s*\(\s*(\w+\s*=|\{{|\)|[\"'])", text)
        if call:
            return text[call.start() : call.end() + 120]
    return None


@check("openai.tools.call-as-text")
def call_not_in_content(exchange: Exchange) -> Iterator[Violation]:
    """A tool call comes in tool_calls, never written into content as text (function calling guide)."""
    names = set(defined_tools(exchange))
    if not names or calls(exchange):
        return
    leaked = _leaked_call(answer_text(exchange), names)
    if leaked is not None:
        location = content_location(exchange)
        yield Violation(
            expected(
                "the call in message.tool_calls", f"tool_calls empty; content {clip(leaked, 200)!r}"
            ),
            location=location,
            evidence=exchange.excerpt(),
        )


def _satisfies(call: ToolCall, wanted: ExpectedCall) -> bool:
    # What was called is judged here; the form of the arguments (an object instead of a
    # string, say) is the structural checks' to report.
    if call.name != wanted.name:
        return False
    if not wanted.arguments:
        return True
    value = call.arguments if isinstance(call.arguments, dict) else call.parsed_arguments()[1]
    if not isinstance(value, dict):
        return False
    return all(
        key in value and text.lower() in json.dumps(value[key], ensure_ascii=False).lower()
        for key, text in wanted.arguments.items()
    )


@check("openai.tools.expected-call")
def expected_calls_made(exchange: Exchange, expect: Sequence[ExpectedCall]) -> Iterator[Violation]:
    """The model calls the tool the question asks for, with the question's arguments."""
    found = calls(exchange)
    unused = list(found)
    missing = []
    for wanted in expect:
        match = next((c for c in unused if _satisfies(c, wanted)), None)
        if match is None:
            missing.append(wanted)
        else:
            unused.remove(match)
    if missing:
        described = "; ".join(
            f"{w.name}({', '.join(f'{k} ~ {v!r}' for k, v in w.arguments.items())})"
            for w in missing
        )
        yield Violation(
            expected(f"{described} among the tool calls", _received(exchange, found)),
            location=calls_location(exchange, found),
            evidence=exchange.excerpt(),
        )


def calls_location(exchange: Exchange, found: list[ToolCall]) -> str:
    """Where a finding about the calls made points: a response's tool_calls; in a stream,
    the event of the first call's first delta or, with no call, where the answer is."""
    if not exchange.streamed:
        return "/choices/0/message/tool_calls"
    return found[0].location if found else content_location(exchange)


def _tool_choice_problem(choice: Any, found: list[ToolCall], needed: bool) -> str | None:
    if choice == "none" and found:
        return "no tool call (tool_choice 'none')"
    if choice == "required" and not found:
        return "at least one tool call (tool_choice 'required')"
    if isinstance(choice, dict):
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
        if not found or any(c.name != name for c in found):
            return f"a call to {name!r} only (tool_choice names it)"
    if choice in (None, "auto") and not needed and found:
        return "no tool call for a question no tool helps with (tool_choice 'auto')"
    return None


@check("openai.tools.tool-choice")
def tool_choice_honoured(exchange: Exchange, *, needed: bool = True) -> Iterator[Violation]:
    """tool_choice none/required/named/auto is honoured (create chat: tool_choice)."""
    found = calls(exchange)
    problem = _tool_choice_problem(_request(exchange).get("tool_choice"), found, needed)
    if problem:
        yield Violation(
            expected(problem, _received(exchange, found)),
            location=calls_location(exchange, found),
            evidence=exchange.excerpt(),
        )


@check("openai.tools.parallel-disabled")
def parallel_tool_calls_honoured(exchange: Exchange) -> Iterator[Violation]:
    """With parallel_tool_calls false there is at most one call (create chat: parallel_tool_calls)."""
    found = calls(exchange)
    if _request(exchange).get("parallel_tool_calls") is False and len(found) > 1:
        yield Violation(
            expected("at most one tool call (parallel_tool_calls false)", _calls_text(found)),
            location=calls_location(exchange, found),
            evidence=exchange.excerpt(),
        )


@check("openai.tools.result-used")
def tool_result_used(exchange: Exchange, accept: Sequence[str]) -> Iterator[Violation]:
    """The answer after a tool message uses the tool's result (function calling guide)."""
    answer = answer_text(exchange)
    if not accepted(answer, accept):
        yield Violation(
            expected(
                f"an answer using the tool result: containing {' or '.join(map(repr, accept))}",
                repr(clip(answer, 200)) if answer else _received(exchange, calls(exchange)),
            ),
            location=content_location(exchange),
            evidence=exchange.excerpt(),
        )
