"""The streamed form of a completion: chat.completion.chunk events over SSE, paced."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from chatconform.reference import reasoning
from chatconform.reference.completion import (
    SYSTEM_FINGERPRINT,
    VENDOR_SERVICE_TIER,
    Choice,
    Completion,
    finish_reason_on_wire,
    new_id,
    usage_json,
)
from chatconform.reference.faults import FaultSet
from chatconform.reference.leaks import delta_pieces
from chatconform.reference.logprobs import choice_logprobs
from chatconform.reference.model import token_pieces
from chatconform.reference.tools import tool_call_deltas

# A stalled stream gives up after an hour, so a forgotten client cannot pin a task forever.
STALL_LIMIT_S = 3600.0
_STALL_POLL_S = 0.1
# Interrupting faults cut in after this many content chunks: far enough in to prove the
# stream had started, early enough to hit any answer.
INTERRUPT_AFTER = 3
# stream-cut-short ends long answers only (a counting answer, not a short image
# description or tool answer) after a few pieces.
CUT_FROM_PIECES = 20
CUT_TO_PIECES = 5

STREAM_ERROR = {
    "error": {
        "message": "upstream connection reset",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}


@dataclass(frozen=True)
class RawEvent:
    """An event whose data is sent as is, never paired with another ([DONE], in-band errors)."""

    data: str


class Stall:
    """Marks where the stream goes silent."""


STALL = Stall()
DONE = RawEvent("[DONE]")

StreamItem = dict[str, Any] | RawEvent | Stall


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def stream_items(
    completion: Completion, *, include_usage: bool, faults: FaultSet, api_key: str = ""
) -> list[StreamItem]:
    """Every chunk of the stream in order, then [DONE]; the choices are streamed one by one
    (``api_key``: the key the request was made with)."""
    with_usage = include_usage and "include-usage-ignored" not in faults
    object_name = "chat.completion" if "chunk-object-wrong" in faults else "chat.completion.chunk"
    nulls = "optional-fields-null" in faults
    ending: list[StreamItem] = [] if "no-done-sentinel" in faults else [DONE]
    # What replaces the rest of the stream when a fault breaks it off.
    interrupt: list[StreamItem] | None = None
    if "stream-stalls" in faults:
        interrupt = [STALL]
    elif "stream-error-event" in faults:
        interrupt = [RawEvent(_dumps(STREAM_ERROR)), *ending]
    elif "stream-truncated" in faults:
        interrupt = []

    def chunk(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> dict:
        body: dict[str, Any] = {
            "id": new_id() if "chunk-id-changes" in faults else completion.id,
            "object": object_name,
            "created": completion.created,
            "model": completion.model,
            "system_fingerprint": None if nulls else SYSTEM_FINGERPRINT,
            "choices": choices,
        }
        if with_usage:
            body["usage"] = usage
        if "service-tier-vendor" in faults:
            body["service_tier"] = VENDOR_SERVICE_TIER
        return body

    def choice(
        index: int,
        delta: dict[str, Any],
        finish_reason: str | None = None,
        logprobs: dict[str, Any] | None = None,
    ) -> dict:
        entry: dict[str, Any] = {
            "index": index,
            "delta": delta,
            "logprobs": logprobs,
            "finish_reason": finish_reason,
        }
        if "chunk-choice-index-missing" in faults:
            del entry["index"]
        if finish_reason is None and "chunk-finish-reason-absent" in faults:
            del entry["finish_reason"]
        if nulls:
            entry["delta"] = {"tool_calls": None, "function_call": None, **delta}
        return entry

    def choice_items(answer: Choice) -> list[tuple[str, dict[str, Any]]]:
        """One choice's chunks in order, each tagged head, reasoning, content or finish."""
        first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
        if "first-delta-role-missing" in faults:
            del first["role"]
        # A tool call's first delta rides on the role chunk, with content null, as officially.
        streamed_calls = answer.tool_calls
        if "tool-stream-first-call-only" in faults:
            streamed_calls = streamed_calls[:1]
        head, *calls = tool_call_deltas(streamed_calls, faults) or [{}]
        if head:
            first = {**first, "content": None, **head}
        out = [("head", chunk([choice(answer.index, first)]))]
        out.extend(("head", chunk([choice(answer.index, delta)])) for delta in calls)
        shown = reasoning.shown_in(faults)
        thought = [
            ("reasoning", chunk([choice(answer.index, {shown: piece})]))
            for piece in (token_pieces(answer.reasoning) if shown else [])
        ]
        content: list[tuple[str, dict[str, Any]]] = []
        so_far = ""
        pieces = token_pieces(answer.text)
        if "stream-cut-short" in faults and len(pieces) >= CUT_FROM_PIECES:
            pieces = pieces[:CUT_TO_PIECES]
        for piece in delta_pieces(pieces, api_key, faults):
            so_far += piece
            logprobs = choice_logprobs([piece], completion.top_logprobs, faults)
            delta = {"content": so_far if "cumulative-deltas" in faults else piece}
            content.append(("content", chunk([choice(answer.index, delta, logprobs=logprobs)])))
        after = "reasoning-after-content" in faults
        out.extend([*content, *thought] if after else [*thought, *content])
        finish = finish_reason_on_wire(answer.finish_reason, faults)
        out.append(("finish", chunk([choice(answer.index, {}, finish)])))
        return out

    # Several choices interleave chunk by chunk, told apart by index, as officially.
    sequences = [choice_items(answer) for answer in completion.choices]
    items: list[StreamItem] = []
    content_chunks = 0
    for kind, item in (i for group in zip_longest(*sequences) for i in group if i is not None):
        if kind == "finish" and interrupt is not None:
            # A short answer still breaks off before it finishes.
            return items + interrupt
        items.append(item)
        if kind == "content":
            content_chunks += 1
            if interrupt is not None and content_chunks == INTERRUPT_AFTER:
                return items + interrupt
    if with_usage:
        items.append(chunk([], usage_json(completion, faults, streamed=True)))
    return items + ending


def _event(*datas: str) -> bytes:
    return ("".join(f"data: {data}\n" for data in datas) + "\n").encode()


def frames(items: list[StreamItem], faults: FaultSet) -> list[bytes | Stall]:
    """The bytes of each SSE event, in order; a Stall stays in place as a marker."""
    pair = "two-json-per-event" in faults
    out: list[bytes | Stall] = []
    pending: dict[str, Any] | None = None
    for item in items:
        if isinstance(item, dict) and pair:
            if pending is None:
                pending = item
                continue
            out.append(_event(_dumps(pending), _dumps(item)))
            pending = None
            continue
        if pending is not None:
            out.append(_event(_dumps(pending)))
            pending = None
        if isinstance(item, Stall):
            out.append(item)
        elif isinstance(item, RawEvent):
            out.append(_event(item.data))
        else:
            out.append(_event(_dumps(item)))
    if pending is not None:
        out.append(_event(_dumps(pending)))
    return out


async def _stall(closing: threading.Event) -> None:
    # Poll rather than await one long sleep, so a server shutting down can end the stream.
    deadline = time.monotonic() + STALL_LIMIT_S
    while not closing.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(_STALL_POLL_S)


async def sse_body(
    events: list[bytes | Stall], *, pace_s: float, faults: FaultSet, closing: threading.Event
) -> AsyncIterator[bytes]:
    """Yield the events one by one, ``pace_s`` apart, as a model producing tokens would."""
    if "pseudo-streaming" in faults:
        cut = next((i for i, event in enumerate(events) if isinstance(event, Stall)), len(events))
        await asyncio.sleep(pace_s * len(events))
        yield b"".join(event for event in events[:cut] if isinstance(event, bytes))
        if cut < len(events):
            await _stall(closing)
        return
    for position, event in enumerate(events):
        if isinstance(event, Stall):
            await _stall(closing)
            return
        if position and pace_s > 0:
            await asyncio.sleep(pace_s)
        yield event
