"""Checks of GET /models and GET /models/{model}."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.checks.completion import same_model
from chatconform.dialects.openai.checks.errors import error_object
from chatconform.exchange import Exchange, clip
from chatconform.schemas import missing_key_at, schema_errors

# Model fields the spec requires that model pickers do without; openai.models.model-fields
# reports their absence (a should) and the list-shape check leaves it to that rule.
_SOFT_FIELDS = ("created", "owned_by")
_SOFT_ABSENT = re.compile(rf"/data/\d+/({'|'.join(_SOFT_FIELDS)})")
_SOFT_TOP = re.compile(rf"/({'|'.join(_SOFT_FIELDS)})")


@check("openai.models.list-shape")
def models_list_shape(exchange: Exchange) -> Iterator[Violation]:
    """GET /models returns {"object": "list", "data": [...]} (models list reference)."""
    payload = exchange.json_or_none()
    if payload is None:
        yield Violation(
            expected('a JSON {"object": "list", "data": [...]}', "a body that is not JSON"),
            evidence=exchange.excerpt(),
        )
        return
    problems = [
        p
        for p in schema_errors("openai", "models_list", payload)
        if not missing_key_at(*p, _SOFT_ABSENT)
    ]
    for pointer, message in problems[:5]:
        yield Violation(
            expected('{"object": "list", "data": [model objects]}', message),
            location=pointer,
            evidence=exchange.excerpt(),
        )


@check("openai.models.configured-listed")
def configured_models_listed(exchange: Exchange, models: Sequence[str]) -> Iterator[Violation]:
    """GET /models lists the models the key can use (models list reference)."""
    listed = listed_ids(exchange)
    if listed is None:
        return
    # One finding for all: findings deduplicate on (rule, location), and all point at /data.
    missing = [m for m in models if not any(same_model(m, other) for other in listed)]
    if missing:
        shown = ", ".join(listed[:10]) + (
            f" and {len(listed) - 10} more" if len(listed) > 10 else ""
        )
        yield Violation(
            expected(
                f"{', '.join(map(repr, missing))} among the listed models", shown or "no models"
            ),
            location="/data",
            evidence=exchange.excerpt(),
        )


@check("openai.models.model-fields")
def model_fields_present(exchange: Exchange) -> Iterator[Violation]:
    """Each model object has created and owned_by (openai-openapi Model)."""
    entries = _model_objects(exchange.json_or_none())
    if entries is None:
        return  # list-shape (or retrieve) says so
    for field in _SOFT_FIELDS:
        lacking = [(at, m.get("id")) for at, m in entries if field not in m]
        if lacking:
            first, model = lacking[0]
            others = f" and {len(lacking) - 1} more" if len(lacking) > 1 else ""
            # One finding per field, however many models lack it.
            yield Violation(
                expected(
                    f"{field} on every model object",
                    f"no {field} on {model!r}{others} (of {len(entries)} models)",
                ),
                location=f"{first}/{field}",
                evidence=exchange.excerpt(),
            )


def _model_objects(payload: Any) -> list[tuple[str, dict[str, Any]]] | None:
    """(pointer, model) of each model object of a GET /models list, or of the one object
    GET /models/{model} returns."""
    if isinstance(payload, dict) and payload.get("object") == "model" and "data" not in payload:
        return [("", payload)]
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return None
    return [(f"/data/{k}", m) for k, m in enumerate(data) if isinstance(m, dict)]


def listed_ids(exchange: Exchange) -> list[str] | None:
    """The model ids a GET /models answer lists (a bare array of models read too), or
    None when it is no list at all."""
    payload = exchange.json_or_none()
    data = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(data, list):
        return None
    return [m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]


@check("openai.models.retrieve")
def listed_model_retrieved(exchange: Exchange, model: str) -> Iterator[Violation]:
    """GET /models/{model} returns the object of a listed model (models retrieve reference)."""
    status = exchange.status or 0
    if status == 404:
        error = error_object(exchange)
        said = f": {clip(str(error.get('message')), 120)}" if error else ""
        yield Violation(
            expected(f"the model object of {model!r}, which GET /models lists", f"HTTP 404{said}"),
            evidence=exchange.excerpt(),
        )
        return
    if not 200 <= status < 300:
        return  # any other refusal is judged as one
    payload = exchange.json_or_none()
    if not isinstance(payload, dict):
        yield Violation(
            expected(f'{{"object": "model", "id": {model!r}, ...}}', "not a JSON object"),
            evidence=exchange.excerpt(),
        )
        return
    problems = [
        p for p in schema_errors("openai", "model", payload) if not missing_key_at(*p, _SOFT_TOP)
    ]
    for pointer, message in problems[:3]:
        yield Violation(
            expected('{"object": "model", "id", "created", "owned_by"}', message),
            location=pointer,
            evidence=exchange.excerpt(),
        )
    served = payload.get("id")
    if not problems and not same_model(model, served):
        yield Violation(
            expected(f"id {model!r}", f"id {served!r}"),
            location="/id",
            evidence=exchange.excerpt(),
        )
