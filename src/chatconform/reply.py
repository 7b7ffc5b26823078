"""The neutral reply: what any dialect's answer says, read once from its exchange.

Judgements that are the same in every dialect (an answer accepted, an image seen,
the expected tool called with matching arguments, tokens spent) are made over a
``Reply``; each dialect reads its own wire format into one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# What a stop reason means, whatever the dialect calls it.
ENDED = "ended"  # the model finished its answer (stop, end_turn, a stop sequence)
CAPPED = "capped"  # the token cap cut it (length, max_tokens)
TOOL = "tool"  # it asks for tool results (tool_calls, tool_use)


@dataclass(frozen=True)
class ToolCall:
    """One call of a function tool: ``arguments`` as the JSON text the provider sent."""

    id: str | None
    name: str | None
    arguments: str

    def parsed(self) -> Any:
        """The arguments as JSON, or None when they are not JSON text (or nest deeper than
        Python can read)."""
        try:
            return json.loads(self.arguments)
        except (ValueError, RecursionError):
            return None


@dataclass(frozen=True)
class Usage:
    """Tokens a request cost: read (prompt, input) and written (completion, output)."""

    input_tokens: int
    output_tokens: int

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Reply:
    """An answer as a client sees it: text, tool calls, why it stopped, what it cost.

    ``stop_reason`` is the dialect's own word; ``ending`` its meaning (ENDED, CAPPED,
    TOOL) or None for a word the dialect does not define.
    """

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: str | None = None
    ending: str | None = None
    usage: Usage | None = None
    # Reasoning a provider sent beside the answer (never part of ``text``).
    reasoning: str = ""


def token_count(value: Any) -> int:
    """A usage field as a count: what is not a non-negative integer counts 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
