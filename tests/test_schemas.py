"""Tests for the OpenAI wire schemas under schemas/openai and the loader in chatconform.schemas."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from chatconform.schemas import SCHEMA_DIR, schema_errors, validator

DATA_DIR = Path(__file__).parent / "data" / "openai"
OPENAI_SCHEMAS = sorted((SCHEMA_DIR / "openai").glob("*.schema.json"))
TOP_LEVEL = [
    "chat_request",
    "chat_response",
    "chat_chunk",
    "error",
    "models_list",
    "model",
    "embeddings_request",
    "embeddings_response",
]
DELETE = object()


def sample(file_name: str) -> dict:
    return json.loads((DATA_DIR / file_name).read_text(encoding="utf-8"))


def patched(file_name: str, pointer: str, value: object) -> dict:
    """A sample with the value at a JSON pointer replaced (or removed, for DELETE)."""
    document = copy.deepcopy(sample(file_name))
    *parents, last = [int(p) if p.isdigit() else p for p in pointer.split("/")[1:]]
    target = document
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return document


def pointers(name: str, instance: object) -> set[str]:
    return {pointer for pointer, _ in schema_errors("openai", name, instance)}


# --- the schema files themselves ---------------------------------------------------------------


def test_all_expected_schema_files_exist() -> None:
    names = {path.name.removesuffix(".schema.json") for path in OPENAI_SCHEMAS}
    assert names >= {*TOP_LEVEL, "common"}


@pytest.mark.parametrize("path", OPENAI_SCHEMAS, ids=lambda p: p.name)
def test_schema_file_is_valid_draft_2020_12(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://chatconform.dev/schemas/openai/{path.name}"
    assert "openai" in schema["description"].lower()


@pytest.mark.parametrize(
    "path",
    [*OPENAI_SCHEMAS, *sorted(DATA_DIR.glob("*.json"))],
    ids=lambda p: p.name,
)
def test_json_files_are_pretty_printed(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_relative_refs_into_common_resolve() -> None:
    # A usage object missing a field can only be reported if the $ref into
    # common.schema.json was followed.
    chunk = patched("chunk_final_usage.json", "/usage/total_tokens", DELETE)
    assert schema_errors("openai", "chat_chunk", chunk) == [
        ("/usage/total_tokens", "'total_tokens' is a required property")
    ]


# --- loader ------------------------------------------------------------------------------------


def test_validator_is_cached_and_draft_2020_12() -> None:
    first = validator("openai", "chat_response")
    assert first is validator("openai", "chat_response")
    assert isinstance(first, Draft202012Validator)
    assert first.format_checker is None


def test_unknown_schema_name_raises() -> None:
    with pytest.raises(FileNotFoundError):
        validator("openai", "no_such_schema")


def test_errors_are_sorted_and_root_pointer_is_empty() -> None:
    errors = schema_errors("openai", "chat_response", {"object": "chat.completion", "choices": 1})
    assert errors == sorted(errors)
    assert errors[0] == ("/choices", "1 is not of type 'array'")
    assert schema_errors("openai", "chat_response", []) == [("", "[] is not of type 'object'")]


def test_a_missing_key_is_pointed_at_where_it_belongs() -> None:
    # One error per missing key, each at its own pointer, so a rule about one of them
    # (finish_reason absent) and the schema error about another do not share a place.
    errors = schema_errors("openai", "chat_response", {"object": "chat.completion", "choices": 1})
    assert errors[1:] == [
        ("/created", "'created' is a required property"),
        ("/id", "'id' is a required property"),
        ("/model", "'model' is a required property"),
    ]
    chunk = sample("chunk_content.json")
    del chunk["choices"][0]["index"], chunk["choices"][0]["finish_reason"]
    assert pointers("chat_chunk", chunk) == {"/choices/0/index", "/choices/0/finish_reason"}
    # A key missing from the root is pointed at below the root, not at "".
    assert pointers("models_list", {"object": "list"}) == {"/data"}


def test_any_of_errors_descend_to_the_specific_problem() -> None:
    chunk = patched("chunk_content.json", "/choices/0/finish_reason", "eos")
    [(pointer, message)] = schema_errors("openai", "chat_chunk", chunk)
    assert pointer == "/choices/0/finish_reason"
    assert message.startswith("'eos' is not one of ['stop', 'length'")

    chunk = patched("chunk_content.json", "/usage", 5)
    assert schema_errors("openai", "chat_chunk", chunk) == [
        ("/usage", "5 is not of type 'null' or 'object'")
    ]


def test_json_pointer_escapes_tilde_and_slash() -> None:
    request = sample("request_basic.json")
    request["metadata"] = {"a/b~c": 1}
    assert pointers("chat_request", request) == {"/metadata/a~1b~0c"}


# --- good samples ------------------------------------------------------------------------------

GOOD = [
    ("chat_response", "response_basic.json"),
    ("chat_response", "response_tool_calls.json"),
    ("chat_chunk", "chunk_first_role.json"),
    ("chat_chunk", "chunk_content.json"),
    ("chat_chunk", "chunk_final_usage.json"),
    ("chat_chunk", "chunk_tool_call_delta.json"),
    ("error", "error_envelope.json"),
    ("models_list", "models_list.json"),
    ("model", "model.json"),
    ("embeddings_response", "embeddings_response.json"),
    ("embeddings_request", "embeddings_request.json"),
    ("chat_request", "request_basic.json"),
    ("chat_request", "request_vision_tools.json"),
]


@pytest.mark.parametrize(("name", "file_name"), GOOD, ids=[f for _, f in GOOD])
def test_good_sample_validates(name: str, file_name: str) -> None:
    instance = sample(file_name)
    assert schema_errors("openai", name, instance) == []
    assert validator("openai", name).is_valid(instance)


def test_every_sample_file_is_used() -> None:
    assert {path.name for path in DATA_DIR.glob("*.json")} == {f for _, f in GOOD}


# Variations the spec allows: the schemas must accept them.
TOLERATED = [
    # Only the final include_usage chunk carries usage; all others send null or omit it.
    ("chat_chunk", patched("chunk_content.json", "/usage", None)),
    ("chat_chunk", patched("chunk_content.json", "/usage", DELETE)),
    ("chat_chunk", patched("chunk_content.json", "/choices/0/finish_reason", "length")),
    # A chunk choice's logprobs is optional; content and refusal are nullable.
    ("chat_chunk", patched("chunk_content.json", "/choices/0/logprobs", DELETE)),
    (
        "chat_chunk",
        patched("chunk_content.json", "/choices/0/logprobs", {"content": None, "refusal": None}),
    ),
    ("chat_chunk", patched("chunk_content.json", "/choices/0/delta/refusal", None)),
    ("chat_chunk", patched("chunk_content.json", "/service_tier", None)),
    # A continuation fragment of a streamed tool call carries only index and arguments.
    (
        "chat_chunk",
        patched(
            "chunk_tool_call_delta.json",
            "/choices/0/delta",
            {"tool_calls": [{"index": 0, "function": {"arguments": '{"city"'}}]},
        ),
    ),
    # Vendor extensions are fine.
    (
        "chat_chunk",
        patched("chunk_content.json", "/choices/0/delta/reasoning_content", "Thinking..."),
    ),
    ("chat_response", patched("response_basic.json", "/usage", DELETE)),
    ("chat_response", patched("response_basic.json", "/system_fingerprint", DELETE)),
    ("chat_response", patched("response_basic.json", "/service_tier", None)),
    ("chat_response", patched("response_basic.json", "/choices/0/message/content", None)),
    ("chat_response", patched("response_basic.json", "/choices/0/message/reasoning_content", "")),
    (
        "chat_response",
        patched("response_basic.json", "/usage/completion_tokens_details/audio_tokens", DELETE),
    ),
    ("error", patched("error_envelope.json", "/error/code", None)),
    ("error", patched("error_envelope.json", "/error/param", "model")),
    ("models_list", patched("models_list.json", "/data/0/shutdown_date", None)),
    ("chat_request", patched("request_basic.json", "/stop", None)),
    ("chat_request", patched("request_basic.json", "/stop", "END")),
    ("chat_request", patched("request_basic.json", "/temperature", None)),
    ("chat_request", patched("request_basic.json", "/reasoning_effort", "low")),
    ("chat_request", patched("request_basic.json", "/service_tier", "flex")),
    ("chat_request", patched("request_basic.json", "/x_vendor_option", {"anything": True})),
    (
        "chat_request",
        patched("request_vision_tools.json", "/messages/2/content", DELETE),
    ),
]


@pytest.mark.parametrize(("name", "instance"), TOLERATED)
def test_tolerated_variation_validates(name: str, instance: object) -> None:
    assert schema_errors("openai", name, instance) == []


# --- bad samples -------------------------------------------------------------------------------

BAD = [
    # responses
    (
        "chat_response",
        patched("response_basic.json", "/choices/0/finish_reason", "eos"),
        "/choices/0/finish_reason",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/choices/0/finish_reason", None),
        "/choices/0/finish_reason",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/object", "chat.completion.chunk"),
        "/object",
    ),
    ("chat_response", patched("response_basic.json", "/created", "1741570283"), "/created"),
    (
        "chat_response",
        patched("response_basic.json", "/choices/0/message/content", DELETE),
        "/choices/0/message/content",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/choices/0/message/role", "user"),
        "/choices/0/message/role",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/usage/total_tokens", -1),
        "/usage/total_tokens",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/usage/prompt_tokens", DELETE),
        "/usage/prompt_tokens",
    ),
    (
        "chat_response",
        patched(
            "response_tool_calls.json",
            "/choices/0/message/tool_calls/0/function/arguments",
            {"location": "Boston, MA"},
        ),
        "/choices/0/message/tool_calls/0/function/arguments",
    ),
    (
        "chat_response",
        patched("response_tool_calls.json", "/choices/0/message/tool_calls/0/id", DELETE),
        "/choices/0/message/tool_calls/0/id",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/service_tier", "on_demand"),
        "/service_tier",
    ),
    # responses: what clients tolerate, reported as should by the rules named in the schema
    (
        "chat_response",
        patched("response_basic.json", "/choices/0/logprobs", DELETE),
        "/choices/0/logprobs",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/choices/0/message/refusal", DELETE),
        "/choices/0/message/refusal",
    ),
    ("chat_response", patched("response_basic.json", "/usage", None), "/usage"),
    (
        "chat_response",
        patched("response_basic.json", "/system_fingerprint", None),
        "/system_fingerprint",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/choices/0/message/tool_calls", None),
        "/choices/0/message/tool_calls",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/choices/0/message/function_call", None),
        "/choices/0/message/function_call",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/choices/0/message/annotations", None),
        "/choices/0/message/annotations",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/usage/completion_tokens_details", None),
        "/usage/completion_tokens_details",
    ),
    (
        "chat_response",
        patched("response_basic.json", "/usage/completion_tokens_details/audio_tokens", None),
        "/usage/completion_tokens_details/audio_tokens",
    ),
    # chunks
    ("chat_chunk", patched("chunk_content.json", "/object", "chat.completion"), "/object"),
    (
        "chat_chunk",
        patched("chunk_content.json", "/choices/0/finish_reason", "eos"),
        "/choices/0/finish_reason",
    ),
    (
        "chat_chunk",
        patched("chunk_content.json", "/choices/0/delta", DELETE),
        "/choices/0/delta",
    ),
    (
        "chat_chunk",
        patched("chunk_content.json", "/choices/0/delta/role", "model"),
        "/choices/0/delta/role",
    ),
    (
        "chat_chunk",
        patched("chunk_tool_call_delta.json", "/choices/0/delta/tool_calls/0/index", DELETE),
        "/choices/0/delta/tool_calls/0/index",
    ),
    (
        "chat_chunk",
        patched("chunk_tool_call_delta.json", "/choices/0/delta/tool_calls/0/index", "0"),
        "/choices/0/delta/tool_calls/0/index",
    ),
    (
        "chat_chunk",
        patched("chunk_final_usage.json", "/usage/prompt_tokens", "9"),
        "/usage/prompt_tokens",
    ),
    ("chat_chunk", patched("chunk_final_usage.json", "/choices", None), "/choices"),
    (
        "chat_chunk",
        patched("chunk_content.json", "/choices/0/logprobs", {"content": None}),
        "/choices/0/logprobs/refusal",
    ),
    ("chat_chunk", patched("chunk_content.json", "/service_tier", "on_demand"), "/service_tier"),
    # chunks: what clients tolerate, reported as should by the rules named in the schema
    (
        "chat_chunk",
        patched("chunk_content.json", "/choices/0/finish_reason", DELETE),
        "/choices/0/finish_reason",
    ),
    (
        "chat_chunk",
        patched("chunk_content.json", "/choices/0/delta/role", None),
        "/choices/0/delta/role",
    ),
    (
        "chat_chunk",
        patched("chunk_content.json", "/choices/0/delta/tool_calls", None),
        "/choices/0/delta/tool_calls",
    ),
    (
        "chat_chunk",
        patched("chunk_content.json", "/choices/0/delta/function_call", None),
        "/choices/0/delta/function_call",
    ),
    (
        "chat_chunk",
        patched("chunk_content.json", "/system_fingerprint", None),
        "/system_fingerprint",
    ),
    # errors
    ("error", {"error": "bad key"}, "/error"),
    ("error", {"message": "no envelope", "type": "invalid_request_error"}, "/error"),
    ("error", patched("error_envelope.json", "/error/message", DELETE), "/error/message"),
    ("error", patched("error_envelope.json", "/error/code", 1.5), "/error/code"),
    ("error", patched("error_envelope.json", "/error/param", 0), "/error/param"),
    # errors: what clients tolerate, reported by openai.error.envelope-fields (should)
    ("error", patched("error_envelope.json", "/error/code", 404), "/error/code"),
    ("error", patched("error_envelope.json", "/error/param", DELETE), "/error/param"),
    ("error", patched("error_envelope.json", "/error/code", DELETE), "/error/code"),
    # models
    ("models_list", sample("models_list.json")["data"], ""),
    ("models_list", patched("models_list.json", "/object", "models"), "/object"),
    ("models_list", patched("models_list.json", "/data/0/id", DELETE), "/data/0/id"),
    (
        "models_list",
        patched("models_list.json", "/data/0/created", "2024-07-16"),
        "/data/0/created",
    ),
    # models: what clients tolerate, reported by openai.models.model-fields (should)
    ("models_list", patched("models_list.json", "/data/0/created", DELETE), "/data/0/created"),
    ("models_list", patched("models_list.json", "/data/1/owned_by", DELETE), "/data/1/owned_by"),
    # requests
    ("chat_request", patched("request_basic.json", "/messages", []), "/messages"),
    ("chat_request", patched("request_basic.json", "/model", DELETE), "/model"),
    ("chat_request", patched("request_basic.json", "/temperature", 3), "/temperature"),
    ("chat_request", patched("request_basic.json", "/top_p", 1.5), "/top_p"),
    ("chat_request", patched("request_basic.json", "/n", 0), "/n"),
    ("chat_request", patched("request_basic.json", "/presence_penalty", -2.5), "/presence_penalty"),
    ("chat_request", patched("request_basic.json", "/stream", "yes"), "/stream"),
    ("chat_request", patched("request_basic.json", "/stop", ["a", "b", "c", "d", "e"]), "/stop"),
    (
        "chat_request",
        patched("request_basic.json", "/reasoning_effort", "extreme"),
        "/reasoning_effort",
    ),
    ("chat_request", patched("request_basic.json", "/service_tier", "turbo"), "/service_tier"),
    (
        "chat_request",
        patched("request_basic.json", "/safety_identifier", "x" * 65),
        "/safety_identifier",
    ),
    ("chat_request", patched("request_basic.json", "/seed", 2**63), "/seed"),
    ("chat_request", patched("request_basic.json", "/functions", []), "/functions"),
    (
        "chat_request",
        patched("request_basic.json", "/messages/0/role", "robot"),
        "/messages/0/role",
    ),
    (
        "chat_request",
        patched("request_basic.json", "/messages/1/content", DELETE),
        "/messages/1/content",
    ),
    (
        "chat_request",
        patched("request_vision_tools.json", "/messages/3/tool_call_id", DELETE),
        "/messages/3/tool_call_id",
    ),
    (
        "chat_request",
        patched("request_vision_tools.json", "/messages/1/content/1/image_url/detail", "ultra"),
        "/messages/1/content/1/image_url/detail",
    ),
    (
        "chat_request",
        patched("request_vision_tools.json", "/messages/1/content/0", {"type": "video"}),
        "/messages/1/content/0/type",
    ),
    (
        "chat_request",
        patched("request_vision_tools.json", "/tool_choice", "sometimes"),
        "/tool_choice",
    ),
    (
        "chat_request",
        patched("request_vision_tools.json", "/tools/0/function/name", DELETE),
        "/tools/0/function/name",
    ),
    (
        "chat_request",
        patched("request_vision_tools.json", "/response_format/json_schema", DELETE),
        "/response_format/json_schema",
    ),
]


@pytest.mark.parametrize(
    ("name", "instance", "pointer"), BAD, ids=[f"{n}:{p or 'root'}" for n, _, p in BAD]
)
def test_bad_sample_fails_at_pointer(name: str, instance: object, pointer: str) -> None:
    errors = schema_errors("openai", name, instance)
    assert errors, "expected a validation error"
    assert {p for p, _ in errors} == {pointer}, errors
    assert not validator("openai", name).is_valid(instance)
