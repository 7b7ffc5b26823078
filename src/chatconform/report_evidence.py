"""Evidence as the report shows it: escaped, invisible characters made visible, JSON
indented, inline images in curl lines cut short.

Everything here is untrusted text from results.json; the output is safe inside an element
or a quoted attribute.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

# Characters that would hide or reorder text (controls, bidi overrides, zero-width):
# shown as escapes, so evidence reads as the provider sent it.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
# A long base64 run in a curl line (an inline image): elided, its length kept.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{160,}={0,2}")
_STATUS_LINE = re.compile(r"HTTP \d{3}\b.*")
# Pretty-printed JSON keeps a value on one line up to this many columns: a chat
# completion fits in a dozen lines, and an A4 page prints 130 columns of evidence.
WIDTH = 110


def text(value: Any) -> str:
    """Untrusted text for the page, in an element or an attribute: escaped, and with
    invisible characters shown as ``\\u202e`` escapes."""
    plain = str(value).replace("\r\n", "\n")
    return escape(_INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", plain), quote=True)


def breakable(value: Any) -> str:
    """``text`` of an id, with line-break opportunities after its dots and slashes, so
    ``openai/vision/url[png]`` wraps between its parts rather than inside a word."""
    return text(value).replace("/", "/<wbr>").replace(".", ".<wbr>")


def curl(request: str) -> str:
    """A request's curl line, inline images cut to their first characters."""
    return _BASE64_RUN.sub(
        lambda m: f"{m.group()[:24]}…[{len(m.group())} base64 characters]", request
    )


def pretty(evidence: str) -> str:
    """Evidence with its JSON indented: a whole JSON body, the body after an ``HTTP 200
    (...)`` line, or a long JSON value after a label (``Received: {...}``). Event
    streams (``data:`` lines) and text that is not JSON (a clipped excerpt) stay as
    they are. Members keep their order, duplicates and number spellings."""
    head, newline, body = evidence.partition("\n")
    if newline and _STATUS_LINE.fullmatch(head):
        return f"{head}\n{pretty(body)}"
    value = _parse(evidence)
    if value is not None:
        return _dump(value)
    return "\n".join(_pretty_line(line) for line in evidence.split("\n"))


def _pretty_line(line: str) -> str:
    label, colon, rest = line.partition(": ")
    if not colon or len(line) <= WIDTH or " " in label or label == "data":
        return line
    value = _parse(rest)
    return line if value is None else f"{label}:\n{_dump(value)}"


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object's members in order, duplicates kept: evidence is shown as sent."""


class _Raw(str):
    """A JSON number or constant, written back as it was spelled."""

    __slots__ = ()


def _parse(candidate: str) -> Any:
    """A JSON object or array, or None. Nesting too deep to print is not worth printing."""
    candidate = candidate.strip()
    if not candidate.startswith(("{", "[")):
        return None
    try:
        value = json.loads(
            candidate,
            object_pairs_hook=_Pairs,
            parse_float=_Raw,
            parse_int=_Raw,
            parse_constant=_Raw,
        )
        _flat(value)
    except (ValueError, RecursionError):
        return None
    return value


def _dump(value: Any, indent: int = 0, prefix: int = 0) -> str:
    """JSON indented by two, each value on one line where it fits ``WIDTH``; an array
    of one object hugs it (``[{`` ... ``}]``)."""
    flat = _flat(value)
    if not isinstance(value, list) or not value or indent + prefix + len(flat) <= WIDTH:
        return flat
    if not isinstance(value, _Pairs) and len(value) == 1 and isinstance(value[0], list):
        return f"[{_dump(value[0], indent, prefix + 1)}]"
    pad = " " * (indent + 2)
    if isinstance(value, _Pairs):
        items = [f"{pad}{_key(k)}: {_dump(v, indent + 2, len(_key(k)) + 2)}" for k, v in value]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + _dump(v, indent + 2) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def _flat(value: Any) -> str:
    if isinstance(value, _Pairs):
        return "{" + ", ".join(f"{_key(k)}: {_flat(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    if isinstance(value, _Raw):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)
