"""The reference model's tool calling: which tools a question needs, their arguments, the wire form.

Everything is read from the request: a tool is called when the question shares
words with its name and description, and each argument is filled from the
question by what its JSON Schema says it is (an enum value named, a date, an
email, a token matching the pattern, a quoted or proper name). No probe is
special-cased.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from chatconform.reference.faults import FaultSet
from chatconform.reference.model import message_text

_WORD = re.compile(r"[a-z]+")
# Function words, verbs and qualifiers any description may use: they say nothing about what a
# tool does. (Words of one or two letters are never compared.)
_STOPWORDS = frozenset(
    "and any are can check could current does for from get give how its latest look now "  # noqa: SIM905
    "please right take tell that the this use what when where which who will with would "
    "you your".split()
)
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”")
_PROPER_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b")
_TOKEN = re.compile(r"[\w.@:+/-]+")
_NUMBER = re.compile(r"(?<![\w.:-])-?\d+(?:\.\d+)?(?![\w:-])")
_FORMATS = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "date-time": re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})?"),
}
_ID_ALPHABET = string.ascii_letters + string.digits
# Arguments stream in pieces the size of tokens: words, and the punctuation between them.
_FRAGMENT = re.compile(r"\w+|\W+")


@dataclass(frozen=True)
class FunctionCall:
    id: str
    name: str
    arguments: str


def new_call_id() -> str:
    return "call_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def fragments(text: str) -> list[str]:
    """``text`` in token-sized pieces that join back to it."""
    return _FRAGMENT.findall(text)


def _functions(body: dict[str, Any]) -> list[dict[str, Any]]:
    tools = body.get("tools")
    return [
        t["function"]
        for t in (tools if isinstance(tools, list) else [])
        if isinstance(t, dict) and isinstance(t.get("function"), dict)
    ]


def tool_turns_problem(body: dict[str, Any]) -> tuple[str, str] | None:
    """(message, param) of the 400 the official API gives for tool parameters or turns that do
    not fit together, or None."""
    names = {fn.get("name") for fn in _functions(body)}
    for param in ("tool_choice", "parallel_tool_calls"):
        if param in body and not names:
            return f"Invalid value for '{param}': only allowed when 'tools' are specified.", param
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and (choice.get("function") or {}).get("name") not in names:
        return (
            "Invalid value for 'tool_choice': the named function is not in 'tools'.",
            "tool_choice",
        )
    pending: set[Any] = set()
    for position, message in enumerate(body.get("messages") or []):
        role = message.get("role") if isinstance(message, dict) else None
        if role == "tool":
            if message.get("tool_call_id") not in pending:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceding message with 'tool_calls'.",
                    f"messages.[{position}].role",
                )
            pending.discard(message["tool_call_id"])
            continue
        if pending:
            break
        calls = message.get("tool_calls") if role == "assistant" else None
        pending = {c.get("id") for c in calls or [] if isinstance(c, dict)}
    if pending:
        return (
            "An assistant message with 'tool_calls' must be followed by tool messages "
            f"responding to each 'tool_call_id'. Missing: {', '.join(map(str, pending))}.",
            "messages",
        )
    return None


def without_tool_turns(messages: list[dict]) -> list[dict]:
    """The conversation as a chat-only relay forwards it: no tool results, no calls."""
    return [
        {k: v for k, v in m.items() if k != "tool_calls"}
        for m in messages
        if m.get("role") != "tool"
    ]


def _words(text: str) -> set[str]:
    # A crude stem (weathers/weather, attendees/attendee) is enough to match descriptions.
    return {
        w[:-1] if len(w) > 3 and w.endswith("s") else w
        for w in _WORD.findall(text.lower())
        if len(w) > 2 and w not in _STOPWORDS
    }


def _relevant(fn: dict[str, Any], question: set[str]) -> bool:
    """The question asks for something the tool's name or description says it provides."""
    name = str(fn.get("name", "")).replace("_", " ")
    return bool(question & _words(f"{name} {fn.get('description', '')}"))


def _at_sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in ".!?:"


def _strings(schema: dict[str, Any], text: str) -> list[Any]:
    if isinstance(schema.get("enum"), list):
        return [v for v in schema["enum"] if re.search(rf"\b{re.escape(str(v))}\b", text, re.I)]
    pattern = _FORMATS.get(str(schema.get("format")))
    if pattern is not None:
        return pattern.findall(text)
    if isinstance(schema.get("pattern"), str):
        try:
            wanted = re.compile(schema["pattern"])
        except re.error:
            return []
        tokens = (t.strip(".,;:!?") for t in _TOKEN.findall(text))
        return [t for t in tokens if t and wanted.search(t)]
    quoted = [a or b for a, b in _QUOTED.findall(text)]
    if quoted:
        return quoted
    return [
        m.group(0) for m in _PROPER_NAME.finditer(text) if not _at_sentence_start(text, m.start())
    ]


def _candidates(schema: Any, text: str) -> list[Any]:
    """Values the question gives for a schema, in the order it gives them."""
    if not isinstance(schema, dict):
        return []
    kind = schema.get("type")
    if kind == "object":
        return fill(schema, text)[:1]
    if kind == "array":
        items = schema.get("items")
        if isinstance(items, dict) and items.get("type") == "object":
            found = fill(items, text)
        else:
            found = _candidates(items, text)
        return [found] if found else []
    if kind in ("integer", "number"):
        numbers = [float(n) for n in _NUMBER.findall(text)]
        return [int(n) for n in numbers if n.is_integer()] if kind == "integer" else numbers
    if kind == "string" or "enum" in schema:
        return _strings(schema, text)
    return []


def _fallback(schema: Any) -> Any:
    """What a model puts in a required argument the question does not give."""
    if not isinstance(schema, dict):
        return None
    if "default" in schema:
        return schema["default"]
    for key in ("enum", "examples"):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema[key][0]
    kind = schema.get("type")
    if kind == "object":
        return fill(schema, "")[0]
    return {"string": "", "integer": 0, "number": 0, "boolean": False, "array": []}.get(str(kind))


def fill(schema: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """Arguments for an object schema from the question: one set per call.

    When the question names several values for one scalar argument (two cities),
    each gets its own set: those become parallel calls.
    """
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    values: dict[str, Any] = {}
    fan: tuple[str, list[Any]] | None = None
    for name, sub in properties.items():
        found = _candidates(sub, text)
        if found:
            values[name] = found[0]
            scalar = isinstance(sub, dict) and sub.get("type") not in ("object", "array")
            if fan is None and scalar and "enum" not in sub and len(set(map(str, found))) > 1:
                fan = (name, list(dict.fromkeys(found)))
        elif name in required:
            values[name] = _fallback(sub)
    if fan is None:
        return [values]
    return [{**values, fan[0]: value} for value in fan[1]]


def _last_user_text(messages: list[dict]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    return message_text(users[-1]) if users else ""


def _chosen(functions: list[dict[str, Any]], choice: Any, question: str) -> list[dict[str, Any]]:
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return [fn for fn in functions if fn.get("name") == name][:1]
    words = _words(question)
    relevant = [fn for fn in functions if _relevant(fn, words)]
    if relevant:
        return relevant
    return functions[:1] if choice == "required" else []


def followed_tool_choice(body: dict[str, Any], faults: FaultSet) -> Any:
    """The request's tool_choice as the model follows it (None when a fault ignores it)."""
    return None if "tool-choice-ignored" in faults else body.get("tool_choice")


def results_just_given(messages: list[dict]) -> bool:
    """Whether the conversation ends with tool results (maybe followed by the user's
    question about them, as the Messages API allows in the same turn)."""
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages[-2:]]
    return roles[-1:] == ["tool"] or roles == ["tool", "user"]


def plan_calls(
    body: dict[str, Any], messages: list[dict], faults: FaultSet, max_tokens: int | None = None
) -> tuple[list[FunctionCall], bool]:
    """The calls the model makes for this request ([] to answer in text), and whether
    ``max_tokens`` cut them short."""
    functions = [] if "tools-dropped" in faults else _functions(body)
    ignored = "tool-choice-ignored" in faults
    choice = followed_tool_choice(body, faults)
    parallel = ignored or body.get("parallel_tool_calls") is not False
    answered = results_just_given(messages)
    if not functions or choice == "none" or (answered and choice in (None, "auto")):
        return [], False
    if "fixed-answer" in faults and choice in (None, "auto"):
        # Such a model never chooses a tool; a forced tool_choice is the server's doing.
        return [], False
    question = _last_user_text(messages)
    planned = [
        (str(fn["name"]), arguments)
        for fn in _chosen(functions, choice, question)
        for arguments in fill(fn.get("parameters") or {}, question)
    ]
    if not parallel:
        planned = planned[:1]
    calls = [
        FunctionCall(
            new_call_id(), name, json.dumps(args, ensure_ascii=False, separators=(",", ":"))
        )
        for name, args in planned
    ]
    if "tool-id-empty" in faults:
        calls = [FunctionCall("", c.name, c.arguments) for c in calls]
    if "tool-ids-duplicate" in faults and calls:
        calls = [FunctionCall(calls[0].id, c.name, c.arguments) for c in calls]
    return _limit(calls, max_tokens)


def call_tokens(calls: tuple[FunctionCall, ...]) -> int:
    return sum(len(fragments(c.name)) + len(fragments(c.arguments)) for c in calls)


def _limit(calls: list[FunctionCall], max_tokens: int | None) -> tuple[list[FunctionCall], bool]:
    """The calls as far as ``max_tokens`` reaches: a call cut short keeps part of its arguments."""
    budget = max_tokens if max_tokens is not None else call_tokens(tuple(calls))
    kept: list[FunctionCall] = []
    for call in calls:
        cost = call_tokens((call,))
        if cost > budget:
            room = budget - len(fragments(call.name))
            if room > 0:
                cut = "".join(fragments(call.arguments)[:room])
                kept.append(FunctionCall(call.id, call.name, cut))
            return kept, True
        kept.append(call)
        budget -= cost
    return kept, False


def as_text(calls: list[FunctionCall]) -> str:
    """The calls as a chat template writes them when the server does not parse them out."""
    blocks = [
        f'<tool_call>\n{{"name": "{c.name}", "arguments": {c.arguments}}}\n</tool_call>'
        for c in calls
    ]
    return "\n".join(blocks)


def _arguments(call: FunctionCall, faults: FaultSet) -> Any:
    if "tool-args-object" in faults:
        return json.loads(call.arguments)
    if "tool-args-empty-string" in faults and call.arguments == "{}":
        return ""
    return call.arguments


def message_tool_calls(calls: tuple[FunctionCall, ...], faults: FaultSet) -> list[dict[str, Any]]:
    """``message.tool_calls`` of a non-streamed response."""
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": _arguments(call, faults)},
        }
        for call in calls
    ]


def tool_call_deltas(calls: tuple[FunctionCall, ...], faults: FaultSet) -> list[dict[str, Any]]:
    """The deltas that stream the calls, as the official API does.

    Each call starts with a delta carrying index, id, type and name (arguments
    ""), then its arguments follow in token-sized fragments; calls come one after
    the other. The first delta rides on the role chunk (see streaming.py).
    """
    deltas: list[dict[str, Any]] = []
    for index, call in enumerate(calls):
        arguments = _arguments(call, faults)
        head: dict[str, Any] = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        pieces: list[Any] = fragments(arguments) if isinstance(arguments, str) else []
        if not isinstance(arguments, str):
            head["function"]["arguments"] = arguments
        if "tool-stream-id-missing" in faults:
            del head["id"]
        items = [head, *({"index": index, "function": {"arguments": p}} for p in pieces)]
        for item in items:
            if "tool-stream-index-all-zero" in faults:
                item["index"] = 0
            if "tool-stream-index-missing" in faults:
                del item["index"]
            deltas.append({"tool_calls": [item]})
    return deltas
