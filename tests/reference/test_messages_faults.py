"""Each Anthropic Messages fault of the catalog, seen on the wire, and only under that fault."""

from __future__ import annotations

from typing import Any

import pytest
from messages_fault_helpers import Effects, kinds, observed, stream_of
from messages_model_faults import WIRE_EFFECTS as MODEL_EFFECTS
from messages_wire_faults import WIRE_EFFECTS as HTTP_EFFECTS
from reference_helpers import Api
from test_messages import (
    THINKING,
    VERSION,
    Messages,
    anthropic_tools,
    ask_tools,
    streamed_message,
    tool_uses,
)

from chatconform.reference import FAULTS
from chatconform.reference.app import NGINX_PAGE
from chatconform.reference.messages_stream import OVERLOADED
from chatconform.reference.model import DEFAULT_ANSWER
from chatconform.tool_probes import tool_probe

ANTHROPIC_FAULTS = sorted(name for name in FAULTS if name.startswith("anthropic-"))
# Faults of the stream alone: the non-streamed message stays as it is.
STREAM_ONLY = {
    "anthropic-event-lines-missing",
    "anthropic-message-stop-missing",
    "anthropic-block-stop-missing",
    "anthropic-index-gap",
    "anthropic-message-start-incomplete",
    "anthropic-input-tokens-zero",
    "anthropic-tool-input-not-streamed",
    "anthropic-stream-ignored",
    "anthropic-tool-input-json-broken",
    "anthropic-thinking-not-streamed",
    "anthropic-events-after-stop",
    "anthropic-output-tokens-missing",
    "anthropic-overloaded-mid-stream",
    "anthropic-done-sentinel",
    "anthropic-stream-buffered",
    "anthropic-stream-extra-block",
    "anthropic-usage-stream-differs",
}
# Faults of the non-streamed message alone: the stream stays as it is.
MESSAGE_ONLY = {
    "anthropic-usage-missing",
    "anthropic-message-fields-missing",
    "anthropic-html-body",
    "anthropic-openai-response-shape",
}
BAD_KEY = {"x-api-key": "sk-wrong", "anthropic-version": VERSION}
FULL_START = ["content", "id", "model", "role", "stop_reason", "stop_sequence", "type", "usage"]


def weather_stream(api: Messages) -> list[tuple[str | None, dict]]:
    probe = tool_probe("weather")
    return api.events(list(probe.messages), tools=anthropic_tools("weather"))


def usage(api: Messages) -> tuple[tuple[int, int], tuple[int, int]]:
    plain = api.message()["usage"]
    events = [data for _, data in api.events()]
    streamed = (events[0]["message"]["usage"]["input_tokens"], events[-2]["usage"]["output_tokens"])
    return (plain["input_tokens"], plain["output_tokens"]), streamed


def sent_back_unsigned(api: Messages) -> int:
    unsigned = {"type": "thinking", "thinking": "I count.", "signature": ""}
    turns = [
        {"role": "user", "content": "Count from 1 to 5."},
        {"role": "assistant", "content": [unsigned, {"type": "text", "text": "1 2 3 4 5"}]},
        {"role": "user", "content": "Count from 1 to 5."},
    ]
    return api.create(turns).status_code


def thinking_signatures(api: Messages) -> tuple[bool, list[str]]:
    signed = bool(api.message(max_tokens=2000, thinking=THINKING)["content"][0]["signature"])
    events = api.events(max_tokens=2000, thinking=THINKING)
    deltas = {d["delta"]["type"] for _, d in events if d["type"] == "content_block_delta"}
    return signed, sorted(deltas)


# fault -> (what is observed, its value from the faithful reference, its value under the fault)
STREAM_AND_SHAPE_EFFECTS: Effects = {
    "anthropic-event-lines-missing": (
        observed(lambda api: sorted({str(name) for name, _ in api.events()})),
        sorted(
            {"message_start", "content_block_start", "ping", "content_block_delta"}
            | {"content_block_stop", "message_delta", "message_stop"}
        ),
        ["None"],
    ),
    "anthropic-message-stop-missing": (
        observed(lambda api: kinds(api)[-2:]),
        ["message_delta", "message_stop"],
        ["content_block_stop", "message_delta"],
    ),
    "anthropic-block-stop-missing": (
        observed(
            lambda api: kinds(api, max_tokens=2000, thinking=THINKING).count("content_block_stop")
        ),
        2,
        0,
    ),
    "anthropic-index-gap": (
        observed(
            lambda api: sorted(
                {
                    d["index"]
                    for _, d in api.events(max_tokens=2000, thinking=THINKING)
                    if "index" in d
                }
            )
        ),
        [0, 1],
        [1, 2],
    ),
    "anthropic-message-start-incomplete": (
        observed(lambda api: sorted(api.events()[0][1]["message"])),
        FULL_START,
        ["id", "model", "role", "stop_sequence", "type"],
    ),
    "anthropic-input-tokens-zero": (
        observed(
            lambda api: (
                api.events()[0][1]["message"]["usage"]["input_tokens"],
                "input_tokens" in api.events()[-2][1]["usage"],
                api.message()["usage"]["input_tokens"],
            )
        ),
        (9, False, 9),
        (0, False, 9),
    ),
    "anthropic-stop-reason-end-turn-for-tool-use": (
        observed(
            lambda api: (
                ask_tools(api, "weather")["stop_reason"],
                streamed_message(weather_stream(api))["stop_reason"],
                api.message()["stop_reason"],
            )
        ),
        ("tool_use", "tool_use", "end_turn"),
        ("end_turn", "end_turn", "end_turn"),
    ),
    "anthropic-tool-input-not-streamed": (
        observed(
            lambda api: (
                [b["input"] for b in streamed_message(weather_stream(api))["content"]],
                [args for _, args in tool_uses(ask_tools(api, "weather"))],
            )
        ),
        ([{"city": "Paris", "unit": "celsius"}], [{"city": "Paris", "unit": "celsius"}]),
        ([{}], [{"city": "Paris", "unit": "celsius"}]),
    ),
    "anthropic-openai-error-envelope": (
        observed(
            lambda api: (
                api.create(headers=BAD_KEY).json(),
                api.client.get("/v1/models", headers=BAD_KEY).json()["type"],
            )
        ),
        (
            {
                "type": "error",
                "error": {"type": "authentication_error", "message": "invalid x-api-key"},
            },
            "error",
        ),
        (
            {
                "error": {
                    "message": "invalid x-api-key",
                    "type": "authentication_error",
                    "param": None,
                    "code": None,
                }
            },
            "error",
        ),
    ),
    "anthropic-stream-ignored": (
        observed(
            lambda api: (
                api.create(stream=True).headers["content-type"].split(";")[0],
                api.create(stream=True).text.split("\n")[0][:7],
            )
        ),
        ("text/event-stream", "event: "),
        ("application/json", '{"id":"'),
    ),
    "anthropic-usage-fixed": (observed(usage), ((9, 5), (9, 5)), ((10, 20), (10, 20))),
    "anthropic-usage-inflated": (observed(usage), ((9, 5), (9, 5)), ((27, 5), (27, 5))),
    "anthropic-usage-stream-differs": (observed(usage), ((9, 5), (9, 5)), ((9, 5), (12, 5))),
    "anthropic-openai-response-shape": (
        observed(
            lambda api: (
                api.create().json().get("object", "absent"),
                api.create().json().get("type", "absent"),
                kinds(api)[0],
            )
        ),
        ("absent", "message", "message_start"),
        ("chat.completion", "absent", "message_start"),
    ),
    "anthropic-thinking-signature-empty": (
        observed(lambda api: (*thinking_signatures(api), sent_back_unsigned(api))),
        (True, ["signature_delta", "text_delta", "thinking_delta"], 400),
        (False, ["text_delta", "thinking_delta"], 200),
    ),
    "anthropic-bearer-only": (
        observed(
            lambda api: (
                api.create().status_code,
                api.create(
                    headers={"Authorization": "Bearer sk-reference", "anthropic-version": VERSION}
                ).status_code,
            )
        ),
        (200, 200),
        (401, 200),
    ),
}


WIRE_EFFECTS: Effects = {**STREAM_AND_SHAPE_EFFECTS, **MODEL_EFFECTS, **HTTP_EFFECTS}


def test_every_anthropic_fault_has_a_wire_case() -> None:
    tables = (STREAM_AND_SHAPE_EFFECTS, MODEL_EFFECTS, HTTP_EFFECTS)
    assert sum(map(len, tables)) == len(WIRE_EFFECTS), "a fault in two tables"
    assert sorted(WIRE_EFFECTS) == ANTHROPIC_FAULTS


@pytest.mark.parametrize("name", ANTHROPIC_FAULTS)
def test_fault_shows_on_the_wire_and_only_under_the_fault(name: str) -> None:
    observe, faithful, faulted = WIRE_EFFECTS[name]
    assert faithful != faulted
    assert observe(Api()) == faithful
    assert observe(Api(name)) == faulted


def _without_ids(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("id", "created")}


@pytest.mark.parametrize("name", ANTHROPIC_FAULTS)
def test_anthropic_faults_leave_chat_completions_alone(name: str) -> None:
    faithful, faulted = Api(), Api(name)
    assert _without_ids(faulted.chat().json()) == _without_ids(faithful.chat().json())
    assert faulted.chat(headers={}).json() == faithful.chat(headers={}).json()
    assert faulted.get("/v1/models").json() == faithful.get("/v1/models").json()


def _comparable(message: dict[str, Any]) -> dict[str, Any]:
    """The message without its id, and signatures (each server has its own key) as present or not."""
    content = [
        {**b, "signature": bool(b["signature"])} if "signature" in b else b
        for b in message["content"]
    ]
    return {**_without_ids(message), "content": content}


@pytest.mark.parametrize("name", sorted(STREAM_ONLY - {"anthropic-stream-ignored"}))
def test_stream_faults_leave_the_message_object_alone(name: str) -> None:
    faithful, faulted = Messages(Api()), Messages(Api(name))
    for params in ({}, {"max_tokens": 2000, "thinking": THINKING}):
        assert _comparable(faulted.message(**params)) == _comparable(faithful.message(**params))
    probe = list(tool_probe("weather").messages)
    tools = anthropic_tools("weather")
    plain = [tool_uses(m.message(probe, tools=tools)) for m in (faithful, faulted)]
    assert plain[0] == plain[1]


def _stream_without_ids(api: Messages, **params: Any) -> list[tuple[str | None, dict]]:
    events = api.events(**params)
    start = events[0][1]["message"]
    events[0] = (events[0][0], {**events[0][1], "message": {**start, "id": "msg"}})
    return [
        (name, {**d, "delta": {**d["delta"], "signature": "signed"}})
        if d.get("delta", {}).get("type") == "signature_delta"
        else (name, d)
        for name, d in events
    ]


@pytest.mark.parametrize("name", sorted(MESSAGE_ONLY))
def test_message_faults_leave_the_stream_alone(name: str) -> None:
    faithful, faulted = Messages(Api()), Messages(Api(name))
    for params in ({}, {"max_tokens": 2000, "thinking": THINKING}):
        assert _stream_without_ids(faulted, **params) == _stream_without_ids(faithful, **params)


@pytest.mark.parametrize("name", sorted(set(ANTHROPIC_FAULTS) - STREAM_ONLY - MESSAGE_ONLY))
def test_other_faults_show_alike_streamed_and_not(name: str) -> None:
    """A fault of neither form alone builds the same message streamed as non-streamed."""
    api = Messages(Api(name))
    for params in ({}, {"max_tokens": 2, "stop_sequences": [" 2"]}):
        plain, streamed = api.create(**params), api.create(stream=True, **params)
        if plain.status_code != 200:
            assert streamed.status_code == plain.status_code
            continue
        message = streamed_message(stream_of(api, **params))
        assert _comparable(message) == _comparable(plain.json())


def test_openai_shaped_answers_carry_the_same_answer() -> None:
    api = Messages(Api("anthropic-openai-response-shape"))
    body = api.create().json()
    assert body["choices"][0]["message"]["content"] == "1 2 3 4 5"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}
    called = ask_tools_raw(api)["choices"][0]
    assert called["finish_reason"] == "tool_calls"
    assert called["message"]["tool_calls"][0]["function"]["name"] == "get_weather"


def ask_tools_raw(api: Messages) -> dict[str, Any]:
    probe = list(tool_probe("weather").messages)
    return api.create(probe, tools=anthropic_tools("weather")).json()


def test_an_ignored_stream_is_the_message_object() -> None:
    body = Messages(Api("anthropic-stream-ignored")).create(stream=True).json()
    assert body["type"] == "message" and body["content"] == [{"type": "text", "text": "1 2 3 4 5"}]


def test_error_envelope_fault_keeps_status_and_request_id() -> None:
    response = Messages(Api("anthropic-openai-error-envelope")).create(model="claude-nope")
    assert response.status_code == 404 and response.headers["request-id"].startswith("req_")
    assert response.json()["error"]["message"] == "model: claude-nope"


def test_a_canned_answer_is_the_default_sentence_whatever_the_prompt() -> None:
    api = Messages(Api("anthropic-canned-answer"))
    hi = [{"role": "user", "content": "What is 2 + 3?"}]
    assert api.message(hi)["content"] == [{"type": "text", "text": DEFAULT_ANSWER}]
    # The cap still applies.
    assert api.message(max_tokens=2)["content"] == [{"type": "text", "text": "Hello! I"}]


def test_an_overloaded_stream_ends_with_the_error_event() -> None:
    events = stream_of(Messages(Api("anthropic-overloaded-mid-stream")))
    assert events[-1] == ("error", OVERLOADED)
    assert [d["delta"]["text"] for _, d in events if d["type"] == "content_block_delta"] == ["1"]


def test_the_html_body_is_the_nginx_page_and_errors_stay_json() -> None:
    api = Messages(Api("anthropic-html-body"))
    assert api.create().text == NGINX_PAGE
    assert api.create(model="claude-nope").json()["error"]["type"] == "not_found_error"


def test_a_lax_request_gets_the_default_max_tokens() -> None:
    api = Messages(Api("anthropic-validation-lax"))
    body = {"model": "reference-1", "messages": [{"role": "user", "content": "Count from 1 to 5."}]}
    # 1024 is not above a budget of 1024: the default is checked like a given max_tokens.
    refused = api.post({**body, "thinking": THINKING}).json()["error"]["message"]
    assert refused.startswith("`max_tokens` must be greater than `thinking.budget_tokens`")
    long = {**body, "messages": [{"role": "user", "content": "Count from 1 to 1000."}]}
    counted = api.post(long).json()
    assert (counted["stop_reason"], counted["usage"]["output_tokens"]) == ("end_turn", 1000)


def test_cache_control_is_refused_by_its_path() -> None:
    api = Messages(Api("anthropic-cache-control-rejected"))
    system = [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    response = api.create(system=system)
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "system.0.cache_control: Extra inputs are not permitted",
    }


def test_buffering_still_ends_the_stream_properly() -> None:
    api = Messages(Api("anthropic-stream-buffered"))
    assert kinds(api) == kinds(Messages(Api()))
