"""What counts as an accepted answer: whole words and whole numbers, in any case.

One matcher for every semantic check (text, vision, tools). An answer and each
accepted phrase are split into tokens the same way, and a phrase is accepted
when its tokens appear in the answer as consecutive tokens. Case is ignored.

Tokens:

- A word is a run of letters and digits (``\\w``), with apostrophes inside it
  ("don't"). Punctuation, hyphens and spaces separate words, so "forty-seven"
  matches "forty seven", and "red" is not found in "shared" or "reddish".
- A number keeps its decimal and group separators when a digit follows them
  ("3.5", "5,000", "1.2.3"), and a minus sign that does not follow a letter or
  digit ("-5", but "3-5" is 3 and 5). So "5" is accepted in "5.", "5," and
  "(5)", and not in "15", "3.5", "5.0", "5,000" or "-5".
- Letters glued to digits stay one token: "5th", "3pm" and "gpt4" are not 5,
  3 or gpt. A unit after a space or a symbol is separate ("5 kg", "17.3°C").
- Numbers with well-formed thousands groups are read without the commas, so
  "5,000" and "5000" are the same number; "5,6" (no thousands group) is not 5.
- Each Chinese or Japanese character is a token of its own: those scripts do
  not separate words with spaces, and "答案是5" does contain 5.

A phrase with no token at all (empty, or punctuation only) accepts nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Han, hiragana, katakana and CJK compatibility ideographs: one token per character.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A letter or digit of a space-separated script.
_WORD_CHAR = rf"[^\W{_CJK}]"
_TOKEN = re.compile(
    rf"[{_CJK}]"
    # An optional minus sign: not after a letter or digit ("3-5" is a range), before a digit.
    rf"|(?:(?<!\w)[-\u2212](?=\d))?"
    # A run of letters and digits, joined across a . or , between digits and an
    # apostrophe between letters.
    rf"{_WORD_CHAR}+(?:(?:(?<=\d)[.,](?=\d)|['\u2019](?={_WORD_CHAR})){_WORD_CHAR}+)*"
)
_GROUPED = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def tokens(text: str) -> list[str]:
    """The tokens of ``text``, case-folded, numbers normalised (see the module docstring)."""
    found = []
    for match in _TOKEN.finditer(text):
        token = match.group().casefold().replace("\u2019", "'").replace("\u2212", "-")
        if _GROUPED.fullmatch(token):
            token = token.replace(",", "")
        found.append(token)
    return found


def _contains(haystack: list[str], needle: list[str]) -> bool:
    if not needle:
        return False
    width = len(needle)
    first = needle[0]
    return any(
        haystack[i : i + width] == needle
        for i, token in enumerate(haystack[: len(haystack) - width + 1])
        if token == first
    )


def accepted(answer: str, accept: Sequence[str]) -> bool:
    """Whether ``answer`` contains one of the ``accept`` phrases as whole tokens, in any case."""
    words = tokens(answer)
    return any(_contains(words, tokens(phrase)) for phrase in accept)


def mentions(answer: str, term: str) -> bool:
    """Whether ``answer`` names ``term`` as whole tokens, in any case."""
    return accepted(answer, [term])
