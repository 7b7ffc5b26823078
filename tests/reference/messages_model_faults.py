"""The Anthropic faults of what reaches the model and what it answers, seen on the wire.

Each is observed non-streamed and streamed (unless the fault is of one form only),
and alongside what the fault must leave alone: validation, other tools, the cap.
"""

from __future__ import annotations

import json
from typing import Any

from messages_fault_helpers import Effects, both, observed, probe_params, texts
from test_messages import (
    CAMERA,
    MODEL,
    THINKING,
    TOOL_USE_ID,
    TWO_COLOURS,
    Messages,
    asking,
    camera_turns,
    document,
    image,
    pdf_fixture,
    streamed_message,
    text_of,
    thinking_loop,
    tool_uses,
    weather_turns,
)

from chatconform.images import picture
from chatconform.reference.messages_answer import RENAMED_MODEL
from chatconform.reference.model import DEFAULT_ANSWER, UNKNOWN_CODE_WORD, UNKNOWN_COLOUR
from chatconform.reference.vision import NO_IMAGE
from chatconform.tool_probes import tool_probe

COUNTED = "1 2 3 4 5"
PARIS = {"city": "Paris", "unit": "celsius"}
ROUND_TRIP = json.dumps(tool_probe("round_trip").result)
CACHED = {"cache_control": {"type": "ephemeral"}}


def calls(api: Messages, probe: str, **params: Any) -> list[list[tuple[str, dict]]]:
    """The tool_use blocks (name, input) a probe gets, non-streamed and streamed."""
    messages, tools = probe_params(probe)
    return [tool_uses(m) for m in both(api, messages, **tools, **params)]


def names(api: Messages, probe: str, **params: Any) -> list[str]:
    messages, tools = probe_params(probe)
    return [name for name, _ in tool_uses(api.message(messages, **tools, **params))]


def status(api: Messages, messages: list[dict[str, Any]] | None = None, **params: Any) -> int:
    return api.create(messages, **params).status_code


def error_of(
    api: Messages, messages: list[dict[str, Any]] | None = None, **params: Any
) -> tuple[int, str | None]:
    """The status, and the error type of an error (None for an answer or a stream)."""
    response = api.create(messages, **params)
    if response.status_code == 200:
        return 200, None
    return response.status_code, response.json()["error"]["type"]


def earlier_turns(api: Messages) -> list[str]:
    turns = [
        {"role": "user", "content": "My favourite colour is teal."},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": "What is my favourite colour?"},
    ]
    return texts(api, turns)


def result_answer(api: Messages) -> list[bool]:
    """Whether the answer after a tool_result turn reports the result, both ways."""
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": ROUND_TRIP}
    _, tools = probe_params("round_trip")
    return ["17.3" in text for text in texts(api, weather_turns(result), **tools)]


def system_prompt(api: Messages) -> tuple[list[str], bool]:
    system = "Reply with exactly one word: kiwi"
    hi = [{"role": "user", "content": "Hi"}]
    counted = api.count(hi, system=system) > api.count(hi)
    return texts(api, hi, system=system), counted


def images_seen(api: Messages) -> tuple[list[str], str, int]:
    unusable = image("red-circle", "png", "image/jpeg")
    return (
        texts(api, asking(image("red-circle"))),
        text_of(api.message(camera_turns([image("green-triangle", "webp")]), tools=CAMERA)),
        status(api, asking(unusable)),
    )


def document_read(api: Messages) -> tuple[list[str], int]:
    """The answer from a PDF, both ways; the status of a PDF that is no PDF."""
    data, entry = pdf_fixture()
    not_pdf = document(picture("red-circle").file("png").read())
    return texts(api, asking(document(data), text=entry["question"])), status(api, asking(not_pdf))


def cache_control_statuses(api: Messages) -> tuple[int, ...]:
    hi = [{"role": "user", "content": [{"type": "text", "text": "Hi", **CACHED}]}]
    system = [{"type": "text", "text": "Be brief.", **CACHED}]
    tools = [{**probe_params("weather")[1]["tools"][0], **CACHED}]
    counted = api.post(
        {"model": MODEL, "messages": hi}, path="/v1/messages/count_tokens"
    ).status_code
    return (
        status(api, system=system),
        status(api, hi),
        status(api, tools=tools),
        counted,
        status(api),
    )


def cut(api: Messages, **params: Any) -> list[tuple[str, str, str | None]]:
    return [(text_of(m), m["stop_reason"], m["stop_sequence"]) for m in both(api, **params)]


def stop_reasons(api: Messages) -> list[str]:
    messages, tools = probe_params("weather")
    return [
        *(m["stop_reason"] for m in both(api)),
        api.message(max_tokens=2)["stop_reason"],
        *(m["stop_reason"] for m in both(api, messages, **tools)),
    ]


def id_shapes(api: Messages) -> list[str]:
    messages, tools = probe_params("two_cities")
    ids = [b["id"] for m in both(api, messages, **tools) for b in m["content"]]
    return ["toolu_…" if TOOL_USE_ID.fullmatch(i) else i for i in ids]


def streamed_json(api: Messages, probe: str) -> tuple[list[bool], list[tuple[str, dict]]]:
    """Whether each streamed tool_use's partial_json joins to JSON; the plain tool_uses."""
    messages, tools = probe_params(probe)
    joined: dict[int, str] = {}
    for _, data in api.events(messages, **tools):
        if data["type"] == "content_block_delta":
            joined[data["index"]] = joined.get(data["index"], "") + data["delta"]["partial_json"]
    return [_parses(text) for text in joined.values()], tool_uses(api.message(messages, **tools))


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def thinking_blocks(api: Messages) -> tuple[list[list[str]], int, int]:
    plain, streamed = both(api, max_tokens=2000, thinking=THINKING)
    types = [[b["type"] for b in m["content"]] for m in (plain, streamed)]
    return types, plain["usage"]["output_tokens"], thinking_loop(api).status_code


def thinking_stream(api: Messages) -> tuple[bool, list[str], bool]:
    events = api.events(max_tokens=2000, thinking=THINKING)
    start = next(d for _, d in events if d["type"] == "content_block_start")
    deltas = sorted({d["delta"]["type"] for _, d in events if d["type"] == "content_block_delta"})
    whole = streamed_message(events)["content"][0]
    plain = api.message(max_tokens=2000, thinking=THINKING)["content"][0]
    return bool(start["content_block"]["thinking"]), deltas, whole["thinking"] == plain["thinking"]


WIRE_EFFECTS: Effects = {
    # --- answers and turns ---
    "anthropic-canned-answer": (
        observed(lambda api: (texts(api), calls(api, "weather"))),
        ([COUNTED, COUNTED], [[("get_weather", PARIS)]] * 2),
        ([DEFAULT_ANSWER, DEFAULT_ANSWER], [[], []]),
    ),
    "anthropic-system-dropped": (
        observed(system_prompt),
        (["kiwi", "kiwi"], True),
        ([DEFAULT_ANSWER, DEFAULT_ANSWER], False),
    ),
    "anthropic-history-dropped": (
        observed(lambda api: (earlier_turns(api), result_answer(api))),
        (["teal", "teal"], [True, True]),
        ([UNKNOWN_COLOUR, UNKNOWN_COLOUR], [True, True]),
    ),
    "anthropic-images-dropped": (
        observed(images_seen),
        (["Red.", "Red."], "Green.", 400),
        ([NO_IMAGE, NO_IMAGE], "The tools returned: .", 400),
    ),
    "anthropic-first-image-only": (
        observed(
            lambda api: texts(
                api, asking(image("blue-square"), image("green-triangle", "gif"), text=TWO_COLOURS)
            )
        ),
        ["Blue and green.", "Blue and green."],
        ["Blue.", "Blue."],
    ),
    "anthropic-documents-dropped": (
        observed(document_read),
        ([pdf_fixture()[1]["word"]] * 2, 400),
        ([UNKNOWN_CODE_WORD] * 2, 400),
    ),
    "anthropic-tool-result-image-crash": (
        observed(
            lambda api: (
                error_of(api, camera_turns([image("green-triangle")]), tools=CAMERA),
                error_of(api, camera_turns([image("green-triangle")]), tools=CAMERA, stream=True),
                status(api, asking(image("red-circle"))),
                status(api, camera_turns([{"type": "text", "text": "no photo"}]), tools=CAMERA),
            )
        ),
        ((200, None), (200, None), 200, 200),
        ((500, "api_error"), (500, "api_error"), 200, 200),
    ),
    "anthropic-top-k-crash": (
        observed(
            lambda api: (
                error_of(api, top_k=5),
                error_of(api, top_k=5, stream=True),
                error_of(api, top_k="x"),
                status(api, top_p=0.5),
            )
        ),
        ((200, None), (200, None), (400, "invalid_request_error"), 200),
        ((500, "api_error"), (500, "api_error"), (400, "invalid_request_error"), 200),
    ),
    "anthropic-cache-control-rejected": (
        observed(cache_control_statuses),
        (200, 200, 200, 200, 200),
        (400, 400, 400, 400, 200),
    ),
    "anthropic-max-tokens-ignored": (
        observed(lambda api: cut(api, max_tokens=3)),
        [("1 2 3", "max_tokens", None)] * 2,
        [(COUNTED, "end_turn", None)] * 2,
    ),
    "anthropic-stop-sequences-ignored": (
        observed(lambda api: (cut(api, stop_sequences=[" 3"]), cut(api, max_tokens=2))),
        ([("1 2", "stop_sequence", " 3")] * 2, [("1 2", "max_tokens", None)] * 2),
        ([(COUNTED, "end_turn", None)] * 2, [("1 2", "max_tokens", None)] * 2),
    ),
    "anthropic-stop-reason-openai": (
        observed(stop_reasons),
        ["end_turn", "end_turn", "max_tokens", "tool_use", "tool_use"],
        ["stop", "stop", "max_tokens", "tool_use", "tool_use"],
    ),
    "anthropic-model-renamed": (
        observed(lambda api: [m["model"] for m in both(api)]),
        [MODEL, MODEL],
        [RENAMED_MODEL, RENAMED_MODEL],
    ),
    # --- tools ---
    "anthropic-tool-ids-empty": (
        observed(id_shapes),
        ["toolu_…"] * 4,
        [""] * 4,
    ),
    "anthropic-tool-input-invalid": (
        observed(
            lambda api: (
                calls(api, "weather"),
                calls(api, "calendar_event")[0][0][1]["start"],
                calls(api, "stock_price")[0],
                calls(api, "current_time")[0],
            )
        ),
        (
            [[("get_weather", PARIS)]] * 2,
            {"date": "2025-03-14", "time": "15:00"},
            [("get_stock_price", {"symbol": "NVDA"})],
            [("get_current_time", {})],
        ),
        (
            [[("get_weather", {"city": "Paris", "unit": "kelvin"})]] * 2,
            {"date": "2025-03-14"},
            [("get_stock_price", {})],
            [("get_current_time", {})],
        ),
    ),
    "anthropic-tool-input-json-broken": (
        observed(
            lambda api: (streamed_json(api, "two_cities"), streamed_json(api, "current_time"))
        ),
        (
            ([True, True], [("get_weather", PARIS), ("get_weather", {**PARIS, "city": "Tokyo"})]),
            ([True], [("get_current_time", {})]),
        ),
        (
            ([False, False], [("get_weather", PARIS), ("get_weather", {**PARIS, "city": "Tokyo"})]),
            ([False], [("get_current_time", {})]),
        ),
    ),
    "anthropic-tool-choice-ignored": (
        observed(
            lambda api: (
                names(api, "weather", tool_choice={"type": "none"}),
                names(api, "weather", tool_choice={"type": "tool", "name": "get_current_time"}),
                [
                    [name for name, _ in uses]
                    for uses in calls(
                        api, "weather", tool_choice={"type": "tool", "name": "get_current_time"}
                    )
                ],
                names(
                    api,
                    "two_cities",
                    tool_choice={"type": "auto", "disable_parallel_tool_use": True},
                ),
            )
        ),
        ([], ["get_current_time"], [["get_current_time"]] * 2, ["get_weather"]),
        (["get_weather"], ["get_weather"], [["get_weather"]] * 2, ["get_weather"]),
    ),
    "anthropic-parallel-not-disabled": (
        observed(
            lambda api: [
                len(uses)
                for choice in ("auto", "any")
                for uses in calls(
                    api,
                    "two_cities",
                    tool_choice={"type": choice, "disable_parallel_tool_use": True},
                )
            ]
        ),
        [1, 1, 1, 1],
        [2, 2, 2, 2],
    ),
    "anthropic-tools-ignored": (
        observed(
            lambda api: (
                calls(api, "weather"),
                error_of(api, tool_choice={"type": "tool", "name": "nope"}),
            )
        ),
        ([[("get_weather", PARIS)]] * 2, (400, "invalid_request_error")),
        ([[], []], (400, "invalid_request_error")),
    ),
    "anthropic-tool-result-dropped": (
        observed(result_answer),
        [True, True],
        [False, False],
    ),
    # --- thinking ---
    "anthropic-thinking-dropped": (
        observed(thinking_blocks),
        ([["thinking", "text"]] * 2, 5 + 20, 200),
        ([["text"]] * 2, 5, 200),
    ),
    "anthropic-thinking-not-streamed": (
        observed(thinking_stream),
        (False, ["signature_delta", "text_delta", "thinking_delta"], True),
        (True, ["signature_delta", "text_delta"], True),
    ),
}
