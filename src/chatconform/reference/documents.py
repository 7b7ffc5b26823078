"""How the reference model reads a PDF: the text its pages show with Tj and TJ.

A test double, not a PDF parser. It finds every stream in the file, decodes
the unfiltered and FlateDecode ones, and in each that holds a text object
(BT ... ET) collects the strings shown by Tj, TJ, ' and ", in file order,
starting a new line where the text moves down a line. It ignores the
cross-reference table, the page tree and fonts: strings are read as
WinAnsi bytes, so text in simple fonts (what PDF generators write for Latin
text) reads, while glyph ids of composite (CID) fonts are skipped as
unreadable. That covers the fixture PDFs and simple real ones.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

PDF_HEADER = b"%PDF-"
# Far above any fixture; keeps a small, highly compressed stream from inflating to gigabytes.
MAX_STREAM_BYTES = 16 * 1024 * 1024
# In a TJ array, a move left by this many thousandths of an em or more is read as a space.
SPACE_KERN = 200

_WHITESPACE = b"\x00\t\n\x0c\r "
_DELIMITERS = b"()<>[]{}/%"
# A stream's dictionary runs from its object header to the `stream` keyword.
_STREAM = re.compile(rb"\bobj\b(?P<dict>(?:(?!\bendobj\b).)*?)\bstream(?:\r\n|\n|\r)", re.S)
# A direct length only: "/Length 12 0 R" refers to another object, so the reader looks for endstream.
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\d|\s+\d+\s+R)")
_FILTER = re.compile(rb"/Filter\s*(?:/(?P<name>\w+)|\[(?P<names>[^\]]*)\])")
# Streams that are never page content: images, fonts, metadata, cross-reference data.
_NOT_CONTENT = re.compile(
    rb"/Subtype\s*/(?:Image|XML|Type1C|CIDFontType0C|OpenType)\b"
    rb"|/Length[123]\b|/Type\s*/(?:XRef|ObjStm|Metadata)\b"
)
_ENCRYPT = re.compile(rb"/Encrypt\s*(?:<<|\d+\s+\d+\s+R)")
_INLINE_IMAGE_END = re.compile(rb"\sEI(?=\s|$)")
_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)")
_TEXT_OBJECT = re.compile(rb"(?:^|[\s\]>)])BT[\s/\[(<]")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Operator(bytes):
    """A content stream operator (Tj, Td, BT ...), told apart from operand strings."""


def read_pdf_text(data: bytes) -> str:
    """The text shown on the PDF's pages, one line per text line; ValueError if there is none."""
    if not data.startswith(PDF_HEADER):
        raise ValueError(f"Expected a PDF starting with {PDF_HEADER!r}, got {data[:16]!r}")
    if _ENCRYPT.search(data):
        raise ValueError("PDF is encrypted; its text cannot be extracted")
    lines: list[str] = []
    for content in _content_streams(data):
        lines.extend(_show_text(content))
    text = "\n".join(line for line in lines if line)
    if not text:
        raise ValueError(
            "PDF has no text that can be extracted (this reader takes Tj/TJ strings in simple "
            "fonts from uncompressed or FlateDecode content streams)"
        )
    return text


def _content_streams(data: bytes) -> Iterator[bytes]:
    """Each stream's decoded bytes that may be page content, in file order."""
    pos = 0
    while match := _STREAM.search(data, pos):
        start = match.end()
        length = _LENGTH.search(match["dict"])
        end = start + int(length[1]) if length else -1
        if not (length and re.match(rb"\s*endstream", data[end : end + 20])):
            end = data.find(b"endstream", start)
            if end < 0:
                return
        pos = end
        if _NOT_CONTENT.search(match["dict"]):
            continue
        decoded = _decode(match["dict"], data[start:end])
        if decoded is not None and _TEXT_OBJECT.search(decoded):
            yield decoded


def _decode(stream_dict: bytes, raw: bytes) -> bytes | None:
    """The stream's bytes when unfiltered or FlateDecode alone, else None."""
    match = _FILTER.search(stream_dict)
    if match is None:
        return raw
    names = [match["name"]] if match["name"] else re.findall(rb"/(\w+)", match["names"])
    if not names:
        return raw
    if names != [b"FlateDecode"]:
        return None
    try:
        return zlib.decompressobj().decompress(raw, MAX_STREAM_BYTES)
    except zlib.error:
        return None


def _show_text(content: bytes) -> list[str]:
    """Lines of the text shown by one content stream."""
    lines: list[str] = []
    line: list[str] = []
    operands: list[object] = []
    last_tm_y: object = None

    def show(value: object) -> None:
        if isinstance(value, bytes) and not isinstance(value, _Operator):
            line.append(_decode_string(value))

    def new_line() -> None:
        if line:
            lines.append(" ".join("".join(line).split()))
            line.clear()

    for token in _tokens(content):
        if not isinstance(token, _Operator):
            operands.append(token)
            continue
        op = bytes(token)
        if op == b"Tj" and operands:
            show(operands[-1])
        elif op == b"TJ" and operands and isinstance(operands[-1], list):
            for item in operands[-1]:
                if isinstance(item, float) and item <= -SPACE_KERN:
                    line.append(" ")
                show(item)
        elif op in (b"'", b'"') and operands:
            new_line()
            show(operands[-1])
        elif op in (b"Td", b"TD") and len(operands) >= 2:
            if operands[-1] != 0.0:
                new_line()
            else:
                line.append(" ")
        elif op == b"Tm" and len(operands) >= 6:
            if operands[-1] != last_tm_y:
                new_line()
            else:
                line.append(" ")
            last_tm_y = operands[-1]
        elif op in (b"T*", b"ET"):
            new_line()
        operands.clear()
    new_line()
    return lines


def _decode_string(raw: bytes) -> str:
    """A shown string as text: UTF-16 with a byte order mark, else WinAnsi; "" if unreadable."""
    if raw.startswith(b"\xfe\xff"):
        text = raw[2:].decode("utf-16-be", errors="replace")
    else:
        text = raw.decode("cp1252", errors="replace")
    # Control characters mean glyph ids of a composite font, not character codes.
    return "" if _CONTROL.search(text) else text


def _tokens(content: bytes) -> Iterator[object]:
    """Operands (bytes strings, floats, names as str, lists for arrays) and _Operator tokens."""
    stack: list[list[object]] = []
    i, n = 0, len(content)
    while i < n:
        c = content[i : i + 1]
        if c in _WHITESPACE:
            i += 1
            continue
        if c == b"%":
            while i < n and content[i : i + 1] not in b"\r\n":
                i += 1
            continue
        token: object
        if c == b"(":
            token, i = _literal_string(content, i + 1)
        elif content.startswith(b"<<", i) or content.startswith(b">>", i):
            i += 2
            continue  # dictionaries (marked content properties) are not shown text
        elif c == b"<":
            end = content.find(b">", i)
            end = n if end < 0 else end
            hex_digits = re.sub(rb"[^0-9A-Fa-f]", b"", content[i + 1 : end])
            token, i = bytes.fromhex((hex_digits + b"0"[: len(hex_digits) % 2]).decode()), end + 1
        elif c == b"[":
            stack.append([])
            i += 1
            continue
        elif c == b"]":
            i += 1
            if not stack:
                continue
            token = stack.pop()
        elif c in b"{}>)":
            i += 1
            continue
        else:
            start = i + 1 if c == b"/" else i
            i = start
            while i < n and content[i : i + 1] not in _WHITESPACE + _DELIMITERS:
                i += 1
            word = content[start:i]
            if c == b"/":
                token = word.decode("latin-1")
            elif _NUMBER.fullmatch(word):
                token = float(word)
            else:
                if word == b"ID":  # inline image data runs to EI; skip it unread
                    end = _INLINE_IMAGE_END.search(content, i)
                    i = end.end() if end else n
                    continue
                token = _Operator(word)
        if stack and not isinstance(token, _Operator):
            stack[-1].append(token)
        else:
            yield token


def _literal_string(content: bytes, i: int) -> tuple[bytes, int]:
    """The literal string whose body starts at ``i`` (after its "("), and the index after it."""
    out = bytearray()
    depth, n = 1, len(content)
    while i < n:
        c = content[i : i + 1]
        i += 1
        if c == b"\\":
            nxt = content[i : i + 1]
            octal = re.match(rb"[0-7]{1,3}", content[i : i + 3])
            if octal:
                out.append(int(octal[0], 8) & 0xFF)
                i += len(octal[0])
            elif nxt in _ESCAPES:
                out += _ESCAPES[nxt]
                i += 1
            elif nxt == b"\r":  # a backslash before an end of line continues the string
                i += 2 if content[i + 1 : i + 2] == b"\n" else 1
            elif nxt == b"\n":
                i += 1
            else:
                out += nxt
                i += 1
            continue
        if c == b"(":
            depth += 1
        elif c == b")":
            depth -= 1
            if depth == 0:
                break
        out += c
    return bytes(out), i
