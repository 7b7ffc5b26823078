"""How neutral fixtures become Messages API requests: prompts, tools, images, documents.

The fixtures are written with chat roles (system, developer, user, assistant) and
string or text-part content; here they take the Messages shape: instructions go to the
top-level ``system``, turns keep user and assistant, parts become content blocks.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Sequence
from typing import Any

from chatconform.documents import Document
from chatconform.images import ImageFile
from chatconform.prompts import Prompt
from chatconform.tool_probes import ToolProbe, tool

INSTRUCTION_ROLES = ("system", "developer")


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _content(content: Any) -> Any:
    """String content as it is; chat text parts as text blocks."""
    if isinstance(content, str):
        return content
    return [text_block(part["text"]) for part in content if part.get("type") == "text"]


def _instructions(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part["text"] for part in content if part.get("type") == "text")


def conversation(messages: Sequence[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """(system, messages) of chat-shaped fixture messages."""
    system = [_instructions(m["content"]) for m in messages if m["role"] in INSTRUCTION_ROLES]
    turns = [
        {"role": m["role"], "content": _content(copy.deepcopy(m["content"]))}
        for m in messages
        if m["role"] not in INSTRUCTION_ROLES
    ]
    return ("\n\n".join(system) if system else None), turns


def message_body(prompt: Prompt, model: str, max_tokens: int, **params: Any) -> dict[str, Any]:
    """A Messages request asking ``prompt`` (a fresh copy: cases may change it)."""
    system, messages = conversation(prompt.messages)
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": messages}
    if system is not None:
        body["system"] = system
    return {**body, **params}


def tool_definition(name: str) -> dict[str, Any]:
    """fixtures/tools/<name>.json as a Messages tool: name, description, input_schema."""
    function = tool(name)["function"]
    return {
        "name": function["name"],
        "description": function["description"],
        "input_schema": copy.deepcopy(function["parameters"]),
    }


def tool_body(probe: ToolProbe, model: str, max_tokens: int, **params: Any) -> dict[str, Any]:
    """A Messages request asking a tool probe's question with its tools."""
    system, messages = conversation(probe.messages)
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "messages": messages,
        "tools": [tool_definition(name) for name in probe.tools],
    }
    if system is not None:
        body["system"] = system
    return {**body, **params}


def image_block(file: ImageFile) -> dict[str, Any]:
    """An image block carrying the fixture's bytes (source base64)."""
    data = base64.b64encode(file.read()).decode("ascii")
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": file.media_type, "data": data},
    }


def image_url_block(url: str) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "url", "url": url}}


def document_block(document: Document) -> dict[str, Any]:
    """A document block carrying the PDF's bytes (source base64)."""
    return {
        "type": "document",
        "source": {"type": "base64", "media_type": document.media_type, "data": document.base64()},
    }


def document_url_block(url: str) -> dict[str, Any]:
    return {"type": "document", "source": {"type": "url", "url": url}}


def user_turn(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


# What a client sends back of each kind of block, in the next turn's assistant message.
SENT_BACK = {
    "text": ("type", "text"),
    "thinking": ("type", "thinking", "signature"),
    "redacted_thinking": ("type", "data"),
    "tool_use": ("type", "id", "name", "input"),
}


def assistant_turn(blocks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """An answer's blocks as a client sends them back: every text, thinking (its signature
    untouched) and tool_use block, with the fields the API takes."""
    kept = [
        {k: b[k] for k in SENT_BACK[b["type"]] if k in b}
        for b in blocks
        if b.get("type") in SENT_BACK
    ]
    return {"role": "assistant", "content": kept}
