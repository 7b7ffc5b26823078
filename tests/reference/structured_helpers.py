"""Structured-output requests against the reference app, and each structured fault's effect."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reference_helpers import Api

SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "structured" / "arithmetic.schema.json").read_text()
)
QUESTION = [{"role": "user", "content": "What is 2 + 3? Answer in JSON."}]


def json_schema(schema: dict[str, Any] | None = None, *, strict: bool = True) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "arithmetic",
            "schema": copy.deepcopy(SCHEMA if schema is None else schema),
            "strict": strict,
        },
    }


def content(api: Api, **params: Any) -> str:
    response = api.chat(QUESTION, **params)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def parsed(api: Api, **params: Any) -> Any:
    try:
        return json.loads(content(api, **params))
    except ValueError:
        return None


def open_schema_status(api: Api) -> int:
    """The status of a strict json_schema whose root allows additional properties."""
    schema = {k: v for k, v in SCHEMA.items() if k != "additionalProperties"}
    return api.chat(QUESTION, response_format=json_schema(schema)).status_code


WIRE_EFFECTS: dict[str, tuple[Callable[[Api], Any], Any, Any]] = {
    "response-format-ignored": (
        lambda api: (
            content(api, response_format={"type": "json_object"}),
            open_schema_status(api),
        ),
        ('{"answer": 5}', 400),
        ("5", 200),
    ),
    "json-schema-violated": (
        lambda api: sorted(parsed(api, response_format=json_schema())),
        ["answer", "check", "operands", "operation"],
        ["check", "operands", "operation"],
    ),
    "json-in-markdown-fence": (
        lambda api: content(api, response_format={"type": "json_object"}),
        '{"answer": 5}',
        '```json\n{"answer": 5}\n```',
    ),
}
