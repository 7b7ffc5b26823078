"""The image fixtures: the committed files match the manifest, and the script that made them."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image

from chatconform.images import (
    IMAGES_DIR,
    MANIFEST_PATH,
    THUMBNAIL_PX,
    data_url,
    manifest,
    picture,
    question,
    thumbnail,
)

FILES = sorted(manifest().files(), key=lambda f: f.file)
PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}


def make_images() -> ModuleType:
    path = IMAGES_DIR.parent / "make_images.py"
    spec = importlib.util.spec_from_file_location("make_images", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def without_bytes(data: dict[str, Any]) -> dict[str, Any]:
    """The manifest minus each file's size and sha256 (they follow Pillow's encoders)."""
    copy = json.loads(json.dumps(data))
    for entry in copy["pictures"].values():
        for file in entry["files"]:
            del file["size"], file["sha256"]
    return copy


@pytest.mark.parametrize("file", FILES, ids=lambda f: f.file)
def test_each_file_is_as_the_manifest_says(file: Any) -> None:
    data = file.read()
    assert len(data) == file.size
    assert hashlib.sha256(data).hexdigest() == file.sha256
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == PILLOW_FORMATS[file.format]
        assert Image.MIME[image.format] == file.media_type
        assert image.size == (file.width, file.height)


def test_every_picture_comes_in_every_format_and_the_large_one_is_2_to_4_mb() -> None:
    for name, entry in manifest().pictures.items():
        formats = sorted(f.format for f in entry.files)
        if name == "large-photo":
            assert formats == ["png"]
            assert 2_000_000 <= entry.file("png").size <= 4_000_000
        else:
            assert formats == sorted(PILLOW_FORMATS), name
            assert all(f.size < 20_000 for f in entry.files), "keep the repository small"


def test_only_manifest_files_are_in_the_directory() -> None:
    on_disk = {p.name for p in IMAGES_DIR.iterdir()} - {MANIFEST_PATH.name}
    assert on_disk == {f.file for f in FILES}


def test_questions_name_pictures_and_carry_synonyms() -> None:
    for entry in manifest().questions.values():
        assert entry.pictures and all(name in manifest().pictures for name in entry.pictures)
        assert entry.accepted and all(entry.accepted)
    # The two-image question needs an answer about each image, in image order.
    assert [group[0] for group in question("two-colours").accepted] == ["blue", "green"]
    assert "scarlet" in question("shape-colour").accepted[0]
    assert question("number").accepted == (("47", "forty-seven", "forty seven"),)


def test_the_script_is_deterministic_and_matches_the_committed_manifest(tmp_path: Path) -> None:
    script = make_images()
    first = script.generate(tmp_path / "a")
    second = script.generate(tmp_path / "b")
    assert first == second
    for file in FILES:
        assert (tmp_path / "a" / file.file).read_bytes() == (
            tmp_path / "b" / file.file
        ).read_bytes()
    committed = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert without_bytes(first) == without_bytes(committed)


def test_data_url_round_trips_the_file() -> None:
    file = picture("red-circle").file("webp")
    head, _, payload = data_url(file).partition(",")
    assert head == "data:image/webp;base64"
    assert base64.b64decode(payload, validate=True) == file.read()


def test_thumbnail_is_a_small_png_data_url() -> None:
    url = thumbnail(picture("large-photo").file("png"))
    head, _, payload = url.partition(",")
    assert head == "data:image/png;base64"
    raw = base64.b64decode(payload)
    assert len(raw) < 40_000
    with Image.open(io.BytesIO(raw)) as image:
        assert image.format == "PNG" and max(image.size) == THUMBNAIL_PX
