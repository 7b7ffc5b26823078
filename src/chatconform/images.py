"""The image fixtures: fixtures/images and its manifest, data URLs, report thumbnails.

The manifest is written by fixtures/make_images.py. It says what each picture
shows, which files hold it (format, media type, size, sha256), the questions
the suite asks about pictures and the answers it accepts.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from PIL import Image

from chatconform.paths import FIXTURES_DIR

IMAGES_DIR = FIXTURES_DIR / "images"
MANIFEST_PATH = IMAGES_DIR / "manifest.json"
THUMBNAIL_PX = 96


@dataclass(frozen=True)
class ImageFile:
    """One fixture file: a picture in one format."""

    file: str
    format: str
    media_type: str
    width: int
    height: int
    size: int
    sha256: str

    def read(self) -> bytes:
        return (IMAGES_DIR / self.file).read_bytes()


@dataclass(frozen=True)
class Picture:
    """What a picture shows (colour, shape, number) and the files that hold it."""

    name: str
    description: str
    shows: Mapping[str, str]
    files: tuple[ImageFile, ...]

    def file(self, format: str = "png") -> ImageFile:
        for candidate in self.files:
            if candidate.format == format:
                return candidate
        raise KeyError(f"picture {self.name!r} has no {format} file")


@dataclass(frozen=True)
class Question:
    """A question about pictures, with every answer it needs (each with its synonyms)."""

    name: str
    pictures: tuple[str, ...]
    text: str
    # One group per expected answer; an answer must name something from every group.
    accepted: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Manifest:
    pictures: dict[str, Picture]
    questions: dict[str, Question]

    def files(self) -> Iterator[ImageFile]:
        for picture in self.pictures.values():
            yield from picture.files


@cache
def manifest() -> Manifest:
    data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    synonyms: dict[str, list[str]] = data["synonyms"]
    pictures = {
        name: Picture(
            name=name,
            description=entry["description"],
            shows=dict(entry["shows"]),
            files=tuple(ImageFile(**f) for f in entry["files"]),
        )
        for name, entry in data["pictures"].items()
    }
    questions = {
        name: Question(
            name=name,
            pictures=tuple(entry["pictures"]),
            text=entry["text"],
            accepted=tuple((term, *synonyms.get(term, ())) for term in entry["expect"]),
        )
        for name, entry in data["questions"].items()
    }
    return Manifest(pictures=pictures, questions=questions)


def picture(name: str) -> Picture:
    return manifest().pictures[name]


def question(name: str) -> Question:
    return manifest().questions[name]


@cache
def data_url(file: ImageFile) -> str:
    """The file as a base64 data URL, as vision clients send local images."""
    return f"data:{file.media_type};base64,{base64.b64encode(file.read()).decode('ascii')}"


@cache
def thumbnail(file: ImageFile) -> str:
    """A small PNG of the file as a data URL, for the HTML report."""
    with Image.open(io.BytesIO(file.read())) as image:
        small = image.convert("RGB")
        small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        buffer = io.BytesIO()
        small.save(buffer, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
