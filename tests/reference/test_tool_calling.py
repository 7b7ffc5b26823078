"""The reference provider's tool calling: which calls it makes, their wire form, the round trip."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from reference_helpers import Api
from tool_helpers import (
    ask,
    message_calls,
    round_trip_answer,
    stream_chunks,
    stream_items,
    streamed_arguments,
)

from chatconform.dialects.openai.requests import tool_chat_body
from chatconform.reference.tools import fill
from chatconform.tool_probes import tool, tool_probe

CALL_ID = re.compile(r"call_[A-Za-z0-9]{24}")


def called_raw(choice: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (c["function"]["name"], c["function"]["arguments"]) for c in choice["message"]["tool_calls"]
    ]


def called(calls: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls]


@pytest.mark.parametrize(
    ("probe", "calls"),
    [
        ("weather", [("get_weather", {"city": "Paris", "unit": "celsius"})]),
        ("current_time", [("get_current_time", {})]),
        ("stock_price", [("get_stock_price", {"symbol": "NVDA"})]),
        (
            "calendar_event",
            [
                (
                    "create_calendar_event",
                    {
                        "title": "Design review",
                        "start": {"date": "2025-03-14", "time": "15:00"},
                        "attendees": ["ada@example.com", "linus@example.com"],
                    },
                )
            ],
        ),
        (
            "two_cities",
            [
                ("get_weather", {"city": "Paris", "unit": "celsius"}),
                ("get_weather", {"city": "Tokyo", "unit": "celsius"}),
            ],
        ),
        ("unrelated", []),
    ],
)
def test_calls_what_the_question_asks_for(api: Api, probe: str, calls: list[Any]) -> None:
    assert called(message_calls(api, probe)) == calls


def test_a_question_for_two_tools_calls_both(api: Api) -> None:
    question = "What is the weather in Oslo, and the latest share price of MSFT? Use celsius."
    messages = [{"role": "user", "content": question}]
    body = {"tools": [tool("get_weather"), tool("get_stock_price")], "max_tokens": 150}
    calls = api.chat(messages, **body).json()["choices"][0]["message"]["tool_calls"]
    assert called(calls) == [
        ("get_weather", {"city": "Oslo", "unit": "celsius"}),
        ("get_stock_price", {"symbol": "MSFT"}),
    ]


def test_a_tool_call_message_is_official_in_form(api: Api) -> None:
    choice = ask(api, "two_cities")
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    ids = [c["id"] for c in choice["message"]["tool_calls"]]
    assert all(CALL_ID.fullmatch(i) for i in ids) and len(set(ids)) == 2
    assert {c["type"] for c in choice["message"]["tool_calls"]} == {"function"}


def test_usage_counts_the_calls(api: Api) -> None:
    body = tool_chat_body(tool_probe("weather"), "reference-1", max_tokens=150)
    assert api.post(body).json()["usage"]["completion_tokens"] > 0


def test_streamed_calls_come_as_the_official_api_sends_them(api: Api) -> None:
    chunks = stream_chunks(api, "two_cities")
    first = chunks[0]["choices"][0]["delta"]
    assert first["role"] == "assistant" and first["content"] is None
    assert first["tool_calls"] == [
        {
            "index": 0,
            "id": first["tool_calls"][0]["id"],
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        }
    ]
    items = stream_items(api, "two_cities")
    headers = [i for i in items if "id" in i]
    fragments = [i for i in items if "id" not in i]
    assert [h["index"] for h in headers] == [0, 1]
    assert all(
        set(f) == {"index", "function"} and set(f["function"]) == {"arguments"} for f in fragments
    )
    assert len(fragments) >= 6
    assert [json.loads(a) for a in streamed_arguments(api, "two_cities")] == [
        {"city": "Paris", "unit": "celsius"},
        {"city": "Tokyo", "unit": "celsius"},
    ]
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "tool_calls",
    }


@pytest.mark.parametrize(
    ("params", "calls"),
    [
        ({"tool_choice": "none"}, []),
        ({"tool_choice": "auto"}, ["get_weather"]),
        ({"tool_choice": "required"}, ["get_weather"]),
        (
            {"tool_choice": {"type": "function", "function": {"name": "get_current_time"}}},
            ["get_current_time"],
        ),
        ({"parallel_tool_calls": False}, ["get_weather"]),
    ],
)
def test_tool_choice_and_parallel_tool_calls(api: Api, params: dict, calls: list[str]) -> None:
    probe = "two_cities" if "parallel_tool_calls" in params else "weather"
    body = tool_chat_body(tool_probe(probe), "reference-1", max_tokens=150, **params)
    body["tools"].append(tool("get_current_time"))
    made = api.post(body).json()["choices"][0]["message"].get("tool_calls") or []
    assert [c["function"]["name"] for c in made] == calls


@pytest.mark.parametrize(
    ("tool_choice", "finish_reason"),
    [
        ("auto", "tool_calls"),
        ("required", "tool_calls"),
        ({"type": "function", "function": {"name": "get_weather"}}, "stop"),
    ],
    ids=["auto", "required", "named"],
)
def test_a_call_forced_by_name_finishes_with_stop_as_the_official_api(
    api: Api, tool_choice: Any, finish_reason: str
) -> None:
    choice = ask(api, "weather", tool_choice=tool_choice)
    assert [c["function"]["name"] for c in choice["message"]["tool_calls"]] == ["get_weather"]
    assert choice["finish_reason"] == finish_reason
    [streamed] = {
        item["function"]["name"]
        for item in stream_items(api, "weather", tool_choice=tool_choice)
        if "name" in item["function"]
    }
    assert streamed == "get_weather"
    last = stream_chunks(api, "weather", tool_choice=tool_choice)[-1]
    assert last["choices"][0]["finish_reason"] == finish_reason


def test_required_calls_a_tool_even_for_an_unrelated_question(api: Api) -> None:
    assert called(message_calls(api, "unrelated", tool_choice="required")) == [
        ("get_weather", {"city": "", "unit": "celsius"})
    ]


def test_the_answer_after_a_tool_result_uses_it(api: Api) -> None:
    answer = round_trip_answer(api)
    assert "17.3" in answer and "light drizzle" in answer


def test_no_call_after_the_results_came_back(api: Api) -> None:
    assert round_trip_answer(api).startswith("The tools returned:")


@pytest.mark.parametrize(
    ("messages", "params", "param"),
    [
        ([{"role": "tool", "tool_call_id": "call_1", "content": "{}"}], {}, "messages.[0].role"),
        (
            [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ]},
            ],
            {},
            "messages",
        ),
        ([{"role": "user", "content": "hi"}], {"tool_choice": "auto"}, "tool_choice"),
        ([{"role": "user", "content": "hi"}], {"parallel_tool_calls": True}, "parallel_tool_calls"),
        (
            [{"role": "user", "content": "hi"}],
            {"tools": [tool("get_weather")], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
            "tool_choice",
        ),
    ],
)  # fmt: skip
def test_tool_turns_that_do_not_fit_are_refused(
    api: Api, messages: list[dict], params: dict, param: str
) -> None:
    response = api.chat(messages, **params)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_fill_reads_numbers_and_falls_back_for_what_the_question_lacks() -> None:
    schema = {
        "type": "object",
        "properties": {
            "days": {"type": "integer"},
            "city": {"type": "string", "default": "London"},
            "metric": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string", "format": "email"}},
        },
        "required": ["days", "city", "metric", "tags"],
    }
    assert fill(schema, "the forecast for the next 3 days") == [
        {"days": 3, "city": "London", "metric": False, "tags": []}
    ]


def test_max_tokens_cuts_the_calls_short(api: Api) -> None:
    choice = ask(api, "two_cities", max_tokens=8)
    assert choice["finish_reason"] == "length"
    assert called_raw(choice) == [("get_weather", '{"city":"Paris","unit":"')]
    assert ask(api, "two_cities", max_tokens=1)["message"]["content"] == ""
