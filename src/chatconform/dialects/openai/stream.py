"""OpenAI chat streams one layer above SSE: chunks, the [DONE] sentinel, error events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chatconform.exchange import Exchange, load_json

DONE = "[DONE]"


@dataclass
class ChatStream:
    """The events of a streamed chat completion, sorted by what they carry.

    Indexes are positions in ``exchange.events``, so a finding can point at
    ``/events/<i>``.
    """

    chunks: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    done_at: int | None = None
    not_json: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def text(self, choice: int = 0) -> str:
        """The content deltas of one choice, concatenated, as a client would."""
        parts = []
        for _, chunk in self.chunks:
            for entry in choices(chunk):
                if entry.get("index", 0) == choice:
                    delta = entry.get("delta")
                    if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                        parts.append(delta["content"])
        return "".join(parts)

    def usage(self) -> dict[str, Any] | None:
        for _, chunk in reversed(self.chunks):
            if isinstance(chunk.get("usage"), dict):
                return chunk["usage"]
        return None


def parse(exchange: Exchange) -> ChatStream:
    """The exchange's events sorted as a chat stream (computed once per exchange)."""
    return exchange.derive("openai.stream", _parse)


def _parse(exchange: Exchange) -> ChatStream:
    stream = ChatStream()
    for i, event in enumerate(exchange.events):
        if event.data.strip() == DONE:
            if stream.done_at is None:
                stream.done_at = i
            continue
        try:
            payload = load_json(event.data)
        except ValueError:
            stream.not_json.append((i, event.data))
            continue
        if isinstance(payload, dict) and "error" in payload and "choices" not in payload:
            stream.errors.append((i, payload))
        elif isinstance(payload, dict):
            stream.chunks.append((i, payload))
        else:
            stream.not_json.append((i, event.data))
    return stream


def choices(payload: Any) -> list[dict[str, Any]]:
    """The choice objects of a chunk or response, ignoring malformed entries."""
    return [entry for _, entry in choice_entries(payload)]


def choice_entries(payload: Any, choice: int | None = None) -> list[tuple[int, dict[str, Any]]]:
    """(position in the choices array, choice object): positions for pointers, past bad entries.

    With ``choice``, only the entries whose ``index`` is that choice (absent counts as 0).
    """
    entries = payload.get("choices") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        return []
    return [
        (j, c)
        for j, c in enumerate(entries)
        if isinstance(c, dict) and (choice is None or c.get("index", 0) == choice)
    ]


def choice_index(entry: dict[str, Any]) -> int | str:
    """A choice's index as a key: the integer, or the JSON text of a malformed one.

    A list or object as index is the schema check's to report; the checks that
    group deltas by choice must not crash on it (it is unhashable).
    """
    index = entry.get("index", 0)
    if isinstance(index, int) and not isinstance(index, bool):
        return index
    return json.dumps(index)


def index_order(key: int | str) -> tuple[bool, int, str]:
    """Sort key for ``choice_index`` values: integers first, in order, then the others."""
    return (True, 0, key) if isinstance(key, str) else (False, key, "")
