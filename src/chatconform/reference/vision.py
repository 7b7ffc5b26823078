"""How the reference model sees images: fetch or decode them, then recognise them by their pixels.

An image reaches the model only as its bytes: a base64 data URL is decoded, an
http(s) URL is downloaded (really, over HTTP). The bytes are decoded with
Pillow and matched against the pixels of the fixture pictures, so the model
knows what an image shows only when the image itself arrived, never from the
question or the URL. Unusable images are refused with 400, as OpenAI does.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import httpx
from PIL import Image
from starlette.concurrency import run_in_threadpool

from chatconform.images import IMAGES_DIR, manifest
from chatconform.reference.errors import ApiError
from chatconform.reference.faults import FaultSet

if TYPE_CHECKING:
    from chatconform.reference.model import Turn

# The part that replaces an image_url part once the model has looked at the image.
SEEN_PART = "seen_image"
SUPPORTED_FORMATS = ("png", "jpeg", "webp", "gif")
MAX_IMAGE_BYTES = 20 * 1024 * 1024
# Far above any fixture; keeps a small, highly compressed file from decoding to gigabytes.
MAX_IMAGE_PIXELS = 40_000_000
FETCH_TIMEOUT_S = 10.0
# Pictures are compared as 16x16 thumbnails; the mean difference per channel between
# fixtures is above 40, between one fixture's formats below 1 (JPEG and WebP included).
_GRID = (16, 16)
MATCH_DISTANCE = 10.0
NO_IMAGE = "I don't see any image in this conversation."
UNCLEAR = "unclear"

_DATA_URL = re.compile(r"data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)", re.S | re.I)
_ASKED = re.compile(r"\bwhat\s+(colou?r|number|shape)s?\b", re.I)
_ABOUT_IMAGES = re.compile(r"\b(?:image|picture|photo)s?\b", re.I)


@dataclass(frozen=True)
class Sight:
    """What the model makes of one image; all None for an image it cannot name."""

    colour: str | None = None
    shape: str | None = None
    number: str | None = None


def _on_white(image: Image.Image) -> Image.Image:
    """RGB pixels as a viewer shows them: transparency over white."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _fingerprint(image: Image.Image) -> bytes:
    return _on_white(image).resize(_GRID, Image.Resampling.BOX).tobytes()


def _distance(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


@cache
def _known_pictures() -> tuple[tuple[bytes, Sight], ...]:
    """The fixture pictures the model has "seen in training", by their PNG's pixels."""
    known = []
    for picture in manifest().pictures.values():
        with Image.open(IMAGES_DIR / picture.file("png").file) as image:
            known.append((_fingerprint(image), Sight(**picture.shows)))
    return tuple(known)


def recognise(image: Image.Image) -> Sight:
    """The fixture picture this image shows (any format, any size), or an empty Sight."""
    fingerprint = _fingerprint(image)
    distance, sight = min(
        ((_distance(fingerprint, known), sight) for known, sight in _known_pictures()),
        key=lambda pair: pair[0],
    )
    return sight if distance <= MATCH_DISTANCE else Sight()


def _invalid(message: str, param: str, code: str = "invalid_image_format") -> ApiError:
    return ApiError(400, message, param=param, code=code)


def _accepted_formats(faults: FaultSet) -> tuple[str, ...]:
    if "webp-rejected" in faults:
        return tuple(f for f in SUPPORTED_FORMATS if f != "webp")
    return SUPPORTED_FORMATS


def _decode(data: bytes, param: str, faults: FaultSet) -> Sight:
    """Decode image bytes and recognise them, or refuse them as OpenAI refuses bad images."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise _invalid(f"Image too large: {image.width}x{image.height} pixels.", param)
            kind = (image.format or "").lower()
            accepted = _accepted_formats(faults)
            if kind not in accepted:
                raise _invalid(
                    f"Unsupported image format {kind or 'unknown'}; "
                    f"supported formats are {', '.join(accepted)}.",
                    param,
                )
            image.load()
            return recognise(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _invalid(
            "You uploaded an unsupported image. Please make sure your image is valid.", param
        ) from None


def _from_data_url(url: str, param: str) -> bytes:
    match = _DATA_URL.fullmatch(url)
    if match is None:
        raise _invalid("Invalid image data URL.", param)
    media_type = match["type"].strip().lower()
    if not media_type.startswith("image/"):
        raise _invalid(
            f"Invalid MIME type {media_type or '(none)'!r} for an image; "
            "only image types are supported.",
            param,
        )
    if ";base64" not in match["params"].lower():
        raise _invalid("Image data URLs must be base64-encoded.", param)
    try:
        data = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("Invalid base64 image data.", param, "invalid_base64") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise _invalid(f"Image too large: more than {MAX_IMAGE_BYTES} bytes.", param)
    return data


async def _download(url: str, param: str) -> bytes:
    """GET the image as a provider would: bounded in time and size, no proxy, 200 only."""
    failed = _invalid(f"Error while downloading {url}.", param, "invalid_image_url")
    data = bytearray()
    try:
        async with (
            httpx.AsyncClient(
                timeout=FETCH_TIMEOUT_S, follow_redirects=True, max_redirects=3, trust_env=False
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise failed
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_IMAGE_BYTES:
                    raise _invalid(f"Image too large: more than {MAX_IMAGE_BYTES} bytes.", param)
    except httpx.HTTPError:
        raise failed from None
    return bytes(data)


async def _look(part: dict[str, Any], param: str, faults: FaultSet) -> Sight:
    image_url = part.get("image_url")
    url = image_url.get("url") if isinstance(image_url, dict) else None
    if not isinstance(url, str):
        raise _invalid("Invalid image_url: expected an object with a url.", param)
    scheme = url.split(":", 1)[0].lower()
    if scheme == "data":
        if "data-urls-rejected" in faults:
            raise _invalid(
                "Image data URLs are not supported; pass images by https URL.",
                param,
                "unsupported_image_source",
            )
        data = _from_data_url(url, param)
    elif scheme in ("http", "https"):
        if "remote-urls-rejected" in faults:
            raise _invalid(
                "Image URLs are not supported; send images as base64 data URLs.",
                param,
                "unsupported_image_source",
            )
        if "image-fetch-server-error" in faults:
            raise ApiError(500, "Internal error while fetching the image.", type="server_error")
        data = await _download(url, param)
    else:
        raise _invalid(
            "Invalid image URL: expected an http(s) URL or a base64 data URL.",
            param,
            "invalid_image_url",
        )
    # Decoding a large image takes a while; off the event loop, streams keep flowing.
    return await run_in_threadpool(_decode, data, param, faults)


def _is_image(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "image_url"


async def look_at_images(body: dict[str, Any], faults: FaultSet) -> dict[str, Any]:
    """The body with each image_url part replaced by what the model saw in it.

    Relay faults act first (an image they drop is never fetched or checked);
    then every image is fetched or decoded, and refused with 400 if unusable.
    """
    messages = body.get("messages")
    if not isinstance(messages, list):
        return body
    shown = 0
    looked: list[Any] = []
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            looked.append(message)
            continue
        parts: list[Any] = []
        for j, part in enumerate(content):
            if not _is_image(part):
                parts.append(part)
                continue
            shown += 1
            if "images-dropped" in faults or ("only-first-image" in faults and shown > 1):
                continue
            sight = await _look(part, f"messages[{i}].content[{j}].image_url", faults)
            parts.append({"type": SEEN_PART, "sight": sight})
        looked.append({**message, "content": parts})
    return {**body, "messages": looked}


def sights_in(message: Any) -> tuple[Sight, ...]:
    """What the model saw in a message's images, in order."""
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return ()
    return tuple(
        part["sight"]
        for part in content
        if isinstance(part, dict) and part.get("type") == SEEN_PART
    )


def answer_about_images(turns: Sequence[Turn]) -> str | None:
    """Answer "what colour/number/shape ... image" from the images the model saw.

    The question's own images count first, else those of earlier user turns;
    with none at all the model says so, as real models do when a relay drops them.
    """
    users = [turn for turn in turns if turn.role == "user"]
    if not users:
        return None
    last = users[-1]
    asked = _ASKED.search(last.text)
    if asked is None or not _ABOUT_IMAGES.search(last.text):
        return None
    sights = last.images or tuple(sight for turn in users for sight in turn.images)
    if not sights:
        return NO_IMAGE
    attribute = "colour" if asked.group(1).lower().startswith("colo") else asked.group(1).lower()
    values = [getattr(sight, attribute) or UNCLEAR for sight in sights]
    return " and ".join(values).capitalize() + "."
