"""OpenAI Chat Completions structured output: JSON mode, json_schema (streamed too), strict subset."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.openai.checks import errors, structured
from chatconform.dialects.openai.checks.text import finish_reasons
from chatconform.dialects.openai.probe import OpenAIProbe
from chatconform.dialects.openai.requests import chat_body, tool_chat_body
from chatconform.exchange import clip
from chatconform.finding import Finding
from chatconform.paths import FIXTURES_DIR
from chatconform.prompts import Prompt
from chatconform.tool_probes import tool_probe

GUIDE = "https://platform.openai.com/docs/guides/structured-outputs"
API = "https://platform.openai.com/docs/api-reference/chat/create#chat-create-response_format"
# Room for the schema's object and nothing more.
TOKENS = 200
# JSON mode requires the word JSON in the conversation; the schema names the fields.
QUESTION = Prompt(
    "arithmetic_json",
    (
        {
            "role": "user",
            "content": "What is 2 + 3? Answer in JSON: the result, the operation and its operands.",
        },
    ),
    ("5",),
)
# A strict schema: nested object, array, enum, every property required, no extra ones.
SCHEMA: dict[str, Any] = json.loads(
    (FIXTURES_DIR / "structured" / "arithmetic.schema.json").read_text(encoding="utf-8")
)


def _optional_property(schema: dict[str, Any]) -> dict[str, Any]:
    """The object schema with its first property no longer required."""
    schema["required"] = schema["required"][1:]
    return schema


def _open_object(schema: dict[str, Any]) -> dict[str, Any]:
    """The object schema with a nested object that allows any other property."""
    schema["properties"]["detail"] = {
        "type": "object",
        "properties": {"note": {"type": "string"}},
        "required": ["note"],
    }
    schema["required"] = [*schema["required"], "detail"]
    return schema


# Schemas outside strict mode's subset (supported schemas: "all fields must be required",
# "additionalProperties: false must always be set in objects"), by what each lacks.
UNSUPPORTED: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "optional-property": ("a property left out of required", _optional_property),
    "open-object": ("a nested object without additionalProperties: false", _open_object),
}


def _json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": "arithmetic", "schema": schema, "strict": True},
    }


def _expect_json(
    openai: OpenAIProbe, case: CaseRecord, body: dict[str, Any], schema: dict | None
) -> None:
    """Structured output is a guarantee: every attempt is judged on its form; a model that
    cannot answer the trivial prompt makes the case inconclusive instead."""

    def attempt() -> list[Finding]:
        exchange = openai.chat(body)
        openai.expect_success(exchange)
        if exchange.streamed:
            openai.check_stream(exchange)
        refusal = structured.refusal_text(exchange)
        if refusal is not None:
            case.inconclusive(f"the model refused to answer (refusal: {clip(refusal, 120)!r})")
        if finish_reasons(exchange)[:1] == ["length"]:
            case.inconclusive(f"the JSON was cut by the cap ({TOKENS} tokens): not judged")
        findings = structured.json_not_fenced(exchange) + structured.content_is_json_object(
            exchange
        )
        if schema is not None:
            findings += structured.content_matches_schema(exchange, schema)
        return case.tie(findings, exchange)

    case.until_accepted(attempt, openai.calibration("structured_output"))


@case(
    "openai/structured_output/json-object",
    title="JSON mode gives a JSON object",
    requirement="With response_format json_object (and JSON asked for in the prompt) the content is a JSON object.",
    source=API,
    optional="response_format json_object",
)
def test_json_object(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = chat_body(
        QUESTION,
        openai.model("structured_output"),
        max_tokens=TOKENS,
        temperature=0,
        response_format={"type": "json_object"},
    )
    _expect_json(openai, case, body, None)


@case(
    "openai/structured_output/json-schema",
    title="A strict json_schema is followed",
    requirement="With a strict json_schema response_format the content (streamed: the concatenated deltas) is JSON valid against the schema.",
    source=GUIDE,
    optional="response_format json_schema",
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_json_schema(openai: OpenAIProbe, case: CaseRecord, stream: bool) -> None:
    body = chat_body(
        QUESTION,
        openai.model("structured_output"),
        max_tokens=TOKENS,
        temperature=0,
        response_format=_json_schema(copy.deepcopy(SCHEMA)),
        **({"stream": True} if stream else {}),
    )
    _expect_json(openai, case, body, SCHEMA)


def _expect_refused(
    openai: OpenAIProbe, case: CaseRecord, body: dict[str, Any], feature: str
) -> None:
    exchange = openai.chat(body)
    openai.check_error(exchange, (400,))
    if not errors.looks_like_error(exchange):
        case.add(structured.unsupported_schema_refused(exchange, feature), exchange)


@case(
    "openai/structured_output/strict-subset",
    title="A json_schema outside strict mode's subset is refused",
    requirement="A strict json_schema using what strict mode does not support is refused with 400, not accepted and silently not enforced.",
    source=f"{GUIDE}#supported-schemas",
)
@pytest.mark.parametrize("variant", sorted(UNSUPPORTED))
def test_strict_subset(openai: OpenAIProbe, case: CaseRecord, variant: str) -> None:
    feature, unsupported = UNSUPPORTED[variant]
    body = chat_body(
        QUESTION,
        openai.model("structured_output"),
        max_tokens=TOKENS,
        response_format=_json_schema(unsupported(copy.deepcopy(SCHEMA))),
    )
    _expect_refused(openai, case, body, feature)


@case(
    "openai/structured_output/strict-tool-subset",
    title="A strict function outside strict mode's subset is refused",
    requirement="A function with strict: true whose parameters use what strict mode does not support is refused with 400, not accepted.",
    source="https://platform.openai.com/docs/guides/function-calling#strict-mode",
)
@pytest.mark.parametrize("variant", sorted(UNSUPPORTED))
def test_strict_tool_subset(openai: OpenAIProbe, case: CaseRecord, variant: str) -> None:
    feature, unsupported = UNSUPPORTED[variant]
    body = tool_chat_body(
        tool_probe("weather"), openai.model("structured_output"), strict=True, max_tokens=TOKENS
    )
    function = body["tools"][0]["function"]
    function["parameters"] = unsupported(function["parameters"])
    _expect_refused(openai, case, body, feature)
