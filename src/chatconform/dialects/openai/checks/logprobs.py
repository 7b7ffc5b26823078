"""Checks of log probabilities: ``logprobs: true`` with ``top_logprobs`` (non-streamed)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from chatconform.dialects.openai.checks import Violation, check, expected
from chatconform.dialects.openai.stream import choice_entries
from chatconform.exchange import Exchange, clip
from chatconform.redaction import REDACTED


def _number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _token_problem(entry: Any, top: int | None) -> str | None:
    """What is wrong with one ChatCompletionTokenLogprob (``top``: alternatives asked for,
    None for an entry of top_logprobs itself), or None."""
    if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
        return f"an entry without a string token: {clip(repr(entry), 80)}"
    token, logprob, raw = entry["token"], entry.get("logprob"), entry.get("bytes")
    if not _number(logprob) or logprob > 0:
        return f"token {token!r} has logprob {logprob!r}: a log probability is at most 0"
    # A token the recording redacted (an echoed key) no longer matches its bytes; a token
    # that is part of one character (OpenAI writes its text as "bytes:\\xe2\\x80") has
    # bytes that are no UTF-8 text of their own, and only the whole content is checked.
    if (
        raw is not None
        and REDACTED not in token
        and _text_of(raw) is not None
        and raw != list(token.encode("utf-8", "surrogatepass"))
    ):
        return f"token {token!r} has bytes {clip(repr(raw), 60)}, not its UTF-8 bytes"
    if top is None:
        return None
    alternatives = entry.get("top_logprobs")
    if not isinstance(alternatives, list) or len(alternatives) > top:
        return (
            f"token {token!r} has top_logprobs {clip(repr(alternatives), 80)}: at most {top} asked"
        )
    for alternative in alternatives:
        problem = _token_problem(alternative, None)
        if problem:
            return f"in top_logprobs of {token!r}: {problem}"
    return None


def _text_of(raw: Any) -> str | None:
    """The UTF-8 text of a token's bytes, or None when they are not bytes of whole
    characters (signed bytes, as some runtimes write them, count as their unsigned)."""
    if not isinstance(raw, list) or not all(
        isinstance(b, int) and not isinstance(b, bool) and -128 <= b <= 255 for b in raw
    ):
        return None
    try:
        return bytes(b % 256 for b in raw).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _joined(content: list[Any]) -> str:
    """The content the tokens spell: their bytes joined and decoded where every token has
    bytes (a character may be split between tokens), else their texts joined."""
    entries = [e for e in content if isinstance(e, dict) and isinstance(e.get("token"), str)]
    raws = [e.get("bytes") for e in entries]
    if (
        entries
        and all(isinstance(r, list) for r in raws)
        and not any(REDACTED in e["token"] for e in entries)
    ):
        flat = [b for r in raws for b in r]
        text = _text_of(flat)
        if text is not None:
            return text
    return "".join(e["token"] for e in entries)


@check("openai.logprobs.valid")
def logprobs_as_requested(exchange: Exchange, top: int) -> Iterator[Violation]:
    """logprobs.content lists each token of the content with its log probability (<= 0), bytes
    and up to ``top_logprobs`` alternatives (ChatCompletionTokenLogprob)."""
    for j, choice in choice_entries(exchange.json_or_none()):
        logprobs = choice.get("logprobs")
        content = logprobs.get("content") if isinstance(logprobs, dict) else None
        where = f"/choices/{j}/logprobs"
        if not isinstance(content, list):
            yield Violation(
                expected(
                    "logprobs.content, a list of tokens (logprobs: true was sent)",
                    clip(repr(logprobs), 120),
                ),
                location=where,
                evidence=exchange.excerpt(),
            )
            continue
        problems = [p for p in (_token_problem(entry, top) for entry in content) if p]
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else None
        tokens = _joined(content)
        if not problems and top and content and all(not e.get("top_logprobs") for e in content):
            problems.append(f"no token has top_logprobs, {top} asked")
        if not problems and isinstance(text, str) and tokens != text:
            problems.append(
                f"the tokens join to {clip(tokens, 60)!r}, the content is {clip(text, 60)!r}"
            )
        if problems:
            yield Violation(
                expected(
                    f"each token of the content with logprob <= 0, its bytes and up to {top} top_logprobs",
                    problems[0],
                ),
                location=f"{where}/content",
                evidence=exchange.excerpt(),
            )
