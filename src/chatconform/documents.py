"""The document fixtures: fixtures/documents and its manifest.

The manifest is written by fixtures/make_documents.py. For each file it says
the media type, the word the document carries (which a model can know only by
reading the document) and the question the suite asks about it.
"""

from __future__ import annotations

import json
from base64 import b64encode
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from chatconform.paths import FIXTURES_DIR

DOCUMENTS_DIR = FIXTURES_DIR / "documents"
MANIFEST_PATH = DOCUMENTS_DIR / "manifest.json"


@dataclass(frozen=True)
class Document:
    """One fixture document, the word written in it and the question that asks for the word."""

    name: str
    media_type: str
    word: str
    question: str
    path: Path

    def data(self) -> bytes:
        return self.path.read_bytes()

    def base64(self) -> str:
        """The file's bytes as standard base64, as a document block's base64 source carries them."""
        return b64encode(self.data()).decode("ascii")


@cache
def manifest() -> dict[str, Document]:
    entries = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return {
        name: Document(
            name=name,
            media_type=entry["media_type"],
            word=entry["word"],
            question=entry["question"],
            path=DOCUMENTS_DIR / name,
        )
        for name, entry in entries.items()
    }


def document(name: str) -> Document:
    try:
        return manifest()[name]
    except KeyError:
        raise KeyError(f"no document {name!r} in {MANIFEST_PATH}") from None
