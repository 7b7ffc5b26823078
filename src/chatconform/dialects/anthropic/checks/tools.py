"""Checks of tool use: tool_use blocks, their input (streamed or not), stop_reason, tool_choice.

https://docs.anthropic.com/en/docs/build-with-claude/tool-use
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chatconform.check import Violation, check, expected
from chatconform.dialects.anthropic.checks.message import (
    STOP_REASONS,
    evidence,
    message_of,
    request_body,
    show,
    stop_reason_at,
    text_location,
)
from chatconform.dialects.anthropic.reply import read
from chatconform.dialects.anthropic.stream import parse
from chatconform.exchange import Exchange, clip, load_json
from chatconform.schemas import request_schema_problem


@dataclass(frozen=True)
class ToolUse:
    """A tool_use block and where it is: ``/content/<k>``, or its content_block_start."""

    location: str
    block: dict[str, Any]
    # Streamed: the partial_json concatenated (None: no input_json_delta), the events of
    # its input_json_delta, and whether its content_block_stop came.
    json_text: str | None = None
    json_at: list[int] = field(default_factory=list)
    start_at: int | None = None
    closed: bool = True

    @property
    def name(self) -> Any:
        return self.block.get("name")

    def input(self) -> tuple[bool, Any]:
        """(True, the input) as a client reads it; (False, why) when the streamed
        partial_json is not JSON text."""
        if self.json_text:
            try:
                return True, load_json(self.json_text)
            except ValueError as error:
                return False, str(error)
        if "input" not in self.block:
            return False, "no input"
        return True, self.block["input"]

    def input_location(self) -> str:
        """Where the input is: the block's input, or its first input_json_delta."""
        if self.json_text and self.json_at:
            return f"/events/{self.json_at[0]}/data/delta/partial_json"
        return f"{self.location}/input"


def tool_uses(exchange: Exchange) -> list[ToolUse]:
    """The tool_use blocks of the message, streamed or not."""
    if exchange.streamed:
        return [
            ToolUse(
                f"/events/{b.start_at}/data/content_block",
                b.block,
                b.json_text,
                b.json_at,
                b.start_at,
                b.stop_at is not None,
            )
            for b in parse(exchange).blocks()
            if b.type == "tool_use"
        ]
    content = (message_of(exchange) or {}).get("content")
    return [
        ToolUse(f"/content/{k}", b)
        for k, b in enumerate(content if isinstance(content, list) else [])
        if isinstance(b, dict) and b.get("type") == "tool_use"
    ]


def request_tools(exchange: Exchange) -> dict[str, dict[str, Any]]:
    """The tools the request offered, by name."""
    tools = request_body(exchange).get("tools")
    return {
        t["name"]: t
        for t in (tools if isinstance(tools, list) else [])
        if isinstance(t, dict) and isinstance(t.get("name"), str)
    }


def _summary(use: ToolUse) -> str:
    ok, value = use.input()
    shown = json.dumps(value, ensure_ascii=False) if ok else repr(use.json_text)
    return f"{clip(str(use.name), 60)}({clip(shown, 120)})"


def _received(exchange: Exchange, uses: list[ToolUse]) -> str:
    if uses:
        return ", ".join(_summary(u) for u in uses[:5]) + (" ..." if len(uses) > 5 else "")
    return f"no tool_use block; text {clip(read(exchange).text, 120)!r}"


def _calls_location(exchange: Exchange, uses: list[ToolUse]) -> str:
    return uses[0].location if uses else text_location(exchange)


@check("anthropic.tools.block-fields")
def tool_use_fields(exchange: Exchange) -> Iterator[Violation]:
    """Each tool_use has a unique non-empty id, a defined name and an object input (ToolUseBlock)."""
    tools = request_tools(exchange)
    uses = tool_uses(exchange)
    ids = Counter(u.block.get("id") for u in uses if isinstance(u.block.get("id"), str))
    reported: set[str] = set()
    for use in uses:
        problems: list[tuple[str, str, str]] = []
        block_id = use.block.get("id")
        if not isinstance(block_id, str) or not block_id:
            problems.append(
                ("id", "a non-empty id", show(block_id, 160) if "id" in use.block else "none")
            )
        elif ids[block_id] > 1 and block_id not in reported:
            reported.add(block_id)
            problems.append(
                (
                    "id",
                    "a distinct id for each tool_use block",
                    f"id {block_id!r} on {ids[block_id]} blocks",
                )
            )
        if not isinstance(use.name, str) or use.name not in tools:
            names = ", ".join(sorted(tools)) or "none defined"
            problems.append(
                (
                    "name",
                    f"a tool the request defines ({names})",
                    show(use.name, 160) if "name" in use.block else "none",
                )
            )
        # Streamed input_json_delta text that is no JSON object is input-stream-json's.
        ok, value = use.input()
        if not use.json_text and not isinstance(value, dict):
            shown = show(value, 160) if ok else value
            problems.append(("input", "input, a JSON object", shown))
        for key, wanted, received in problems:
            location = use.input_location() if key == "input" else f"{use.location}/{key}"
            yield Violation(
                expected(wanted, received), location=location, evidence=evidence(exchange, location)
            )


@check("anthropic.tools.input-valid")
def tool_input_valid(exchange: Exchange) -> Iterator[Violation]:
    """Each tool_use input validates against its tool's input_schema (tool use guide)."""
    tools = request_tools(exchange)
    for use in tool_uses(exchange):
        ok, value = use.input()
        tool = tools.get(use.name) if isinstance(use.name, str) else None
        if not ok or not isinstance(value, dict) or tool is None or not use.closed:
            continue  # block-fields, input-stream-json or truncated say so
        if exchange.streamed and not use.json_text:
            continue  # an input not streamed as input_json_delta is input-not-streamed's
        problem = request_schema_problem(value, tool.get("input_schema"))
        if problem:
            location = use.input_location()
            yield Violation(
                expected(
                    f"input of {use.name!r} valid against its input_schema",
                    clip(f"{show(value, 160)}: {problem}", 300),
                ),
                location=location,
                evidence=evidence(exchange, location),
            )


@check("anthropic.tools.stop-reason")
def stop_reason_tool_use(exchange: Exchange) -> Iterator[Violation]:
    """A message ending in tool_use blocks has stop_reason tool_use, and only such a message."""
    if message_of(exchange) is None:
        return
    uses = tool_uses(exchange)
    reason, location = stop_reason_at(exchange)
    # No message_delta, or a value outside the enum: event-order and message.stop-reason say so.
    if location == "/events" or reason not in STOP_REASONS:
        return
    # The cap may cut a message inside its tool_use block: max_tokens is its reason then.
    if uses and reason not in ("tool_use", "max_tokens"):
        yield Violation(
            expected(f"stop_reason 'tool_use' after {len(uses)} tool_use block(s)", repr(reason)),
            location=location,
            evidence=evidence(exchange, location),
        )
    elif not uses and reason == "tool_use":
        yield Violation(
            expected("a tool_use block in a message whose stop_reason is 'tool_use'", "none"),
            location=location,
            evidence=evidence(exchange, location),
        )


def _required(tool: dict[str, Any] | None) -> list[Any]:
    schema = tool.get("input_schema") if tool else None
    required = schema.get("required") if isinstance(schema, dict) else None
    return required if isinstance(required, list) else []


@check("anthropic.tools.input-not-streamed")
def tool_input_streamed(exchange: Exchange) -> Iterator[Violation]:
    """A streamed tool_use's input arrives in input_json_delta events (streaming guide: input JSON deltas).

    Judged for tools with required arguments, whose input cannot be {}.
    """
    if not exchange.streamed:
        return
    tools = request_tools(exchange)
    for use in tool_uses(exchange):
        tool = tools.get(use.name) if isinstance(use.name, str) else None
        if use.json_text or not use.closed or not _required(tool):
            continue
        start = use.block.get("input")
        if start == {} or "input" not in use.block:
            received = "input {} at content_block_start and no input_json_delta: the input is {}"
        else:
            received = (
                f"the whole input in content_block_start ({show(start, 160)}) and no "
                "input_json_delta: clients that build input from the deltas get {}"
            )
        location = f"{use.location}/input"
        yield Violation(
            expected(
                f"the input of {use.name!r} (required: {', '.join(map(str, _required(tool)))}) "
                "in input_json_delta events",
                received,
            ),
            location=location,
            evidence=evidence(exchange, location),
        )


@check("anthropic.tools.input-stream-json")
def tool_input_stream_json(exchange: Exchange) -> Iterator[Violation]:
    """A tool_use's partial_json fragments join into one JSON object (streaming guide: input JSON deltas)."""
    for use in tool_uses(exchange):
        if not use.json_text or not use.closed:
            continue
        ok, value = use.input()
        if ok and isinstance(value, dict):
            continue
        why = value if not ok else f"a JSON {type(value).__name__}, not an object"
        location = use.input_location()
        yield Violation(
            expected(
                f"the partial_json of {clip(str(use.name), 60)!r} to join into one JSON object",
                f"{clip(use.json_text, 160)!r} ({why})",
            ),
            location=location,
            evidence=evidence(exchange, location),
        )


def _tool_choice(exchange: Exchange) -> dict[str, Any]:
    choice = request_body(exchange).get("tool_choice")
    return choice if isinstance(choice, dict) else {}


@check("anthropic.tools.tool-choice")
def tool_choice_honoured(exchange: Exchange) -> Iterator[Violation]:
    """tool_choice any: a tool is used; tool: the named one is; none: none is (tool use guide)."""
    if message_of(exchange) is None:
        return
    choice = _tool_choice(exchange)
    uses = tool_uses(exchange)
    kind = choice.get("type")
    problem = None
    if kind == "any" and not uses:
        problem = "a tool_use block (tool_choice any)"
    elif kind == "tool" and not any(u.name == choice.get("name") for u in uses):
        problem = f"a tool_use block of {show(choice.get('name'), 60)} (tool_choice names it)"
    elif kind == "none" and uses:
        problem = "no tool_use block (tool_choice none)"
    if problem:
        location = _calls_location(exchange, uses)
        yield Violation(
            expected(problem, _received(exchange, uses)),
            location=location,
            evidence=evidence(exchange, location),
        )


@check("anthropic.tools.parallel-disabled")
def parallel_disabled_honoured(exchange: Exchange) -> Iterator[Violation]:
    """With disable_parallel_tool_use at most one tool is used (tool use guide: parallel tool use)."""
    uses = tool_uses(exchange)
    if _tool_choice(exchange).get("disable_parallel_tool_use") is True and len(uses) > 1:
        location = uses[1].location
        yield Violation(
            expected(
                "at most one tool_use block (disable_parallel_tool_use)",
                f"{len(uses)}: {_received(exchange, uses)}",
            ),
            location=location,
            evidence=evidence(exchange, location),
        )


# Tool input a client cannot use as sent: a case that meets one stops there, since what
# the model chose cannot be read.
UNREADABLE = (tool_input_stream_json, tool_input_streamed)
