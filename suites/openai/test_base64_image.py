"""Images sent inline as base64 data URLs: every format, detail, part order, several images,
earlier turns, streams, and what happens to bad and large images."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.openai.image_cases import (
    VISION_GUIDE,
    ask,
    ask_one,
    earlier_turn,
    expect_refusal,
    one_image,
    several_images,
)
from chatconform.dialects.openai.probe import OpenAIProbe
from chatconform.images import data_url, picture, question

CAPABILITY = "base64_image"
FORMATS = ("png", "jpeg", "webp", "gif")
BASE64 = f"{VISION_GUIDE} (passing a Base64 encoded image)"
CONTENT_PART = "openai-openapi: ChatCompletionRequestMessageContentPartImage"


def _ask_one(
    openai: OpenAIProbe, case: CaseRecord, name: str, fmt: str = "png", **how: Any
) -> None:
    ask_one(openai, case, CAPABILITY, name, data_url, fmt, **how)


def _ask_two(openai: OpenAIProbe, case: CaseRecord, *, stream: bool) -> None:
    q = question("two-colours")
    files = [picture(name).file("png") for name in q.pictures]
    messages = several_images(q, [data_url(f) for f in files])
    ask(openai, case, CAPABILITY, q, messages, files, stream=stream)


@case(
    "openai/base64_image/data-url",
    title="An image as a base64 data URL reaches the model",
    requirement="An image may be sent as a base64 data URL (PNG, JPEG, WebP, GIF); the model answers about it.",
    source=BASE64,
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_data_url(openai: OpenAIProbe, case: CaseRecord, fmt: str) -> None:
    _ask_one(openai, case, "shape-colour", fmt)


@case(
    "openai/base64_image/data-url-streamed",
    title="An image as a base64 data URL reaches the model, streamed",
    requirement="A streamed answer sees the data-URL image like a non-streamed one.",
    source=BASE64,
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_data_url_streamed(openai: OpenAIProbe, case: CaseRecord, fmt: str) -> None:
    _ask_one(openai, case, "shape-colour", fmt, stream=True)


@case(
    "openai/base64_image/detail",
    title="detail low, high and auto are accepted",
    requirement="image_url.detail (low, high or auto) sets how closely the model looks; the image is read.",
    source=f"{VISION_GUIDE} (specify image input detail level)",
)
@pytest.mark.parametrize("detail", ["low", "high", "auto"])
def test_detail(openai: OpenAIProbe, case: CaseRecord, detail: str) -> None:
    _ask_one(openai, case, "number", detail=detail)


@case(
    "openai/base64_image/image-before-text",
    title="An image before the text part is read",
    requirement="Content parts may come in any order; an image before the question is read.",
    source=CONTENT_PART,
)
def test_image_before_text(openai: OpenAIProbe, case: CaseRecord) -> None:
    _ask_one(openai, case, "number", image_first=True)


@case(
    "openai/base64_image/image-after-text",
    title="An image after the text part is read",
    requirement="Content parts may come in any order; an image after the question is read.",
    source=CONTENT_PART,
)
def test_image_after_text(openai: OpenAIProbe, case: CaseRecord) -> None:
    _ask_one(openai, case, "number")


@case(
    "openai/base64_image/two-images",
    title="Two images in one message both reach the model",
    requirement="The model processes every image of a request and uses all of them to answer.",
    source=f"{VISION_GUIDE} (multiple image inputs)",
)
def test_two_images(openai: OpenAIProbe, case: CaseRecord) -> None:
    _ask_two(openai, case, stream=False)


@case(
    "openai/base64_image/two-images-streamed",
    title="Two images in one message both reach the model, streamed",
    requirement="The model processes every image of a request and uses all of them to answer.",
    source=f"{VISION_GUIDE} (multiple image inputs)",
)
def test_two_images_streamed(openai: OpenAIProbe, case: CaseRecord) -> None:
    _ask_two(openai, case, stream=True)


@case(
    "openai/base64_image/earlier-turn",
    title="An image from an earlier turn is remembered",
    requirement="Images in earlier user turns are part of the conversation the model answers.",
    source="https://platform.openai.com/docs/guides/conversation-state",
)
def test_earlier_turn(openai: OpenAIProbe, case: CaseRecord) -> None:
    q = question("earlier-colour")
    file = picture(q.pictures[0]).file("png")
    ask(openai, case, CAPABILITY, q, earlier_turn(q, data_url(file)), [file])


@case(
    "openai/base64_image/invalid-base64",
    title="Invalid base64 image data gets 400",
    requirement="A data URL whose data is not valid base64 is refused with 400 and the error envelope.",
    source=f"{VISION_GUIDE} (image input requirements)",
)
def test_invalid_base64(openai: OpenAIProbe, case: CaseRecord) -> None:
    url = "data:image/png;base64,This is not base64 at all!"
    expect_refusal(openai, case, CAPABILITY, one_image(question("shape-colour"), url))


@case(
    "openai/base64_image/not-an-image",
    title="A data URL that is not an image gets 400",
    requirement="A data URL whose media type is not an image type is refused with 400 and the error envelope.",
    source=f"{VISION_GUIDE} (image input requirements: supported file types)",
)
def test_not_an_image(openai: OpenAIProbe, case: CaseRecord) -> None:
    text = base64.b64encode(b"This is plain text, not an image.").decode("ascii")
    url = f"data:text/plain;base64,{text}"
    expect_refusal(openai, case, CAPABILITY, one_image(question("shape-colour"), url))


@case(
    "openai/base64_image/large-image",
    title="A 3 MB image is answered or refused cleanly",
    requirement="A request with a 3 MB image is answered, or refused with 413/400 and the error envelope.",
    source=f"{VISION_GUIDE} (image input requirements: up to 50 MB per request)",
)
def test_large_image(openai: OpenAIProbe, case: CaseRecord) -> None:
    q = question("large-colour")
    file = picture(q.pictures[0]).file("png")
    ask(openai, case, CAPABILITY, q, one_image(q, data_url(file)), [file], size_limit=True)
