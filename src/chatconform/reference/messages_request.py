"""Checks of a Messages API request, in the official API's order and close to its wording.

Every problem is a 400 invalid_request_error whose message starts with the
path of the field at fault (``messages.1.content.0.source.media_type: ...``),
as the official API reports them. Checks of the body's shape come first, then
those that relate its parts: tool_use and tool_result pairs, thinking blocks and
their signatures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from chatconform.reference.errors import ApiError

IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MIN_THINKING_BUDGET = 1024
THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
# Parameters of POST /v1/messages the reference takes (those it does not act on included).
MESSAGE_PARAMS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "cache_control",
        "diagnostics",
        "speed",
        "user_profile_id",
        "workspace_id",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "service_tier",
        "container",
        "mcp_servers",
        "context_management",
        "output_config",
        "output_format",
        "inference_geo",
    }
)
# POST /v1/messages/count_tokens counts a prompt: nothing about generating is taken.
COUNT_PARAMS = frozenset(
    {
        "model",
        "messages",
        "system",
        "cache_control",
        "speed",
        "user_profile_id",
        "workspace_id",
        "tools",
        "tool_choice",
        "thinking",
        "mcp_servers",
        "context_management",
        "output_config",
        "output_format",
    }
)
_CACHE = frozenset({"cache_control"})
# Block type -> (its required keys with their JSON type, its optional keys, the roles it is for).
_BLOCKS: dict[str, tuple[dict[str, type], frozenset[str], frozenset[str]]] = {
    "text": (
        {"text": str},
        _CACHE | {"citations"},
        frozenset({"user", "assistant", "system", "tool_result"}),
    ),
    "image": ({"source": dict}, _CACHE, frozenset({"user", "tool_result"})),
    "document": (
        {"source": dict},
        _CACHE | {"title", "context", "citations"},
        frozenset({"user", "tool_result"}),
    ),
    "tool_result": (
        {"tool_use_id": str},
        _CACHE | {"content", "is_error"},
        frozenset({"user"}),
    ),
    "tool_use": ({"id": str, "name": str, "input": dict}, _CACHE, frozenset({"assistant"})),
    "thinking": ({"thinking": str, "signature": str}, frozenset(), frozenset({"assistant"})),
    "redacted_thinking": ({"data": str}, frozenset(), frozenset({"assistant"})),
}
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,128}")
_TOOL_KEYS = frozenset({"name", "description", "input_schema", "cache_control", "type", "strict"})
_TOOL_CHOICES = ("auto", "any", "tool", "none")
_JSON_TYPES = {dict: "a valid dictionary", list: "a valid list", str: "a valid string"}

# Whether a thinking block's signature is one this server gave (thinking text, signature).
Verifier = Callable[[str, str], bool]


def _bad(path: str, message: str) -> ApiError:
    return ApiError(400, f"{path}: {message}" if path else message)


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise _bad("", "The request body is not valid JSON.") from None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _extra(value: dict[str, Any], allowed: frozenset[str] | set[str], path: str) -> None:
    for key in value:
        if key not in allowed:
            raise _bad(f"{path}.{key}" if path else key, "Extra inputs are not permitted")


def _typed(value: Any, kind: type, path: str) -> None:
    if not isinstance(value, kind):
        raise _bad(path, f"Input should be {_JSON_TYPES[kind]}")


def _source(block: dict[str, Any], path: str) -> None:
    source = block["source"]
    kind = source.get("type")
    path = f"{path}.source"
    if block["type"] == "image":
        fields = {"base64": ("media_type", "data"), "url": ("url",)}
        media_types: tuple[str, ...] = IMAGE_MEDIA_TYPES
    else:
        fields = {
            "base64": ("media_type", "data"),
            "url": ("url",),
            "text": ("media_type", "data"),
            "content": ("content",),
        }
        media_types = ("application/pdf",) if kind == "base64" else ("text/plain",)
    if kind not in fields:
        expected = ", ".join(f"'{name}'" for name in fields)
        raise _bad(
            f"{path}.type", f"Input tag {kind!r} does not match the expected tags: {expected}"
        )
    _extra(source, {"type", *fields[kind]}, path)
    for name in fields[kind]:
        if name not in source:
            raise _bad(f"{path}.{name}", "Field required")
        if name != "content":
            _typed(source[name], str, f"{path}.{name}")
    if "media_type" in fields[kind] and source["media_type"] not in media_types:
        allowed = " or ".join(f"'{media}'" for media in media_types)
        raise _bad(f"{path}.media_type", f"Input should be {allowed}")
    if kind == "content" and not isinstance(source["content"], str | list):
        raise _bad(f"{path}.content", "Input should be a valid string or list")


def _block(block: Any, where: str, path: str) -> None:
    """One content block of a message (``where``: its role, or tool_result for nested ones)."""
    _typed(block, dict, path)
    kind = block.get("type")
    if kind not in _BLOCKS:
        expected = ", ".join(f"'{name}'" for name in _BLOCKS)
        raise _bad(
            f"{path}.type" if "type" in block else path,
            f"Input tag {kind!r} found using 'type' does not match any of the expected tags: "
            f"{expected}",
        )
    required, optional, roles = _BLOCKS[kind]
    if where not in roles:
        raise _bad(f"{path}.type", f"`{kind}` blocks are not allowed in {where} content")
    _extra(block, {"type", *required, *optional}, path)
    for name, kind_of in required.items():
        if name not in block:
            raise _bad(f"{path}.{name}", "Field required")
        _typed(block[name], kind_of, f"{path}.{name}")
    if kind == "text" and not block["text"]:
        raise _bad(path, "text content blocks must be non-empty")
    if "source" in required:
        _source(block, path)
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            for position, part in enumerate(content):
                _block(part, "tool_result", f"{path}.content.{position}")
        elif not isinstance(content, str):
            raise _bad(f"{path}.content", "Input should be a valid string or list")
        if "is_error" in block and not isinstance(block["is_error"], bool):
            raise _bad(f"{path}.is_error", "Input should be a valid boolean")


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    if "messages" not in body:
        raise _bad("messages", "Field required")
    messages = body["messages"]
    _typed(messages, list, "messages")
    if not messages:
        raise _bad("messages", "at least one message is required")
    for index, message in enumerate(messages):
        path = f"messages.{index}"
        _typed(message, dict, path)
        _extra(message, {"role", "content"}, path)
        for name in ("role", "content"):
            if name not in message:
                raise _bad(f"{path}.{name}", "Field required")
        role = message["role"]
        if role not in ("user", "assistant"):
            raise _bad(f"{path}.role", "Input should be 'user' or 'assistant'")
        content = message["content"]
        final_assistant = role == "assistant" and index == len(messages) - 1
        if not content and not final_assistant:
            raise _bad(
                "messages",
                f"{path}: all messages must have non-empty content except for the optional "
                "final assistant message",
            )
        if isinstance(content, list):
            for position, block in enumerate(content):
                _block(block, role, f"{path}.content.{position}")
        elif not isinstance(content, str):
            raise _bad(f"{path}.content", "Input should be a valid string or list")
    if messages[0]["role"] != "user":
        raise _bad("messages", 'first message must use the "user" role')
    return messages


def _system(body: dict[str, Any]) -> None:
    system = body.get("system")
    if system is None or isinstance(system, str):
        return
    _typed(system, list, "system")
    for position, block in enumerate(system):
        _block(block, "system", f"system.{position}")


def _sampling(body: dict[str, Any], counting: bool) -> None:
    if not counting:
        if "max_tokens" not in body:
            raise _bad("max_tokens", "Field required")
        if not _integer(body["max_tokens"]) or body["max_tokens"] < 1:
            raise _bad("max_tokens", "Input should be an integer greater than or equal to 1")
    for name in ("temperature", "top_p"):
        if name in body and not (_number(body[name]) and 0 <= body[name] <= 1):
            raise _bad(name, "Input should be a number between 0 and 1")
    if "top_k" in body and not (_integer(body["top_k"]) and body["top_k"] >= 0):
        raise _bad("top_k", "Input should be an integer greater than or equal to 0")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise _bad("stream", "Input should be a valid boolean")
    stops = body.get("stop_sequences", [])
    _typed(stops, list, "stop_sequences")
    for position, stop in enumerate(stops):
        _typed(stop, str, f"stop_sequences.{position}")
        if not stop.strip():
            raise _bad("stop_sequences", "each stop sequence must contain non-whitespace")
    metadata = body.get("metadata", {})
    _typed(metadata, dict, "metadata")
    _extra(metadata, {"user_id"}, "metadata")
    if metadata.get("user_id") is not None:
        _typed(metadata["user_id"], str, "metadata.user_id")


def _tools(body: dict[str, Any]) -> set[str]:
    tools = body.get("tools", [])
    _typed(tools, list, "tools")
    names: set[str] = set()
    for position, tool in enumerate(tools):
        path = f"tools.{position}"
        _typed(tool, dict, path)
        _extra(tool, _TOOL_KEYS, path)
        if tool.get("type", "custom") != "custom":
            raise _bad(f"{path}.type", f"Unsupported tool type {tool['type']!r}")
        for name in ("name", "input_schema"):
            if name not in tool:
                raise _bad(f"{path}.{name}", "Field required")
        if not isinstance(tool["name"], str) or not _TOOL_NAME.fullmatch(tool["name"]):
            raise _bad(f"{path}.name", "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'")
        _typed(tool["input_schema"], dict, f"{path}.input_schema")
        if tool["input_schema"].get("type") != "object":
            raise _bad(f"{path}.input_schema.type", "Input should be 'object'")
        if "description" in tool:
            _typed(tool["description"], str, f"{path}.description")
        if tool["name"] in names:
            raise _bad("tools", "Tool names must be unique.")
        names.add(tool["name"])
    return names


def _tool_choice(body: dict[str, Any], names: set[str]) -> None:
    if "tool_choice" not in body:
        return
    choice = body["tool_choice"]
    _typed(choice, dict, "tool_choice")
    kind = choice.get("type")
    if kind not in _TOOL_CHOICES:
        expected = ", ".join(f"'{name}'" for name in _TOOL_CHOICES)
        raise _bad(
            "tool_choice.type", f"Input tag {kind!r} does not match the expected tags: {expected}"
        )
    allowed = {"type"} | ({"name"} if kind == "tool" else set())
    if kind != "none":
        allowed.add("disable_parallel_tool_use")
    _extra(choice, allowed, f"tool_choice.{kind}")
    if "disable_parallel_tool_use" in choice and not isinstance(
        choice["disable_parallel_tool_use"], bool
    ):
        raise _bad(
            f"tool_choice.{kind}.disable_parallel_tool_use", "Input should be a valid boolean"
        )
    if kind == "tool" and choice.get("name") not in names:
        raise _bad("tool_choice.tool.name", f"Tool {choice.get('name')!r} not found in 'tools'")
    if kind == "any" and not names:
        raise _bad("tool_choice", "tool_choice 'any' may only be specified while providing tools")


def thinking_enabled(body: dict[str, Any]) -> bool:
    thinking = body.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") == "enabled"


def _thinking(body: dict[str, Any], counting: bool) -> None:
    if "thinking" not in body:
        return
    thinking = body["thinking"]
    _typed(thinking, dict, "thinking")
    kind = thinking.get("type")
    if kind in ("disabled", "adaptive"):
        # Adaptive: the model decides whether to think; this one answers straight away.
        _extra(
            thinking, {"type"} | ({"display"} if kind == "adaptive" else set()), f"thinking.{kind}"
        )
        return
    if kind != "enabled":
        raise _bad(
            "thinking.type",
            f"Input tag {kind!r} does not match the expected tags: 'enabled', 'disabled', "
            "'adaptive'",
        )
    _extra(thinking, {"type", "budget_tokens", "display"}, "thinking.enabled")
    if thinking.get("display") not in (None, "summarized"):
        # Omitted thinking would need a signature that covers text the client never sees.
        raise _bad("thinking.enabled.display", "only 'summarized' is supported by this model")
    budget = thinking.get("budget_tokens")
    if budget is None:
        raise _bad("thinking.enabled.budget_tokens", "Field required")
    if not _integer(budget) or budget < MIN_THINKING_BUDGET:
        raise _bad(
            "thinking.enabled.budget_tokens",
            f"Input should be greater than or equal to {MIN_THINKING_BUDGET}",
        )
    if not counting and body["max_tokens"] <= budget:
        raise _bad(
            "",
            "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
            f"documentation at {THINKING_DOCS}#max-tokens-and-context-window-size",
        )
    choice = body.get("tool_choice") or {}
    if choice.get("type") in ("any", "tool"):
        raise _bad("", "Thinking may not be enabled when tool_choice forces tool use.")
    if body.get("temperature", 1) != 1:
        raise _bad(
            "",
            "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
            f"documentation at {THINKING_DOCS}#feature-compatibility",
        )
    if "top_k" in body:
        raise _bad("", "`top_k` may not be set when thinking is enabled.")


def _blocks(message: dict[str, Any], kind: str) -> list[tuple[int, dict[str, Any]]]:
    content = message["content"]
    if not isinstance(content, list):
        return []
    return [(position, block) for position, block in enumerate(content) if block["type"] == kind]


def _tool_pairs(messages: list[dict[str, Any]]) -> None:
    """Each tool_use is answered by a tool_result in the very next message, and each
    tool_result answers a tool_use of the message before it."""
    for index, message in enumerate(messages):
        if message["role"] == "user":
            before = messages[index - 1] if index else None
            asked = {b["id"] for _, b in _blocks(before, "tool_use")} if before else set()
            for position, block in _blocks(message, "tool_result"):
                if block["tool_use_id"] not in asked:
                    raise _bad(
                        f"messages.{index}.content.{position}",
                        "unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{block['tool_use_id']}. Each `tool_result` block must have a "
                        "corresponding `tool_use` block in the previous message.",
                    )
            continue
        uses = [b["id"] for _, b in _blocks(message, "tool_use")]
        after = messages[index + 1] if index + 1 < len(messages) else None
        answered = {b["tool_use_id"] for _, b in _blocks(after, "tool_result")} if after else set()
        missing = [use for use in uses if use not in answered]
        if missing:
            raise _bad(
                f"messages.{index + 1}" if after else "messages",
                f"`tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(missing)}. Each `tool_use` block must have a corresponding "
                "`tool_result` block in the next message.",
            )


def _thinking_turns(
    body: dict[str, Any], messages: list[dict[str, Any]], verify: Verifier, thinking_first: bool
) -> None:
    """Thinking blocks sent back carry this server's signature; with thinking enabled (and
    ``thinking_first``), the last assistant turn that calls tools starts with one."""
    for index, message in enumerate(messages):
        for position, block in _blocks(message, "thinking"):
            if not verify(block["thinking"], block["signature"]):
                raise _bad(
                    f"messages.{index}.content.{position}",
                    "Invalid `signature` in `thinking` block",
                )
    if not thinking_enabled(body) or not thinking_first:
        return
    assistants = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    if not assistants or not _blocks(messages[assistants[-1]], "tool_use"):
        return
    index = assistants[-1]
    first = messages[index]["content"][0]
    if first["type"] not in ("thinking", "redacted_thinking"):
        raise _bad(
            f"messages.{index}.content.0.type",
            f"Expected `thinking` or `redacted_thinking`, but found `{first['type']}`. When "
            "`thinking` is enabled, a final `assistant` message must start with a thinking "
            "block (preceding the lastmost set of `tool_use` and `tool_result` blocks). We "
            "recommend you include thinking blocks from previous turns. To avoid this "
            f"requirement, disable `thinking`. Please consult our documentation at {THINKING_DOCS}",
        )


def validate_message_request(
    body: Any, verify: Verifier, *, counting: bool = False, thinking_first: bool = True
) -> dict:
    """The body if it is a valid Messages (``counting``: count_tokens) request, else the
    ApiError naming the first problem. Without ``thinking_first`` a tool-use turn sent back
    need not start with a thinking block (for a model that never thinks)."""
    if not isinstance(body, dict):
        raise _bad("", "The request body must be a JSON object.")
    _extra(body, COUNT_PARAMS if counting else MESSAGE_PARAMS, "")
    if "model" not in body:
        raise _bad("model", "Field required")
    _typed(body["model"], str, "model")
    messages = _messages(body)
    _system(body)
    _sampling(body, counting)
    _tool_choice(body, _tools(body))
    _thinking(body, counting)
    _tool_pairs(messages)
    _thinking_turns(body, messages, verify, thinking_first)
    return body
