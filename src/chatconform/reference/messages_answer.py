"""What the built-in model answers to a Messages request: its content blocks, stop reason, usage.

The same model as on the chat side decides: tools.py plans the calls (each
becomes a ``tool_use`` block), model.py writes the text. With thinking enabled a
signed ``thinking`` block comes first and its tokens count against max_tokens.
Streamed and non-streamed answers are both rendered from one Reply.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chatconform.reference.faults import FaultSet
from chatconform.reference.messages_input import input_tokens
from chatconform.reference.messages_request import thinking_enabled
from chatconform.reference.model import DEFAULT_ANSWER, message_text, respond, tokens
from chatconform.reference.thinking import sign, thought
from chatconform.reference.tools import FunctionCall, call_tokens, plan_calls
from chatconform.reference.usage_faults import INFLATION

# What anthropic-usage-fixed reports for every answer.
FIXED_USAGE = (10, 20)
# The model every answer names under anthropic-model-renamed.
RENAMED_MODEL = "claude-3-haiku-20240307"
# What an enum-valued argument gets under anthropic-tool-input-invalid (made unique if the
# enum happens to hold it).
OUT_OF_ENUM = "kelvin"
_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Reply:
    """One answered Messages request: the content blocks in their wire form, and the rest."""

    id: str
    model: str
    content: tuple[dict[str, Any], ...]
    stop_reason: str
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def _question(messages: Sequence[dict[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    return message_text(users[-1]) if users else ""


def limit(text: str, max_tokens: int | None, stops: Sequence[str]) -> tuple[str, str, str | None]:
    """The text cut at max_tokens (None: not cut) and then at the earliest stop sequence (not
    kept), with the stop_reason and the stop sequence that matched."""
    reason = "end_turn"
    kept = tokens(text)
    if max_tokens is not None and len(kept) > max_tokens:
        text = "".join(kept[:max_tokens])
        reason = "max_tokens"
    found = [(at, order, stop) for order, stop in enumerate(stops) if (at := text.find(stop)) >= 0]
    if found:
        at, _, stop = min(found)
        return text[:at], "stop_sequence", stop
    return text, reason, None


def _continued(messages: Sequence[dict[str, Any]], text: str) -> str:
    """The answer after a final assistant message (a prefill), which it continues."""
    last = messages[-1] if messages else {}
    prefill = message_text(last) if last.get("role") == "assistant" else ""
    if prefill and text.startswith(prefill):
        return text[len(prefill) :]
    return text


def _complete(call: FunctionCall) -> dict[str, Any] | None:
    """The call's input, or None when max_tokens cut its arguments short."""
    try:
        value = json.loads(call.arguments)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _outside_enum(tool_input: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    """The input with its first enum-valued argument set outside the enum, or None."""
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and isinstance(sub.get("enum"), list):
            value = OUT_OF_ENUM
            while value in sub["enum"]:
                value += "s"
            return {**tool_input, name: value}
    return None


def _without_required(tool_input: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    """The input without one required argument, or None: one nested in an object argument if
    any (the arguments themselves stay), else the last one."""
    properties = schema.get("properties") or {}
    for name, sub in properties.items():
        if isinstance(tool_input.get(name), dict) and isinstance(sub, dict):
            inner = _without_required(tool_input[name], sub)
            if inner is not None:
                return {**tool_input, name: inner}
    required = [name for name in schema.get("required") or [] if name in tool_input]
    if not required:
        return None
    return {k: v for k, v in tool_input.items() if k != required[-1]}


def invalid_input(tool_input: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The input made invalid against its schema (anthropic-tool-input-invalid); a tool with
    neither an enum nor a required argument keeps it, having nothing to violate."""
    for change in (_outside_enum, _without_required):
        changed = change(tool_input, schema)
        if changed is not None:
            return changed
    return tool_input


def _tool_uses(
    calls: list[FunctionCall], body: dict[str, Any], faults: FaultSet
) -> list[dict[str, Any]]:
    schemas = {tool["name"]: tool["input_schema"] for tool in body.get("tools") or []}
    blocks = []
    for call in calls:
        tool_input = _complete(call)
        if tool_input is None:
            continue
        if "anthropic-tool-input-invalid" in faults:
            tool_input = invalid_input(tool_input, schemas.get(call.name, {}))
        tool_id = "" if "anthropic-tool-ids-empty" in faults else _new_id("toolu_")
        blocks.append({"type": "tool_use", "id": tool_id, "name": call.name, "input": tool_input})
    return blocks


def answer(
    body: dict[str, Any], chat: dict[str, Any], *, thinking_key: bytes, faults: FaultSet
) -> Reply:
    """Run the model on a validated request (``chat``: the request as the model reads it)."""
    messages = chat["messages"]
    faithful = FaultSet()
    # Such a model says one sentence whatever it is asked, and never uses a tool.
    canned = "anthropic-canned-answer" in faults
    cap = None if "anthropic-max-tokens-ignored" in faults else body["max_tokens"]
    stops = [] if "anthropic-stop-sequences-ignored" in faults else body.get("stop_sequences")
    content: list[dict[str, Any]] = []
    spent = 0
    if thinking_enabled(body) and "anthropic-thinking-dropped" not in faults:
        planned = [] if canned else plan_calls(chat, messages, faithful)[0]
        text = thought(_question(messages), [call.name for call in planned])
        signature = (
            "" if "anthropic-thinking-signature-empty" in faults else sign(thinking_key, text)
        )
        content.append({"type": "thinking", "thinking": text, "signature": signature})
        spent = len(tokens(text))
    budget = None if cap is None else cap - spent
    # A forced tool_choice is the server's doing, not the canned model's.
    forced = (body.get("tool_choice") or {}).get("type") in ("any", "tool")
    calls, cut = (
        ([], False) if canned and not forced else plan_calls(chat, messages, faithful, budget)
    )
    stop_sequence = None
    if calls or cut:
        content.extend(_tool_uses(calls, body, faults))
        spent += call_tokens(tuple(calls))
        stop_reason = "max_tokens" if cut else "tool_use"
    else:
        said = DEFAULT_ANSWER if canned else respond(messages)
        text, stop_reason, stop_sequence = limit(_continued(messages, said), budget, stops or [])
        if text:
            content.append({"type": "text", "text": text})
        spent += len(tokens(text))
    used = any(block["type"] == "tool_use" for block in content)
    if used and "anthropic-stop-reason-end-turn-for-tool-use" in faults:
        stop_reason = "end_turn"
    if stop_reason == "end_turn" and "anthropic-stop-reason-openai" in faults:
        stop_reason = "stop"
    prompt = input_tokens(chat)
    if "anthropic-usage-inflated" in faults:
        prompt *= INFLATION
    if "anthropic-usage-fixed" in faults:
        prompt, spent = FIXED_USAGE
    return Reply(
        id=_new_id("msg_"),
        model=RENAMED_MODEL if "anthropic-model-renamed" in faults else body["model"],
        content=tuple(content),
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        input_tokens=prompt,
        output_tokens=spent,
    )
