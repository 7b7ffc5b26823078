"""The reference provider's ASGI app: OpenAI's chat completions, Anthropic's messages, models."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from chatconform.reference import messages
from chatconform.reference.anthropic_http import error_response, speaks_anthropic
from chatconform.reference.completion import answer, completion_json
from chatconform.reference.embeddings import EMBEDDING_MODEL, embeddings_json
from chatconform.reference.errors import (
    ApiError,
    handle_api_error,
    handle_http_exception,
    handle_unexpected,
    server_error,
)
from chatconform.reference.faults import FaultSet
from chatconform.reference.gateway import gateway_refusal
from chatconform.reference.leaks import leaking_response, on_wire
from chatconform.reference.reasoning import reasoning_model
from chatconform.reference.streaming import frames, sse_body, stream_items
from chatconform.reference.structured import without_structured_output
from chatconform.reference.transport import TransportFaults, TransportState
from chatconform.reference.validation import check_model, parse_body, validate_chat_request
from chatconform.reference.vision import look_at_images

# A fixed date, so GET /models is byte-for-byte stable between runs.
MODEL_CREATED = 1735689600
OWNED_BY = "chatconform"
OTHER_MODEL = "other-model-1"
NGINX_PAGE = "<html><body><h1>Welcome to nginx!</h1></body></html>"
# What a server whose chat template lacks a role answers (developer-message-crash).
DEVELOPER_TRACEBACK = """Traceback (most recent call last):
  File "/app/server/chat_template.py", line 42, in render
    prefix = ROLE_PREFIXES[message["role"]]
KeyError: 'developer'
"""


@dataclass(frozen=True)
class Settings:
    api_key: str
    model: str
    faults: FaultSet
    pace_s: float
    # Set when the server shuts down, so streams that stall on purpose let go.
    closing: threading.Event
    # Signs the thinking blocks this server writes, so it knows them when they come back.
    thinking_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @property
    def served_models(self) -> tuple[str, ...]:
        """Every model id the provider serves: the model and its reasoning sibling."""
        return (self.model, reasoning_model(self.model))


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _authorise(request: Request, settings: Settings) -> None:
    if "auth-not-enforced" in settings.faults:
        return
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        key.strip().encode(), settings.api_key.encode()
    ):
        return
    status = 403 if "auth-status-403" in settings.faults else 401
    raise ApiError(status, "Incorrect API key provided.", code="invalid_api_key")


def model_object(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": MODEL_CREATED, "owned_by": OWNED_BY}


async def list_models(request: Request) -> Response:
    if speaks_anthropic(request):
        return await messages.list_models(request)
    settings = _settings(request)
    _authorise(request, settings)
    data = [_model_entry(model_id, settings.faults) for model_id in _listed_models(settings)]
    if "models-bare-array" in settings.faults:
        return JSONResponse(data)
    return JSONResponse({"object": "list", "data": data})


async def retrieve_model(request: Request) -> Response:
    if speaks_anthropic(request):
        return await messages.retrieve_model(request)
    settings = _settings(request)
    _authorise(request, settings)
    model_id = request.path_params["model_id"]
    if "model-retrieve-404" in settings.faults:
        raise HTTPException(404)
    if model_id not in _listed_models(settings):
        raise ApiError(
            404,
            f"The model `{model_id}` does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    return JSONResponse(_model_entry(model_id, settings.faults))


def _listed_models(settings: Settings) -> tuple[str, ...]:
    """The models GET /models lists, and GET /models/{model} knows: the chat models and
    the embedding model."""
    if "models-list-incomplete" in settings.faults:
        return (OTHER_MODEL,)
    return (*settings.served_models, EMBEDDING_MODEL)


def _model_entry(model_id: str, faults: FaultSet) -> dict[str, Any]:
    if "model-fields-missing" in faults:
        return {"id": model_id, "object": "model"}
    return model_object(model_id)


async def embeddings(request: Request) -> Response:
    settings = _settings(request)
    _authorise(request, settings)
    body = parse_body(await request.body(), settings.faults)
    return JSONResponse(embeddings_json(body, settings.faults))


async def chat_completions(request: Request) -> Response:
    settings = _settings(request)
    faults = settings.faults
    if (refused := gateway_refusal(await request.body(), faults)) is not None:
        return refused
    _authorise(request, settings)
    if "chat-route-404" in faults:
        raise HTTPException(404)
    if "chat-refused-400" in faults:
        raise ApiError(400, "The requested model is not available for this key.", param="model")
    body = parse_body(await request.body(), faults)
    if "response-format-ignored" in faults and isinstance(body, dict):
        body = without_structured_output(body)
    body = validate_chat_request(body, faults)
    if "developer-message-crash" in faults and _has_role(body, "developer"):
        return PlainTextResponse(DEVELOPER_TRACEBACK, status_code=500)
    check_model(body, settings.served_models, faults)
    served = body["model"] if body.get("model") in settings.served_models else settings.model
    if "reasoning_effort" in body and served == settings.model:
        raise ApiError(
            400,
            "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
            param="reasoning_effort",
            code="unsupported_parameter",
        )
    body = await look_at_images(body, faults)
    key = settings.api_key
    completion = answer(body, served, faults, api_key=key)
    if body.get("stream") is True and "stream-ignored" not in faults:
        options = body.get("stream_options") or {}
        items = stream_items(
            completion,
            include_usage=options.get("include_usage") is True,
            faults=faults,
            api_key=key,
        )
        events = [
            on_wire(e, key, faults) if isinstance(e, bytes) else e for e in frames(items, faults)
        ]
        return StreamingResponse(
            sse_body(events, pace_s=settings.pace_s, faults=faults, closing=settings.closing),
            media_type="text/event-stream",
        )
    if "html-instead-of-json" in faults:
        return HTMLResponse(NGINX_PAGE)
    return leaking_response(JSONResponse(completion_json(completion, faults)), key, faults)


def _has_role(body: dict[str, Any], role: str) -> bool:
    messages = body.get("messages")
    return isinstance(messages, list) and any(
        isinstance(m, dict) and m.get("role") == role for m in messages
    )


async def _api_error(request: Request, exc: Exception) -> Response:
    """An ApiError in the envelope of the dialect the request speaks."""
    if speaks_anthropic(request):
        assert isinstance(exc, ApiError)
        return error_response(request, exc, _settings(request).faults)
    return await handle_api_error(request, exc)


async def _http_exception(request: Request, exc: Exception) -> Response:
    if speaks_anthropic(request):
        status = getattr(exc, "status_code", 404)
        message = "Not Found" if status == 404 else f"{request.method} is not allowed here"
        return error_response(request, ApiError(status, message), _settings(request).faults)
    return await handle_http_exception(request, exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    if speaks_anthropic(request):
        return error_response(request, server_error(), _settings(request).faults)
    return await handle_unexpected(request, exc)


def create_app(
    *,
    api_key: str = "sk-reference",
    model: str = "reference-1",
    faults: Iterable[str] = frozenset(),
    pace_s: float = 0.02,
) -> Starlette:
    """The reference provider; ``faults`` are catalog names (ValueError for unknown ones)."""
    settings = Settings(
        api_key=api_key,
        model=model,
        faults=FaultSet(faults),
        pace_s=pace_s,
        closing=threading.Event(),
    )
    app = Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/messages", messages.create_message, methods=["POST"]),
            Route("/v1/messages/count_tokens", messages.count_tokens, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/v1/models/{model_id:path}", retrieve_model, methods=["GET"]),
        ],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_exception,
            Exception: _unexpected,
        },
    )
    app.state.settings = settings
    # Outermost: the wire faults bend what the app answers, whatever it answers.
    app.state.transport = TransportState()
    app.add_middleware(
        TransportFaults, faults=settings.faults, closing=settings.closing, state=app.state.transport
    )
    return app
