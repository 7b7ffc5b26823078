"""Usage as the reference reports it, and each usage-honesty fault's effect on the wire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_helpers import Api

# A longer prompt and a longer answer than the default request's (9 prompt, 5 completion).
LONGER = [{"role": "user", "content": "Please count from 1 to 30, one number after another."}]


def counts(api: Api, messages: list[dict[str, Any]] | None = None) -> tuple[int, int]:
    """(prompt_tokens, completion_tokens) of a non-streamed answer."""
    usage = api.chat(messages).json()["usage"]
    return usage["prompt_tokens"], usage["completion_tokens"]


def prompt_tokens_both_ways(api: Api) -> tuple[int, int]:
    """prompt_tokens of the default request, non-streamed and streamed (include_usage)."""
    streamed = api.chunks(stream_options={"include_usage": True})[-1]["usage"]
    return api.chat().json()["usage"]["prompt_tokens"], streamed["prompt_tokens"]


WIRE_EFFECTS: dict[str, tuple[Callable[[Api], Any], Any, Any]] = {
    "usage-constant": (
        lambda api: [counts(api), counts(api, LONGER)],
        [(9, 5), (15, 30)],
        [(9, 3), (9, 3)],
    ),
    "usage-inflated": (prompt_tokens_both_ways, (9, 9), (27, 27)),
    "usage-stream-differs": (prompt_tokens_both_ways, (9, 9), (9, 12)),
}
