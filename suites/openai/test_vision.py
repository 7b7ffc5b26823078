"""Images by URL, fetched by the provider: every format, detail, part order, several images,
earlier turns, streams, a URL that is not there, and a large image.

The fixtures must be published where the provider can fetch them
(``image_base_url``); without it these cases are skipped.
"""

from __future__ import annotations

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
from chatconform.images import picture, question
from chatconform.published import fixture_url, missing_url

CAPABILITY = "vision"
FORMATS = ("png", "jpeg", "webp", "gif")
BY_URL = f"{VISION_GUIDE} (passing a URL)"
CONTENT_PART = "openai-openapi: ChatCompletionRequestMessageContentPartImage"


def _ask_one(
    openai: OpenAIProbe, case: CaseRecord, name: str, fmt: str = "png", **how: Any
) -> None:
    ask_one(openai, case, CAPABILITY, name, lambda file: fixture_url(openai, file), fmt, **how)


def _ask_two(openai: OpenAIProbe, case: CaseRecord, *, stream: bool) -> None:
    q = question("two-colours")
    files = [picture(name).file("png") for name in q.pictures]
    messages = several_images(q, [fixture_url(openai, f) for f in files])
    ask(openai, case, CAPABILITY, q, messages, files, stream=stream)


@case(
    "openai/vision/url",
    title="An image by URL reaches the model",
    requirement="An image may be passed by URL (PNG, JPEG, WebP, GIF); the provider fetches it and the model answers about it.",
    source=BY_URL,
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_url(openai: OpenAIProbe, case: CaseRecord, fmt: str) -> None:
    _ask_one(openai, case, "shape-colour", fmt)


@case(
    "openai/vision/url-streamed",
    title="An image by URL reaches the model, streamed",
    requirement="A streamed answer sees the image passed by URL like a non-streamed one.",
    source=BY_URL,
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_url_streamed(openai: OpenAIProbe, case: CaseRecord, fmt: str) -> None:
    _ask_one(openai, case, "shape-colour", fmt, stream=True)


@case(
    "openai/vision/detail",
    title="detail low, high and auto are accepted",
    requirement="image_url.detail (low, high or auto) sets how closely the model looks; the image is read.",
    source=f"{VISION_GUIDE} (specify image input detail level)",
)
@pytest.mark.parametrize("detail", ["low", "high", "auto"])
def test_detail(openai: OpenAIProbe, case: CaseRecord, detail: str) -> None:
    _ask_one(openai, case, "number", detail=detail)


@case(
    "openai/vision/image-before-text",
    title="An image before the text part is read",
    requirement="Content parts may come in any order; an image before the question is read.",
    source=CONTENT_PART,
)
def test_image_before_text(openai: OpenAIProbe, case: CaseRecord) -> None:
    _ask_one(openai, case, "number", image_first=True)


@case(
    "openai/vision/image-after-text",
    title="An image after the text part is read",
    requirement="Content parts may come in any order; an image after the question is read.",
    source=CONTENT_PART,
)
def test_image_after_text(openai: OpenAIProbe, case: CaseRecord) -> None:
    _ask_one(openai, case, "number")


@case(
    "openai/vision/two-images",
    title="Two images in one message both reach the model",
    requirement="The model processes every image of a request and uses all of them to answer.",
    source=f"{VISION_GUIDE} (multiple image inputs)",
)
def test_two_images(openai: OpenAIProbe, case: CaseRecord) -> None:
    _ask_two(openai, case, stream=False)


@case(
    "openai/vision/two-images-streamed",
    title="Two images in one message both reach the model, streamed",
    requirement="The model processes every image of a request and uses all of them to answer.",
    source=f"{VISION_GUIDE} (multiple image inputs)",
)
def test_two_images_streamed(openai: OpenAIProbe, case: CaseRecord) -> None:
    _ask_two(openai, case, stream=True)


@case(
    "openai/vision/earlier-turn",
    title="An image from an earlier turn is remembered",
    requirement="Images in earlier user turns are part of the conversation the model answers.",
    source="https://platform.openai.com/docs/guides/conversation-state",
)
def test_earlier_turn(openai: OpenAIProbe, case: CaseRecord) -> None:
    q = question("earlier-colour")
    file = picture(q.pictures[0]).file("png")
    ask(openai, case, CAPABILITY, q, earlier_turn(q, fixture_url(openai, file)), [file])


@case(
    "openai/vision/url-not-found",
    title="An image URL that answers 404 gets 400",
    requirement="An image URL that cannot be downloaded is refused with 400 and the error envelope.",
    source=f"{VISION_GUIDE} (image input requirements)",
)
def test_url_not_found(openai: OpenAIProbe, case: CaseRecord) -> None:
    messages = one_image(question("shape-colour"), missing_url(openai))
    expect_refusal(openai, case, CAPABILITY, messages)


@case(
    "openai/vision/large-image",
    title="A 3 MB image by URL is answered or refused cleanly",
    requirement="A 3 MB image passed by URL is answered, or refused with 413/400 and the error envelope.",
    source=f"{VISION_GUIDE} (image input requirements: up to 50 MB per request)",
)
def test_large_image(openai: OpenAIProbe, case: CaseRecord) -> None:
    q = question("large-colour")
    file = picture(q.pictures[0]).file("png")
    messages = one_image(q, fixture_url(openai, file))
    ask(openai, case, CAPABILITY, q, messages, [file], size_limit=True)
