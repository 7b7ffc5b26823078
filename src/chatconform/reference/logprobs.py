"""Log probabilities of the reference model's tokens (``logprobs``, ``top_logprobs``).

The model is deterministic: each token it writes is its most likely one, and the
alternatives it lists are far less likely. Log probabilities are natural logs, so
never above 0; the logprobs-positive fault sends probabilities instead.
"""

from __future__ import annotations

import math
from typing import Any

from chatconform.reference.faults import FaultSet

# ln of the chosen token's probability; the alternative of rank r has 0.004 / r.
CHOSEN = round(math.log(0.99), 6)


def _entry(token: str, logprob: float, faults: FaultSet) -> dict[str, Any]:
    value = round(math.exp(logprob), 6) if "logprobs-positive" in faults else logprob
    return {"token": token, "logprob": value, "bytes": list(token.encode("utf-8"))}


def _alternative(token: str, rank: int) -> str:
    """A token the model could have written instead: distinct from it and from each other."""
    return f"{token}{'.' * rank}"


def token_logprobs(pieces: list[str], top: int, faults: FaultSet) -> list[dict[str, Any]]:
    """``logprobs.content`` for the tokens ``pieces``, each with its ``top`` alternatives
    (the token itself first)."""
    content = []
    for piece in pieces:
        ranked = [(piece, CHOSEN)] + [
            (_alternative(piece, rank), round(math.log(0.004 / rank), 6)) for rank in range(1, top)
        ]
        entry = _entry(piece, CHOSEN, faults)
        entry["top_logprobs"] = [_entry(token, lp, faults) for token, lp in ranked[:top]]
        content.append(entry)
    return content


def choice_logprobs(pieces: list[str], top: int | None, faults: FaultSet) -> dict | None:
    """A choice's ``logprobs``: null unless the request asked for them (``top`` not None)."""
    if top is None:
        return None
    return {"content": token_logprobs(pieces, top, faults), "refusal": None}
