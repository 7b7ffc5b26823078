"""The reference provider reads a PDF's text: Tj/TJ strings, uncompressed or FlateDecode."""

from __future__ import annotations

import importlib.util
import zlib
from types import ModuleType

import pytest

from chatconform.documents import document
from chatconform.images import picture
from chatconform.paths import FIXTURES_DIR
from chatconform.reference.documents import read_pdf_text

CODE_WORD = document("code-word.pdf")


def make_documents() -> ModuleType:
    path = FIXTURES_DIR / "make_documents.py"
    spec = importlib.util.spec_from_file_location("make_documents", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = make_documents()


def pdf(content: bytes, *, compress: bool = False) -> bytes:
    return SCRIPT.build_pdf(content, compress=compress)


def test_the_fixture_reads_line_by_line_with_its_word() -> None:
    text = read_pdf_text(CODE_WORD.data())
    assert text.splitlines() == list(SCRIPT.LINES)
    assert f"The code word is {CODE_WORD.word}." in text.splitlines()


def test_a_flate_compressed_variant_reads_the_same() -> None:
    compressed = pdf(SCRIPT.content_stream(SCRIPT.LINES), compress=True)
    assert b"/Filter /FlateDecode" in compressed
    assert CODE_WORD.word.encode() not in compressed
    assert read_pdf_text(compressed) == read_pdf_text(CODE_WORD.data())


def test_a_filter_array_and_an_indirect_length_read() -> None:
    body = zlib.compress(b"BT /F1 12 Tf 72 700 Td (Indirect QUINCE) Tj ET")
    data = (
        b"%PDF-1.7\n1 0 obj\n<< /Length 2 0 R /Filter [/FlateDecode] >>\nstream\n"
        + body
        + b"\nendstream\nendobj\n2 0 obj\n%d\nendobj\n%%%%EOF\n" % len(body)
    )
    assert read_pdf_text(data) == "Indirect QUINCE"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # TJ: kerning numbers inside words are ignored, a large move left is a space.
        (b"BT [(Hel) 20 (lo) -300 (WORLD)] TJ ET", "Hello WORLD"),
        # Escapes, balanced parentheses, octal codes and a continued line.
        (b"BT (a \\(b\\) (c) \\\\ \\101\\102 d\\\ne) Tj ET", "a (b) (c) \\ AB de"),
        # A hex string, and the ' and T* operators starting new lines.
        (b"BT <48692C> Tj (next) ' T* (third) Tj ET", "Hi,\nnext\nthird"),
        # A move right on the same line is a space; a move down is a new line.
        (b"BT 72 700 Td (one) Tj 40 0 Td (two) Tj 0 -20 Td (three) Tj ET", "one two\nthree"),
        # Tm on the same baseline continues the line, on another starts a new one.
        (
            b"BT 1 0 0 1 72 700 Tm (a) Tj 1 0 0 1 90 700 Tm (b) Tj 1 0 0 1 72 680 Tm (c) Tj ET",
            "a b\nc",
        ),
        # Marked content dictionaries, comments and inline images are not text.
        (
            b"/Span <</ActualText (X)>> BDC BT (kept) Tj ET EMC % (comment) Tj\n"
            b"BI /W 1 /H 1 ID \x00(junk) Tj\x01 EI BT (too) Tj ET",
            "kept\ntoo",
        ),
        # WinAnsi: 0x92 is a right single quote.
        (b"BT (it\\222s) Tj ET", "it\u2019s"),
    ],
)
def test_text_operators(content: bytes, expected: str) -> None:
    assert read_pdf_text(pdf(content)) == expected
    assert read_pdf_text(pdf(content, compress=True)) == expected


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, world", b" %PDF-1.4\n", b"PK\x03\x04", picture("red-circle").file("png").read()],
    ids=["empty", "text", "leading-space", "zip", "png"],
)
def test_bytes_that_are_not_a_pdf_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="Expected a PDF starting with b'%PDF-'"):
        read_pdf_text(data)


@pytest.mark.parametrize(
    "data",
    [
        pdf(b"0 0 m 100 100 l S"),  # graphics only
        pdf(b"BT /F2 12 Tf <002B00480052> Tj ET"),  # glyph ids of a composite font
        pdf(b"BT (   ) Tj ET"),  # blank text
        b"%PDF-1.4\n1 0 obj\n<< /Length 9 /Filter /ASCII85Decode >>\nstream\nBT (x) Tj\nendstream\nendobj\n",
        b"%PDF-1.4\n1 0 obj\n<< /Length 9 /Filter /FlateDecode >>\nstream\nnot zlib!\nendstream\nendobj\n",
        b"%PDF-1.4\n%%EOF\n",  # no streams at all
    ],
    ids=["graphics", "cid-glyphs", "blank", "other-filter", "corrupt-flate", "empty"],
)
def test_a_pdf_without_extractable_text_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="PDF has no text that can be extracted"):
        read_pdf_text(data)


def test_an_encrypted_pdf_is_refused() -> None:
    data = pdf(b"BT (x) Tj ET").replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 9 0 R")
    with pytest.raises(ValueError, match="encrypted"):
        read_pdf_text(data)
