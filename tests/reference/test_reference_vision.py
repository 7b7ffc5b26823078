"""The faithful reference provider sees images: by URL and inline, from their bytes only."""

from __future__ import annotations

import base64
import io
import random
import socket
from collections.abc import Iterator

import pytest
from PIL import Image
from reference_helpers import Api
from vision_helpers import COLOUR, TWO_COLOURS, ask, content, error, inline, with_images

from chatconform.fixture_server import FixtureServer
from chatconform.images import ImageFile, manifest, picture, question
from chatconform.reference.model import DEFAULT_ANSWER
from chatconform.reference.vision import NO_IMAGE, recognise

FILES = sorted(manifest().files(), key=lambda f: f.file)
PARAM = "messages[0].content[1].image_url"


@pytest.fixture(scope="module")
def images() -> Iterator[FixtureServer]:
    with FixtureServer() as server:
        yield server


def expected_answer(file: ImageFile) -> tuple[str, str]:
    """The question a file's picture answers, and the reference's exact answer to it."""
    shows = next(p.shows for p in manifest().pictures.values() if file in p.files)
    if "number" in shows:
        return question("number").text, f"{shows['number']}."
    return COLOUR, f"{shows['colour'].capitalize()}."


def png(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("file", FILES, ids=lambda f: f.file)
def test_every_fixture_is_recognised_inline(api: Api, file: ImageFile) -> None:
    text, answer = expected_answer(file)
    url = f"data:{file.media_type};base64,{base64.b64encode(file.read()).decode()}"
    assert content(ask(api, text, url)) == answer


@pytest.mark.parametrize("file", FILES, ids=lambda f: f.file)
def test_every_fixture_is_recognised_by_url(
    api: Api, images: FixtureServer, file: ImageFile
) -> None:
    text, answer = expected_answer(file)
    assert content(ask(api, text, images.base_url + file.file)) == answer


def test_the_bytes_decide_not_the_declared_type_or_the_question(api: Api) -> None:
    png_bytes = picture("red-circle").file("png").read()
    lying = "data:image/gif;base64," + base64.b64encode(png_bytes).decode()
    assert content(ask(api, "Is the shape in this image blue? What colour is it?", lying)) == "Red."


def test_shape_questions_and_streams(api: Api) -> None:
    assert content(ask(api, "What shape is in this image?", inline("blue-square"))) == "Square."
    chunks = api.chunks(with_images(COLOUR, inline("green-triangle", "webp")))
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Green."


def test_two_images_are_answered_in_order(api: Api) -> None:
    blue, green = inline("blue-square"), inline("green-triangle", "gif")
    assert content(ask(api, TWO_COLOURS, blue, green)) == "Blue and green."
    assert content(ask(api, TWO_COLOURS, green, blue)) == "Green and blue."


def test_an_image_from_an_earlier_turn_is_remembered(api: Api) -> None:
    messages = [
        *with_images("Look at this image; I will ask about it later.", inline("red-circle")),
        {"role": "assistant", "content": "I have looked at it."},
        {"role": "user", "content": question("earlier-colour").text},
    ]
    assert content(api.chat(messages)) == "Red."


def test_without_an_image_the_model_says_so(api: Api) -> None:
    assert content(ask(api, COLOUR)) == NO_IMAGE
    # Questions that are not about an image are left to the other rules.
    assert content(ask(api, "What colour is the sky?")) == DEFAULT_ANSWER


def test_an_image_it_does_not_know_is_unclear(api: Api) -> None:
    rng = random.Random(7)
    noise = Image.frombytes("RGB", (64, 64), rng.randbytes(64 * 64 * 3))
    assert content(ask(api, COLOUR, png(noise))) == "Unclear."


def test_recognition_survives_resizing_and_transparency() -> None:
    with Image.open(io.BytesIO(picture("red-circle").file("png").read())) as image:
        small = image.resize((100, 100))
        assert recognise(small).colour == "red"
        # The circle on transparent black: a viewer shows it over white, and so does the model.
        shape = image.convert("L").point(lambda value: 0 if value > 250 else 255)
        transparent = Image.new("RGBA", image.size, (0, 0, 0, 0))
        transparent.paste(image, mask=shape)
        assert recognise(transparent).shape == "circle"
        assert recognise(transparent.convert("RGB")).shape is None, "black background: unknown"


def test_the_large_image_is_accepted(api: Api) -> None:
    large = inline("large-photo")
    assert len(large) > 4_000_000
    assert content(ask(api, question("large-colour").text, large)) == "Red."


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bmp() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "BMP")
    return "data:image/bmp;base64," + base64.b64encode(buffer.getvalue()).decode()


def huge() -> str:
    buffer = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("data:image/png;base64,not base64!", "invalid_base64", "Invalid base64"),
        ("data:text/plain;base64,aGVsbG8=", "invalid_image_format", "'text/plain'"),
        ("data:image/png,rawbytes", "invalid_image_format", "base64-encoded"),
        ("data:image/png;base64,aGVsbG8=", "invalid_image_format", "unsupported image"),
        (bmp(), "invalid_image_format", "Unsupported image format bmp"),
        (huge(), "invalid_image_format", "8000x8000"),
        ("ftp://127.0.0.1/red-circle.png", "invalid_image_url", "http(s) URL"),
        (f"http://127.0.0.1:{closed_port()}/x.png", "invalid_image_url", "Error while downloading"),
    ],
    ids=["bad-base64", "not-image", "not-base64", "not-decodable", "bmp", "huge", "ftp", "refused"],
)
def test_unusable_images_get_400(api: Api, url: str, code: str, words: str) -> None:
    refused = error(ask(api, COLOUR, url))
    assert refused["code"] == code and refused["param"] == PARAM
    assert words in refused["message"]


def test_an_image_url_that_is_404_gets_400(api: Api, images: FixtureServer) -> None:
    url = images.base_url + "chatconform-no-such-image.png"
    refused = error(ask(api, COLOUR, url))
    assert refused == {
        "message": f"Error while downloading {url}.",
        "type": "invalid_request_error",
        "param": PARAM,
        "code": "invalid_image_url",
    }
