"""Secret redaction, applied once at the recording client for everything downstream.

A provider may echo a key back in any encoding, so a configured secret is matched
character by character in each form a character can take on the wire: as is,
JSON-escaped (``\\uXXXX``, ``\\/``, also JSON inside JSON), percent-encoded (also
twice) and as an HTML character reference. Credentials in URL query strings
(``?api_key=``, ``&sig=``...) are redacted whatever their value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, AnyStr

REDACTED = "[REDACTED]"
OTHER_CREDENTIAL = "[REDACTED: not the configured key]"

# Headers that carry credentials whatever their value; redacted even when the
# value is not a configured secret (the wrong-key probe, a proxy's own token).
SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "proxy-authorization", "cookie", "set-cookie"}
)

# Shorter secrets, or key beginnings at a cut, are not redacted: "abc" would shred
# every recorded body, and three characters of a key give nothing away.
MIN_SECRET_CHARS = 4

# Escapes stacked on one character are bounded, which keeps matching linear even over
# a megabyte of backslashes: 7 backslashes is JSON in JSON in JSON (1, 3, 7), two
# re-encodings of a percent sign is %252F, four zeros pad an HTML reference. Every
# form starts with a plain character, so the regex engine skips ahead to where one
# of them occurs instead of trying a match at every position of a 4 MB body.
_BACKSLASHES = r"\\\\{0,6}"
_PERCENT = "%(?:25){0,2}"
_ZEROS = "0{0,4}"
# The incomplete encoding of the next character, where a body was cut short.
_PARTIAL_ESCAPE = re.compile(
    rb"(?:\\{1,7}u?[0-9a-fA-F]{0,3}|%[0-9a-fA-F]{0,5}|&#[xX]?[0-9a-fA-F]{0,6})?\Z"
)

# A query parameter whose name says it is a credential (api_key, key, access_token,
# X-Amz-Signature, sig...), after ?, & or ; as written in a URL, in HTML, in JSON
# or percent-encoded inside another URL. The value runs to the next separator, quote
# or backslash (a JSON escape), so a redacted JSON body stays JSON.
_CREDENTIAL_PARAM = (
    r"(?P<head>(?:\?|;|&(?:amp;)?|%(?:3[fF]|26)|\\u00(?:26|3[fF]))"
    r"(?i:(?:[\w.-]{0,40}[_.-])?(?:apikey|accesstoken|key|token|sig|signature|secret"
    r"|password|passwd|credential|auth))"
    r"(?:=|%3[dD]|\\u003[dD]))"
    r"(?:\\/|[^\s&#\"'<>\\])+"
)
_CREDENTIAL_TEXT = re.compile(_CREDENTIAL_PARAM)
_CREDENTIAL_BYTES = re.compile(_CREDENTIAL_PARAM.encode())
# The two-character escapes of JSON (RFC 8259, section 7), by the character they stand for.
_JSON_SHORT_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "\b": "b",
    "\f": "f",
    "\n": "n",
    "\r": "r",
    "\t": "t",
}


def _hex(value: int, digits: int = 0) -> str:
    """``value``'s hex digits as a pattern matching either case (``2[fF]``)."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{value:0{digits}x}")


def _char_forms(char: str) -> str:
    """A pattern for one character in every encoding a provider may echo it in."""
    code = ord(char)
    forms = [re.escape(char)]
    if code <= 0xFFFF:
        forms.append(f"{_BACKSLASHES}u{_hex(code, 4)}")
    if char == "/":
        forms.append(f"{_BACKSLASHES}/")
    forms.append("".join(_PERCENT + _hex(byte, 2) for byte in char.encode()))
    forms.append(f"&#(?:[xX]{_ZEROS}{_hex(code)}|{_ZEROS}{code});?")
    return "(?:" + "|".join(forms) + ")"


def _json_char(char: str) -> str:
    """A pattern for one character inside a JSON string literal, however it is escaped."""
    code = ord(char)
    forms = [] if char in '"\\' or code < 0x20 else [re.escape(char)]
    if char in _JSON_SHORT_ESCAPES:
        forms.append(re.escape("\\" + _JSON_SHORT_ESCAPES[char]))
    if code <= 0xFFFF:
        forms.append(rf"\\u{_hex(code, 4)}")
    else:
        high, low = divmod(code - 0x10000, 0x400)
        forms.append(rf"\\u{_hex(0xD800 + high, 4)}\\u{_hex(0xDC00 + low, 4)}")
    return "(?:" + "|".join(forms) + ")"


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _masked(value: AnyStr, spans: list[tuple[int, int]], marker: AnyStr) -> AnyStr:
    if not spans:
        return value
    parts, position = [], 0
    for start, end in spans:
        parts += [value[position:start], marker]
        position = end
    parts.append(value[position:])
    return value[:0].join(parts)


class Redactor:
    """Replaces configured secret values, in any encoding, and credentials with ``[REDACTED]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_CHARS})
        # One pattern per secret, not one alternation: secrets that overlap in a text
        # ("abcd1234" and "1234wxyz" in "abcd1234wxyz") are each found, and merged.
        sources = ["".join(_char_forms(c) for c in secret) for secret in self._secrets]
        self._text = [re.compile(source) for source in sources]
        self._bytes = [re.compile(source.encode()) for source in sources]
        self._chars = [
            [re.compile(_char_forms(c).encode()) for c in secret] for secret in self._secrets
        ]

    def text(self, value: str) -> str:
        value = _masked(value, self._spans(value, self._text), REDACTED)
        return _CREDENTIAL_TEXT.sub(r"\g<head>" + REDACTED, value)

    def bytes(self, value: bytes) -> bytes:
        value = _masked(value, self._spans(value, self._bytes), REDACTED.encode())
        return _CREDENTIAL_BYTES.sub(rb"\g<head>" + REDACTED.encode(), value)

    def value(self, obj: Any) -> Any:
        """``obj`` with every string in it redacted (keys too): a case's result quotes
        provider text, assembled from pieces no single recorded read held whole."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self.value(k): self.value(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return type(obj)(self.value(item) for item in obj)
        if isinstance(obj, bytes):
            return self.bytes(obj)
        return obj

    def cut_bytes(self, value: bytes) -> bytes:
        """``bytes`` for a body cut short: a secret's beginning left at the cut goes too."""
        value = self.bytes(value)
        for chars in self._chars:
            start = _cut_secret(value, chars)
            if start is not None:
                return value[:start] + REDACTED.encode()
        return value

    def stream(self, datas: Sequence[str], body: bytes) -> tuple[list[str], bytes]:
        """Events' data and the raw stream, with a secret split across events masked.

        A stream spells text out across events (a delta each), so a secret can be
        whole in no single event yet whole in the answer. Strings at the same JSON
        path in successive events are joined, searched, and every piece of a secret
        found there is cut out of its event and of the body, where the secret's first
        piece becomes ``[REDACTED]``: the answer reads as if redacted whole.
        """
        datas = list(datas)
        if not self._secrets:
            return datas, body
        edits = sorted(self._split_secret_edits(datas))
        body_at = 0
        data_at: dict[int, int] = {}
        for event, _, old, new in edits:
            literal = "".join(_json_char(c) for c in old)
            replacement = json.dumps(new, ensure_ascii=False)
            data = datas[event]
            found = re.compile(f'"{literal}"').search(data, data_at.get(event, 0))
            if found:
                datas[event] = data[: found.start()] + replacement + data[found.end() :]
                data_at[event] = found.start() + len(replacement)
            raw = re.compile(f'"{literal}"'.encode()).search(body, body_at)
            if raw:
                body = body[: raw.start()] + replacement.encode() + body[raw.end() :]
                body_at = raw.start() + len(replacement.encode())
        return datas, body

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Secrets replaced in every value; credential headers never kept as sent."""
        redacted = {}
        for name, value in headers.items():
            clean = self.text(value)
            if name.lower() in SECRET_HEADERS and REDACTED not in clean:
                clean = OTHER_CREDENTIAL
            redacted[name] = clean
        return redacted

    def _spans(self, value: AnyStr, patterns: list[re.Pattern[AnyStr]]) -> list[tuple[int, int]]:
        return _merged(found.span() for pattern in patterns for found in pattern.finditer(value))

    def _split_secret_edits(self, datas: list[str]) -> Iterator[tuple[int, int, str, str]]:
        """(event, string's place in it, old string, new string) for every string that
        holds a piece of a secret spread over several events."""
        runs: dict[tuple[Any, ...], list[tuple[int, int, str]]] = {}
        for event, data in enumerate(datas):
            try:
                document = json.loads(data)
            except (ValueError, RecursionError):
                continue
            for place, (path, text) in enumerate(_strings(document)):
                runs.setdefault(path, []).append((event, place, text))
        for pieces in runs.values():
            if len(pieces) < 2:
                continue
            joined = "".join(text for _, _, text in pieces)
            spans = self._spans(joined, self._text)
            if not spans:
                continue
            offset = 0
            for event, place, text in pieces:
                new = _cut_out(text, offset, spans)
                if new != text:
                    yield event, place, text, new
                offset += len(text)


def _cut_secret(value: bytes, chars: list[re.Pattern[bytes]]) -> int | None:
    """Where a secret's beginning (at least MIN_SECRET_CHARS of it, in any encoding,
    maybe with its next character half-written) ends ``value``, or None."""
    # No character takes more than 28 bytes in any form; a beginning starts no earlier.
    for start in range(max(0, len(value) - 28 * len(chars)), len(value)):
        position, matched = start, 0
        while matched < len(chars) and (found := chars[matched].match(value, position)):
            position, matched = found.end(), matched + 1
        if matched >= MIN_SECRET_CHARS and _PARTIAL_ESCAPE.match(value, position):
            return start
    return None


def _strings(document: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(JSON path, string) of every string value in a document, in document order."""
    pending: list[tuple[tuple[Any, ...], Any]] = [((), document)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            yield path, item
        if not isinstance(item, dict | list):
            continue
        children = item.items() if isinstance(item, dict) else enumerate(item)
        # Numbers, booleans and nulls hold no text: never paired with a path.
        pending.extend(
            ((*path, key), child)
            for key, child in reversed(list(children))
            if isinstance(child, str | dict | list)
        )


def _cut_out(text: str, offset: int, spans: list[tuple[int, int]]) -> str:
    """``text`` (which starts at ``offset`` of a joined run) without the parts of ``spans``
    in it; the piece a span starts in gets ``[REDACTED]`` in its place."""
    parts, position, end = [], offset, offset + len(text)
    for start, stop in spans:
        if stop <= position or start >= end:
            continue
        parts.append(text[position - offset : max(start, position) - offset])
        if start >= offset:
            parts.append(REDACTED)
        position = min(stop, end)
    parts.append(text[position - offset :])
    return "".join(parts)
