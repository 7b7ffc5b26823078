"""What a relay in front of the model loses of a Messages request, under the faults that drop parts.

The request has been validated and read whole by then (documents read, images
looked at), so what a fault drops was still checked and an unusable image is
still refused: the fault only changes what the model reads. The conversation
comes as the chat-shaped body messages_input.py builds, with the number of chat
messages each Messages turn became, so that "a turn" means the client's turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chatconform.reference.faults import FaultSet
from chatconform.reference.vision import SEEN_PART

Turn = list[dict[str, Any]]


def _turns(messages: list[dict[str, Any]], sizes: Sequence[int]) -> list[Turn]:
    turns, start = [], 0
    for size in sizes:
        turns.append(messages[start : start + size])
        start += size
    return turns


def _is_image(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == SEEN_PART


def _images_kept(turn: Turn, keep: int | None) -> Turn:
    """The turn with only its first ``keep`` images (all of them when None), in order."""
    if keep is None:
        return turn
    kept: Turn = []
    shown = 0
    for message in turn:
        content = message.get("content")
        if not isinstance(content, list):
            kept.append(message)
            continue
        parts = []
        for part in content:
            if _is_image(part):
                shown += 1
                if shown > keep:
                    continue
            parts.append(part)
        kept.append({**message, "content": parts})
    return kept


def _results_emptied(turn: Turn) -> Turn:
    return [{**m, "content": ""} if m.get("role") == "tool" else m for m in turn]


def relayed(chat: dict[str, Any], sizes: Sequence[int], faults: FaultSet) -> dict[str, Any]:
    """``chat`` as the model gets it (``sizes``: how many chat messages each Messages turn
    became, after the system message if there is one)."""
    messages = chat["messages"]
    system = [m for m in messages[:1] if m.get("role") == "system"]
    turns = _turns(messages[len(system) :], sizes)
    if "anthropic-system-dropped" in faults:
        system = []
    if "anthropic-history-dropped" in faults:
        # A user turn is tool results and/or a user message; an assistant turn is one message.
        turns = [turn for turn in turns if turn and turn[0].get("role") != "assistant"][-1:]
    keep = None
    if "anthropic-images-dropped" in faults:
        keep = 0
    elif "anthropic-first-image-only" in faults:
        keep = 1
    turns = [_images_kept(turn, keep) for turn in turns]
    if "anthropic-tool-result-dropped" in faults:
        turns = [_results_emptied(turn) for turn in turns]
    out = {**chat, "messages": [*system, *(m for turn in turns for m in turn)]}
    if "anthropic-tools-ignored" in faults:
        for key in ("tools", "tool_choice", "parallel_tool_calls"):
            out.pop(key, None)
    if "anthropic-tool-choice-ignored" in faults:
        out.pop("tool_choice", None)
    if "anthropic-parallel-not-disabled" in faults:
        out.pop("parallel_tool_calls", None)
    return out
