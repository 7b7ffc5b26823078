"""Structured output: the reference model's answer as JSON, and strict mode's schema subset.

With ``response_format`` json_object the answer becomes a JSON object; with json_schema
it becomes an instance of the given schema, built from the schema alone (every property,
the enum value the answer names, numbers from the answer), so it validates whatever the
schema is. Strict mode (json_schema or a function with ``strict: true``) accepts only
the subset of JSON Schema the official API supports, and refuses the rest with a 400.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

from chatconform.reference.faults import FaultSet

# Composition keywords strict mode does not support (structured outputs guide,
# "Supported schemas": some type-specific keywords are not yet supported).
UNSUPPORTED_KEYWORDS = (
    "allOf",
    "not",
    "dependentRequired",
    "dependentSchemas",
    "if",
    "then",
    "else",
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_FENCE = "```json\n{}\n```"


def _nodes(schema: Any, context: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], dict]]:
    """Every subschema with its context (the path of keys to it, as the API names it)."""
    if not isinstance(schema, dict):
        return
    yield context, schema
    for key in ("properties", "$defs", "definitions"):
        children = schema.get(key)
        if isinstance(children, dict):
            for name, child in children.items():
                yield from _nodes(child, (*context, key, name))
    if isinstance(schema.get("items"), dict):
        yield from _nodes(schema["items"], (*context, "items"))
    options = schema.get("anyOf")
    for position, child in enumerate(options if isinstance(options, list) else []):
        yield from _nodes(child, (*context, "anyOf", str(position)))


def strict_schema_problem(schema: Any) -> str | None:
    """What strict mode refuses in ``schema``, in the official API's words, or None."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return "In context=(), schema must be a JSON Schema of 'type: \"object\"'."
    for context, node in _nodes(schema, ()):
        for keyword in UNSUPPORTED_KEYWORDS:
            if keyword in node:
                return f"In context={context!r}, '{keyword}' is not permitted."
        if node.get("type") != "object" and "properties" not in node:
            continue
        if node.get("additionalProperties") is not False:
            return (
                f"In context={context!r}, 'additionalProperties' is required to be supplied "
                "and to be false."
            )
        properties = node.get("properties") if isinstance(node.get("properties"), dict) else {}
        required = node.get("required") if isinstance(node.get("required"), list) else []
        missing = [name for name in properties if name not in required]
        if missing:
            return (
                f"In context={context!r}, 'required' is required to be supplied and to be an "
                f"array including every key in properties. Missing '{missing[0]}'."
            )
    return None


def strict_request_problem(body: dict[str, Any]) -> tuple[str, str] | None:
    """(message, param) of the 400 for a strict schema outside the supported subset."""
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        if spec.get("strict") is True:
            problem = strict_schema_problem(spec.get("schema"))
            if problem:
                name = spec.get("name")
                return f"Invalid schema for response_format '{name}': {problem}", "response_format"
    tools = body.get("tools")
    for position, tool in enumerate(tools if isinstance(tools, list) else []):
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and function.get("strict") is True:
            problem = strict_schema_problem(function.get("parameters"))
            if problem:
                return (
                    f"Invalid schema for function '{function.get('name')}': {problem}",
                    f"tools[{position}].function.parameters",
                )
    return None


def without_structured_output(body: dict[str, Any]) -> dict[str, Any]:
    """The request as a relay that drops ``response_format`` and ``strict`` forwards it."""
    stripped = {key: value for key, value in body.items() if key != "response_format"}
    if isinstance(stripped.get("tools"), list):
        stripped["tools"] = copy.deepcopy(stripped["tools"])
        for tool in stripped["tools"]:
            if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
                tool["function"].pop("strict", None)
    return stripped


def _scalar(answer: str) -> Any:
    """The answer as a JSON value: a number when it is one, else the text."""
    try:
        number = float(answer)
    except ValueError:
        return answer
    return int(number) if number.is_integer() else number


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def instance(schema: Any, answer: str, root: dict[str, Any] | None = None) -> Any:
    """A value valid against ``schema`` that carries the answer where the schema has room:
    the enum value it names, its number, its text."""
    if not isinstance(schema, dict):
        return None
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        named = [v for v in schema["enum"] if str(v).lower() in answer.lower()]
        return (named or schema["enum"])[0]
    if isinstance(schema.get("anyOf"), list) and schema["anyOf"]:
        return instance(schema["anyOf"][0], answer, root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        return {name: instance(sub, answer, root) for name, sub in properties.items()}
    if kind == "array":
        count = schema.get("minItems") or 1
        if isinstance(schema.get("maxItems"), int):
            count = min(count, schema["maxItems"])
        return [instance(schema.get("items"), answer, root) for _ in range(count)]
    if kind in ("integer", "number"):
        numbers = [float(n) for n in _NUMBER.findall(answer)]
        if kind == "integer":
            numbers = [n for n in numbers if n.is_integer()]
        value = numbers[0] if numbers else 0
        for bound, keep in (("minimum", max), ("maximum", min)):
            if isinstance(schema.get(bound), int | float):
                value = keep(value, schema[bound])
        return int(value) if kind == "integer" else value
    if kind == "string":
        return answer
    if kind == "boolean":
        return True
    return None


def _violated(value: Any) -> Any:
    """The instance made invalid, still JSON: its first property dropped."""
    if isinstance(value, dict) and value:
        return {k: v for k, v in list(value.items())[1:]}
    return value


def structured_text(body: dict[str, Any], answer: str, faults: FaultSet) -> str | None:
    """The content the request's ``response_format`` asks for, or None for plain text."""
    response_format = body.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_object":
        value: Any = {"answer": _scalar(answer)}
    elif kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        value = instance(spec.get("schema") or {"type": "object"}, answer)
        if "json-schema-violated" in faults:
            value = _violated(value)
    else:
        return None
    text = json.dumps(value, ensure_ascii=False)
    return _FENCE.format(text) if "json-in-markdown-fence" in faults else text
