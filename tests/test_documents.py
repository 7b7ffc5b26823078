"""The document fixtures: the committed PDF is well formed, and the script reproduces it."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from chatconform.documents import DOCUMENTS_DIR, MANIFEST_PATH, Document, document, manifest

SCRIPT = DOCUMENTS_DIR.parent / "make_documents.py"
CODE_WORD = document("code-word.pdf")


def make_documents() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_documents", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compressed_variant() -> bytes:
    script = make_documents()
    return script.build_pdf(script.content_stream(script.LINES), compress=True)


def test_the_manifest_loads_every_document() -> None:
    assert set(manifest()) == {"code-word.pdf"}
    assert document("code-word.pdf") == Document(
        name="code-word.pdf",
        media_type="application/pdf",
        word="PERIWINKLE",
        question="What is the code word written in this document? Reply with the code word only.",
        path=DOCUMENTS_DIR / "code-word.pdf",
    )
    assert CODE_WORD.word.isalpha() and CODE_WORD.word.isupper()
    assert CODE_WORD.word.lower() not in CODE_WORD.question.lower()
    assert manifest() is manifest()


def test_unknown_document_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match=r"no-such\.pdf"):
        document("no-such.pdf")


def test_only_manifest_files_are_in_the_directory() -> None:
    on_disk = {p.name for p in DOCUMENTS_DIR.iterdir()} - {MANIFEST_PATH.name}
    assert on_disk == set(manifest())


def test_base64_round_trips_the_file() -> None:
    data = CODE_WORD.data()
    assert base64.b64decode(CODE_WORD.base64(), validate=True) == data
    assert len(data) < 2_000, "keep the repository small"


def test_the_pdf_has_a_1_4_header_and_ends_with_eof() -> None:
    data = CODE_WORD.data()
    assert data.startswith(b"%PDF-1.4\n")
    assert data.endswith(b"%%EOF\n")
    assert b"(The code word is PERIWINKLE.) Tj" in data, "the text is in an uncompressed stream"


@pytest.mark.parametrize("variant", ["committed", "compressed"])
def test_every_xref_offset_points_at_its_object(variant: str) -> None:
    data = CODE_WORD.data() if variant == "committed" else compressed_variant()
    tail = re.search(rb"startxref\n(\d+)\n%%EOF\n$", data)
    assert tail is not None
    startxref = int(tail[1])
    assert data[startxref:].startswith(b"xref\n")
    head = re.match(rb"xref\n0 (\d+)\n", data[startxref:])
    assert head is not None
    count = int(head[1])
    table = data[startxref + head.end() :]
    entries = [table[i * 20 : (i + 1) * 20] for i in range(count)]
    assert all(len(entry) == 20 and entry.endswith(b" \n") for entry in entries)
    assert entries[0] == b"0000000000 65535 f \n"
    for number, entry in enumerate(entries[1:], start=1):
        offset, generation, kind = entry.split()
        assert (generation, kind) == (b"00000", b"n")
        assert data[int(offset) :].startswith(b"%d 0 obj\n" % number), number
    assert table[count * 20 :].startswith(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % count)
    assert len(re.findall(rb"(?m)^\d+ 0 obj$", data)) == count - 1


@pytest.mark.parametrize("variant", ["committed", "compressed"])
def test_the_stream_length_is_exact(variant: str) -> None:
    data = CODE_WORD.data() if variant == "committed" else compressed_variant()
    match = re.search(rb"/Length (\d+)[^>]*>>\nstream\n", data)
    assert match is not None
    end = match.end() + int(match[1])
    assert data[end:].startswith(b"\nendstream\n")


def test_running_the_script_again_reproduces_the_committed_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in DOCUMENTS_DIR.iterdir()
    )
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (DOCUMENTS_DIR / path.name).read_bytes(), path.name
    assert (
        json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["code-word.pdf"][
            "word"
        ]
        == CODE_WORD.word
    )
