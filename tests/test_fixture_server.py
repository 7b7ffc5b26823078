"""The loopback fixture server: manifest files only, with their media types."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from chatconform.fixture_server import FixtureServer
from chatconform.images import picture


@pytest.fixture(scope="module")
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        yield running


def test_serves_a_fixture_with_its_media_type(server: FixtureServer) -> None:
    file = picture("number-47").file("webp")
    response = httpx.get(server.base_url + file.file)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.content == file.read()


def test_head_gives_the_length_without_the_body(server: FixtureServer) -> None:
    file = picture("red-circle").file("gif")
    response = httpx.head(server.base_url + file.file)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == file.size
    assert response.content == b""


@pytest.mark.parametrize(
    "path", ["/chatconform-no-such-image.png", "/manifest.json", "/", "/../pyproject.toml"]
)
def test_anything_else_is_404(server: FixtureServer, path: str) -> None:
    # http.client sends the path as given, so "/../" reaches the server unnormalised.
    parts = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 404
        assert response.read() == b"not found\n"
    finally:
        connection.close()


def test_listens_on_loopback_and_stops() -> None:
    with FixtureServer() as running:
        url = running.base_url
        assert urlsplit(url).hostname == "127.0.0.1"
    with pytest.raises(RuntimeError):
        _ = running.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + picture("red-circle").file("png").file, timeout=2)
