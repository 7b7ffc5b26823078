"""openai-python, called as an application calls it, on one replayed exchange.

https://github.com/openai/openai-python: ``chat.completions.create`` (and with
``stream=True``, iterated the way its README and OpenAI's function-calling guide
accumulate a stream: text by concatenation, tool calls by ``index``), the streaming
helper ``chat.completions.stream(...)`` with ``get_final_completion()``, and ``parse``
for structured output. What the application reads of the result (choice 0's text and
tool calls, finish_reason, usage) becomes the reading; an exception the call or that
reading raises is how the client breaks.
"""

from __future__ import annotations

import json
from typing import Any

import openai
from pydantic import BaseModel, ConfigDict

from chatconform.clients.reading import Call, Job, Reading, ToolCall
from chatconform.clients.transport import http_module

CLIENT = "openai-python"
DIALECT = "openai"
CALLS: tuple[Call, ...] = ("create", "stream", "helper", "parse")
BASE_URL = "http://replay.invalid/v1"
VERSION = openai.__version__
STATUS_ERROR = openai.APIStatusError
HTTP = http_module(openai)


class AnyObject(BaseModel):
    """What an application parses a structured answer into: any JSON object."""

    model_config = ConfigDict(extra="allow")


def call(job: Job, call: Call, http_client: Any) -> Reading:
    """Make ``call`` for ``job`` through ``http_client``; exceptions propagate."""
    client = openai.OpenAI(
        api_key="sk-replay", base_url=BASE_URL, http_client=http_client, max_retries=0
    )
    with client:
        if call == "stream":
            return _iterated(client, job)
        if call == "helper":
            with client.chat.completions.stream(**_arguments(job, helper=True)) as stream:
                return _completion(_final(stream.get_final_completion), call)
        if call == "parse":
            arguments = {**_arguments(job, helper=True), "response_format": AnyObject}
            return _completion(_final(lambda: client.chat.completions.parse(**arguments)), call)
        return _completion(client.chat.completions.create(**_arguments(job)), call)


def _final(get: Any) -> Any:
    """The completion, also when the SDK raises because it was cut by max_tokens or a
    content filter: an application that set a cap catches that and reads what came."""
    try:
        return get()
    except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as exc:
        if exc.completion is None:
            raise
        return exc.completion


def _arguments(job: Job, *, helper: bool = False) -> dict[str, Any]:
    """The recorded request as keyword arguments: model and messages, the fields the
    helpers read (strict tools, which they parse), the rest as ``extra_body``."""
    body = dict(job.request_body) if isinstance(job.request_body, dict) else {}
    arguments: dict[str, Any] = {
        "model": body.pop("model", "") or "replayed",
        "messages": body.pop("messages", None) or [],
    }
    body.pop("stream", None)
    tools = body.get("tools")
    if helper and isinstance(tools, list) and tools and all(map(_strict, tools)):
        arguments["tools"] = body.pop("tools")
    if helper and isinstance(body.get("response_format"), dict):
        arguments["response_format"] = body.pop("response_format")
    if body:
        arguments["extra_body"] = body
    return arguments


def _strict(tool: Any) -> bool:
    fn = tool.get("function") if isinstance(tool, dict) else None
    return tool.get("type") == "function" and isinstance(fn, dict) and fn.get("strict") is True


def _completion(completion: Any, call: Call) -> Reading:
    choice = completion.choices[0]
    message = choice.message
    usage = completion.usage
    return Reading(
        client=CLIENT,
        call=call,
        text=message.content,
        tool_calls=tuple(
            _tool_call(c.id, c.function.name, c.function.arguments)
            for c in message.tool_calls or []
        ),
        finish_reason=choice.finish_reason,
        input_tokens=usage.prompt_tokens if usage else None,
        output_tokens=usage.completion_tokens if usage else None,
        client_version=VERSION,
    )


def _iterated(client: openai.OpenAI, job: Job) -> Reading:
    text: list[str] = []
    calls: dict[Any, dict[str, Any]] = {}
    finish = None
    usage = None
    body = job.request_body if isinstance(job.request_body, dict) else {}
    several = isinstance(body.get("n"), int) and body["n"] > 1
    for chunk in client.chat.completions.create(**_arguments(job), stream=True):
        if chunk.usage:
            usage = chunk.usage
        # An application that asked for one choice reads the first; one that asked for
        # several (n) tells them apart by index.
        choices = [c for c in chunk.choices if c.index == 0] if several else chunk.choices[:1]
        if not choices:
            continue  # the usage chunk of stream_options.include_usage
        choice = choices[0]
        delta = choice.delta
        if delta.content:
            text.append(delta.content)
        for item in delta.tool_calls or []:
            call = calls.setdefault(item.index, {"id": None, "name": None, "arguments": ""})
            if item.id:
                call["id"] = item.id
            if item.function and item.function.name:
                call["name"] = item.function.name
            if item.function and item.function.arguments:
                call["arguments"] += item.function.arguments
        if choice.finish_reason:
            finish = choice.finish_reason
    return Reading(
        client=CLIENT,
        call="stream",
        text="".join(text),
        tool_calls=tuple(_tool_call(c["id"], c["name"], c["arguments"]) for c in calls.values()),
        finish_reason=finish,
        input_tokens=usage.prompt_tokens if usage else None,
        output_tokens=usage.completion_tokens if usage else None,
        client_version=VERSION,
    )


def _tool_call(id_: Any, name: Any, arguments: Any) -> ToolCall:
    """A tool call as the application gets it: arguments parsed with ``json.loads`` as
    it would (None when that fails, or when they are not text at all)."""
    raw = arguments if isinstance(arguments, str) else None
    try:
        parsed = json.loads(raw) if raw is not None else None
    except ValueError:
        parsed = None
    return ToolCall(
        id=id_ if isinstance(id_, str) else None,
        name=name if isinstance(name, str) else None,
        arguments=parsed,
        raw=raw,
    )
