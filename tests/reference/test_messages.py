"""The faithful reference provider speaks Anthropic's Messages API: shapes, streams, errors."""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from reference_helpers import AUTH, MODEL, Api

from chatconform.dialects.openai.requests import function_tools
from chatconform.fixture_server import FixtureServer
from chatconform.images import manifest, picture, question
from chatconform.paths import FIXTURES_DIR
from chatconform.reference import ReferenceServer, create_app
from chatconform.reference.model import UNKNOWN_CODE_WORD
from chatconform.tool_probes import tool_probe

VERSION = "2023-06-01"
HEADERS = {"x-api-key": "sk-reference", "anthropic-version": VERSION}
COUNT = [{"role": "user", "content": "Count from 1 to 5."}]
MESSAGE_ID = re.compile(r"msg_[A-Za-z0-9]{24}")
TOOL_USE_ID = re.compile(r"toolu_[A-Za-z0-9]{24}")
REQUEST_ID = re.compile(r"req_[A-Za-z0-9]{24}")
DOCUMENTS_DIR = FIXTURES_DIR / "documents"
COLOUR = question("shape-colour").text
TWO_COLOURS = question("two-colours").text
THINKING = {"type": "enabled", "budget_tokens": 1024}


class Messages:
    """An in-process client for the Messages API of a reference app (``api``: its app)."""

    def __init__(self, api: Api) -> None:
        self.client = api.client

    def post(
        self, body: Any, *, headers: dict[str, str] | None = None, path: str = "/v1/messages"
    ) -> httpx.Response:
        return self.client.post(path, json=body, headers=HEADERS if headers is None else headers)

    def create(
        self,
        messages: list[dict[str, Any]] | None = None,
        *,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> httpx.Response:
        body = {"model": MODEL, "max_tokens": 100, "messages": messages or COUNT, **params}
        return self.post(body, headers=headers)

    def message(self, messages: list[dict[str, Any]] | None = None, **params: Any) -> dict:
        response = self.create(messages, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def events(
        self, messages: list[dict[str, Any]] | None = None, **params: Any
    ) -> list[tuple[str | None, dict]]:
        response = self.create(messages, stream=True, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        return sse_events(response.text)

    def count(self, messages: list[dict[str, Any]] | None = None, **params: Any) -> int:
        body = {"model": MODEL, "messages": messages or COUNT, **params}
        response = self.post(body, path="/v1/messages/count_tokens")
        assert response.status_code == 200, response.text
        return response.json()["input_tokens"]


def messages_api(*faults: str) -> Messages:
    return Messages(Api(*faults))


@pytest.fixture
def api() -> Messages:
    return messages_api()


def sse_events(body: str) -> list[tuple[str | None, dict]]:
    """Each (event name, data) of an LF-framed stream; the name is None without an event line."""
    events = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if line)
        if fields:
            events.append((fields.get("event"), json.loads(fields["data"])))
    return events


def streamed_message(events: list[tuple[str | None, dict]]) -> dict[str, Any]:
    """The message the events build, as an SDK accumulates it (tool input parsed at the end)."""
    message: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for _, data in events:
        kind = data["type"]
        if kind == "message_start":
            message = json.loads(json.dumps(data["message"]))
        elif kind == "content_block_start":
            message["content"].append(dict(data["content_block"]))
        elif kind == "content_block_delta":
            block, delta = message["content"][data["index"]], data["delta"]
            if delta["type"] == "input_json_delta":
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            else:
                field = "text" if delta["type"] == "text_delta" else "thinking"
                block[field] += delta[field]
        elif kind == "message_delta":
            message.update(data["delta"])
            message["usage"].update(data["usage"])
    for index, text in partial.items():
        message["content"][index]["input"] = json.loads(text)
    return message


def anthropic_tools(probe: str) -> list[dict[str, Any]]:
    """A tool probe's definitions in the Messages API's form."""
    return [
        {
            "name": d["function"]["name"],
            "description": d["function"]["description"],
            "input_schema": d["function"]["parameters"],
        }
        for d in function_tools(tool_probe(probe))
    ]


def ask_tools(api: Messages, probe: str, **params: Any) -> dict[str, Any]:
    return api.message(list(tool_probe(probe).messages), tools=anthropic_tools(probe), **params)


def tool_uses(message: dict[str, Any]) -> list[tuple[str, dict]]:
    return [(b["name"], b["input"]) for b in message["content"] if b["type"] == "tool_use"]


def text_of(message: dict[str, Any]) -> str:
    return "".join(b["text"] for b in message["content"] if b["type"] == "text")


def image(name: str, fmt: str = "png", media_type: str | None = None) -> dict[str, Any]:
    file = picture(name).file(fmt)
    data = base64.b64encode(file.read()).decode()
    source = {"type": "base64", "media_type": media_type or file.media_type, "data": data}
    return {"type": "image", "source": source}


def document(data: bytes, media_type: str = "application/pdf") -> dict[str, Any]:
    source = {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode()}
    return {"type": "document", "source": source}


def asking(*blocks: dict[str, Any], text: str = COLOUR) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [*blocks, {"type": "text", "text": text}]}]


def error(response: httpx.Response, status: int, kind: str = "invalid_request_error") -> str:
    """The message of an error in Anthropic's envelope, after checking the envelope."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert REQUEST_ID.fullmatch(response.headers["request-id"])
    body = response.json()
    assert body == {"type": "error", "error": {"type": kind, "message": body["error"]["message"]}}
    return body["error"]["message"]


def pdf_fixture() -> tuple[bytes, dict[str, str]]:
    (name, entry), *_ = json.loads((DOCUMENTS_DIR / "manifest.json").read_text()).items()
    return (DOCUMENTS_DIR / name).read_bytes(), {"name": name, **entry}


# --- the message object ---


def test_a_message_has_the_official_shape(api: Messages) -> None:
    response = api.create()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert REQUEST_ID.fullmatch(response.headers["request-id"])
    body = response.json()
    assert MESSAGE_ID.fullmatch(body.pop("id"))
    assert body == {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "1 2 3 4 5"}],
        "model": MODEL,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        # "Count from 1 to 5." is 6 words and marks, plus 3 for the message.
        "usage": {
            "input_tokens": 9,
            "output_tokens": 5,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    assert api.message()["id"] != api.message()["id"]


def test_usage_counts_the_prompt_with_its_system_and_tools(api: Messages) -> None:
    plain = api.message()["usage"]["input_tokens"]
    longer = api.message([{"role": "user", "content": "Count from 1 to 5, please, slowly."}])
    with_system = api.message(system="You count.")
    with_tools = api.message(tools=anthropic_tools("weather"))
    assert plain < longer["usage"]["input_tokens"]
    assert with_system["usage"]["input_tokens"] == plain + 3 + 3
    assert with_tools["usage"]["input_tokens"] > plain
    assert api.message(max_tokens=2)["usage"]["output_tokens"] == 2


@pytest.mark.parametrize(
    "system",
    [
        "Reply with exactly one word: kiwi",
        [{"type": "text", "text": "Reply with exactly one word: kiwi"}],
        [
            {"type": "text", "text": "You are terse."},
            {
                "type": "text",
                "text": "Reply with exactly one word: kiwi",
                "cache_control": {"type": "ephemeral"},
            },
        ],
    ],
    ids=["string", "block", "blocks-cached"],
)
def test_the_system_prompt_reaches_the_model(api: Messages, system: Any) -> None:
    assert text_of(api.message([{"role": "user", "content": "Hi"}], system=system)) == "kiwi"


def test_earlier_turns_reach_the_model(api: Messages) -> None:
    turns = [
        {"role": "user", "content": [{"type": "text", "text": "My favourite colour is teal."}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Noted."}]},
        {"role": "user", "content": "What is my favourite colour?"},
    ]
    assert text_of(api.message(turns)) == "teal"


def test_a_final_assistant_message_is_continued(api: Messages) -> None:
    prefill = [*COUNT, {"role": "assistant", "content": "1 2"}]
    assert text_of(api.message(prefill)) == " 3 4 5"


def test_max_tokens_cuts_the_text(api: Messages) -> None:
    body = api.message(max_tokens=3)
    assert (text_of(body), body["stop_reason"], body["usage"]["output_tokens"]) == (
        "1 2 3",
        "max_tokens",
        3,
    )


@pytest.mark.parametrize(
    ("stops", "text", "matched"),
    [([" 3"], "1 2", " 3"), (["4", " 2"], "1", " 2"), (["9"], "1 2 3 4 5", None)],
)
def test_stop_sequences(api: Messages, stops: list[str], text: str, matched: str | None) -> None:
    body = api.message(stop_sequences=stops)
    assert (text_of(body), body["stop_sequence"]) == (text, matched)
    assert body["stop_reason"] == ("stop_sequence" if matched else "end_turn")


def test_sampling_and_metadata_are_accepted(api: Messages) -> None:
    tuned = api.message(temperature=0.2, top_p=0.9, top_k=5, metadata={"user_id": "u-1"})
    assert tuned["content"] == api.message()["content"]
    beta = {**HEADERS, "anthropic-beta": "prompt-caching-2024-07-31"}
    assert api.create(headers=beta).status_code == 200


# --- auth, headers, validation ---


@pytest.mark.parametrize(
    "headers",
    [
        {"x-api-key": "sk-reference"},
        {"Authorization": "Bearer sk-reference"},
        {"authorization": "bearer sk-reference"},
    ],
    ids=["x-api-key", "bearer", "bearer-lowercase"],
)
def test_keys_are_taken_from_x_api_key_or_bearer(api: Messages, headers: dict) -> None:
    assert api.create(headers={**headers, "anthropic-version": VERSION}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": "sk-wrong"}, {"Authorization": "Bearer sk-wrong"}, {"x-api-key": ""}],
    ids=["missing", "wrong-key", "wrong-bearer", "empty"],
)
def test_a_bad_key_is_401(api: Messages, headers: dict) -> None:
    response = api.create(headers={**headers, "anthropic-version": VERSION})
    assert error(response, 401, "authentication_error") == "invalid x-api-key"
    count = api.post({}, headers=headers, path="/v1/messages/count_tokens")
    error(count, 401, "authentication_error")


def test_the_version_header_is_required(api: Messages) -> None:
    message = error(api.create(headers={"x-api-key": "sk-reference"}), 400)
    assert message == "anthropic-version: header is required"


def plain_body(**params: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 100, "messages": COUNT, **params}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"model": MODEL, "messages": COUNT}, "max_tokens: Field required"),
        ({"model": MODEL, "max_tokens": 10}, "messages: Field required"),
        (plain_body(messages=[]), "messages: at least one message is required"),
        (plain_body(messages=[{"role": "system", "content": "x"}]), "messages.0.role: "),
        (
            plain_body(messages=[{"role": "assistant", "content": "x"}]),
            'first message must use the "user" role',
        ),
        (
            plain_body(messages=[{"role": "user", "content": [{"type": "video", "url": "x"}]}]),
            "messages.0.content.0.type: Input tag 'video'",
        ),
        (
            plain_body(messages=[{"role": "user", "content": [{"type": "text"}]}]),
            "messages.0.content.0.text: Field required",
        ),
        (plain_body(temperature=1.5), "temperature: "),
        (plain_body(max_tokens=0), "max_tokens: "),
        (plain_body(stop_sequences=[" "]), "stop_sequences: "),
        (
            plain_body(max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 1000}),
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ),
        (
            plain_body(max_tokens=1024, thinking=THINKING),
            "`max_tokens` must be greater than `thinking.budget_tokens`",
        ),
        (plain_body(top_k="x"), "top_k: "),
        (plain_body(unknown=1), "unknown: Extra inputs are not permitted"),
        (plain_body(tool_choice={"type": "tool", "name": "x"}), "tool_choice.tool.name: "),
        ([1, 2], "JSON object"),
    ],
    ids=[
        "no-max-tokens",
        "no-messages",
        "empty-messages",
        "bad-role",
        "first-assistant",
        "bad-block",
        "block-field-missing",
        "temperature",
        "max-tokens-zero",
        "blank-stop",
        "small-budget",
        "budget-over-max",
        "top-k",
        "unknown-field",
        "unknown-tool",
        "not-object",
    ],
)
def test_invalid_requests_are_400_with_a_clear_message(
    api: Messages, body: Any, words: str
) -> None:
    assert words in error(api.post(body), 400)


def test_a_body_that_is_not_json_is_400(api: Messages) -> None:
    response = api.client.post(
        "/v1/messages", content=b"{nope", headers={**HEADERS, "content-type": "application/json"}
    )
    assert "not valid JSON" in error(response, 400)


def test_an_unknown_model_is_404(api: Messages) -> None:
    assert error(api.create(model="claude-nope"), 404, "not_found_error") == "model: claude-nope"


def test_unknown_routes_and_crashes_use_the_anthropic_envelope(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = messages_api()
    assert error(api.post({}, path="/v1/messages/nothing"), 404, "not_found_error")
    error(api.client.get("/v1/messages", headers=HEADERS), 405)

    def crash(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("chatconform.reference.messages.answer", crash)
    app = create_app(pace_s=0)
    from starlette.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False)
    response = client.post("/v1/messages", json=plain_body(), headers=HEADERS)
    assert error(response, 500, "api_error") == "Internal server error"


# --- images and documents ---


@pytest.mark.parametrize("file", sorted(manifest().files(), key=lambda f: f.file), ids=str)
def test_every_fixture_image_is_seen_inline(api: Messages, file: Any) -> None:
    name = next(p.name for p in manifest().pictures.values() if file in p.files)
    shows = picture(name).shows
    text = question("number").text if "number" in shows else COLOUR
    expected = f"{shows['number']}." if "number" in shows else f"{shows['colour'].capitalize()}."
    assert text_of(api.message(asking(image(name, file.format), text=text))) == expected


def test_images_by_url_and_in_order(api: Messages) -> None:
    with FixtureServer() as images:
        url = images.base_url + picture("red-circle").file("jpeg").file
        by_url = {"type": "image", "source": {"type": "url", "url": url}}
        assert text_of(api.message(asking(by_url))) == "Red."
    two = asking(image("blue-square"), image("green-triangle", "gif"), text=TWO_COLOURS)
    assert text_of(api.message(two)) == "Blue and green."


@pytest.mark.parametrize(
    ("block", "words"),
    [
        (image("red-circle", "png", "image/jpeg"), "appears to be a image/png image"),
        (image("red-circle", "png", "image/bmp"), "media_type: Input should be"),
        (
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "!"}},
            "invalid base64 data",
        ),
        (
            {
                "type": "image",
                "source": {
                    "type": "base64",
                    "media_type": "image/png",
                    "data": base64.b64encode(b"\x89PNG\r\n\x1a\nbroken").decode(),
                },
            },
            "unsupported image",
        ),
    ],
    ids=["type-mismatch", "type-unknown", "bad-base64", "undecodable"],
)
def test_unusable_images_are_400(api: Messages, block: dict, words: str) -> None:
    assert words in error(api.create(asking(block)), 400)


def camera_turns(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    use = {"type": "tool_use", "id": "toolu_1", "name": "take_photo", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": content}
    return [
        {"role": "user", "content": "Take a photo. " + COLOUR},
        {"role": "assistant", "content": [use]},
        {"role": "user", "content": [result]},
    ]


CAMERA = [
    {
        "name": "take_photo",
        "description": "Take a photo with the camera.",
        "input_schema": {"type": "object", "properties": {}},
    }
]


def test_an_image_inside_a_tool_result_is_seen(api: Messages) -> None:
    turns = camera_turns([image("green-triangle", "webp")])
    assert text_of(api.message(turns, tools=CAMERA)) == "Green."


def test_a_pdf_document_is_read(api: Messages) -> None:
    data, entry = pdf_fixture()
    body = api.message(asking(document(data), text=entry["question"]))
    assert text_of(body) == entry["word"]
    # The document's text is part of the prompt.
    assert body["usage"]["input_tokens"] > api.count(asking(text=entry["question"])) + 5
    assert text_of(api.message(asking(text=entry["question"]))) == UNKNOWN_CODE_WORD


@pytest.fixture(scope="module")
def documents_url() -> Iterator[str]:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(DOCUMENTS_DIR))
    handler.log_message = lambda *_: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_document_by_url_and_a_text_document(api: Messages, documents_url: str) -> None:
    _, entry = pdf_fixture()
    by_url = {"type": "document", "source": {"type": "url", "url": documents_url + entry["name"]}}
    assert text_of(api.message(asking(by_url, text=entry["question"]))) == entry["word"]
    source = {"type": "text", "media_type": "text/plain", "data": "The code word is OTTER."}
    plain = {"type": "document", "source": source, "title": "Memo"}
    assert text_of(api.message(asking(plain, text=entry["question"]))) == "OTTER"
    missing = {"type": "document", "source": {"type": "url", "url": documents_url + "none.pdf"}}
    assert "Unable to download" in error(api.create(asking(missing)), 400)


def test_a_document_that_is_not_a_pdf_is_400(api: Messages) -> None:
    png = picture("red-circle").file("png").read()
    assert "The PDF specified was not valid." in error(api.create(asking(document(png))), 400)
    text = document(b"hello", "text/plain")
    assert "media_type: Input should be 'application/pdf'" in error(api.create(asking(text)), 400)


# --- tools ---


@pytest.mark.parametrize(
    ("probe", "calls"),
    [
        ("weather", [("get_weather", {"city": "Paris", "unit": "celsius"})]),
        ("current_time", [("get_current_time", {})]),
        (
            "two_cities",
            [
                ("get_weather", {"city": "Paris", "unit": "celsius"}),
                ("get_weather", {"city": "Tokyo", "unit": "celsius"}),
            ],
        ),
    ],
)
def test_tool_use_blocks(api: Messages, probe: str, calls: list) -> None:
    body = ask_tools(api, probe)
    assert tool_uses(body) == calls and body["stop_reason"] == "tool_use"
    assert [b["type"] for b in body["content"]] == ["tool_use"] * len(calls)
    assert all(TOOL_USE_ID.fullmatch(b["id"]) for b in body["content"])


@pytest.mark.parametrize(
    ("choice", "names"),
    [
        ({"type": "none"}, []),
        ({"type": "auto", "disable_parallel_tool_use": True}, ["get_weather"]),
        ({"type": "any"}, ["get_weather", "get_weather"]),
    ],
)
def test_tool_choice(api: Messages, choice: dict, names: list[str]) -> None:
    body = ask_tools(api, "two_cities", tool_choice=choice)
    assert [name for name, _ in tool_uses(body)] == names
    assert body["stop_reason"] == ("tool_use" if names else "end_turn")


def test_a_tool_named_in_tool_choice_is_the_one_called(api: Messages) -> None:
    body = ask_tools(api, "weather", tool_choice={"type": "tool", "name": "get_current_time"})
    assert tool_uses(body) == [("get_current_time", {})]
    assert body["stop_reason"] == "tool_use"


def weather_turns(*results: dict[str, Any]) -> list[dict[str, Any]]:
    probe = tool_probe("round_trip")
    use = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
    return [
        *probe.messages,
        {"role": "assistant", "content": [{"type": "text", "text": "Let me look."}, use]},
        {"role": "user", "content": list(results)},
    ]


@pytest.mark.parametrize(
    "content",
    [
        json.dumps(tool_probe("round_trip").result),
        [{"type": "text", "text": json.dumps(tool_probe("round_trip").result)}],
    ],
    ids=["string", "blocks"],
)
def test_a_tool_result_is_used(api: Messages, content: Any) -> None:
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": content}
    body = api.message(weather_turns(result), tools=anthropic_tools("round_trip"))
    assert "17.3" in text_of(body) and body["stop_reason"] == "end_turn"
    failed = {**result, "content": "weather service down", "is_error": True}
    failed_body = api.message(weather_turns(failed), tools=anthropic_tools("round_trip"))
    assert "weather service down" in text_of(failed_body)


def test_tool_results_that_do_not_fit_are_400(api: Messages) -> None:
    tools = anthropic_tools("round_trip")
    words = "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1"
    no_result = weather_turns({"type": "text", "text": "Go on."})
    assert words in error(api.create(no_result, tools=tools), 400)
    answered = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "x"}
    stray = {**answered, "tool_use_id": "toolu_9"}
    message = error(api.create(weather_turns(answered, stray), tools=tools), 400)
    assert "unexpected `tool_use_id` found in `tool_result` blocks: toolu_9" in message


# --- thinking ---


def test_thinking_comes_first_and_is_signed(api: Messages) -> None:
    body = api.message(max_tokens=2000, thinking=THINKING)
    thinking, text = body["content"]
    assert thinking["type"] == "thinking" and thinking["thinking"]
    assert base64.b64decode(thinking["signature"], validate=True)
    assert text == {"type": "text", "text": "1 2 3 4 5"}
    assert body["usage"]["output_tokens"] == 5 + len(thinking["thinking"].split())


def thinking_loop(api: Messages, first: dict[str, Any] | None = None) -> httpx.Response:
    """The turn after a tool call made with thinking on, sending back ``first`` (default: the
    answer's own blocks)."""
    tools = anthropic_tools("round_trip")
    question = list(tool_probe("round_trip").messages)
    asked = api.message(question, tools=tools, max_tokens=2000, thinking=THINKING)
    blocks = asked["content"] if first is None else [first, *asked["content"][1:]]
    results = [
        {"type": "tool_result", "tool_use_id": b["id"], "content": '{"temperature": 17.3}'}
        for b in asked["content"]
        if b["type"] == "tool_use"
    ]
    turns = [
        *question,
        {"role": "assistant", "content": blocks},
        {"role": "user", "content": results},
    ]
    return api.create(turns, tools=tools, max_tokens=2000, thinking=THINKING)


def test_signed_thinking_is_taken_back_and_forged_thinking_is_not(api: Messages) -> None:
    answer = thinking_loop(api)
    assert answer.status_code == 200, answer.text
    assert "17.3" in text_of(answer.json())
    forged = {"type": "thinking", "thinking": "I made this up.", "signature": "c2lnbmVk"}
    assert "Invalid `signature` in `thinking` block" in error(thinking_loop(api, forged), 400)
    redacted = {"type": "redacted_thinking", "data": "b3BhcXVl"}
    assert thinking_loop(api, redacted).status_code == 200
    plain = {"type": "text", "text": "Let me check."}
    words = "Expected `thinking` or `redacted_thinking`, but found `text`"
    assert words in error(thinking_loop(api, plain), 400)


def test_thinking_is_signed_per_server() -> None:
    first, second = messages_api(), messages_api()
    block = first.message(max_tokens=2000, thinking=THINKING)["content"][0]
    turns = [*COUNT, {"role": "assistant", "content": [block, {"type": "text", "text": "1"}]}]
    turns.append({"role": "user", "content": "Count from 1 to 5."})
    assert first.create(turns).status_code == 200
    assert second.create(turns).status_code == 400


# --- streams ---


def test_a_stream_has_the_official_event_sequence(api: Messages) -> None:
    events = api.events()
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 5,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(name == data["type"] for name, data in events)
    start = events[0][1]["message"]
    assert MESSAGE_ID.fullmatch(start.pop("id"))
    assert start == {
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": MODEL,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 9,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    assert events[1][1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    assert [d["delta"] for _, d in events[3:8]] == [
        {"type": "text_delta", "text": t} for t in ["1", " 2", " 3", " 4", " 5"]
    ]
    assert events[-2][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 5},
    }


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"stop_sequences": [" 4"]},
        {"max_tokens": 2},
        {"max_tokens": 2000, "thinking": THINKING},
    ],
    ids=["plain", "stop", "max-tokens", "thinking"],
)
def test_a_stream_builds_the_non_streamed_message(api: Messages, params: dict) -> None:
    streamed = streamed_message(api.events(**params))
    plain = api.message(**params)
    for body in (streamed, plain):
        del body["id"]
    assert streamed == plain


def test_streamed_tool_input_joins_to_the_input(api: Messages) -> None:
    probe = tool_probe("two_cities")
    events = api.events(list(probe.messages), tools=anthropic_tools("two_cities"))
    message = streamed_message(events)
    assert [(b["name"], b["input"]) for b in message["content"]] == tool_uses(
        ask_tools(api, "two_cities")
    )
    starts = [d["content_block"] for _, d in events if d["type"] == "content_block_start"]
    assert [s["input"] for s in starts] == [{}, {}]
    fragments = [
        d["delta"]["partial_json"] for _, d in events if d["type"] == "content_block_delta"
    ]
    assert len(fragments) > 4
    assert message["stop_reason"] == "tool_use"


def test_a_thinking_block_streams_its_signature_last(api: Messages) -> None:
    events = api.events(max_tokens=2000, thinking=THINKING)
    block = [d for _, d in events if d.get("index") == 0]
    assert block[0]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    kinds = [d["delta"]["type"] for d in block[1:-1]]
    assert kinds[-1] == "signature_delta" and set(kinds[:-1]) == {"thinking_delta"}
    assert block[-1] == {"type": "content_block_stop", "index": 0}


def test_a_stream_is_paced_on_loopback() -> None:
    body = plain_body(stream=True)
    with ReferenceServer(pace_s=0.05) as server:
        reads = []
        with httpx.stream(
            "POST", f"{server.root_url}/v1/messages", json=body, headers=HEADERS, timeout=10
        ) as response:
            assert REQUEST_ID.fullmatch(response.headers["request-id"])
            reads = [piece for piece in response.iter_raw() if piece]
    assert len(reads) > 3 and b"".join(reads).endswith(b'data: {"type":"message_stop"}\n\n')


# --- count_tokens and models ---


def test_count_tokens_is_the_message_input_tokens(api: Messages) -> None:
    params = {"system": "Be brief.", "tools": anthropic_tools("weather")}
    turns = list(tool_probe("weather").messages)
    counted = api.count(turns, **params)
    assert counted == api.message(turns, **params)["usage"]["input_tokens"]
    assert counted > api.count(turns)
    extra = {"model": MODEL, "messages": COUNT, "max_tokens": 5}
    assert "max_tokens: Extra inputs" in error(
        api.post(extra, path="/v1/messages/count_tokens"), 400
    )


def test_models_in_the_dialect_of_the_request(api: Messages) -> None:
    listed = api.client.get("/v1/models", headers=HEADERS)
    assert REQUEST_ID.fullmatch(listed.headers["request-id"])
    info = {
        "type": "model",
        "id": MODEL,
        "display_name": "chatconform reference model",
        "created_at": "2025-01-01T00:00:00Z",
    }
    assert listed.json() == {"data": [info], "has_more": False, "first_id": MODEL, "last_id": MODEL}
    assert api.client.get(f"/v1/models/{MODEL}", headers=HEADERS).json() == info
    missing = api.client.get("/v1/models/claude-nope", headers=HEADERS)
    assert error(missing, 404, "not_found_error") == "model: claude-nope"
    openai = api.client.get("/v1/models", headers=AUTH).json()
    assert openai["object"] == "list" and openai["data"][0]["object"] == "model"


def test_root_url_is_the_base_url_without_v1() -> None:
    with ReferenceServer() as server:
        assert server.base_url == server.root_url + "/v1"
    with pytest.raises(RuntimeError):
        _ = server.root_url
