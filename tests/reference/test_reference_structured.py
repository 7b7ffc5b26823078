"""The reference's structured output: JSON mode, json_schema, strict mode's schema subset."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from reference_helpers import Api
from structured_helpers import QUESTION, SCHEMA, content, json_schema

from chatconform.dialects.openai.requests import tool_chat_body
from chatconform.reference.structured import instance, strict_schema_problem
from chatconform.tool_probes import tool_probe


def test_json_mode_answers_a_json_object(api: Api) -> None:
    assert json.loads(content(api, response_format={"type": "json_object"})) == {"answer": 5}


@pytest.mark.parametrize("stream", [False, True])
def test_json_schema_answers_valid_json_carrying_the_answer(api: Api, stream: bool) -> None:
    if stream:
        text = "".join(
            c["choices"][0]["delta"].get("content") or ""
            for c in api.chunks(QUESTION, response_format=json_schema())
            if c["choices"]
        )
    else:
        text = content(api, response_format=json_schema())
    value = json.loads(text)
    jsonschema.validate(value, SCHEMA)
    assert value["answer"] == 5


RICH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "label": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "ratio": {"type": "number", "minimum": 10},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "minItems": 2},
        "kind": {"const": "sum"},
        "maybe": {"type": ["null", "boolean"]},
    },
    "required": ["label", "ratio", "tags", "kind", "maybe"],
    "additionalProperties": False,
    "$defs": {
        "tag": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
            "additionalProperties": False,
        }
    },
}


def test_an_instance_is_valid_against_refs_unions_bounds_and_consts() -> None:
    value = instance(RICH_SCHEMA, "5")
    jsonschema.validate(value, RICH_SCHEMA)
    assert value["ratio"] == 10 and len(value["tags"]) == 2


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda s: s.pop("additionalProperties"), "'additionalProperties' is required"),
        (lambda s: s["required"].remove("operands"), "Missing 'operands'"),
        (lambda s: s["properties"]["check"].pop("additionalProperties"), "('properties', 'check')"),
        (lambda s: s.update({"allOf": [{"required": ["answer"]}]}), "'allOf' is not permitted"),
        (lambda s: s.update({"type": "array"}), "must be a JSON Schema of 'type: \"object\"'"),
    ],
)
def test_strict_mode_refuses_what_it_does_not_support(change: Any, said: str, api: Api) -> None:
    schema = copy.deepcopy(SCHEMA)
    change(schema)
    assert said in (strict_schema_problem(schema) or "")
    response = api.chat(QUESTION, response_format=json_schema(schema))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "response_format"
    # Without strict, the same schema is accepted.
    assert api.chat(QUESTION, response_format=json_schema(schema, strict=False)).status_code == 200


def test_the_supported_subset_passes() -> None:
    assert strict_schema_problem(SCHEMA) is None
    assert strict_schema_problem(RICH_SCHEMA) is None


def test_a_strict_function_outside_the_subset_is_refused(api: Api) -> None:
    body = tool_chat_body(tool_probe("weather"), "reference-1", strict=True, max_tokens=150)
    assert api.post(body).status_code == 200
    body["tools"][0]["function"]["parameters"]["required"] = ["city"]
    response = api.post(body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "tools[0].function.parameters"
    assert "Invalid schema for function 'get_weather'" in response.json()["error"]["message"]
