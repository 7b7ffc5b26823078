"""Requests to the reference's reasoning model, and each reasoning fault's effect on the wire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_helpers import MODEL, Api

REASONING_MODEL = f"{MODEL}-reasoning"
QUESTION = [{"role": "user", "content": "What is 2 + 3? Reply with the number only."}]


def reply(api: Api, **params: Any) -> dict[str, Any]:
    """The non-streamed response of the reasoning model."""
    response = api.chat(QUESTION, model=REASONING_MODEL, max_tokens=1024, **params)
    assert response.status_code == 200, response.text
    return response.json()


def delta_kinds(api: Api) -> list[str]:
    """What the streamed deltas carry, in order, repeats collapsed: reasoning, content."""
    kinds: list[str] = []
    for chunk in api.chunks(QUESTION, model=REASONING_MODEL, max_tokens=1024):
        for choice in chunk["choices"]:
            delta = choice["delta"]
            kind = (
                "reasoning"
                if delta.get("reasoning_content")
                else "content"
                if delta.get("content")
                else None
            )
            if kind and kinds[-1:] != [kind]:
                kinds.append(kind)
    return kinds


def _counted(api: Api) -> bool:
    usage = reply(api)["usage"]
    return usage["completion_tokens"] > usage["completion_tokens_details"]["reasoning_tokens"]


WIRE_EFFECTS: dict[str, tuple[Callable[[Api], Any], Any, Any]] = {
    "reasoning-in-content": (
        lambda api: reply(api)["choices"][0]["message"]["content"].startswith("<think>"),
        False,
        True,
    ),
    "reasoning-tokens-not-in-completion": (_counted, True, False),
    "reasoning-vendor-fields": (
        lambda api: ("reasoning_content" in reply(api)["choices"][0]["message"], delta_kinds(api)),
        (False, ["content"]),
        (True, ["reasoning", "content"]),
    ),
    "reasoning-after-content": (delta_kinds, ["content"], ["content", "reasoning"]),
}
