"""Fixtures published where a provider can fetch them: image and document URLs.

Cases that pass a URL need ``image_base_url`` (where fixtures/images and
fixtures/documents are published); the harness fetches each fixture first, so a
wrong base URL is reported as such and not as the provider failing to fetch it.
"""

from __future__ import annotations

import hashlib
from functools import cache

import httpx

from chatconform.client import tls_context
from chatconform.documents import Document
from chatconform.images import ImageFile
from chatconform.probe import Probe

NO_IMAGE_BASE_URL = (
    "no image_base_url: URL cases need fixtures/images and fixtures/documents published where "
    "the provider can fetch them (set image_base_url in the config or pass --image-base-url URL)"
)
MISSING_IMAGE = "chatconform-no-such-image.png"


def fixture_url(probe: Probe, file: ImageFile | Document) -> str:
    """Where the provider can fetch a fixture: skipped without image_base_url.

    The harness fetches it first, so a wrong image_base_url is reported as
    such and not as the provider failing to fetch the image.
    """
    url = _join(probe, file.file if isinstance(file, ImageFile) else file.name)
    if probe.client.offline:
        # Judged again from the archive: the run checked it then, or sent nothing.
        return url
    problem = _publishing_problem(url, file.sha256 if isinstance(file, ImageFile) else "")
    if problem:
        probe.record.inconclusive(f"cannot use {url} as a fixture: {problem}")
    return url


def missing_url(probe: Probe) -> str:
    """A URL under image_base_url where no image is (the server answers 404)."""
    return _join(probe, MISSING_IMAGE)


def _join(probe: Probe, name: str) -> str:
    base = probe.provider.image_base_url
    if not base:
        probe.record.skip(NO_IMAGE_BASE_URL)
    return f"{base.rstrip('/')}/{name}"


@cache
def _publishing_problem(url: str, sha256: str) -> str | None:
    try:
        response = httpx.get(url, timeout=10.0, follow_redirects=True, verify=tls_context())
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} fetching it from here"
    if response.status_code != 200:
        return f"HTTP {response.status_code} fetching it from here (publish fixtures/images there)"
    if sha256 and hashlib.sha256(response.content).hexdigest() != sha256:
        return "its bytes differ from fixtures/images (publish the current fixtures)"
    return None
