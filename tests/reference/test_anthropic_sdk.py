"""The official anthropic SDK against the reference provider on loopback: the outside check
that the reference speaks the Messages API as Anthropic's own client expects it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from chatconform.dialects.openai.requests import function_tools
from chatconform.images import picture, question
from chatconform.paths import FIXTURES_DIR
from chatconform.reference import ReferenceServer
from chatconform.tool_probes import tool_probe

MODEL = "reference-1"
COUNT = [{"role": "user", "content": "Count from 1 to 5."}]
THINKING = {"type": "enabled", "budget_tokens": 1024}
DOCUMENTS_DIR = FIXTURES_DIR / "documents"


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(pace_s=0.001) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: ReferenceServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=server.root_url, api_key=server.api_key, max_retries=0, timeout=10
    )


def tools(probe: str) -> list[dict[str, Any]]:
    return [
        {
            "name": d["function"]["name"],
            "description": d["function"]["description"],
            "input_schema": d["function"]["parameters"],
        }
        for d in function_tools(tool_probe(probe))
    ]


def text_of(message: anthropic.types.Message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


def blocks(message: anthropic.types.Message) -> list[dict[str, Any]]:
    """The content as plain data; tool_use ids (new on every answer) left out."""
    return [
        {k: v for k, v in block.model_dump(exclude_none=True).items() if k != "id"}
        for block in message.content
    ]


def test_create_text(client: anthropic.Anthropic) -> None:
    message = client.messages.create(model=MODEL, max_tokens=100, messages=COUNT)
    assert isinstance(message, anthropic.types.Message)
    assert message.id.startswith("msg_") and message.model == MODEL
    assert text_of(message) == "1 2 3 4 5"
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    assert (message.usage.input_tokens, message.usage.output_tokens) == (9, 5)


def test_system_blocks(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=20,
        system=[
            {"type": "text", "text": "You are terse."},
            {
                "type": "text",
                "text": "Reply with exactly one word: kiwi",
                "cache_control": {"type": "ephemeral"},
            },
        ],
        messages=[{"role": "user", "content": "Hello there."}],
        metadata={"user_id": "user-1"},
    )
    assert text_of(message) == "kiwi"


def test_stop_sequences_and_max_tokens(client: anthropic.Anthropic) -> None:
    stopped = client.messages.create(
        model=MODEL, max_tokens=100, messages=COUNT, stop_sequences=["x", " 3"]
    )
    assert (text_of(stopped), stopped.stop_reason, stopped.stop_sequence) == (
        "1 2",
        "stop_sequence",
        " 3",
    )
    cut = client.messages.create(model=MODEL, max_tokens=2, messages=COUNT)
    assert (text_of(cut), cut.stop_reason, cut.usage.output_tokens) == ("1 2", "max_tokens", 2)


def test_stream_builds_the_same_message(client: anthropic.Anthropic) -> None:
    plain = client.messages.create(model=MODEL, max_tokens=100, messages=COUNT)
    with client.messages.stream(model=MODEL, max_tokens=100, messages=COUNT) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert texts == ["1", " 2", " 3", " 4", " 5"]
    assert blocks(final) == blocks(plain)
    assert (final.stop_reason, final.usage.input_tokens, final.usage.output_tokens) == (
        "end_turn",
        9,
        5,
    )


def test_streamed_tool_input_equals_the_non_streamed_one(client: anthropic.Anthropic) -> None:
    params: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 200,
        "messages": list(tool_probe("two_cities").messages),
        "tools": tools("two_cities"),
    }
    plain = client.messages.create(**params)
    with client.messages.stream(**params) as stream:
        final = stream.get_final_message()
    assert [(b.name, b.input) for b in plain.content if b.type == "tool_use"] == [
        ("get_weather", {"city": "Paris", "unit": "celsius"}),
        ("get_weather", {"city": "Tokyo", "unit": "celsius"}),
    ]
    assert blocks(final) == blocks(plain)
    assert final.stop_reason == plain.stop_reason == "tool_use"


def round_trip(client: anthropic.Anthropic, **params: Any) -> tuple[Any, Any]:
    """A tool loop: the question, the answer with tool_use, then the results sent back."""
    probe = tool_probe("round_trip")
    common: dict[str, Any] = {"model": MODEL, "tools": tools("round_trip"), **params}
    asked = client.messages.create(messages=list(probe.messages), **common)
    results = [
        {"type": "tool_result", "tool_use_id": block.id, "content": json.dumps(probe.result)}
        for block in asked.content
        if block.type == "tool_use"
    ]
    turns = [
        *probe.messages,
        {"role": "assistant", "content": asked.content},
        {"role": "user", "content": results},
    ]
    return asked, client.messages.create(messages=turns, **common)


def test_tool_result_round_trip(client: anthropic.Anthropic) -> None:
    asked, answered = round_trip(client, max_tokens=200)
    assert [b.type for b in asked.content] == ["tool_use"]
    assert "17.3" in text_of(answered) and answered.stop_reason == "end_turn"


def test_thinking_signature_is_carried_into_the_next_turn(client: anthropic.Anthropic) -> None:
    asked, answered = round_trip(client, max_tokens=2000, thinking=THINKING)
    assert [b.type for b in asked.content] == ["thinking", "tool_use"]
    assert asked.content[0].thinking and asked.content[0].signature
    assert "17.3" in text_of(answered)
    probe = tool_probe("round_trip")
    with client.messages.stream(
        model=MODEL,
        max_tokens=2000,
        thinking=THINKING,
        tools=tools("round_trip"),
        messages=list(probe.messages),
    ) as stream:
        streamed = stream.get_final_message()
    assert streamed.content[0].signature == asked.content[0].signature
    forged = asked.content[0].model_copy(update={"thinking": "Something else."})
    turns = [
        *probe.messages,
        {"role": "assistant", "content": [forged, *asked.content[1:]]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": asked.content[1].id, "content": "17.3"}
            ],
        },
    ]
    with pytest.raises(anthropic.BadRequestError, match="Invalid `signature`"):
        client.messages.create(
            model=MODEL,
            max_tokens=2000,
            thinking=THINKING,
            tools=tools("round_trip"),
            messages=turns,
        )


def test_base64_image(client: anthropic.Anthropic) -> None:
    file = picture("red-circle").file("jpeg")
    source = {
        "type": "base64",
        "media_type": file.media_type,
        "data": base64.b64encode(file.read()).decode(),
    }
    message = client.messages.create(
        model=MODEL,
        max_tokens=20,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": source},
                    {"type": "text", "text": question("shape-colour").text},
                ],
            }
        ],
    )
    assert text_of(message) == "Red."


def test_pdf_document(client: anthropic.Anthropic) -> None:
    (name, entry), *_ = json.loads((DOCUMENTS_DIR / "manifest.json").read_text()).items()
    data = base64.b64encode((DOCUMENTS_DIR / name).read_bytes()).decode()
    content = [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": data},
        },
        {"type": "text", "text": entry["question"]},
    ]
    message = client.messages.create(
        model=MODEL, max_tokens=20, messages=[{"role": "user", "content": content}]
    )
    assert text_of(message) == entry["word"]


def test_count_tokens(client: anthropic.Anthropic) -> None:
    params: dict[str, Any] = {
        "model": MODEL,
        "system": "Be brief.",
        "messages": list(tool_probe("weather").messages),
        "tools": tools("weather"),
    }
    counted = client.messages.count_tokens(**params)
    assert (
        counted.input_tokens == client.messages.create(max_tokens=100, **params).usage.input_tokens
    )


def test_models(client: anthropic.Anthropic) -> None:
    listed = list(client.models.list())
    assert [m.id for m in listed] == [MODEL]
    assert listed[0].type == "model" and listed[0].display_name
    assert client.models.retrieve(MODEL).created_at.year == 2025


def test_auth_token_is_sent_as_bearer(
    server: ReferenceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    bearer = anthropic.Anthropic(
        base_url=server.root_url, auth_token=server.api_key, max_retries=0, timeout=10
    )
    assert (
        text_of(bearer.messages.create(model=MODEL, max_tokens=20, messages=COUNT)) == "1 2 3 4 5"
    )


def test_errors_raise_the_sdk_exceptions(
    server: ReferenceServer, client: anthropic.Anthropic
) -> None:
    wrong = anthropic.Anthropic(base_url=server.root_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as denied:
        wrong.messages.create(model=MODEL, max_tokens=20, messages=COUNT)
    assert denied.value.status_code == 401 and denied.value.request_id
    assert denied.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    }
    with pytest.raises(anthropic.NotFoundError, match="model: claude-nope"):
        client.messages.create(model="claude-nope", max_tokens=20, messages=COUNT)
    with pytest.raises(anthropic.BadRequestError, match="stop_sequences"):
        client.messages.create(model=MODEL, max_tokens=20, messages=COUNT, stop_sequences=[" "])
    with pytest.raises(anthropic.BadRequestError, match="budget_tokens"):
        client.messages.create(model=MODEL, max_tokens=1000, messages=COUNT, thinking=THINKING)
