"""Tool calls as a client reads them: from a message, or reassembled from streamed deltas.

Nothing here judges: fields are kept as received (an ``arguments`` object
stays an object), with the JSON pointer of where each call sits, so checks
can say what is wrong and where.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chatconform.dialects.openai.stream import choice_entries, parse
from chatconform.exchange import Exchange, load_json


@dataclass(frozen=True)
class ToolDelta:
    """One item of a chunk's ``delta.tool_calls``, and where it is in the stream."""

    event: int
    pointer: str
    item: Any

    @property
    def function(self) -> dict[str, Any]:
        fn = self.item.get("function") if isinstance(self.item, dict) else None
        return fn if isinstance(fn, dict) else {}

    def get(self, key: str) -> Any:
        return self.item.get(key) if isinstance(self.item, dict) else None


@dataclass
class ToolCall:
    """One tool call as received; ``location`` points at its message item or first delta."""

    location: str
    index: Any = None
    id: Any = None
    type: Any = None
    name: Any = None
    arguments: Any = None
    # Where the arguments are: the message field, or the delta that first carried a
    # fragment (the first non-string one, if any, since that is the one to look at).
    arguments_at: str = ""
    deltas: list[ToolDelta] = field(default_factory=list)

    @property
    def arguments_pointer(self) -> str:
        return self.arguments_at or f"{self.location}/function/arguments"

    def parsed_arguments(self) -> tuple[bool, Any]:
        """(True, value) when ``arguments`` is a string holding JSON, else (False, reason)."""
        if not isinstance(self.arguments, str):
            return False, f"arguments are {json.dumps(self.arguments)}, not a string"
        try:
            return True, load_json(self.arguments)
        except ValueError as exc:
            return False, f"not JSON ({exc})"


def message_calls(payload: Any, choice: int = 0) -> list[ToolCall]:
    """The tool calls of a non-streamed chat.completion's choice."""
    found: list[ToolCall] = []
    for j, entry in choice_entries(payload, choice)[:1]:
        message = entry.get("message")
        items = message.get("tool_calls") if isinstance(message, dict) else None
        for k, item in enumerate(items if isinstance(items, list) else []):
            at = f"/choices/{j}/message/tool_calls/{k}"
            item = item if isinstance(item, dict) else {}
            fn = item.get("function") if isinstance(item.get("function"), dict) else {}
            found.append(
                ToolCall(
                    location=at,
                    id=item.get("id"),
                    type=item.get("type"),
                    name=fn.get("name"),
                    arguments=fn.get("arguments"),
                    arguments_at=f"{at}/function/arguments",
                )
            )
    return found


def stream_deltas(chunks: list[tuple[int, dict[str, Any]]], choice: int = 0) -> list[ToolDelta]:
    """Every ``delta.tool_calls`` item of one choice, in stream order."""
    deltas: list[ToolDelta] = []
    for i, chunk in chunks:
        for j, entry in choice_entries(chunk, choice):
            delta = entry.get("delta")
            items = delta.get("tool_calls") if isinstance(delta, dict) else None
            for k, item in enumerate(items if isinstance(items, list) else []):
                deltas.append(ToolDelta(i, f"/events/{i}/choices/{j}/delta/tool_calls/{k}", item))
    return deltas


def has_index(delta: ToolDelta) -> bool:
    index = delta.get("index")
    return isinstance(index, int) and not isinstance(index, bool)


def reassemble(deltas: list[ToolDelta]) -> list[ToolCall]:
    """The calls a client builds from the deltas, in index order (as clients place them).

    Deltas are grouped by ``index``; ``id``, ``type`` and ``name`` come from the
    first delta carrying them, ``arguments`` fragments are concatenated. A delta
    without an index (a deviation, flagged elsewhere) starts a new call when it
    brings a new id, and otherwise continues the last one, as lenient clients do.
    """
    calls: dict[Any, ToolCall] = {}
    last: Any = None
    for delta in deltas:
        key: Any = delta.get("index")
        if not has_index(delta):
            new_id = delta.get("id")
            starts = last is None or (
                isinstance(new_id, str) and new_id != "" and new_id != calls[last].id
            )
            key = ("no-index", len(calls)) if starts else last
        call = calls.get(key)
        if call is None:
            call = calls[key] = ToolCall(location=delta.pointer, index=delta.get("index"))
        _extend(call, delta)
        last = key
    # Calls without an index follow the indexed ones, in the order they came.
    return [calls[key] for key in sorted(calls, key=lambda k: (isinstance(k, tuple), k))]


def _extend(call: ToolCall, delta: ToolDelta) -> None:
    call.deltas.append(delta)
    for attr, value in (
        ("id", delta.get("id")),
        ("type", delta.get("type")),
        ("name", delta.function.get("name")),
    ):
        if getattr(call, attr) is None and value is not None:
            setattr(call, attr, value)
    if "arguments" not in delta.function:
        return
    if not (call.arguments is None or isinstance(call.arguments, str)):
        return  # a non-string fragment came already: it is the one to report
    fragment = delta.function["arguments"]
    where = f"{delta.pointer}/function/arguments"
    if isinstance(fragment, str):
        call.arguments = (call.arguments or "") + fragment
        call.arguments_at = call.arguments_at or where
    else:
        call.arguments, call.arguments_at = fragment, where


def calls(exchange: Exchange, choice: int = 0) -> list[ToolCall]:
    """The tool calls of one choice, streamed (reassembled) or not."""
    if exchange.streamed:
        return reassemble(stream_deltas(parse(exchange).chunks, choice))
    return message_calls(exchange.json_or_none(), choice)
