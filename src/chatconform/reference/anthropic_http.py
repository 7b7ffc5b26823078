"""Anthropic's HTTP conventions: which requests speak it, its headers, keys and error envelope.

A request speaks Anthropic when it is for /v1/messages (and below), or for
/v1/models with an ``anthropic-version`` header. Its answers carry a
``request-id`` header, its keys come as ``x-api-key`` (or a Bearer token, as
Claude Code's ANTHROPIC_AUTH_TOKEN sends them) and its errors are
``{"type": "error", "error": {"type", "message"}}`` with the type named for the
status.
"""

from __future__ import annotations

import hmac
import json
import secrets
import string

from starlette.requests import Request
from starlette.responses import Response

from chatconform.reference.errors import ApiError, envelope
from chatconform.reference.faults import FaultSet

MESSAGES_PATH = "/v1/messages"
MODELS_PATH = "/v1/models"
VERSION_HEADER = "anthropic-version"
REQUEST_ID_HEADER = "request-id"
# https://docs.anthropic.com/en/api/errors: one error type per HTTP status.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_ID_ALPHABET = string.ascii_letters + string.digits


def new_request_id() -> str:
    return "req_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def is_messages_path(path: str) -> bool:
    return path == MESSAGES_PATH or path.startswith(MESSAGES_PATH + "/")


def speaks_anthropic(request: Request) -> bool:
    """Whether a request is made in the Anthropic dialect (and is answered in it)."""
    path = request.url.path
    if is_messages_path(path):
        return True
    listing = path == MODELS_PATH or path.startswith(MODELS_PATH + "/")
    return listing and VERSION_HEADER in request.headers


def with_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = new_request_id()
    return response


def authorise(request: Request, api_key: str, faults: FaultSet) -> None:
    """Accept the key from ``x-api-key`` or ``Authorization: Bearer`` (only the latter under
    anthropic-bearer-only), else 401 authentication_error; any key, or none, under
    anthropic-auth-not-enforced."""
    if "anthropic-auth-not-enforced" in faults:
        return
    presented = []
    if "anthropic-bearer-only" not in faults:
        presented.append(request.headers.get("x-api-key", ""))
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        presented.append(token.strip())
    expected = api_key.encode()
    if any(hmac.compare_digest(key.encode(), expected) for key in presented if key):
        return
    raise ApiError(401, "invalid x-api-key", type="authentication_error")


def require_version(request: Request) -> None:
    if not request.headers.get(VERSION_HEADER):
        raise ApiError(400, f"{VERSION_HEADER}: header is required")


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def error_response(request: Request, error: ApiError, faults: FaultSet) -> Response:
    """The error in Anthropic's envelope; on /v1/messages* under anthropic-openai-error-envelope
    in OpenAI's (with the type Anthropic would give it). The error faults bend its type,
    its status and its Content-Type."""
    kind = error_type(error.status)
    if "anthropic-error-type-wrong" in faults:
        kind = "invalid_request_error"
    body: dict = {"type": "error", "error": {"type": kind, "message": error.message}}
    if is_messages_path(request.url.path) and "anthropic-openai-error-envelope" in faults:
        openai = ApiError(error.status, error.message, type=kind, param=error.param)
        body = envelope(openai, FaultSet())
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    status = 200 if "anthropic-error-http200" in faults else error.status
    media_type = "text/plain" if "anthropic-error-text-plain" in faults else "application/json"
    return with_request_id(Response(text, status_code=status, media_type=media_type))
