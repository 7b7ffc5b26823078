"""Anthropic's Messages API on the reference provider: /v1/messages, count_tokens, the models list.

Each request is checked (key, anthropic-version, body, model) in that order,
passed by the gateway (messages_gateway.py), read into the shape the built-in
model takes (messages_input.py, with what relays lose: messages_relay.py),
answered (messages_answer.py) and rendered as a message object or an event
stream (messages_stream.py). Errors are raised as ApiError; the app renders
them in Anthropic's envelope (anthropic_http.py).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from chatconform.reference.anthropic_http import (
    authorise,
    require_version,
    with_request_id,
)
from chatconform.reference.completion import Choice, Completion, completion_json
from chatconform.reference.errors import ApiError, server_error
from chatconform.reference.faults import FaultSet
from chatconform.reference.messages_answer import Reply, answer
from chatconform.reference.messages_gateway import gateway_check, lenient
from chatconform.reference.messages_input import arguments, chat_body, input_tokens
from chatconform.reference.messages_request import parse_json, validate_message_request
from chatconform.reference.messages_stream import frames, message_events
from chatconform.reference.streaming import sse_body
from chatconform.reference.thinking import verifies
from chatconform.reference.tools import FunctionCall

if TYPE_CHECKING:
    from chatconform.reference.app import Settings

# 2025-01-01, as the chat side's MODEL_CREATED: the list is stable between runs.
MODEL_CREATED_AT = "2025-01-01T00:00:00Z"
DISPLAY_NAME = "chatconform reference model"
# What anthropic-models-list-incomplete lists instead of the served model.
OTHER_MODEL = "other-model-1"
# How the chat side names each stop reason (anthropic-openai-response-shape).
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}


def _checked(request: Request) -> Settings:
    """The app's settings, once the key and the anthropic-version header are in order."""
    settings = request.app.state.settings
    authorise(request, settings.api_key, settings.faults)
    require_version(request)
    return settings


def _check_model(requested: str, served: str, faults: FaultSet) -> None:
    """404 for a model not served (400 under anthropic-unknown-model-400; any model is
    served under anthropic-unknown-model-served)."""
    if requested == served or "anthropic-unknown-model-served" in faults:
        return
    status = 400 if "anthropic-unknown-model-400" in faults else 404
    raise ApiError(status, f"model: {requested}")


async def _read(request: Request, settings: Settings, *, counting: bool) -> dict[str, Any]:
    """The validated request body; thinking blocks sent back must carry our signature."""
    faults = settings.faults
    unsigned_ok = "anthropic-thinking-signature-empty" in faults

    def verify(thinking: str, signature: str) -> bool:
        if unsigned_ok and not signature:
            return True
        return verifies(settings.thinking_key, thinking, signature)

    try:
        raw = lenient(parse_json(await request.body()), faults, counting=counting)
        body = validate_message_request(
            raw,
            verify,
            counting=counting,
            # A model that never thinks cannot be asked for its thinking back.
            thinking_first="anthropic-thinking-dropped" not in faults,
        )
    except ApiError:
        if "anthropic-malformed-500" in faults:
            raise server_error() from None
        raise
    _check_model(body["model"], settings.model, faults)
    gateway_check(body, faults)
    return body


def message_json(reply: Reply, faults: FaultSet) -> dict[str, Any]:
    """The message object, as anthropic-sdk-python's Message type reads it (without type and
    role, or usage, under the faults that leave them out)."""
    message = {
        "id": reply.id,
        "type": "message",
        "role": "assistant",
        "content": list(reply.content),
        "model": reply.model,
        "stop_reason": reply.stop_reason,
        "stop_sequence": reply.stop_sequence,
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    if "anthropic-message-fields-missing" in faults:
        del message["type"], message["role"]
    if "anthropic-usage-missing" in faults:
        del message["usage"]
    return message


def chat_completion_json(reply: Reply) -> dict[str, Any]:
    """The answer as a chat.completion object (anthropic-openai-response-shape)."""
    text = "".join(block["text"] for block in reply.content if block["type"] == "text")
    calls = tuple(
        FunctionCall(block["id"], block["name"], arguments(block["input"]))
        for block in reply.content
        if block["type"] == "tool_use"
    )
    choice = Choice(0, text, FINISH_REASONS.get(reply.stop_reason, "stop"), calls)
    completion = Completion(
        id="chatcmpl-" + reply.id.removeprefix("msg_"),
        created=int(time.time()),
        model=reply.model,
        choices=(choice,),
        prompt_tokens=reply.input_tokens,
    )
    return completion_json(completion, FaultSet())


async def _buffered(events: list[bytes], pace_s: float) -> Response:
    """The stream as a buffering proxy passes it on: held until the upstream has sent it all
    (as paced as ever), then in one piece."""
    await asyncio.sleep(pace_s * max(len(events) - 1, 0))
    return Response(b"".join(events), media_type="text/event-stream")


async def create_message(request: Request) -> Response:
    settings = _checked(request)
    faults = settings.faults
    body = await _read(request, settings, counting=False)
    chat = await chat_body(body, faults)
    reply = answer(body, chat, thinking_key=settings.thinking_key, faults=faults)
    if body.get("stream") is True and "anthropic-stream-ignored" not in faults:
        events = frames(message_events(reply, faults), faults)
        if "anthropic-stream-buffered" in faults:
            return with_request_id(await _buffered(events, settings.pace_s))
        stream = sse_body(
            events, pace_s=settings.pace_s, faults=FaultSet(), closing=settings.closing
        )
        return with_request_id(StreamingResponse(stream, media_type="text/event-stream"))
    if "anthropic-html-body" in faults:
        # app.py imports this module: its nginx page is looked up when needed.
        from chatconform.reference.app import NGINX_PAGE

        return HTMLResponse(NGINX_PAGE)
    if "anthropic-openai-response-shape" in faults:
        return with_request_id(JSONResponse(chat_completion_json(reply)))
    return with_request_id(JSONResponse(message_json(reply, faults)))


async def count_tokens(request: Request) -> Response:
    settings = _checked(request)
    body = await _read(request, settings, counting=True)
    chat = await chat_body(body, settings.faults)
    return with_request_id(JSONResponse({"input_tokens": input_tokens(chat)}))


def model_info(model_id: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model_id,
        "display_name": DISPLAY_NAME,
        "created_at": MODEL_CREATED_AT,
    }


def _models_offered(request: Request) -> Settings:
    """The settings, unless the models endpoints are not there (anthropic-models-404): then
    404 before any key is looked at, as for any route the gateway does not have."""
    settings = request.app.state.settings
    if "anthropic-models-404" in settings.faults:
        raise ApiError(404, "Not Found")
    return _checked(request)


async def list_models(request: Request) -> Response:
    """GET /v1/models in Anthropic's shape: one page, paged by before_id/after_id."""
    settings = _models_offered(request)
    faults = settings.faults
    if "anthropic-models-openai-shape" in faults:
        # app.py imports this module: its OpenAI model object is looked up when needed.
        from chatconform.reference.app import model_object

        openai = {"object": "list", "data": [model_object(settings.model)]}
        return with_request_id(JSONResponse(openai))
    params = request.query_params
    limit = params.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        raise ApiError(400, "limit: Input should be an integer between 1 and 1000")
    served = OTHER_MODEL if "anthropic-models-list-incomplete" in faults else settings.model
    listed = [] if served in (params.get("after_id"), params.get("before_id")) else [served]
    page = {
        "data": [model_info(model_id) for model_id in listed],
        "has_more": False,
        "first_id": listed[0] if listed else None,
        "last_id": listed[-1] if listed else None,
    }
    return with_request_id(JSONResponse(page))


async def retrieve_model(request: Request) -> Response:
    settings = _models_offered(request)
    model_id = request.path_params["model_id"]
    _check_model(model_id, settings.model, settings.faults)
    return with_request_id(JSONResponse(model_info(model_id)))
