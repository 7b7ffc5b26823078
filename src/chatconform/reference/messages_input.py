"""A Messages request as the built-in model reads it: the chat-completions shape, as relays map it.

The model, its tool planning and its eyes (model.py, tools.py, vision.py) read
an OpenAI-shaped conversation, so a validated Messages request is mapped onto
one: ``system`` becomes a system message, ``tool_use`` blocks tool calls,
``tool_result`` blocks tool messages, and tools, tool_choice and
disable_parallel_tool_use their OpenAI twins. Images go to vision.py as data
URLs (after checking their bytes are what their media_type says) or as the
URLs the client gave; documents are read here and their text joins the turn
they are in.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool

from chatconform.reference.documents import read_pdf_text
from chatconform.reference.errors import ApiError
from chatconform.reference.faults import FaultSet
from chatconform.reference.messages_relay import relayed
from chatconform.reference.model import message_text, prompt_tokens, prompt_units
from chatconform.reference.vision import look_at_images

FETCH_TIMEOUT_S = 10.0
# The official API's limit for a whole request; no downloaded document is larger.
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
# The first bytes of each image format the API takes.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)


def _bad(path: str, message: str) -> ApiError:
    return ApiError(400, f"{path}: {message}")


def sniffed_media_type(data: bytes) -> str | None:
    """The image media type the bytes are, from their signature; None for anything else."""
    for magic, offset, media_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if media_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return media_type
    return None


def _base64(data: str, path: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(path, "invalid base64 data") from None


def _image_part(block: dict[str, Any], path: str) -> dict[str, Any]:
    """The image as an image_url part for vision.py; base64 bytes must match their media_type."""
    source = block["source"]
    if source["type"] == "url":
        return {"type": "image_url", "image_url": {"url": source["url"]}}
    data = _base64(source["data"], f"{path}.source.data")
    declared, actual = source["media_type"], sniffed_media_type(data)
    if actual is None:
        raise _bad(f"{path}.source.data", "Could not process image")
    if actual != declared:
        raise _bad(
            f"{path}.source.base64",
            f"The image was specified using the {declared} media type, but the image "
            f"appears to be a {actual} image",
        )
    return {"type": "image_url", "image_url": {"url": f"data:{declared};base64,{source['data']}"}}


async def _download(url: str, path: str) -> bytes:
    """GET a document as the API does: bounded in time and size, no proxy, 200 only."""
    failed = _bad(path, "Unable to download the file. Please verify the URL and try again.")
    if url.split(":", 1)[0].lower() not in ("http", "https"):
        raise failed
    data = bytearray()
    try:
        async with (
            httpx.AsyncClient(
                timeout=FETCH_TIMEOUT_S, follow_redirects=True, max_redirects=3, trust_env=False
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise failed
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_DOCUMENT_BYTES:
                    raise _bad(path, f"Document too large: more than {MAX_DOCUMENT_BYTES} bytes.")
    except httpx.HTTPError:
        raise failed from None
    return bytes(data)


async def _pdf_text(data: bytes, path: str) -> str:
    try:
        return await run_in_threadpool(read_pdf_text, data)
    except ValueError:
        raise _bad(path, "The PDF specified was not valid.") from None


async def _document_text(block: dict[str, Any], path: str) -> str:
    """What the model reads of a document: its title and context, then its text."""
    source = block["source"]
    kind = source["type"]
    if kind == "base64":
        text = await _pdf_text(_base64(source["data"], f"{path}.source.data"), f"{path}.source")
    elif kind == "url":
        text = await _pdf_text(await _download(source["url"], f"{path}.source.url"), path)
    elif kind == "text":
        text = source["data"]
    else:
        text = message_text({"content": source["content"]})
    heading = [block[k] for k in ("title", "context") if isinstance(block.get(k), str)]
    return "\n".join([*heading, text])


async def _parts(
    content: str | list[dict[str, Any]], path: str, faults: FaultSet
) -> list[dict[str, Any]]:
    """User or tool_result content as OpenAI content parts (documents read to text; under
    anthropic-documents-dropped read, so still checked, but left out)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    parts: list[dict[str, Any]] = []
    for position, block in enumerate(content):
        where = f"{path}.{position}"
        if block["type"] == "text":
            parts.append({"type": "text", "text": block["text"]})
        elif block["type"] == "image":
            parts.append(_image_part(block, where))
        elif block["type"] == "document":
            text = await _document_text(block, where)
            if "anthropic-documents-dropped" not in faults:
                parts.append({"type": "text", "text": text})
    return parts


async def _user_turn(message: dict[str, Any], index: int, faults: FaultSet) -> list[dict[str, Any]]:
    """Tool results as tool messages, then the rest of the turn as one user message."""
    content = message["content"]
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    turns: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for position, block in enumerate(content):
        if block["type"] != "tool_result":
            rest.append(block)
            continue
        path = f"messages.{index}.content.{position}"
        parts = await _parts(block.get("content", ""), path, faults)
        turns.append({"role": "tool", "tool_call_id": block["tool_use_id"], "content": parts})
    if rest:
        parts = await _parts(rest, f"messages.{index}.content", faults)
        turns.append({"role": "user", "content": parts})
    return turns


def _assistant_turn(message: dict[str, Any]) -> dict[str, Any]:
    """Text and tool calls; thinking blocks are the model's own and not read back."""
    content = message["content"]
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    text = "".join(block["text"] for block in content if block["type"] == "text")
    calls = [
        {
            "id": block["id"],
            "type": "function",
            "function": {"name": block["name"], "arguments": arguments(block["input"])},
        }
        for block in content
        if block["type"] == "tool_use"
    ]
    turn: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        turn["tool_calls"] = calls
    return turn


def arguments(tool_input: dict[str, Any]) -> str:
    """A tool_use input as the JSON text tool calls carry (and input_json_delta streams)."""
    return json.dumps(tool_input, ensure_ascii=False, separators=(",", ":"))


def _tool_choice(choice: dict[str, Any] | None) -> Any:
    if choice is None:
        return None
    kind = choice["type"]
    if kind == "tool":
        return {"type": "function", "function": {"name": choice["name"]}}
    return {"auto": "auto", "any": "required", "none": "none"}[kind]


def _system_text(system: Any) -> str:
    if isinstance(system, list):
        return "\n".join(block["text"] for block in system)
    return system or ""


async def chat_body(body: dict[str, Any], faults: FaultSet) -> dict[str, Any]:
    """The validated Messages request as a chat completions body, images looked at, as it
    reaches the model (messages_relay.py: what faults take away on the way)."""
    messages: list[dict[str, Any]] = []
    if system := _system_text(body.get("system")):
        messages.append({"role": "system", "content": system})
    sizes = []
    for index, message in enumerate(body["messages"]):
        if message["role"] == "user":
            turn = await _user_turn(message, index, faults)
        else:
            turn = [_assistant_turn(message)]
        messages.extend(turn)
        sizes.append(len(turn))
    chat: dict[str, Any] = {"model": body["model"], "messages": messages}
    tools = body.get("tools") or []
    if tools:
        chat["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool["name"],
                    "description": tool.get("description", ""),
                    "parameters": tool["input_schema"],
                },
            }
            for tool in tools
        ]
    choice = body.get("tool_choice")
    if (mapped := _tool_choice(choice)) is not None:
        chat["tool_choice"] = mapped
    if choice is not None and choice.get("disable_parallel_tool_use") is True:
        chat["parallel_tool_calls"] = False
    return relayed(await look_at_images(chat, FaultSet()), sizes, faults)


def input_tokens(chat: dict[str, Any]) -> int:
    """The prompt's tokens: each message (system included) as on the chat side, plus the
    tool calls it holds and the tool definitions offered."""
    messages = chat["messages"]
    calls = [call["function"] for m in messages for call in m.get("tool_calls") or []]
    return (
        prompt_tokens(messages)
        + sum(prompt_units(call["name"]) + prompt_units(call["arguments"]) for call in calls)
        + sum(prompt_units(json.dumps(tool["function"])) for tool in chat.get("tools") or [])
    )
