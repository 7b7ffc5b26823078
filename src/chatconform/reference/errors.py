"""The OpenAI error envelope, and the faults that bend it."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from chatconform.reference.faults import FaultSet


class ApiError(Exception):
    """An error the API reports to the client as an error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code


def envelope(error: ApiError, faults: FaultSet) -> dict[str, Any]:
    """The JSON body of an error: ``{"error": {message, type, param, code}}`` when faithful."""
    fields: dict[str, Any] = {"message": error.message, "type": error.type}
    if "error-fields-missing" not in faults:
        fields["param"] = error.param
        fields["code"] = error.status if "error-code-integer" in faults else error.code
    if "flat-error-envelope" in faults:
        # Flat bodies seen in the wild carry message, type and code, never param.
        fields.pop("param", None)
        return fields
    return {"error": fields}


def error_response(error: ApiError, faults: FaultSet) -> Response:
    status = 200 if "http200-error-body" in faults else error.status
    media_type = "text/plain" if "error-content-type-text" in faults else "application/json"
    body = json.dumps(envelope(error, faults), ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type=media_type)


def server_error() -> ApiError:
    return ApiError(500, "Internal server error", type="server_error")


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, request.app.state.settings.faults)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Unknown routes and wrong methods, in the envelope as OpenAI sends them."""
    status = getattr(exc, "status_code", 404)
    message = f"Invalid URL ({request.method} {request.url.path})"
    if status == 405:
        message = f"Method not allowed ({request.method} {request.url.path})"
    return error_response(ApiError(status, message), request.app.state.settings.faults)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    return error_response(server_error(), request.app.state.settings.faults)
