"""Images as base64 sources in the Messages API: every format, several images, order,
streams, images inside tool results, and unusable images."""

from __future__ import annotations

import base64

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.anthropic import media_cases
from chatconform.dialects.anthropic.media_cases import VISION_GUIDE, ask, body, expect_refusal
from chatconform.dialects.anthropic.probe import AnthropicProbe
from chatconform.dialects.anthropic.requests import image_block, text_block
from chatconform.images import picture, question

CAPABILITY = "base64_image"
FORMATS = ("png", "jpeg", "webp", "gif")
BASE64 = f"{VISION_GUIDE}#base64-encoded-image-example"
IMAGE_BLOCK = "anthropic-sdk-python: types/image_block_param.py"


def _one(anthropic: AnthropicProbe, case: CaseRecord, fmt: str, *, stream: bool = False) -> None:
    q = question("shape-colour")
    file = picture(q.pictures[0]).file(fmt)
    media_cases.show(case, q.text, [file])
    messages = media_cases.question_turn(q.text, [image_block(file)])
    request = body(anthropic, CAPABILITY, messages, stream=stream)
    ask(anthropic, case, CAPABILITY, request, q.accepted)


@case(
    "anthropic/base64_image/base64",
    title="An image as a base64 source reaches the model",
    requirement="An image block may carry base64 data (image/png, jpeg, webp, gif); the model answers about it.",
    source=BASE64,
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_base64(anthropic: AnthropicProbe, case: CaseRecord, fmt: str) -> None:
    _one(anthropic, case, fmt)


@case(
    "anthropic/base64_image/base64-streamed",
    title="An image as a base64 source reaches the model, streamed",
    requirement="A streamed answer sees the image like a non-streamed one.",
    source=BASE64,
)
def test_base64_streamed(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    _one(anthropic, case, "png", stream=True)


@case(
    "anthropic/base64_image/text-first",
    title="An image after the question is seen",
    requirement="Content blocks may come in any order; an image after the text is still model input.",
    source=f"{VISION_GUIDE}#multiple-images-example",
)
def test_text_first(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    q = question("shape-colour")
    file = picture(q.pictures[0]).file("png")
    media_cases.show(case, q.text, [file])
    messages = media_cases.question_turn(q.text, [image_block(file)], media_first=False)
    ask(anthropic, case, CAPABILITY, body(anthropic, CAPABILITY, messages), q.accepted)


@case(
    "anthropic/base64_image/two-images",
    title="Two images in one turn are both seen",
    requirement="A turn may hold several image blocks; the model answers about each.",
    source=f"{VISION_GUIDE}#multiple-images-example",
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_two_images(anthropic: AnthropicProbe, case: CaseRecord, stream: bool) -> None:
    q = question("two-colours")
    files = [picture(name).file("png") for name in q.pictures]
    media_cases.show(case, q.text, files)
    blocks = []
    for n, file in enumerate(files, 1):
        blocks += [text_block(f"Image {n}:"), image_block(file)]
    messages = media_cases.question_turn(q.text, blocks)
    ask(
        anthropic,
        case,
        CAPABILITY,
        body(anthropic, CAPABILITY, messages, stream=stream),
        q.accepted,
    )


@case(
    "anthropic/base64_image/in-tool-result",
    title="An image returned by a tool is seen",
    requirement="A tool_result's content may hold image blocks; the model reads them like a user's image.",
    source="https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use#handling-results-from-client-tools",
)
def test_in_tool_result(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    q = question("shape-colour")
    file = picture(q.pictures[0]).file("png")
    media_cases.show(case, q.text, [file])
    tool = {
        "name": "take_photo",
        "description": "Take a photo of the shape on the desk.",
        "input_schema": {"type": "object", "properties": {}},
    }
    # The question comes again beside the result, so the turn that holds the image asks it.
    messages = [
        {"role": "user", "content": "Take a photo of the shape on the desk."},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_chatconform_1", "name": "take_photo", "input": {}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_chatconform_1",
                    "content": [image_block(file)],
                },
                text_block(q.text),
            ],
        },
    ]
    request = {**body(anthropic, CAPABILITY, messages), "tools": [tool]}
    ask(anthropic, case, CAPABILITY, request, q.accepted)


@case(
    "anthropic/base64_image/invalid-base64",
    title="Data that is not base64 is refused cleanly",
    requirement="An image whose data does not decode is refused with 400 invalid_request_error, never a 5xx.",
    source="https://docs.anthropic.com/en/api/errors",
)
def test_invalid_base64(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    block = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "%%% not base64 %%%"},
    }
    messages = media_cases.question_turn("What is in this image?", [block])
    expect_refusal(anthropic, case, CAPABILITY, body(anthropic, CAPABILITY, messages))


@case(
    "anthropic/base64_image/not-an-image",
    title="Bytes that are no image are refused cleanly",
    requirement="Image data that is not an image of its media_type is refused with 400 invalid_request_error, never a 5xx.",
    source="https://docs.anthropic.com/en/api/errors",
)
def test_not_an_image(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    data = base64.b64encode(b"this is plain text, not a PNG image").decode("ascii")
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}
    messages = media_cases.question_turn("What is in this image?", [block])
    expect_refusal(anthropic, case, CAPABILITY, body(anthropic, CAPABILITY, messages))
