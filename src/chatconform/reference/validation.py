"""Request checks in the official order: JSON body, then schema, then the model id."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from chatconform.reference.errors import ApiError, server_error
from chatconform.reference.faults import FaultSet
from chatconform.reference.structured import strict_request_problem
from chatconform.reference.tools import tool_turns_problem
from chatconform.schemas import schema_errors

_REQUIRED = re.compile(r"^'([^']+)' is a required property")
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _bad_request(message: str, param: str | None, faults: FaultSet) -> ApiError:
    if "server-error-on-bad-request" in faults:
        return server_error()
    return ApiError(400, message, param=param)


def parse_body(raw: bytes, faults: FaultSet) -> Any:
    """The request body as JSON, or a 400 (still 400 under lenient-validation)."""
    try:
        return json.loads(raw)
    except ValueError:
        # UnicodeDecodeError is a ValueError too: undecodable bytes are not JSON either.
        raise _bad_request(
            "We could not parse the JSON body of your request. The API expects a JSON payload.",
            None,
            faults,
        ) from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _JSON_TYPES.get(type(value), "a value")


def _messages_problem(body: dict[str, Any]) -> str | None:
    """OpenAI's own wording for the three ways `messages` is most often wrong."""
    if "messages" not in body:
        return "Missing required parameter: 'messages'."
    messages = body["messages"]
    if not isinstance(messages, list):
        got = _json_type(messages)
        return f"Invalid type for 'messages': expected an array, but got {got} instead."
    if not messages:
        return (
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead."
        )
    return None


def _param(pointer: str, message: str) -> str | None:
    """The top-level request field a schema error is about."""
    if pointer:
        return pointer.split("/")[1].replace("~1", "/").replace("~0", "~")
    required = _REQUIRED.match(message)
    return required.group(1) if required else None


def validate_chat_request(body: Any, faults: FaultSet) -> dict[str, Any]:
    """The body if it is a valid chat request, else the ApiError naming the first problem."""
    if not isinstance(body, dict):
        raise _bad_request(
            f"Invalid request body: expected a JSON object, but got {_json_type(body)}.",
            None,
            faults,
        )
    lenient = "lenient-validation" in faults
    if not lenient and (problem := _messages_problem(body)):
        raise _bad_request(problem, "messages", faults)
    for pointer, message in schema_errors("openai", "chat_request", body):
        param = _param(pointer, message)
        if lenient and param == "messages":
            continue
        where = f" at '{pointer}'" if pointer else ""
        raise _bad_request(f"Invalid request{where}: {message}", param, faults)
    if lenient and not isinstance(body.get("messages"), list):
        body = {**body, "messages": []}
    if not lenient and (tool_problem := tool_turns_problem(body)):
        raise _bad_request(*tool_problem, faults)
    if strict_problem := strict_request_problem(body):
        raise _bad_request(*strict_problem, faults)
    return body


def check_model(body: dict[str, Any], served_models: Sequence[str], faults: FaultSet) -> None:
    requested = body.get("model")
    if requested in served_models or "unknown-model-fallback" in faults:
        return
    raise ApiError(
        404,
        f"The model `{requested}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
