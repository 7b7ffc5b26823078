"""The fault catalog, and each fault's observable effect on the wire."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from embeddings_helpers import WIRE_EFFECTS as EMBEDDINGS_WIRE_EFFECTS
from key_echo_helpers import WIRE_EFFECTS as KEY_ECHO_WIRE_EFFECTS
from reasoning_helpers import WIRE_EFFECTS as REASONING_WIRE_EFFECTS
from reference_helpers import AUTH, COUNT_TO_5, MODEL, Api, event_data
from structured_helpers import WIRE_EFFECTS as STRUCTURED_WIRE_EFFECTS
from test_messages_faults import WIRE_EFFECTS as ANTHROPIC_WIRE_EFFECTS
from tool_helpers import WIRE_EFFECTS as TOOL_WIRE_EFFECTS
from tool_helpers import message_calls, stream_items
from transport_helpers import WIRE_EFFECTS as TRANSPORT_WIRE_EFFECTS
from usage_helpers import WIRE_EFFECTS as USAGE_WIRE_EFFECTS
from vision_helpers import WIRE_EFFECTS as VISION_WIRE_EFFECTS

from chatconform.reference import FAULTS, ReferenceServer, check_fault_names
from chatconform.reference.completion import FIXED_ANSWER, RUNAWAY_WORDS
from chatconform.reference.embeddings import EMBEDDING_MODEL
from chatconform.reference.faults import FaultSet
from chatconform.reference.model import DEFAULT_ANSWER, UNKNOWN_COLOUR

BAD_KEY = {"Authorization": "Bearer sk-wrong"}
USAGE = {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}
CHUNK_COUNT = 7  # role chunk, five numbers, finish chunk


def test_catalog_entries_are_one_line_each() -> None:
    assert len(FAULTS) >= 38
    for name, fault in FAULTS.items():
        assert fault.name == name
        for text in (fault.description, fault.seen_in):
            assert text and "\n" not in text and len(text) < 120, name


def test_check_fault_names() -> None:
    assert check_fault_names(["usage-zero", "n-ignored"]) == {"usage-zero", "n-ignored"}
    with pytest.raises(ValueError) as raised:
        check_fault_names(["usage-zero", "bogus"])
    assert str(raised.value).startswith(f"unknown fault 'bogus'; known faults: {min(FAULTS)}, ")


def test_fault_set_rejects_names_outside_the_catalog() -> None:
    faults = FaultSet(["usage-zero"])
    assert "usage-zero" in faults and "n-ignored" not in faults
    with pytest.raises(KeyError):
        _ = "usage-zeros" in faults


def message(api: Api, **params: Any) -> dict[str, Any]:
    return api.chat(**params).json()["choices"][0]


def deltas(chunks: list[dict]) -> list[str]:
    return [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]


def probe(text: str, system: str | None = None) -> list[dict[str, Any]]:
    head = [{"role": system, "content": "Reply with exactly one word: kiwi"}] if system else []
    return [*head, {"role": "user", "content": text}]


def bad_key(api: Api) -> httpx.Response:
    return api.chat(headers=BAD_KEY)


def stream_reads(api: Api) -> int:
    """How many separate network reads brought a paced stream's body."""
    with ReferenceServer(faults=api.faults, pace_s=0.03) as server:
        body = {"model": MODEL, "messages": [{"role": "user", "content": "Count from 1 to 5."}]}
        with httpx.stream(
            "POST",
            f"{server.base_url}/chat/completions",
            json={**body, "stream": True},
            headers=AUTH,
            timeout=10,
        ) as response:
            return sum(1 for piece in response.iter_raw() if piece)


def stall_released(api: Api) -> list[str]:
    # Lets a stalled stream end at once, so the in-process client can read what came first.
    api.app.state.settings.closing.set()
    return api.events()


def multi_turn(api: Api) -> str:
    messages = [
        {"role": "user", "content": "Remember: my favourite colour is teal."},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": "What is my favourite colour?"},
    ]
    return api.chat(messages).json()["choices"][0]["message"]["content"]


def invalid_statuses(api: Api) -> tuple[int, ...]:
    user = [{"role": "user", "content": "hi"}]
    bodies = [{"model": MODEL}, {"model": MODEL, "messages": []}, {"model": MODEL, "messages": "x"}]
    statuses = [api.post(body).status_code for body in bodies]
    return (*statuses, api.post_raw(b"{").status_code, api.post({"messages": user}).status_code)


@dataclass(frozen=True)
class Case:
    observe: Callable[[Api], Any]
    faithful: Any
    faulted: Any


CASES: dict[str, Case] = {
    "no-done-sentinel": Case(lambda api: api.events()[-1] == "[DONE]", True, False),
    "chunk-object-wrong": Case(
        lambda api: {c["object"] for c in api.chunks()},
        {"chat.completion.chunk"},
        {"chat.completion"},
    ),
    "first-delta-role-missing": Case(
        lambda api: api.chunks()[0]["choices"][0]["delta"],
        {"role": "assistant", "content": "", "refusal": None},
        {"content": "", "refusal": None},
    ),
    "chunk-id-changes": Case(lambda api: len({c["id"] for c in api.chunks()}), 1, CHUNK_COUNT),
    "finish-reason-nonstandard": Case(
        lambda api: (
            message(api)["finish_reason"],
            api.chunks()[-1]["choices"][0]["finish_reason"],
        ),
        ("stop", "stop"),
        ("end_turn", "end_turn"),
    ),
    "include-usage-ignored": Case(
        lambda api: [
            c.get("usage", "absent") for c in api.chunks(stream_options={"include_usage": True})
        ][-2:],
        [None, USAGE],
        ["absent", "absent"],
    ),
    "cumulative-deltas": Case(
        lambda api: deltas(api.chunks()),
        ["1", " 2", " 3", " 4", " 5"],
        ["1", "1 2", "1 2 3", "1 2 3 4", "1 2 3 4 5"],
    ),
    "stream-ignored": Case(
        lambda api: api.chat(stream=True).headers["content-type"].split(";")[0],
        "text/event-stream",
        "application/json",
    ),
    "http200-error-body": Case(
        lambda api: (bad_key(api).status_code, bad_key(api).json()["error"]["code"]),
        (401, "invalid_api_key"),
        (200, "invalid_api_key"),
    ),
    "flat-error-envelope": Case(
        lambda api: bad_key(api).json(),
        {
            "error": {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        },
        {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        },
    ),
    "auth-not-enforced": Case(
        lambda api: (bad_key(api).status_code, api.chat(headers={}).status_code),
        (401, 401),
        (200, 200),
    ),
    "max-tokens-ignored": Case(
        lambda api: [
            (m["message"]["content"], m["finish_reason"])
            for m in (message(api, max_tokens=2), message(api, max_completion_tokens=2))
        ],
        [("1 2", "length")] * 2,
        [("1 2 3 4 5", "stop")] * 2,
    ),
    "stop-ignored": Case(
        lambda api: message(api, stop=[" 3"])["message"]["content"], "1 2", "1 2 3 4 5"
    ),
    "models-bare-array": Case(
        lambda api: type(api.get("/v1/models").json()).__name__, "dict", "list"
    ),
    "created-in-ms": Case(
        lambda api: (api.chat().json()["created"] > 10**11, api.chunks()[0]["created"] > 10**11),
        (False, False),
        (True, True),
    ),
    "two-json-per-event": Case(
        lambda api: [len(data.split("\n")) for data in api.events()],
        [1] * (CHUNK_COUNT + 1),
        [2, 2, 2, 1, 1],
    ),
    "server-error-on-bad-request": Case(
        lambda api: [
            (r.status_code, r.json()["error"]["type"])
            for r in (api.post_raw(b"{"), api.post({"model": MODEL}), api.chat(temperature="x"))
        ],
        [(400, "invalid_request_error")] * 3,
        [(500, "server_error")] * 3,
    ),
    "usage-total-mismatch": Case(
        lambda api: api.chat().json()["usage"], USAGE, {**USAGE, "total_tokens": 21}
    ),
    "message-role-missing": Case(lambda api: "role" in message(api)["message"], True, False),
    "usage-missing": Case(lambda api: "usage" in api.chat().json(), True, False),
    "usage-zero": Case(lambda api: api.chat().json()["usage"], USAGE, dict.fromkeys(USAGE, 0)),
    "empty-content": Case(
        lambda api: (
            message(api)["message"]["content"],
            api.chat().json()["usage"]["completion_tokens"],
        ),
        ("1 2 3 4 5", 5),
        ("", 0),
    ),
    "system-prompt-dropped": Case(
        lambda api: [
            message(api, messages=probe("Hi", role))["message"]["content"]
            for role in ("system", "developer")
        ],
        ["kiwi", "kiwi"],
        [DEFAULT_ANSWER, DEFAULT_ANSWER],
    ),
    "history-dropped": Case(multi_turn, "teal", UNKNOWN_COLOUR),
    "content-parts-dropped": Case(
        lambda api: message(
            api,
            messages=[{"role": "user", "content": [{"type": "text", "text": "What is 4 + 3?"}]}],
        )["message"]["content"],
        "7",
        DEFAULT_ANSWER,
    ),
    "n-ignored": Case(lambda api: len(api.chat(n=3).json()["choices"]), 3, 1),
    "model-substituted": Case(
        lambda api: (api.chat().json()["model"], {c["model"] for c in api.chunks()}),
        (MODEL, {MODEL}),
        ("gpt-3.5-turbo", {"gpt-3.5-turbo"}),
    ),
    "chunk-choice-index-missing": Case(
        lambda api: {"index" in c["choices"][0] for c in api.chunks()}, {True}, {False}
    ),
    "pseudo-streaming": Case(lambda api: stream_reads(api) > 1, True, False),
    "stream-error-event": Case(
        lambda api: [
            json.loads(d).get("error", {}).get("message") if d != "[DONE]" else d
            for d in api.events()
        ][-3:],
        [None, None, "[DONE]"],
        [None, "upstream connection reset", "[DONE]"],
    ),
    "service-tier-vendor": Case(
        lambda api: (
            api.chat().json().get("service_tier"),
            {c.get("service_tier") for c in api.chunks()},
        ),
        (None, {None}),
        ("on_demand", {"on_demand"}),
    ),
    "stream-truncated": Case(
        lambda api: (
            "[DONE]" in api.events(),
            [c["choices"][0]["finish_reason"] for c in api.chunks()][-1],
        ),
        (True, "stop"),
        (False, None),
    ),
    "stream-stalls": Case(
        lambda api: (len(stall_released(api)), "[DONE]" in api.events()),
        (CHUNK_COUNT + 1, True),
        (4, False),
    ),
    "auth-status-403": Case(
        lambda api: (bad_key(api).status_code, api.chat(headers={}).status_code),
        (401, 401),
        (403, 403),
    ),
    "error-fields-missing": Case(
        lambda api: set(bad_key(api).json()["error"]),
        {"message", "type", "param", "code"},
        {"message", "type"},
    ),
    "error-content-type-text": Case(
        lambda api: (
            bad_key(api).headers["content-type"].split(";")[0],
            bad_key(api).json()["error"]["code"],
        ),
        ("application/json", "invalid_api_key"),
        ("text/plain", "invalid_api_key"),
    ),
    "unknown-model-fallback": Case(
        lambda api: (
            api.chat(model="gpt-nope").status_code,
            api.chat(model="gpt-nope").json().get("model"),
        ),
        (404, None),
        (200, MODEL),
    ),
    "lenient-validation": Case(
        invalid_statuses, (400, 400, 400, 400, 400), (200, 200, 200, 400, 400)
    ),
    "models-list-incomplete": Case(
        lambda api: (
            [m["id"] for m in api.get("/v1/models").json()["data"]],
            api.chat().status_code,
        ),
        ([MODEL, f"{MODEL}-reasoning", EMBEDDING_MODEL], 200),
        (["other-model-1"], 200),
    ),
    "html-instead-of-json": Case(
        lambda api: (api.chat().status_code, api.chat().headers["content-type"].split(";")[0]),
        (200, "application/json"),
        (200, "text/html"),
    ),
    "chunk-finish-reason-absent": Case(
        lambda api: ["finish_reason" in c["choices"][0] for c in api.chunks()],
        [True] * CHUNK_COUNT,
        [False] * (CHUNK_COUNT - 1) + [True],
    ),
    "refusal-logprobs-absent": Case(
        lambda api: (sorted(message(api)), sorted(message(api)["message"])),
        (["finish_reason", "index", "logprobs", "message"], ["content", "refusal", "role"]),
        (["finish_reason", "index", "message"], ["content", "role"]),
    ),
    "optional-fields-null": Case(
        lambda api: (
            api.chat().json()["system_fingerprint"],
            [message(api)["message"].get(k, "absent") for k in ("tool_calls", "function_call")],
            {c["system_fingerprint"] for c in api.chunks()},
            [
                api.chunks()[1]["choices"][0]["delta"].get(k, "absent")
                for k in ("tool_calls", "function_call")
            ],
        ),
        ("fp_reference", ["absent", "absent"], {"fp_reference"}, ["absent", "absent"]),
        (None, [None, None], {None}, [None, None]),
    ),
    "model-fields-missing": Case(
        lambda api: sorted(api.get("/v1/models").json()["data"][0]),
        ["created", "id", "object", "owned_by"],
        ["id", "object"],
    ),
    "error-code-integer": Case(
        lambda api: bad_key(api).json()["error"]["code"], "invalid_api_key", 401
    ),
    "stream-cut-short": Case(
        lambda api: (
            len(
                "".join(
                    c["choices"][0]["delta"].get("content") or ""
                    for c in api.chunks([{"role": "user", "content": "Count from 1 to 30."}])
                ).split()
            ),
            api.events()[-1],
        ),
        (30, "[DONE]"),
        (5, "[DONE]"),
    ),
    "tool-stream-first-call-only": Case(
        lambda api: (
            sorted({item.get("index") for item in stream_items(api, "two_cities")}),
            len(message_calls(api, "two_cities")),
        ),
        ([0, 1], 2),
        ([0], 2),
    ),
    "developer-message-crash": Case(
        lambda api: (
            api.chat([{"role": "developer", "content": "Be brief."}, *COUNT_TO_5]).status_code,
            api.chat([{"role": "system", "content": "Be brief."}, *COUNT_TO_5]).status_code,
        ),
        (200, 200),
        (500, 200),
    ),
    "fixed-answer": Case(
        lambda api: (
            message(api)["message"]["content"],
            len(message_calls(api, "weather")),
            len(message_calls(api, "weather", tool_choice="required")),
        ),
        ("1 2 3 4 5", 1, 1),
        (FIXED_ANSWER, 0, 1),
    ),
    "chat-refused-400": Case(
        lambda api: (api.chat().status_code, api.get("/v1/models").status_code),
        (200, 200),
        (400, 200),
    ),
    "chat-route-404": Case(
        lambda api: (api.chat().status_code, api.get("/v1/models").status_code),
        (200, 200),
        (404, 200),
    ),
    "max-completion-tokens-runaway": Case(
        lambda api: (
            len(
                api.chat(max_completion_tokens=3).json()["choices"][0]["message"]["content"].split()
            ),
            len(api.chat(max_tokens=3).json()["choices"][0]["message"]["content"].split()),
        ),
        (3, 3),
        (RUNAWAY_WORDS, 3),
    ),
    "logprobs-positive": Case(
        lambda api: (
            max(
                entry["logprob"]
                for entry in message(api, logprobs=True, top_logprobs=2)["logprobs"]["content"]
            )
            <= 0
        ),
        True,
        False,
    ),
    **{name: Case(*effect) for name, effect in VISION_WIRE_EFFECTS.items()},
    **{name: Case(*effect) for name, effect in STRUCTURED_WIRE_EFFECTS.items()},
    **{name: Case(*effect) for name, effect in REASONING_WIRE_EFFECTS.items()},
    **{name: Case(*effect) for name, effect in TOOL_WIRE_EFFECTS.items()},
    **{name: Case(*effect) for name, effect in KEY_ECHO_WIRE_EFFECTS.items()},
    **{name: Case(*effect) for name, effect in ANTHROPIC_WIRE_EFFECTS.items()},
    **{name: Case(*effect) for name, effect in TRANSPORT_WIRE_EFFECTS.items()},
    **{name: Case(*effect) for name, effect in USAGE_WIRE_EFFECTS.items()},
    **{name: Case(*effect) for name, effect in EMBEDDINGS_WIRE_EFFECTS.items()},
}


def test_every_fault_has_a_wire_case() -> None:
    assert set(CASES) == set(FAULTS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fault_shows_on_the_wire_and_only_under_the_fault(name: str) -> None:
    """One observation, two values: proves the fault shows, and is absent when off."""
    case = CASES[name]
    assert case.faithful != case.faulted
    assert case.observe(Api()) == case.faithful
    assert case.observe(Api(name)) == case.faulted


def test_lenient_validation_answers_with_the_default() -> None:
    body = Api("lenient-validation").post({"model": MODEL, "messages": "x"}).json()
    assert body["choices"][0]["message"]["content"] == DEFAULT_ANSWER


def test_html_body_is_the_nginx_page() -> None:
    assert "Welcome to nginx!" in Api("html-instead-of-json").chat().text


def test_stream_error_event_is_the_error_envelope() -> None:
    events = Api("stream-error-event").events()
    assert json.loads(events[-2]) == {
        "error": {
            "message": "upstream connection reset",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    assert [json.loads(e)["choices"][0]["delta"].get("content") for e in events[1:4]] == [
        "1",
        " 2",
        " 3",
    ]


def test_error_faults_combine() -> None:
    api = Api("flat-error-envelope", "error-fields-missing", "http200-error-body")
    response = api.chat(headers=BAD_KEY)
    assert response.status_code == 200
    assert response.json() == {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
    }


def test_stream_faults_combine() -> None:
    events = Api("two-json-per-event", "no-done-sentinel", "chunk-object-wrong").events()
    documents = [json.loads(line) for data in events for line in data.split("\n")]
    assert len(events) == 4 and len(documents) == CHUNK_COUNT
    assert {d["object"] for d in documents} == {"chat.completion"}


def test_raw_pair_framing() -> None:
    body = Api("two-json-per-event").chat(stream=True).text
    assert body.startswith("data: {") and "}\ndata: {" in body
    assert event_data(body)[-1] == "[DONE]"
