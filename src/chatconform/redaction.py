"""Secret redaction, applied once at the recording client for everything downstream.

A provider may echo a key back in any encoding, so a configured secret is matched
character by character in each form a character can take on the wire: as is,
JSON-escaped (``\\uXXXX``, ``\\/``, also JSON inside JSON), percent-encoded (also
twice) and as an HTML character reference. Credentials in URL query strings
(``?api_key=``, ``&sig=``...) are redacted whatever their value. A secret spelt out
in pieces is found where the pieces are joined again: the deltas of a stream, and
the tokens of a logprobs list (their strings, and their bytes as integer arrays).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
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
    r"(?P<value>(?:\\/|[^\s&#\"'<>\\])+)"
)
_CREDENTIAL_TEXT = re.compile(_CREDENTIAL_PARAM)
_CREDENTIAL_BYTES = re.compile(_CREDENTIAL_PARAM.encode())
# An event-stream line: a data field ("data", "data:" or "data: " then its value), or any
# other line; CRLF, LF or CR ends it. What follows the last line end is no line yet.
_SSE_LINE = re.compile(rb"(?:data(?:: ?|(?=[\r\n]))(?P<value>[^\r\n]*)|[^\r\n]*)(?:\r\n|\r|\n)")
_BOM = "\ufeff".encode()
_JSON_DOCUMENT = re.compile(rb"\s*[\[{]")
# What a JSON document cut short is read as: its strings (the last maybe unterminated)
# skipped whole, its brackets and commas; the rest (numbers, literals, blanks) skipped.
_JSON_PART = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)|[\[\]{},]', re.DOTALL)
# Nesting deeper than any API's answer: a cut document that deep is not read back.
_MAX_CUT_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


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
        value = self._json_bytes(value)
        value = _masked(value, self._spans(value, self._bytes), REDACTED.encode())
        return _CREDENTIAL_BYTES.sub(rb"\g<head>" + REDACTED.encode(), value)

    def value(self, obj: Any) -> Any:
        """``obj`` with every string in it redacted (keys too): a case's result quotes
        provider text, assembled from pieces no single recorded read held whole. A
        secret spelt out by a list of logprobs tokens is cut out of them too."""
        if any(_token_lists(obj)):
            obj = copy.deepcopy(obj)
            self._token_runs_redacted({0: obj})
        return self._value(obj)

    def _value(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self._value(k): self._value(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return type(obj)(self._value(item) for item in obj)
        if isinstance(obj, bytes):
            return self.bytes(obj)
        return obj

    def cut_bytes(self, value: bytes) -> bytes:
        """``bytes`` for a body cut short: a secret's beginning left at the cut goes too."""
        value = self.bytes(value)
        start = self._cut_start(value)
        return value if start is None else value[:start] + REDACTED.encode()

    def stream(self, datas: Sequence[str], body: bytes) -> tuple[list[str], bytes]:
        """Events' data and the raw stream, with a secret split across events masked.

        A stream spells text out across events (a delta each), so a secret can be
        whole in no single event yet whole in the answer. Strings at the same JSON
        path in successive events (a choice known by its ``index``) are joined,
        searched, and every piece of a secret found there is cut out of its event and
        of the body, where the secret's first piece becomes ``[REDACTED]``: the answer
        reads as if redacted whole. The logprobs tokens of successive events are joined
        the same way. Only the events changed are written anew.
        """
        datas = list(datas)
        documents: dict[int, Any] = {}
        for event, data in enumerate(datas):
            try:
                documents[event] = json.loads(data)
            except (ValueError, RecursionError):
                continue
        # Edited where the parse found each piece, never by searching the event's text:
        # a piece may also be spelt elsewhere in it ("id", the model's name). Tokens
        # first: their strings are then clean when the strings of each path are joined.
        changed = self._token_runs_redacted(documents)
        for event, path, new in list(self._split_secret_edits(documents)):
            documents[event] = _replaced(documents[event], path, new)
            changed.add(event)
        if not changed:
            return datas, body
        for event in changed:
            datas[event] = _dumped(documents[event])
        return datas, _with_datas(body, datas, changed)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Secrets replaced in every value; credential headers never kept as sent."""
        redacted = {}
        for name, value in headers.items():
            clean = self.text(value)
            if name.lower() in SECRET_HEADERS and REDACTED not in clean:
                clean = OTHER_CREDENTIAL
            redacted[name] = clean
        return redacted

    def _json_bytes(self, value: bytes) -> bytes:
        """A JSON document whose logprobs spell a secret out, written anew without it; any
        other value as it is."""
        if not _JSON_DOCUMENT.match(value):
            return value
        try:
            document, closers = json.loads(value), b""
        except (ValueError, RecursionError):
            # A body cut short (the size limit, a stall) is read up to its last whole
            # element, and written anew as cut short as it was, without the rest.
            cut = _cut_document(value)
            if cut is None:
                return value
            document, closers = cut
        ends = _open_lists(document) if closers else set()
        if not self._token_runs_redacted({0: document}, ends):
            return value
        written = _dumped(document).encode()
        return written[: len(written) - len(closers)]

    def _token_runs_redacted(
        self, documents: Mapping[int, Any], cut: Set[int] = frozenset()
    ) -> set[int]:
        """Cuts every secret spelt out by a list of logprobs tokens out of them, in place,
        and says in which documents. The lists at one path (a choice known by its
        ``index``) of successive documents are one run, as a stream sends them; a list
        is cut before the alternatives its tokens list (``top_logprobs``). A secret's
        beginning that ends a list ``cut`` short (by ``id``) goes too."""
        runs: dict[tuple[Any, ...], list[tuple[int, dict[str, Any]]]] = {}
        ends: set[tuple[Any, ...]] = set()
        for event, document in sorted(documents.items()):
            for key, items in _token_lists(document):
                runs.setdefault(key, []).extend((event, i) for i in items if _is_token(i))
                if id(items) in cut:
                    ends.add(key)
        changed: set[int] = set()
        for key in sorted(runs, key=len):
            changed |= self._run_redacted(runs[key], key in ends)
        return changed

    def _run_redacted(self, entries: list[tuple[int, dict[str, Any]]], cut: bool) -> set[int]:
        """Cuts the secrets that the joined tokens of ``entries`` spell, in their strings
        or their bytes, out of each entry they overlap (a secret's beginning at their end
        too, if they were ``cut`` short); says in which documents."""
        texts = [entry["token"] for _, entry in entries]
        raws = [_token_bytes(entry) for _, entry in entries]
        joined, joined_raw = "".join(texts), b"".join(r or b"" for r in raws)
        # A credential's value in a URL the tokens spell: cut as ``text`` cuts it.
        text_spans = _merged(
            [
                *self._spans(joined, self._text),
                *(found.span("value") for found in _CREDENTIAL_TEXT.finditer(joined)),
            ]
        )
        byte_spans = _merged(
            [
                *self._spans(joined_raw, self._bytes),
                *(found.span("value") for found in _CREDENTIAL_BYTES.finditer(joined_raw)),
            ]
        )
        if cut:
            encoded = joined.encode("utf-8", "surrogatepass")
            if (start := self._cut_start(encoded)) is not None:
                before = encoded[:start].decode("utf-8", "surrogatepass")
                text_spans = _merged([*text_spans, (len(before), len(joined))])
            if (start := self._cut_start(joined_raw)) is not None:
                byte_spans = _merged([*byte_spans, (start, len(joined_raw))])
        changed: set[int] = set()
        if not text_spans and not byte_spans:
            return changed
        offset = byte_offset = 0
        for (event, entry), text, raw in zip(entries, texts, raws, strict=True):
            token = _cut_out(text, offset, text_spans, REDACTED)
            new_raw = None if raw is None else _cut_out(raw, byte_offset, byte_spans, _MARKER)
            if token != text or new_raw != raw:
                entry["token"] = token
                if new_raw is not None:
                    entry["bytes"] = list(new_raw)
                _alternatives_redacted(
                    entry,
                    (text, token, _parts(text, offset, text_spans)),
                    (raw, new_raw, [] if raw is None else _parts(raw, byte_offset, byte_spans)),
                )
                changed.add(event)
            offset += len(text)
            byte_offset += len(raw or b"")
        return changed

    def _cut_start(self, value: bytes) -> int | None:
        """Where a secret's beginning ends ``value`` (see ``_cut_secret``), or None."""
        for chars in self._chars:
            start = _cut_secret(value, chars)
            if start is not None:
                return start
        return None

    def _spans(self, value: AnyStr, patterns: list[re.Pattern[AnyStr]]) -> list[tuple[int, int]]:
        return _merged(found.span() for pattern in patterns for found in pattern.finditer(value))

    def _split_secret_edits(
        self, documents: Mapping[int, Any]
    ) -> Iterator[tuple[int, tuple[Any, ...], str]]:
        """(event, JSON path in it, new string) for every string that holds a piece
        of a secret spread over several events."""
        runs: dict[tuple[Any, ...], list[tuple[int, tuple[Any, ...], str]]] = {}
        for event, document in sorted(documents.items()):
            for key, path, text in _strings(document):
                runs.setdefault(key, []).append((event, path, text))
        for pieces in runs.values():
            if len(pieces) < 2:
                continue
            joined = "".join(text for _, _, text in pieces)
            spans = self._spans(joined, self._text)
            if not spans:
                continue
            offset = 0
            for event, path, text in pieces:
                new = _cut_out(text, offset, spans, REDACTED)
                if new != text:
                    yield event, path, new
                offset += len(text)


def _cut_document(value: bytes) -> tuple[Any, bytes] | None:
    """A JSON document cut short, read up to the last element it holds whole: the document
    and the closing brackets added to read it; None if there is no such element."""
    closing: list[bytes] = []
    cut = None
    for part in _JSON_PART.finditer(value):
        found = part.group()
        if found in (b"{", b"["):
            closing.append(b"}" if found == b"{" else b"]")
            if len(closing) > _MAX_CUT_DEPTH:
                return None
        elif found in (b"}", b"]"):
            if not closing:
                return None
            closing.pop()
        elif found == b",":
            cut = (part.start(), b"".join(reversed(closing)))
    if cut is None:
        return None
    end, closers = cut
    try:
        return json.loads(value[:end] + closers), closers
    except (ValueError, RecursionError):
        return None


def _open_lists(document: Any) -> set[int]:
    """The ``id`` of each list a document cut short ends in: those its last element is
    in, at every depth (they were cut, and closed to read it)."""
    lists, item = set(), document
    while isinstance(item, dict | list) and item:
        if isinstance(item, list):
            lists.add(id(item))
        item = item[-1] if isinstance(item, list) else next(reversed(item.values()))
    return lists


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


def _strings(document: Any) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...], str]]:
    """(run key, JSON path, string) of every string value in a document, in document order.

    The key is the path, but a list item with an ``"index"`` (a choice, a tool call) is
    keyed by that: a stream's interleaved choices are told apart by it, not by where
    they sit in an event's list.
    """
    pending: list[tuple[tuple[Any, ...], tuple[Any, ...], Any]] = [((), (), document)]
    while pending:
        key, path, item = pending.pop()
        if isinstance(item, str):
            yield key, path, item
        if not isinstance(item, dict | list):
            continue
        children = item.items() if isinstance(item, dict) else enumerate(item)
        # Numbers, booleans and nulls hold no text: never paired with a path.
        pending.extend(
            ((*key, _run_step(item, place, child)), (*path, place), child)
            for place, child in reversed(list(children))
            if isinstance(child, str | dict | list)
        )


def _run_step(parent: Any, place: Any, child: Any) -> Any:
    if isinstance(parent, list) and isinstance(child, dict):
        index = child.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            return ("index", index)
    return place


def _replaced(document: Any, path: tuple[Any, ...], value: str) -> Any:
    """``document`` with ``value`` at ``path`` (changed in place unless the path is empty)."""
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return document


def _dumped(document: Any) -> str:
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    # A lone surrogate (sent as \ud800) has no UTF-8 form: escaped again, as it came.
    return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def _with_datas(body: bytes, datas: list[str], changed: set[int]) -> bytes:
    """``body`` with the data lines of the ``changed`` events holding their new data:
    found by position (``datas`` are the first events ``body`` dispatches), the rest
    kept byte for byte."""
    events = _data_lines(body)
    if len(events) < len(datas):
        # Not the stream the events were read from: rebuilt from them, not left to leak.
        lines = ("".join(f"data: {line}\n" for line in d.split("\n")) for d in datas)
        return "".join(f"{event}\n" for event in lines).encode()
    parts, position = [], 0
    for event in sorted(changed):
        (_, value_start, value_end, _), *rest = events[event]
        parts += [body[position:value_start], datas[event].encode()]
        position = value_end
        # The new data is one line (JSON escapes line ends): the event's other data lines go.
        for line_start, _, _, line_end in rest:
            parts.append(body[position:line_start])
            position = line_end
    parts.append(body[position:])
    return b"".join(parts)


def _data_lines(body: bytes) -> list[list[tuple[int, int, int, int]]]:
    """The data lines of each event ``body`` dispatches, by the rules chatconform.sse
    follows: (line start, value start, value end, end of the line with its line end)."""
    events: list[list[tuple[int, int, int, int]]] = []
    lines: list[tuple[int, int, int, int]] = []
    for line in _SSE_LINE.finditer(body, len(_BOM) if body.startswith(_BOM) else 0):
        if line.start("value") >= 0:
            lines.append((line.start(), line.start("value"), line.end("value"), line.end()))
        elif line.group()[0] in b"\r\n":  # a blank line dispatches an event that has data
            if lines:
                events.append(lines)
            lines = []
    return events


def _cut_out(text: AnyStr, offset: int, spans: list[tuple[int, int]], marker: AnyStr) -> AnyStr:
    """``text`` (which starts at ``offset`` of a joined run) without the parts of ``spans``
    in it; the piece a span starts in gets ``marker`` in its place."""
    parts, position, end = [], offset, offset + len(text)
    for start, stop in spans:
        if stop <= position or start >= end:
            continue
        parts.append(text[position - offset : max(start, position) - offset])
        if start >= offset:
            parts.append(marker)
        position = min(stop, end)
    parts.append(text[position - offset :])
    return text[:0].join(parts)


def _parts(text: AnyStr, offset: int, spans: list[tuple[int, int]]) -> list[AnyStr]:
    """The parts of ``spans`` in ``text`` (which starts at ``offset`` of a joined run)."""
    end = offset + len(text)
    return [
        text[max(start, offset) - offset : min(stop, end) - offset]
        for start, stop in spans
        if start < end and stop > offset
    ]


# --- logprobs: a token per entry, its UTF-8 bytes as integers, its alternatives ------

_MARKER = REDACTED.encode()


def _is_token(item: Any) -> bool:
    """Whether ``item`` is a logprobs entry (ChatCompletionTokenLogprob and the like)."""
    return isinstance(item, dict) and isinstance(item.get("token"), str)


def _token_bytes(entry: dict[str, Any]) -> bytes | None:
    """An entry's ``bytes`` as bytes; None if it is not an integer array of bytes (signed
    bytes, as some runtimes write them, read as the same bytes)."""
    raw = entry.get("bytes")
    if not isinstance(raw, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and -128 <= n <= 255 for n in raw
    ):
        return None
    return bytes(n & 0xFF for n in raw)


def _token_lists(document: Any) -> Iterator[tuple[tuple[Any, ...], list[Any]]]:
    """(run key, list) of every list of logprobs entries in a document, outer lists
    first; keyed as ``_strings`` keys a string."""
    pending: list[tuple[tuple[Any, ...], Any]] = [((), document)]
    while pending:
        key, item = pending.pop()
        if isinstance(item, list) and any(_is_token(child) for child in item):
            yield key, item
        if not isinstance(item, dict | list):
            continue
        children = item.items() if isinstance(item, dict) else enumerate(item)
        pending.extend(
            ((*key, _run_step(item, place, child)), child)
            for place, child in reversed(list(children))
            if isinstance(child, dict | list)
        )


def _alternatives_redacted(
    entry: dict[str, Any],
    text: tuple[str, str, list[str]],
    raw: tuple[bytes | None, bytes | None, list[bytes]],
) -> None:
    """The alternatives listed with a token that held a secret's pieces (``top_logprobs``):
    the model's other guesses at that place, cut like the token where they are the token,
    and without the pieces it held where they are another one.

    ``text`` and ``raw`` are the token's string and bytes, before and after the cut, with
    the pieces cut out of them."""
    alternatives = entry.get("top_logprobs")
    if not isinstance(alternatives, list):
        return
    (before, after, pieces), (raw_before, raw_after, raw_pieces) = text, raw
    for alternative in alternatives:
        if not _is_token(alternative):
            continue
        own_raw = _token_bytes(alternative)
        if alternative["token"] == before:
            alternative["token"] = after
            if own_raw is not None:
                own_raw = (
                    raw_after
                    if own_raw == raw_before and raw_after is not None
                    else after.encode("utf-8", "surrogatepass")
                )
                alternative["bytes"] = list(own_raw)
            continue
        alternative["token"] = _without(alternative["token"], pieces, REDACTED)
        if own_raw is not None:
            alternative["bytes"] = list(_without(own_raw, raw_pieces, _MARKER))


def _without(value: AnyStr, pieces: list[AnyStr], marker: AnyStr) -> AnyStr:
    """``value`` with ``marker`` wherever it holds one of ``pieces``, longest first."""
    pieces = sorted({p for p in pieces if p}, key=len, reverse=True)
    if not pieces:
        return value
    bar = "|" if isinstance(value, str) else b"|"
    return re.sub(bar.join(re.escape(p) for p in pieces), lambda _: marker, value)
