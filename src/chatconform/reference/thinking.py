"""Extended thinking: the reference model's thought before it answers, and its signature.

The signature is what lets the official API trust a thinking block a client sends
back: here it is an HMAC of the thinking text under a key only this server holds,
so a block the client altered, or one from another server, does not verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from chatconform.reference.model import token_pieces

# The question is quoted in the thought up to this many tokens; budget_tokens is >= 1024.
QUOTED_TOKENS = 60


def thought(question: str, tools: Sequence[str]) -> str:
    """What the model thinks before answering ``question``, calling ``tools`` (names)."""
    quoted = "".join(token_pieces(question)[:QUOTED_TOKENS]).strip()
    opening = f"The user asks: {quoted}" if quoted else "The tool results are in."
    names = list(dict.fromkeys(tools))
    if len(names) == 1:
        plan = f"The tool {names[0]} can provide this, so I will call it."
    elif names:
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        plan = f"The tools {listed} can provide this, so I will call them."
    else:
        plan = "I can answer this from the conversation, so I will reply directly."
    return f"{opening}\n{plan}"


def sign(key: bytes, thinking: str) -> str:
    """The signature of a thinking text: base64 of its HMAC-SHA256 under ``key``."""
    digest = hmac.new(key, thinking.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verifies(key: bytes, thinking: str, signature: str) -> bool:
    return hmac.compare_digest(sign(key, thinking).encode(), signature.encode())
