"""Helpers for the reference provider's image tests: image messages and their answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from reference_helpers import Api

from chatconform.fixture_server import FixtureServer
from chatconform.images import data_url, picture, question
from chatconform.reference.vision import NO_IMAGE

COLOUR = question("shape-colour").text
TWO_COLOURS = question("two-colours").text


def with_images(text: str, *urls: str) -> list[dict[str, Any]]:
    """One user message: the text, then each image."""
    parts = [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    return [{"role": "user", "content": [{"type": "text", "text": text}, *parts]}]


def inline(name: str, fmt: str = "png") -> str:
    """A fixture picture as a base64 data URL."""
    return data_url(picture(name).file(fmt))


def ask(api: Api, text: str, *urls: str, **params: Any) -> httpx.Response:
    return api.chat(with_images(text, *urls), max_tokens=20, **params)


def content(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """The error object of a refusal, after checking its status and envelope."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def status_by_url(api: Api, fmt: str = "png") -> int:
    """The status of a question about a fixture fetched from a loopback fixture server."""
    with FixtureServer() as images:
        url = images.base_url + picture("red-circle").file(fmt).file
        return ask(api, COLOUR, url).status_code


def large_request(api: Api) -> tuple[int, str]:
    response = ask(api, question("large-colour").text, inline("large-photo"))
    return response.status_code, response.headers["content-type"].split(";")[0]


# Each image fault's wire effect for tests/reference/test_faults.py:
# (observation, its value from the faithful reference, its value under the fault).
WIRE_EFFECTS: dict[str, tuple[Callable[[Api], Any], Any, Any]] = {
    "images-dropped": (
        lambda api: content(ask(api, COLOUR, inline("red-circle"))),
        "Red.",
        NO_IMAGE,
    ),
    "data-urls-rejected": (
        lambda api: (ask(api, COLOUR, inline("red-circle")).status_code, status_by_url(api)),
        (200, 200),
        (400, 200),
    ),
    "remote-urls-rejected": (
        lambda api: (ask(api, COLOUR, inline("red-circle")).status_code, status_by_url(api)),
        (200, 200),
        (200, 400),
    ),
    "webp-rejected": (
        lambda api: (
            ask(api, COLOUR, inline("red-circle", "webp")).status_code,
            status_by_url(api, "webp"),
        ),
        (200, 200),
        (400, 400),
    ),
    "only-first-image": (
        lambda api: content(ask(api, TWO_COLOURS, inline("blue-square"), inline("green-triangle"))),
        "Blue and green.",
        "Blue.",
    ),
    "image-fetch-server-error": (status_by_url, 200, 500),
    "body-limit-1mb": (large_request, (200, "application/json"), (413, "text/html")),
}
