"""Images by url source in the Messages API, fetched by the provider.

The fixtures must be published where the provider can fetch them
(``image_base_url``); without it these cases are skipped.
"""

from __future__ import annotations

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.anthropic import media_cases
from chatconform.dialects.anthropic.media_cases import VISION_GUIDE, ask, body
from chatconform.dialects.anthropic.probe import AnthropicProbe
from chatconform.dialects.anthropic.requests import image_url_block, text_block
from chatconform.images import picture, question
from chatconform.published import fixture_url

CAPABILITY = "vision"
BY_URL = f"{VISION_GUIDE}#url-based-image-example"


@case(
    "anthropic/vision/url",
    title="An image by url source reaches the model",
    requirement="An image block may name a url source; the provider fetches it and the model answers about it.",
    source=BY_URL,
)
@pytest.mark.parametrize("fmt", ("png", "jpeg"))
def test_url(anthropic: AnthropicProbe, case: CaseRecord, fmt: str) -> None:
    q = question("shape-colour")
    file = picture(q.pictures[0]).file(fmt)
    media_cases.show(case, q.text, [file])
    messages = media_cases.question_turn(q.text, [image_url_block(fixture_url(anthropic, file))])
    ask(anthropic, case, CAPABILITY, body(anthropic, CAPABILITY, messages), q.accepted)


@case(
    "anthropic/vision/two-urls-streamed",
    title="Two images by url are both seen, streamed",
    requirement="A turn may hold several url images; a streamed answer names what each shows.",
    source=BY_URL,
)
def test_two_urls_streamed(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    q = question("two-colours")
    files = [picture(name).file("png") for name in q.pictures]
    media_cases.show(case, q.text, files)
    blocks = []
    for n, file in enumerate(files, 1):
        blocks += [text_block(f"Image {n}:"), image_url_block(fixture_url(anthropic, file))]
    messages = media_cases.question_turn(q.text, blocks)
    request = body(anthropic, CAPABILITY, messages, stream=True)
    ask(anthropic, case, CAPABILITY, request, q.accepted)
