"""anthropic-sdk-python, called as an application calls it, on one replayed exchange.

https://github.com/anthropics/anthropic-sdk-python: ``messages.create``, and for a stream
the helper its streaming guide recommends, ``messages.stream(...)`` with
``get_final_message()`` (it accumulates the message, tool input included; iterating
``create(stream=True)`` leaves that to the application, so it measures no more of the
client). What the application reads of the message (its text blocks,
tool_use blocks, stop_reason, usage) becomes the reading; an exception the call or that
reading raises is how the client breaks.
"""

from __future__ import annotations

from typing import Any

import anthropic

from chatconform.clients.reading import Call, Job, Reading, ToolCall
from chatconform.clients.transport import http_module

CLIENT = "anthropic-python"
DIALECT = "anthropic"
CALLS: tuple[Call, ...] = ("create", "helper")
BASE_URL = "http://replay.invalid"
VERSION = anthropic.__version__
STATUS_ERROR = anthropic.APIStatusError
HTTP = http_module(anthropic)


def call(job: Job, call: Call, http_client: Any) -> Reading:
    """Make ``call`` for ``job`` through ``http_client``; exceptions propagate."""
    client = anthropic.Anthropic(
        api_key="sk-replay", base_url=BASE_URL, http_client=http_client, max_retries=0
    )
    with client:
        if call == "helper":
            with client.messages.stream(**_arguments(job)) as stream:
                return _message(stream.get_final_message(), call)
        return _message(client.messages.create(**_arguments(job)), call)


def _arguments(job: Job) -> dict[str, Any]:
    """The recorded request as keyword arguments: the required fields, the rest as
    ``extra_body`` (the answer is recorded: what is sent changes nothing)."""
    body = dict(job.request_body) if isinstance(job.request_body, dict) else {}
    max_tokens = body.pop("max_tokens", None)
    arguments: dict[str, Any] = {
        "model": body.pop("model", "") or "replayed",
        "messages": body.pop("messages", None) or [],
        "max_tokens": max_tokens if isinstance(max_tokens, int) else 1024,
    }
    body.pop("stream", None)
    if body:
        arguments["extra_body"] = body
    return arguments


def _message(message: Any, call: Call) -> Reading:
    text = [block.text for block in message.content if block.type == "text"]
    calls = [
        ToolCall(id=_string(block.id), name=_string(block.name), arguments=block.input, raw=None)
        for block in message.content
        if block.type == "tool_use"
    ]
    usage = message.usage
    return Reading(
        client=CLIENT,
        call=call,
        text="".join(text),
        tool_calls=tuple(calls),
        finish_reason=message.stop_reason,
        input_tokens=usage.input_tokens if usage else None,
        output_tokens=usage.output_tokens if usage else None,
        client_version=VERSION,
    )


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None
