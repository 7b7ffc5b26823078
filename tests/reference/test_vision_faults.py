"""The image faults of the catalog, and each one's observable effect on the wire."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reference_helpers import Api
from vision_helpers import COLOUR, TWO_COLOURS, ask, content, error, inline, with_images

from chatconform.fixture_server import FixtureServer
from chatconform.images import picture, question
from chatconform.reference.gateway import BODY_LIMIT_BYTES, NGINX_413
from chatconform.reference.vision import NO_IMAGE


@pytest.fixture(scope="module")
def images() -> Iterator[FixtureServer]:
    with FixtureServer() as server:
        yield server


def by_url(images: FixtureServer, name: str, fmt: str = "png") -> str:
    return images.base_url + picture(name).file(fmt).file


def test_images_dropped_answers_without_them_and_accepts_bad_ones() -> None:
    api = Api("images-dropped")
    assert content(ask(api, COLOUR, inline("red-circle"))) == NO_IMAGE
    assert content(ask(api, COLOUR, "data:image/png;base64,not base64!")) == NO_IMAGE


def test_data_urls_rejected_refuses_inline_images_only(images: FixtureServer) -> None:
    api = Api("data-urls-rejected")
    refused = error(ask(api, COLOUR, inline("red-circle")))
    assert refused["code"] == "unsupported_image_source"
    assert content(ask(api, COLOUR, by_url(images, "red-circle"))) == "Red."


def test_remote_urls_rejected_refuses_urls_only(images: FixtureServer) -> None:
    api = Api("remote-urls-rejected")
    refused = error(ask(api, COLOUR, by_url(images, "red-circle")))
    assert refused["code"] == "unsupported_image_source"
    assert content(ask(api, COLOUR, inline("red-circle"))) == "Red."


def test_webp_rejected_refuses_webp_however_it_comes(images: FixtureServer) -> None:
    api = Api("webp-rejected")
    for url in (inline("red-circle", "webp"), by_url(images, "red-circle", "webp")):
        refused = error(ask(api, COLOUR, url))
        assert refused["code"] == "invalid_image_format"
        assert refused["message"].startswith("Unsupported image format webp")
    assert content(ask(api, COLOUR, inline("red-circle", "gif"))) == "Red."


def test_only_first_image_drops_the_others(images: FixtureServer) -> None:
    api = Api("only-first-image")
    blue, green = by_url(images, "blue-square"), inline("green-triangle")
    assert content(ask(api, TWO_COLOURS, blue, green)) == "Blue."
    assert content(ask(api, TWO_COLOURS, green, blue)) == "Green."
    assert content(ask(api, COLOUR, inline("red-circle"))) == "Red."


def test_image_fetch_server_error_fails_urls_with_500(images: FixtureServer) -> None:
    api = Api("image-fetch-server-error")
    failed = error(ask(api, COLOUR, by_url(images, "red-circle")), status=500)
    assert failed["type"] == "server_error"
    assert content(ask(api, COLOUR, inline("red-circle"))) == "Red."


def test_body_limit_1mb_answers_large_bodies_with_the_gateway_page() -> None:
    api = Api("body-limit-1mb")
    large = with_images(question("large-colour").text, inline("large-photo"))
    # The gateway sits in front of the API: it refuses before the key is even looked at.
    for headers in (None, {"Authorization": "Bearer sk-wrong"}):
        response = api.chat(large, max_tokens=20, headers=headers)
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("text/html")
        assert response.text == NGINX_413
    assert content(ask(api, COLOUR, inline("red-circle"))) == "Red."


def test_the_body_limit_is_one_mebibyte() -> None:
    api = Api("body-limit-1mb")
    padding = "x" * (BODY_LIMIT_BYTES - 200)
    assert api.chat([{"role": "user", "content": padding}], max_tokens=5).status_code == 200
    padding += "x" * 400
    assert api.chat([{"role": "user", "content": padding}], max_tokens=5).status_code == 413
