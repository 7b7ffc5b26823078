"""The faithful reference provider: OpenAI's wire format for completions, streams and errors."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from reference_helpers import MODEL, Api, event_data

from chatconform.reference import create_app
from chatconform.reference.embeddings import EMBEDDING_MODEL
from chatconform.reference.model import DEFAULT_ANSWER
from chatconform.schemas import schema_errors

ID = re.compile(r"chatcmpl-[0-9a-f]+")
ENVELOPE_KEYS = {"message", "type", "param", "code"}


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def test_non_streamed_response_has_the_official_shape(api: Api) -> None:
    before = int(time.time())
    response = api.chat()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert schema_errors("openai", "chat_response", body) == []
    assert ID.fullmatch(body.pop("id"))
    assert before <= body.pop("created") <= time.time() + 1
    assert body == {
        "object": "chat.completion",
        "model": MODEL,
        "system_fingerprint": "fp_reference",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "1 2 3 4 5", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        # "Count from 1 to 5." is 6 words and marks, plus 3 for the message.
        "usage": usage(9, 5),
    }


def test_ids_differ_between_responses(api: Api) -> None:
    assert api.chat().json()["id"] != api.chat().json()["id"]


def test_stream_chunk_sequence(api: Api) -> None:
    response = api.chat(stream=True)
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.text.endswith("data: [DONE]\n\n")
    events = event_data(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(data) for data in events[:-1]]
    for chunk in chunks:
        assert schema_errors("openai", "chat_chunk", chunk) == []
        assert "usage" not in chunk
    assert {(c["id"], c["created"], c["model"], c["object"]) for c in chunks} == {
        (chunks[0]["id"], chunks[0]["created"], MODEL, "chat.completion.chunk")
    }
    assert ID.fullmatch(chunks[0]["id"])
    assert all(c["system_fingerprint"] == "fp_reference" for c in chunks)
    choices = [c["choices"] for c in chunks]
    assert all(len(entries) == 1 for entries in choices)
    entries = [entries[0] for entries in choices]
    assert [e["delta"] for e in entries] == [
        {"role": "assistant", "content": "", "refusal": None},
        {"content": "1"},
        {"content": " 2"},
        {"content": " 3"},
        {"content": " 4"},
        {"content": " 5"},
        {},
    ]
    assert [e["finish_reason"] for e in entries] == [None] * 6 + ["stop"]
    assert all(e["index"] == 0 and e["logprobs"] is None for e in entries)


def test_stream_include_usage_adds_a_final_usage_chunk(api: Api) -> None:
    events = api.events(stream_options={"include_usage": True})
    assert events[-1] == "[DONE]"
    chunks = [json.loads(data) for data in events[:-1]]
    assert [c["usage"] for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == usage(9, 5)
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert len({c["id"] for c in chunks}) == 1


def test_stream_include_usage_false_has_no_usage(api: Api) -> None:
    chunks = api.chunks(stream_options={"include_usage": False})
    assert all("usage" not in c for c in chunks)


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_cuts_with_finish_reason_length(api: Api, param: str) -> None:
    body = api.chat(**{param: 3}).json()
    assert body["choices"][0]["message"]["content"] == "1 2 3"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"] == usage(9, 3)


def test_max_tokens_not_reached_is_stop(api: Api) -> None:
    body = api.chat(max_tokens=5).json()
    assert (body["choices"][0]["message"]["content"], body["choices"][0]["finish_reason"]) == (
        "1 2 3 4 5",
        "stop",
    )


def test_streamed_max_tokens(api: Api) -> None:
    chunks = api.chunks(max_tokens=2)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "1 2"
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize(
    ("stop", "content"),
    [(" 3", "1 2"), (["4", " 2"], "1"), ("9", "1 2 3 4 5"), ("1", "")],
)
def test_stop_cuts_at_the_earliest_stop_string(api: Api, stop: Any, content: str) -> None:
    body = api.chat(stop=stop).json()
    assert body["choices"][0]["message"]["content"] == content
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["completion_tokens"] == len(content.split())


def test_stop_inside_the_max_tokens_text_wins(api: Api) -> None:
    body = api.chat(max_tokens=3, stop="2").json()
    assert (body["choices"][0]["message"]["content"], body["choices"][0]["finish_reason"]) == (
        "1 ",
        "stop",
    )
    chunks = api.chunks(max_tokens=3, stop="2")
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "1 "


def test_n_choices(api: Api) -> None:
    body = api.chat(n=2).json()
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert {c["message"]["content"] for c in body["choices"]} == {"1 2 3 4 5"}
    assert body["usage"] == usage(9, 10)


def test_n_choices_streamed(api: Api) -> None:
    chunks = api.chunks(n=2, stream_options={"include_usage": True})
    texts: dict[int, str] = {}
    finishes: dict[int, str] = {}
    for chunk in chunks[:-1]:
        (entry,) = chunk["choices"]
        texts[entry["index"]] = texts.get(entry["index"], "") + entry["delta"].get("content", "")
        if entry["finish_reason"]:
            finishes[entry["index"]] = entry["finish_reason"]
    assert texts == {0: "1 2 3 4 5", 1: "1 2 3 4 5"}
    assert finishes == {0: "stop", 1: "stop"}
    assert chunks[-1]["usage"] == usage(9, 10)


def test_sampling_parameters_are_accepted_and_ignored(api: Api) -> None:
    plain = api.chat().json()
    tuned = api.chat(temperature=1.7, top_p=0.2, seed=4, user="u", presence_penalty=1).json()
    assert tuned["choices"] == plain["choices"]


def test_string_and_part_contents_answer_alike(api: Api) -> None:
    parts = [{"role": "user", "content": [{"type": "text", "text": "What is 4 + 3?"}]}]
    assert api.chat(parts).json()["choices"][0]["message"]["content"] == "7"


def test_models_list_and_retrieve(api: Api) -> None:
    listed = api.get("/v1/models")
    assert listed.status_code == 200
    data = listed.json()["data"]
    assert schema_errors("openai", "models_list", listed.json()) == []
    assert data[0] == {
        "id": MODEL,
        "object": "model",
        "created": 1735689600,
        "owned_by": "chatconform",
    }
    assert EMBEDDING_MODEL in [m["id"] for m in data]
    # Every listed model can be retrieved, as listed.
    for model in data:
        assert api.get(f"/v1/models/{model['id']}").json() == model


def assert_error(response: Any, status: int, param: str | None, code: str | None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert schema_errors("openai", "error", body) == []
    assert set(body) == {"error"} and set(body["error"]) == ENVELOPE_KEYS
    assert (body["error"]["param"], body["error"]["code"]) == (param, code)
    assert body["error"]["type"] == "invalid_request_error"
    return body["error"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": "sk-reference"}],
    ids=["missing", "wrong", "no-scheme"],
)
def test_bad_api_key_is_401(api: Api, headers: dict[str, str]) -> None:
    for response in (api.chat(headers=headers), api.get("/v1/models", headers=headers)):
        error = assert_error(response, 401, None, "invalid_api_key")
        assert error["message"] == "Incorrect API key provided."


def test_bearer_scheme_is_case_insensitive(api: Api) -> None:
    assert api.chat(headers={"Authorization": "bearer sk-reference"}).status_code == 200


def test_body_that_is_not_json_is_400(api: Api) -> None:
    assert_error(api.post_raw(b"{not json"), 400, None, None)
    assert_error(api.post_raw(b"\xff\xfe"), 400, None, None)
    assert_error(api.post([1, 2]), 400, None, None)


@pytest.mark.parametrize(
    "change",
    [
        lambda body: body.pop("messages"),
        lambda body: body.update(messages="hi"),
        lambda body: body.update(messages=[]),
        lambda body: body.update(messages=[{"role": "nobody", "content": "hi"}]),
    ],
    ids=["missing", "not-array", "empty", "bad-role"],
)
def test_invalid_messages_are_400(api: Api, change: Callable[[dict], Any]) -> None:
    body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    change(body)
    error = assert_error(api.post(body), 400, "messages", None)
    assert "messages" in error["message"]


@pytest.mark.parametrize(
    ("params", "param"),
    [({"temperature": "hot"}, "temperature"), ({"n": 0}, "n"), ({"stream": "yes"}, "stream")],
)
def test_schema_errors_name_the_field(api: Api, params: dict[str, Any], param: str) -> None:
    assert param in assert_error(api.chat(**params), 400, param, None)["message"]


def test_missing_model_is_400(api: Api) -> None:
    assert_error(api.post({"messages": [{"role": "user", "content": "hi"}]}), 400, "model", None)


def test_unknown_model_is_404(api: Api) -> None:
    error = assert_error(api.chat(model="gpt-nope"), 404, "model", "model_not_found")
    assert (
        error["message"] == "The model `gpt-nope` does not exist or you do not have access to it."
    )
    assert_error(api.get("/v1/models/gpt-nope"), 404, "model", "model_not_found")


def test_unknown_route_and_method_use_the_envelope(api: Api) -> None:
    assert_error(api.get("/v1/nothing-here"), 404, None, None)
    assert_error(api.get("/v1/chat/completions"), 405, None, None)


def test_validation_happens_before_the_model_check(api: Api) -> None:
    assert api.chat(model="gpt-nope", temperature="hot").status_code == 400


def test_create_app_rejects_unknown_faults() -> None:
    with pytest.raises(ValueError, match="unknown fault 'no-such-fault'; known faults: "):
        create_app(faults=frozenset({"no-such-fault"}))


def test_default_answer_reaches_the_wire(api: Api) -> None:
    content = api.chat([{"role": "user", "content": "hi"}]).json()["choices"][0]["message"]
    assert content["content"] == DEFAULT_ANSWER
