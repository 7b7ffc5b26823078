"""Tool-calling probes against the reference app, and each tool fault's effect on the wire."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reference_helpers import Api

from chatconform.dialects.openai.requests import function_tools, tool_chat_body
from chatconform.tool_probes import tool_probe


def ask(api: Api, probe: str, **params: Any) -> dict[str, Any]:
    """The non-streamed choice for a tool probe."""
    body = tool_chat_body(tool_probe(probe), "reference-1", **{"max_tokens": 150, **params})
    response = api.post(body)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]


def message_calls(api: Api, probe: str, **params: Any) -> list[dict[str, Any]]:
    return ask(api, probe, **params)["message"].get("tool_calls") or []


def stream_chunks(api: Api, probe: str, **params: Any) -> list[dict[str, Any]]:
    """The chunks of the streamed answer to a tool probe."""
    probed = tool_probe(probe)
    return api.chunks(list(probed.messages), tools=function_tools(probed), max_tokens=150, **params)


def stream_items(api: Api, probe: str, **params: Any) -> list[dict[str, Any]]:
    """Every delta.tool_calls item of the streamed answer, in order."""
    return [
        item
        for chunk in stream_chunks(api, probe, **params)
        for choice in chunk["choices"]
        for item in choice["delta"].get("tool_calls") or []
    ]


def stream_finish(api: Api, probe: str) -> str:
    return stream_chunks(api, probe)[-1]["choices"][0]["finish_reason"]


def streamed_arguments(api: Api, probe: str) -> list[Any]:
    """The arguments of each streamed call: fragments joined, or the one non-string value."""
    joined: dict[int, Any] = {}
    for item in stream_items(api, probe):
        fragment = item["function"].get("arguments", "")
        joined[item["index"]] = (
            joined.get(item["index"], "") + fragment if isinstance(fragment, str) else fragment
        )
    return [joined[i] for i in sorted(joined)]


def round_trip_answer(api: Api) -> str:
    """The answer after the weather result comes back (our call id, the fixture's result)."""
    probe = tool_probe("round_trip")
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Paris","unit":"celsius"}'},
    }
    messages = [
        *probe.messages,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": json.dumps(probe.result)},
    ]
    response = api.chat(messages, tools=function_tools(probe), max_tokens=60)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def _types(api: Api) -> tuple[str, str]:
    [plain] = message_calls(api, "weather")
    [streamed] = streamed_arguments(api, "weather")
    return type(plain["function"]["arguments"]).__name__, type(streamed).__name__


# fault -> (what is observed, its value without the fault, its value under the fault)
WIRE_EFFECTS: dict[str, tuple[Callable[[Api], Any], Any, Any]] = {
    "tool-args-object": (_types, ("str", "str"), ("dict", "dict")),
    "tool-args-empty-string": (
        lambda api: (
            message_calls(api, "current_time")[0]["function"]["arguments"],
            streamed_arguments(api, "current_time"),
        ),
        ("{}", ["{}"]),
        ("", [""]),
    ),
    "tool-finish-reason-stop": (
        lambda api: (ask(api, "weather")["finish_reason"], stream_finish(api, "weather")),
        ("tool_calls", "tool_calls"),
        ("stop", "stop"),
    ),
    "tool-call-as-text": (
        lambda api: (
            "tool_calls" in ask(api, "weather")["message"],
            (ask(api, "weather")["message"]["content"] or "")[:11],
        ),
        (True, ""),
        (False, "<tool_call>"),
    ),
    "tool-stream-index-missing": (
        lambda api: {"index" in item for item in stream_items(api, "two_cities")},
        {True},
        {False},
    ),
    "tool-stream-index-all-zero": (
        lambda api: sorted({item["index"] for item in stream_items(api, "two_cities")}),
        [0, 1],
        [0],
    ),
    "tool-id-empty": (
        lambda api: [bool(c["id"]) for c in message_calls(api, "two_cities")],
        [True, True],
        [False, False],
    ),
    "tool-ids-duplicate": (
        lambda api: len({c["id"] for c in message_calls(api, "two_cities")}),
        2,
        1,
    ),
    "tool-stream-id-missing": (
        lambda api: ["id" in i for i in stream_items(api, "two_cities") if "type" in i],
        [True, True],
        [False, False],
    ),
    "tool-choice-ignored": (
        lambda api: (
            len(message_calls(api, "weather", tool_choice="none")),
            len(message_calls(api, "two_cities", parallel_tool_calls=False)),
        ),
        (0, 1),
        (1, 2),
    ),
    "tools-dropped": (
        lambda api: (len(message_calls(api, "weather")), "17.3" in round_trip_answer(api)),
        (1, True),
        (0, False),
    ),
}
