"""Tests for the Anthropic Messages API wire schemas under schemas/anthropic."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from chatconform.schemas import SCHEMA_DIR, schema_errors, validator

DIALECT = "anthropic"
DATA_DIR = Path(__file__).parent / "data" / "anthropic"
SCHEMAS = sorted((SCHEMA_DIR / DIALECT).glob("*.schema.json"))
TOP_LEVEL = [
    "messages_request",
    "message",
    "stream_event",
    "error",
    "models_list",
    "count_tokens",
]
KNOWN_EVENTS = {
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
}
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


def errors(name: str, instance: object) -> list[tuple[str, str]]:
    return schema_errors(DIALECT, name, instance)


def pointers(name: str, instance: object) -> set[str]:
    return {pointer for pointer, _ in errors(name, instance)}


# --- the schema files themselves ---------------------------------------------------------------


def test_all_expected_schema_files_exist() -> None:
    names = {path.name.removesuffix(".schema.json") for path in SCHEMAS}
    assert names == {*TOP_LEVEL, "common"}


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_file_is_valid_draft_2020_12(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://chatconform.dev/schemas/anthropic/{path.name}"
    assert "anthropic" in schema["description"].lower()


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_validator_loads_with_refs_resolved(name: str) -> None:
    # Building the validator checks the schema; validating an empty object walks the $refs.
    assert isinstance(validator(DIALECT, name), Draft202012Validator)
    assert errors(name, {}) != []


@pytest.mark.parametrize(
    "path",
    [*SCHEMAS, *sorted(DATA_DIR.glob("*.json"))],
    ids=lambda p: p.name,
)
def test_json_files_are_pretty_printed(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_each_known_event_has_its_own_def_selected_by_type() -> None:
    schema = json.loads((SCHEMA_DIR / DIALECT / "stream_event.schema.json").read_text())
    selected = {
        branch["if"]["properties"]["type"]["const"]: branch["then"]["$ref"]
        for branch in schema["allOf"]
    }
    assert selected == {name: f"#/$defs/{name}" for name in KNOWN_EVENTS}
    assert set(schema["$defs"]) >= KNOWN_EVENTS


@pytest.mark.parametrize("event", sorted(KNOWN_EVENTS))
def test_an_event_validates_against_its_own_def(event: str) -> None:
    by_def = validator(DIALECT, "stream_event").evolve(
        schema={"$ref": f"stream_event.schema.json#/$defs/{event}"}
    )
    good = next(instance for name, instance in _good_events() if instance["type"] == event)
    assert list(by_def.iter_errors(good)) == []
    assert not by_def.is_valid({**good, "type": "something_else"})


# --- good samples ------------------------------------------------------------------------------

GOOD = [
    ("message", "message_basic.json"),
    ("message", "message_stop_sequence.json"),
    ("message", "message_tool_use.json"),
    ("message", "message_thinking.json"),
    ("message", "message_citations.json"),
    ("message", "message_server_tools.json"),
    ("message", "message_usage_prose.json"),
    ("stream_event", "event_message_start.json"),
    ("stream_event", "event_content_block_start_text.json"),
    ("stream_event", "event_content_block_start_tool_use.json"),
    ("stream_event", "event_content_block_start_thinking.json"),
    ("stream_event", "event_content_block_delta_text.json"),
    ("stream_event", "event_content_block_delta_input_json.json"),
    ("stream_event", "event_content_block_delta_thinking.json"),
    ("stream_event", "event_content_block_delta_signature.json"),
    ("stream_event", "event_content_block_delta_citations.json"),
    ("stream_event", "event_content_block_stop.json"),
    ("stream_event", "event_message_delta.json"),
    ("stream_event", "event_message_delta_cumulative_usage.json"),
    ("stream_event", "event_message_stop.json"),
    ("stream_event", "event_ping.json"),
    ("stream_event", "event_error.json"),
    ("stream_event", "event_unknown_type.json"),
    ("error", "error_authentication.json"),
    ("error", "error_not_found.json"),
    ("models_list", "models_list.json"),
    ("count_tokens", "count_tokens.json"),
    ("messages_request", "request_basic.json"),
    ("messages_request", "request_tools_images.json"),
    ("messages_request", "request_thinking.json"),
    ("messages_request", "request_documents.json"),
]

# Wire samples of the wrong dialect: each must fail, at these pointers.
NOT_VALID = [
    (
        "message",
        "message_openai_shaped.json",
        {
            "/type",
            "/role",
            "/content",
            "/stop_reason",
            "/stop_sequence",
            "/usage/input_tokens",
            "/usage/output_tokens",
        },
    ),
    ("error", "error_openai_envelope.json", {"/type"}),
]


def _good_events() -> list[tuple[str, dict]]:
    return [(f, sample(f)) for name, f in GOOD if name == "stream_event"]


@pytest.mark.parametrize(("name", "file_name"), GOOD, ids=[f for _, f in GOOD])
def test_good_sample_validates(name: str, file_name: str) -> None:
    instance = sample(file_name)
    assert errors(name, instance) == []
    assert validator(DIALECT, name).is_valid(instance)


@pytest.mark.parametrize(
    ("name", "file_name", "expected"), NOT_VALID, ids=[f for _, f, _ in NOT_VALID]
)
def test_other_dialect_sample_fails(name: str, file_name: str, expected: set[str]) -> None:
    assert pointers(name, sample(file_name)) == expected


def test_every_sample_file_is_used() -> None:
    used = {f for _, f in GOOD} | {f for _, f, _ in NOT_VALID}
    assert {path.name for path in DATA_DIR.glob("*.json")} == used


def test_every_known_event_type_has_a_good_sample() -> None:
    assert {event["type"] for _, event in _good_events()} >= KNOWN_EVENTS


# Variations the reference allows (or clients must tolerate): the schemas accept them.
TOLERATED = [
    # Usage: only input_tokens and output_tokens are required; the rest may be null or absent.
    ("message", patched("message_basic.json", "/usage", {"input_tokens": 3, "output_tokens": 1})),
    ("message", patched("message_basic.json", "/usage/cache_read_input_tokens", None)),
    ("message", patched("message_basic.json", "/usage/cache_creation", None)),
    ("message", patched("message_basic.json", "/usage/service_tier", None)),
    ("message", patched("message_basic.json", "/usage/server_tool_use", None)),
    # Responses from before web fetch existed count only web searches.
    (
        "message",
        patched("message_server_tools.json", "/usage/server_tool_use/web_fetch_requests", DELETE),
    ),
    # Response content blocks of a type the schema does not know (the API adds them).
    ("message", patched("message_basic.json", "/content/0", {"type": "compaction", "x": 1})),
    ("message", patched("message_basic.json", "/content", [])),
    ("message", patched("message_basic.json", "/content/0/citations", None)),
    ("message", patched("message_basic.json", "/stop_reason", "model_context_window_exceeded")),
    ("message", patched("message_basic.json", "/stop_reason", "pause_turn")),
    (
        "message",
        patched(
            "message_citations.json", "/content/1/citations/0", {"type": "new", "cited_text": ""}
        ),
    ),
    ("message", patched("message_basic.json", "/x_vendor", {"anything": True})),
    ("message", patched("message_tool_use.json", "/content/1/input", {})),
    # A thinking block may start without its signature (it arrives in a signature_delta).
    (
        "stream_event",
        patched("event_content_block_start_thinking.json", "/content_block/signature", DELETE),
    ),
    (
        "stream_event",
        patched(
            "event_content_block_start_text.json",
            "/content_block",
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
        ),
    ),
    (
        "stream_event",
        patched("event_content_block_delta_input_json.json", "/delta/partial_json", ""),
    ),
    (
        "stream_event",
        patched("event_content_block_delta_text.json", "/delta", {"type": "compaction_delta"}),
    ),
    ("stream_event", patched("event_message_delta.json", "/delta/stop_reason", None)),
    ("stream_event", patched("event_message_delta.json", "/delta/stop_sequence", "END")),
    (
        "stream_event",
        patched("event_message_delta_cumulative_usage.json", "/usage/input_tokens", None),
    ),
    ("stream_event", patched("event_message_start.json", "/message/stop_reason", None)),
    (
        "stream_event",
        patched("event_error.json", "/error/type", "some_future_error"),
    ),
    ("error", patched("error_authentication.json", "/error/type", "request_too_large")),
    ("error", patched("error_authentication.json", "/error/type", "brand_new_error")),
    ("error", patched("error_authentication.json", "/request_id", DELETE)),
    ("models_list", patched("models_list.json", "/data", [])),
    ("models_list", patched("models_list.json", "/first_id", None)),
    ("models_list", patched("models_list.json", "/data/0/created_at", "1970-01-01T00:00:00.000Z")),
    ("models_list", patched("models_list.json", "/data/0/max_tokens", 64000)),
    ("models_list", patched("models_list.json", "/data/0/lifecycle", DELETE)),
    ("count_tokens", {"input_tokens": 0}),
    ("messages_request", patched("request_basic.json", "/thinking", {"type": "disabled"})),
    ("messages_request", patched("request_basic.json", "/thinking", {"type": "adaptive"})),
    ("messages_request", patched("request_basic.json", "/tool_choice", {"type": "any"})),
    (
        "messages_request",
        patched("request_basic.json", "/tool_choice", {"type": "tool", "name": "get_weather"}),
    ),
    ("messages_request", patched("request_basic.json", "/temperature", 0)),
    ("messages_request", patched("request_basic.json", "/temperature", 1)),
    ("messages_request", patched("request_basic.json", "/x_vendor_option", {"anything": True})),
    ("messages_request", patched("request_tools_images.json", "/tools/0/type", "custom")),
    (
        "messages_request",
        patched("request_tools_images.json", "/tools/1", {"type": "bash_20250124", "name": "bash"}),
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/messages/2/content/0/content", "15 degrees"),
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/messages/2/content/0/content", DELETE),
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/system/1/cache_control", {"type": "ephemeral"}),
    ),
]


@pytest.mark.parametrize(("name", "instance"), TOLERATED)
def test_tolerated_variation_validates(name: str, instance: object) -> None:
    assert errors(name, instance) == []


# --- bad samples -------------------------------------------------------------------------------

BAD = [
    # messages
    ("message", patched("message_basic.json", "/type", "chat.completion"), "/type"),
    ("message", patched("message_basic.json", "/role", "user"), "/role"),
    ("message", patched("message_basic.json", "/id", DELETE), "/id"),
    ("message", patched("message_basic.json", "/model", DELETE), "/model"),
    ("message", patched("message_basic.json", "/content", "Hello"), "/content"),
    ("message", patched("message_basic.json", "/stop_reason", "stop"), "/stop_reason"),
    # Non-streamed: stop_reason is always non-null, and stop_sequence always present.
    ("message", patched("message_basic.json", "/stop_reason", None), "/stop_reason"),
    ("message", patched("message_basic.json", "/stop_reason", DELETE), "/stop_reason"),
    ("message", patched("message_basic.json", "/stop_sequence", DELETE), "/stop_sequence"),
    ("message", patched("message_basic.json", "/stop_sequence", 5), "/stop_sequence"),
    ("message", patched("message_basic.json", "/usage", DELETE), "/usage"),
    ("message", patched("message_basic.json", "/usage", None), "/usage"),
    (
        "message",
        patched("message_basic.json", "/usage/output_tokens", DELETE),
        "/usage/output_tokens",
    ),
    ("message", patched("message_basic.json", "/usage/input_tokens", -1), "/usage/input_tokens"),
    (
        "message",
        patched("message_basic.json", "/usage/cache_read_input_tokens", "0"),
        "/usage/cache_read_input_tokens",
    ),
    (
        "message",
        patched("message_basic.json", "/usage/service_tier", "default"),
        "/usage/service_tier",
    ),
    ("message", patched("message_basic.json", "/content/0/text", DELETE), "/content/0/text"),
    ("message", patched("message_basic.json", "/content/0/text", None), "/content/0/text"),
    ("message", patched("message_basic.json", "/content/0/type", DELETE), "/content/0/type"),
    ("message", patched("message_basic.json", "/content/0", "Hello"), "/content/0"),
    ("message", patched("message_basic.json", "/content/0/type", 1), "/content/0/type"),
    (
        "message",
        patched("message_basic.json", "/content/0/citations", "none"),
        "/content/0/citations",
    ),
    ("message", patched("message_tool_use.json", "/content/1/id", ""), "/content/1/id"),
    ("message", patched("message_tool_use.json", "/content/1/id", DELETE), "/content/1/id"),
    ("message", patched("message_tool_use.json", "/content/1/name", DELETE), "/content/1/name"),
    (
        "message",
        patched("message_tool_use.json", "/content/1/input", '{"location": "SF"}'),
        "/content/1/input",
    ),
    ("message", patched("message_tool_use.json", "/content/1/input", DELETE), "/content/1/input"),
    (
        "message",
        patched("message_thinking.json", "/content/0/signature", DELETE),
        "/content/0/signature",
    ),
    (
        "message",
        patched("message_thinking.json", "/content/0/thinking", None),
        "/content/0/thinking",
    ),
    ("message", patched("message_thinking.json", "/content/1/data", DELETE), "/content/1/data"),
    (
        "message",
        patched("message_citations.json", "/content/1/citations/0/document_index", DELETE),
        "/content/1/citations/0/document_index",
    ),
    (
        "message",
        patched("message_citations.json", "/content/1/citations/0/type", DELETE),
        "/content/1/citations/0/type",
    ),
    # stream events
    ("stream_event", patched("event_message_start.json", "/message", DELETE), "/message"),
    (
        "stream_event",
        patched("event_message_start.json", "/message/usage", DELETE),
        "/message/usage",
    ),
    (
        "stream_event",
        patched("event_message_start.json", "/message/stop_sequence", DELETE),
        "/message/stop_sequence",
    ),
    (
        "stream_event",
        patched("event_message_start.json", "/message/content", None),
        "/message/content",
    ),
    (
        "stream_event",
        patched("event_content_block_start_text.json", "/index", DELETE),
        "/index",
    ),
    ("stream_event", patched("event_content_block_start_text.json", "/index", -1), "/index"),
    ("stream_event", patched("event_content_block_start_text.json", "/index", "0"), "/index"),
    (
        "stream_event",
        patched("event_content_block_start_text.json", "/content_block", DELETE),
        "/content_block",
    ),
    (
        "stream_event",
        patched("event_content_block_start_text.json", "/content_block/text", DELETE),
        "/content_block/text",
    ),
    (
        "stream_event",
        patched("event_content_block_start_tool_use.json", "/content_block/input", "{}"),
        "/content_block/input",
    ),
    (
        "stream_event",
        patched("event_content_block_start_tool_use.json", "/content_block/id", DELETE),
        "/content_block/id",
    ),
    (
        "stream_event",
        patched("event_content_block_start_thinking.json", "/content_block/thinking", DELETE),
        "/content_block/thinking",
    ),
    (
        "stream_event",
        patched("event_content_block_delta_text.json", "/delta", DELETE),
        "/delta",
    ),
    (
        "stream_event",
        patched("event_content_block_delta_text.json", "/delta/type", DELETE),
        "/delta/type",
    ),
    (
        "stream_event",
        patched("event_content_block_delta_text.json", "/delta", "Hello"),
        "/delta",
    ),
    (
        "stream_event",
        patched("event_content_block_delta_input_json.json", "/delta/partial_json", {}),
        "/delta/partial_json",
    ),
    (
        "stream_event",
        patched(
            "event_content_block_delta_citations.json", "/delta/citation/start_page_number", "3"
        ),
        "/delta/citation/start_page_number",
    ),
    ("stream_event", patched("event_content_block_stop.json", "/index", DELETE), "/index"),
    ("stream_event", patched("event_message_delta.json", "/usage", DELETE), "/usage"),
    (
        "stream_event",
        patched("event_message_delta.json", "/usage/output_tokens", DELETE),
        "/usage/output_tokens",
    ),
    (
        "stream_event",
        patched("event_message_delta.json", "/delta/stop_reason", "stop"),
        "/delta/stop_reason",
    ),
    (
        "stream_event",
        patched("event_message_delta.json", "/delta/stop_reason", DELETE),
        "/delta/stop_reason",
    ),
    (
        "stream_event",
        patched("event_message_delta_cumulative_usage.json", "/usage/input_tokens", "472"),
        "/usage/input_tokens",
    ),
    ("stream_event", patched("event_error.json", "/error/message", DELETE), "/error/message"),
    ("stream_event", patched("event_error.json", "/error/type", DELETE), "/error/type"),
    ("stream_event", patched("event_error.json", "/error", "Overloaded"), "/error"),
    ("stream_event", {"index": 0}, "/type"),
    ("stream_event", {"type": None}, "/type"),
    ("stream_event", "ping", ""),
    # errors
    ("error", patched("error_authentication.json", "/type", DELETE), "/type"),
    ("error", patched("error_authentication.json", "/type", "invalid_request_error"), "/type"),
    ("error", patched("error_authentication.json", "/error/type", DELETE), "/error/type"),
    ("error", patched("error_authentication.json", "/error/message", DELETE), "/error/message"),
    ("error", patched("error_authentication.json", "/error/type", 401), "/error/type"),
    ("error", patched("error_authentication.json", "/request_id", 7), "/request_id"),
    # models
    ("models_list", sample("models_list.json")["data"], ""),
    ("models_list", patched("models_list.json", "/has_more", "false"), "/has_more"),
    ("models_list", patched("models_list.json", "/has_more", DELETE), "/has_more"),
    ("models_list", patched("models_list.json", "/last_id", DELETE), "/last_id"),
    ("models_list", patched("models_list.json", "/data/0/type", "models"), "/data/0/type"),
    ("models_list", patched("models_list.json", "/data/0/id", DELETE), "/data/0/id"),
    (
        "models_list",
        patched("models_list.json", "/data/1/display_name", DELETE),
        "/data/1/display_name",
    ),
    (
        "models_list",
        patched("models_list.json", "/data/0/created_at", 1727568000),
        "/data/0/created_at",
    ),
    (
        "models_list",
        patched("models_list.json", "/data/0/created_at", "2025-09-29"),
        "/data/0/created_at",
    ),
    # count tokens
    ("count_tokens", {}, "/input_tokens"),
    ("count_tokens", {"input_tokens": -5}, "/input_tokens"),
    ("count_tokens", {"input_tokens": 1.5}, "/input_tokens"),
    # requests
    ("messages_request", patched("request_basic.json", "/model", DELETE), "/model"),
    ("messages_request", patched("request_basic.json", "/max_tokens", DELETE), "/max_tokens"),
    ("messages_request", patched("request_basic.json", "/max_tokens", 0), "/max_tokens"),
    ("messages_request", patched("request_basic.json", "/messages", []), "/messages"),
    (
        "messages_request",
        patched("request_basic.json", "/messages/0/role", "system"),
        "/messages/0/role",
    ),
    (
        "messages_request",
        patched("request_basic.json", "/messages/0/content", DELETE),
        "/messages/0/content",
    ),
    (
        "messages_request",
        patched("request_basic.json", "/messages/0/content", None),
        "/messages/0/content",
    ),
    ("messages_request", patched("request_basic.json", "/temperature", 1.5), "/temperature"),
    ("messages_request", patched("request_basic.json", "/top_k", 2.5), "/top_k"),
    ("messages_request", patched("request_basic.json", "/stream", "true"), "/stream"),
    (
        "messages_request",
        patched("request_basic.json", "/stop_sequences", "END"),
        "/stop_sequences",
    ),
    ("messages_request", patched("request_basic.json", "/system", {"text": "x"}), "/system"),
    (
        "messages_request",
        patched("request_basic.json", "/metadata/user_id", 42),
        "/metadata/user_id",
    ),
    (
        "messages_request",
        patched("request_basic.json", "/service_tier", "priority"),
        "/service_tier",
    ),
    (
        "messages_request",
        patched("request_thinking.json", "/thinking/budget_tokens", 512),
        "/thinking/budget_tokens",
    ),
    (
        "messages_request",
        patched("request_thinking.json", "/thinking/budget_tokens", DELETE),
        "/thinking/budget_tokens",
    ),
    (
        "messages_request",
        patched("request_thinking.json", "/thinking/type", "on"),
        "/thinking/type",
    ),
    (
        "messages_request",
        patched("request_thinking.json", "/messages/1/content/0/signature", DELETE),
        "/messages/1/content/0/signature",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/tool_choice", {"type": "tool"}),
        "/tool_choice/name",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/tool_choice", "auto"),
        "/tool_choice",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/tool_choice/disable_parallel_tool_use", "yes"),
        "/tool_choice/disable_parallel_tool_use",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/tools/0/input_schema", DELETE),
        "/tools/0/input_schema",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/tools/0/input_schema/type", "array"),
        "/tools/0/input_schema/type",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/tools/0/name", DELETE),
        "/tools/0/name",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/tools/0/cache_control/type", "persistent"),
        "/tools/0/cache_control/type",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/system/1/cache_control/ttl", "1d"),
        "/system/1/cache_control/ttl",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/tools/1/type", 5),
        "/tools/1/type",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/messages/0/content/0", {"type": "video"}),
        "/messages/0/content/0/type",
    ),
    (
        "messages_request",
        patched(
            "request_tools_images.json", "/messages/0/content/0/source/media_type", "image/bmp"
        ),
        "/messages/0/content/0/source/media_type",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/messages/0/content/0/source/data", DELETE),
        "/messages/0/content/0/source/data",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/messages/0/content/1/source/url", DELETE),
        "/messages/0/content/1/source/url",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/messages/0/content/1/source/type", "file"),
        "/messages/0/content/1/source/type",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/messages/1/content/1/input", "{}"),
        "/messages/1/content/1/input",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/messages/2/content/0/tool_use_id", DELETE),
        "/messages/2/content/0/tool_use_id",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/messages/2/content/0/is_error", "false"),
        "/messages/2/content/0/is_error",
    ),
    (
        "messages_request",
        patched("request_tools_images.json", "/messages/2/content/0/content", {"text": "15"}),
        "/messages/2/content/0/content",
    ),
    (
        "messages_request",
        patched(
            "request_tools_images.json", "/messages/2/content/0/content/0", {"type": "tool_use"}
        ),
        "/messages/2/content/0/content/0/type",
    ),
    (
        "messages_request",
        patched(
            "request_documents.json",
            "/messages/0/content/0/source/media_type",
            "application/msword",
        ),
        "/messages/0/content/0/source/media_type",
    ),
    (
        "messages_request",
        patched("request_documents.json", "/messages/0/content/2/source/data", DELETE),
        "/messages/0/content/2/source/data",
    ),
    (
        "messages_request",
        patched("request_documents.json", "/messages/0/content/3/source/content", DELETE),
        "/messages/0/content/3/source/content",
    ),
]


@pytest.mark.parametrize(
    ("name", "instance", "pointer"), BAD, ids=[f"{n}:{p or 'root'}" for n, _, p in BAD]
)
def test_bad_sample_fails_at_pointer(name: str, instance: object, pointer: str) -> None:
    found = errors(name, instance)
    assert found, "expected a validation error"
    assert {p for p, _ in found} == {pointer}, found
    assert not validator(DIALECT, name).is_valid(instance)


# --- the cases the brief singles out -----------------------------------------------------------

DELTA_FIELDS = [
    ("text_delta", "text"),
    ("input_json_delta", "partial_json"),
    ("thinking_delta", "thinking"),
    ("signature_delta", "signature"),
    ("citations_delta", "citation"),
]


@pytest.mark.parametrize(("delta_type", "field"), DELTA_FIELDS)
def test_content_block_delta_lacking_its_field_fails_at_that_field(
    delta_type: str, field: str
) -> None:
    event = {"type": "content_block_delta", "index": 0, "delta": {"type": delta_type}}
    assert errors("stream_event", event) == [
        (f"/delta/{field}", f"{field!r} is a required property")
    ]


def test_message_start_without_usage_fails() -> None:
    event = patched("event_message_start.json", "/message/usage", DELETE)
    assert errors("stream_event", event) == [("/message/usage", "'usage' is a required property")]


def test_openai_chat_completion_is_not_a_message() -> None:
    assert not validator(DIALECT, "message").is_valid(sample("message_openai_shaped.json"))
    assert not validator(DIALECT, "error").is_valid(sample("error_openai_envelope.json"))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_unknown_type = st.text(max_size=20).filter(lambda t: t not in KNOWN_EVENTS)


@given(type_=_unknown_type, extra=st.dictionaries(st.text(max_size=8), _json, max_size=4))
def test_any_object_with_an_unknown_string_type_is_a_valid_event(
    type_: str, extra: dict[str, object]
) -> None:
    event = {**extra, "type": type_}
    note(f"event: {event!r}")
    assert errors("stream_event", event) == []


_unknown_block = st.text(max_size=20).filter(
    lambda t: t not in {"text", "tool_use", "thinking", "redacted_thinking"}
)


@given(type_=_unknown_block, extra=st.dictionaries(st.text(max_size=8), _json, max_size=4))
def test_a_response_block_of_unknown_type_is_valid_in_a_message_and_a_block_start(
    type_: str, extra: dict[str, object]
) -> None:
    block = {**extra, "type": type_}
    note(f"block: {block!r}")
    message = patched("message_basic.json", "/content/0", block)
    assert errors("message", message) == []
    start = patched("event_content_block_start_text.json", "/content_block", block)
    assert errors("stream_event", start) == []


@given(
    event=st.sampled_from(sorted(KNOWN_EVENTS)),
    extra=st.dictionaries(st.text(max_size=8), _json, max_size=3),
)
def test_a_known_event_missing_a_required_key_is_reported_at_that_key(
    event: str, extra: dict[str, object]
) -> None:
    # A known type never falls through to the lenient unknown-type case: each required key
    # of its own def that is absent is reported where it belongs.
    instance = {**extra, "type": event}
    note(f"event: {instance!r}")
    required = validator(DIALECT, "stream_event").schema["$defs"][event]["required"]
    missing = {f"/{key}" for key in required if key not in instance}
    assert missing <= pointers("stream_event", instance)
