"""How the reference's usage faults miscount, the same in both dialects' wire layers."""

from __future__ import annotations

# What usage-constant reports for every answer: (prompt tokens, completion tokens).
CONSTANT_USAGE = (9, 3)
# How many times the real prompt count usage-inflated and anthropic-usage-inflated bill.
INFLATION = 3


def estimated(prompt_tokens: int) -> int:
    """A relay's own estimate of a prompt count (the stream-differs faults): a third more."""
    return prompt_tokens + max(1, prompt_tokens // 3)
