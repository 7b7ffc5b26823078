"""The Anthropic faults of the HTTP layer seen on the wire: message shapes, errors, keys,
the models list, and the stream's events and delivery."""

from __future__ import annotations

from typing import Any

import httpx
from messages_fault_helpers import Effects, kinds, observed, raw_stream, stream_of
from reference_helpers import AUTH, Api
from test_messages import HEADERS, MODEL, VERSION, Messages, plain_body, streamed_message

from chatconform.reference import ReferenceServer

BAD_KEY = {"x-api-key": "sk-wrong", "anthropic-version": VERSION}
NO_KEY = {"anthropic-version": VERSION}
FULL_MESSAGE = ["content", "id", "model", "role", "stop_reason", "stop_sequence", "type", "usage"]
MODEL_INFO = {
    "type": "model",
    "id": MODEL,
    "display_name": "chatconform reference model",
    "created_at": "2025-01-01T00:00:00Z",
}
MESSAGE_STOP = 'data: {"type":"message_stop"}\n\n'


def shapes(api: Messages) -> tuple[list[str], list[str], list[str]]:
    """The keys of a message, of message_start's message and of message_delta."""
    events = [data for _, data in api.events()]
    return sorted(api.message()), sorted(events[0]["message"]), sorted(events[-2])


def answered_as(api: Messages) -> tuple[int, str, str, str]:
    plain = api.create()
    stream = api.create(stream=True)
    failed = api.create(model="claude-nope")
    return (
        plain.status_code,
        plain.headers["content-type"].split(";")[0],
        stream.headers["content-type"].split(";")[0],
        failed.headers["content-type"].split(";")[0],
    )


def errors(api: Messages) -> list[tuple[int, Any]]:
    """Status and body of a 401, a 404, a 400 and a models-list 401."""
    responses = [
        api.create(headers=BAD_KEY),
        api.create(model="claude-nope"),
        api.create(temperature=5),
        api.client.get("/v1/models", headers=BAD_KEY),
    ]
    return [(r.status_code, r.json()) for r in responses]


def error_types(api: Messages) -> list[tuple[int, str]]:
    return [(status, body["error"]["type"]) for status, body in errors(api)]


def content_types(api: Messages) -> list[str]:
    responses = [
        api.create(headers=BAD_KEY),
        api.create(model="claude-nope"),
        api.client.get("/v1/models", headers=BAD_KEY),
        api.create(),
    ]
    return [r.headers["content-type"] for r in responses]


def unknown_model(api: Messages) -> tuple[tuple[int, Any], ...]:
    message = api.create(model="claude-nope")
    info = api.client.get("/v1/models/claude-nope", headers=HEADERS)
    return (
        (message.status_code, message.json().get("model") or message.json()["error"]["type"]),
        (info.status_code, info.json().get("id") or info.json()["error"]["type"]),
    )


def malformed(api: Messages) -> list[tuple[int, str]]:
    no_max_tokens = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
    not_json = api.client.post(
        "/v1/messages", content=b"{nope", headers={**HEADERS, "content-type": "application/json"}
    )
    responses = [
        api.post(no_max_tokens),
        not_json,
        api.post({"model": MODEL, "messages": []}, path="/v1/messages/count_tokens"),
        api.create(headers=BAD_KEY),
        api.create(model="claude-nope"),
        api.create(headers={"x-api-key": "sk-reference"}),
    ]
    return [(r.status_code, r.json()["error"]["type"]) for r in responses]


def lax(api: Messages) -> tuple[Any, ...]:
    no_max_tokens = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Count from 1 to 5."}],
    }
    answered = api.post(no_max_tokens)
    counted = api.post({**no_max_tokens, "max_tokens": 5}, path="/v1/messages/count_tokens")
    return (
        answered.status_code,
        answered.json().get("content"),
        api.post({**no_max_tokens, "stream": True}).status_code,
        api.post(plain_body(temperature=5)).status_code,
        api.post(plain_body(max_tokens=0)).status_code,
        counted.status_code,
    )


def keyless(api: Messages) -> tuple[int, ...]:
    count = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
    return (
        api.create(headers=BAD_KEY).status_code,
        api.create(headers=NO_KEY).status_code,
        api.create(headers={**BAD_KEY, "x-api-key": ""}).status_code,
        api.post(count, headers=NO_KEY, path="/v1/messages/count_tokens").status_code,
        api.client.get("/v1/models", headers=NO_KEY).status_code,
        api.create(headers={"x-api-key": "sk-wrong"}).status_code,
    )


def models(api: Messages) -> tuple[int, Any]:
    listed = api.client.get("/v1/models", headers=HEADERS)
    return listed.status_code, listed.json()


def models_and_openai(api: Messages) -> tuple[tuple[int, Any], int, int]:
    info = api.client.get(f"/v1/models/{MODEL}", headers=HEADERS).status_code
    return models(api), info, api.client.get("/v1/models", headers=AUTH).status_code


def stream_reads(api: Api) -> tuple[bool, bool]:
    """Whether a paced stream came in several reads, and with a Content-Length."""
    with (
        ReferenceServer(faults=api.faults, pace_s=0.03) as server,
        httpx.stream(
            "POST",
            f"{server.root_url}/v1/messages",
            json=plain_body(stream=True),
            headers=HEADERS,
            timeout=10,
        ) as response,
    ):
        reads = [piece for piece in response.iter_raw() if piece]
        assert b"".join(reads).endswith(MESSAGE_STOP.encode())
        return len(reads) > 1, "content-length" in response.headers


def frames_of(api: Messages) -> list[str]:
    """The frames of a stream as sent, unparsed (a ``[DONE]`` is no JSON)."""
    body = raw_stream(api)
    assert body.endswith("\n\n")
    return body.split("\n\n")[:-1]


def extra_block(api: Messages) -> tuple[list[int], list[dict[str, Any]], int]:
    events = api.events()
    starts = [d["index"] for _, d in events if d["type"] == "content_block_start"]
    stops = [d["index"] for _, d in events if d["type"] == "content_block_stop"]
    assert starts == stops
    return starts, streamed_message(events)["content"], len(api.message()["content"])


WIRE_EFFECTS: Effects = {
    # --- the message object ---
    "anthropic-usage-missing": (
        observed(lambda api: ["usage" in keys for keys in shapes(api)]),
        [True, True, True],
        [False, True, True],
    ),
    "anthropic-message-fields-missing": (
        observed(lambda api: shapes(api)[:2]),
        (FULL_MESSAGE, FULL_MESSAGE),
        ([k for k in FULL_MESSAGE if k not in ("role", "type")], FULL_MESSAGE),
    ),
    "anthropic-html-body": (
        observed(lambda api: (answered_as(api), api.create().text[:6])),
        ((200, "application/json", "text/event-stream", "application/json"), '{"id":'),
        ((200, "text/html", "text/event-stream", "application/json"), "<html>"),
    ),
    # --- errors, auth, models ---
    "anthropic-error-type-wrong": (
        observed(error_types),
        [
            (401, "authentication_error"),
            (404, "not_found_error"),
            (400, "invalid_request_error"),
            (401, "authentication_error"),
        ],
        [
            (401, "invalid_request_error"),
            (404, "invalid_request_error"),
            (400, "invalid_request_error"),
            (401, "invalid_request_error"),
        ],
    ),
    "anthropic-unknown-model-400": (
        observed(unknown_model),
        ((404, "not_found_error"), (404, "not_found_error")),
        ((400, "invalid_request_error"), (400, "invalid_request_error")),
    ),
    "anthropic-error-text-plain": (
        observed(lambda api: (content_types(api), [body["type"] for _, body in errors(api)])),
        (["application/json"] * 4, ["error"] * 4),
        (["text/plain; charset=utf-8"] * 3 + ["application/json"], ["error"] * 4),
    ),
    "anthropic-error-http200": (
        observed(lambda api: [(status, body["type"]) for status, body in errors(api)]),
        [(401, "error"), (404, "error"), (400, "error"), (401, "error")],
        [(200, "error")] * 4,
    ),
    "anthropic-malformed-500": (
        observed(malformed),
        [
            (400, "invalid_request_error"),
            (400, "invalid_request_error"),
            (400, "invalid_request_error"),
            (401, "authentication_error"),
            (404, "not_found_error"),
            (400, "invalid_request_error"),
        ],
        [
            (500, "api_error"),
            (500, "api_error"),
            (500, "api_error"),
            (401, "authentication_error"),
            (404, "not_found_error"),
            (400, "invalid_request_error"),
        ],
    ),
    "anthropic-validation-lax": (
        observed(lax),
        (400, None, 400, 400, 400, 400),
        (200, [{"type": "text", "text": "1 2 3 4 5"}], 200, 400, 400, 400),
    ),
    "anthropic-unknown-model-served": (
        observed(unknown_model),
        ((404, "not_found_error"), (404, "not_found_error")),
        ((200, "claude-nope"), (200, "claude-nope")),
    ),
    "anthropic-auth-not-enforced": (
        observed(keyless),
        (401, 401, 401, 401, 401, 401),
        (200, 200, 200, 200, 200, 400),
    ),
    "anthropic-models-openai-shape": (
        observed(models),
        (200, {"data": [MODEL_INFO], "has_more": False, "first_id": MODEL, "last_id": MODEL}),
        (
            200,
            {
                "object": "list",
                "data": [
                    {
                        "id": MODEL,
                        "object": "model",
                        "created": 1735689600,
                        "owned_by": "chatconform",
                    }
                ],
            },
        ),
    ),
    "anthropic-models-list-incomplete": (
        observed(lambda api: [m["id"] for m in models(api)[1]["data"]]),
        [MODEL],
        ["other-model-1"],
    ),
    "anthropic-models-404": (
        observed(models_and_openai),
        (
            (200, {"data": [MODEL_INFO], "has_more": False, "first_id": MODEL, "last_id": MODEL}),
            200,
            200,
        ),
        (
            (404, {"type": "error", "error": {"type": "not_found_error", "message": "Not Found"}}),
            404,
            200,
        ),
    ),
    # --- streams ---
    "anthropic-events-after-stop": (
        observed(lambda api: kinds(api)[-3:]),
        ["content_block_stop", "message_delta", "message_stop"],
        ["message_delta", "message_stop", "message_delta"],
    ),
    "anthropic-delta-null-absent": (
        observed(lambda api: sorted(api.events()[-2][1]["delta"])),
        ["stop_reason", "stop_sequence"],
        ["stop_reason"],
    ),
    "anthropic-output-tokens-missing": (
        observed(
            lambda api: (api.events()[-2][1].get("usage"), api.message()["usage"]["output_tokens"])
        ),
        ({"output_tokens": 5}, 5),
        (None, 5),
    ),
    "anthropic-overloaded-mid-stream": (
        observed(lambda api: [(name, data["type"]) for name, data in stream_of(api)][-3:]),
        [
            ("content_block_stop", "content_block_stop"),
            ("message_delta", "message_delta"),
            ("message_stop", "message_stop"),
        ],
        [("ping", "ping"), ("content_block_delta", "content_block_delta"), ("error", "error")],
    ),
    "anthropic-done-sentinel": (
        observed(lambda api: [frame.split("\n")[0] for frame in frames_of(api)][-2:]),
        ["event: message_delta", "event: message_stop"],
        ["event: message_stop", "data: [DONE]"],
    ),
    "anthropic-stream-buffered": (stream_reads, (True, False), (False, True)),
    "anthropic-stream-extra-block": (
        observed(extra_block),
        ([0], [{"type": "text", "text": "1 2 3 4 5"}], 1),
        ([0, 1], [{"type": "text", "text": ""}, {"type": "text", "text": "1 2 3 4 5"}], 1),
    ),
}
