"""How image cases run, for both image capabilities: build messages, ask, judge refusals.

The suites differ only in how an image travels (``vision``: a URL the provider
fetches; ``base64_image``: a data URL in the request), so they share this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chatconform.case import CaseRecord
from chatconform.dialects.openai.checks import errors, vision
from chatconform.dialects.openai.checks.text import answer_text
from chatconform.dialects.openai.probe import OpenAIProbe, error_message
from chatconform.exchange import Exchange, clip
from chatconform.finding import Finding
from chatconform.images import ImageFile, Question, picture, question, thumbnail

VISION_GUIDE = "https://platform.openai.com/docs/guides/images-vision"
# Enough for "The first shape is blue and the second one is green." and no more.
MAX_TOKENS = 30
ANSWER_CHARS = 500


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def image_part(url: str, detail: str | None = None) -> dict[str, Any]:
    image_url: dict[str, Any] = {"url": url}
    if detail is not None:
        image_url["detail"] = detail
    return {"type": "image_url", "image_url": image_url}


def one_image(
    question: Question, url: str, *, image_first: bool = False, detail: str | None = None
) -> list[dict[str, Any]]:
    """One user message: the question and one image, in the order asked."""
    parts = [text_part(question.text), image_part(url, detail)]
    return [{"role": "user", "content": parts[::-1] if image_first else parts}]


def several_images(question: Question, urls: Sequence[str]) -> list[dict[str, Any]]:
    """One user message: the question, then every image."""
    return [{"role": "user", "content": [text_part(question.text), *map(image_part, urls)]}]


def earlier_turn(question: Question, url: str) -> list[dict[str, Any]]:
    """The image in the first turn; the question about it two turns later, without it."""
    return [
        {
            "role": "user",
            "content": [
                text_part("Here is an image. Look at it; I will ask you about it later."),
                image_part(url),
            ],
        },
        {"role": "assistant", "content": "I have looked at the image."},
        {"role": "user", "content": question.text},
    ]


def _body(openai: OpenAIProbe, capability: str, messages: list[dict], stream: bool) -> dict:
    body: dict[str, Any] = {
        "model": openai.model(capability),
        "messages": messages,
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
    }
    if stream:
        body["stream"] = True
    return body


def _without_images(body: dict[str, Any]) -> dict[str, Any]:
    messages = [
        {**m, "content": [p for p in m["content"] if p.get("type") != "image_url"]}
        if isinstance(m.get("content"), list)
        else m
        for m in body["messages"]
    ]
    return {**body, "messages": messages}


def expect_image_success(openai: OpenAIProbe, exchange: Exchange, body: dict[str, Any]) -> None:
    """``expect_success``, where the plain version of a request is the same without its
    images: a 5xx that persists while that is answered is the image's doing."""
    openai.expect_success(
        exchange, control=_without_images(body), crash=vision.image_request_not_server_error
    )


# Formats every vision model of the official API reads; the others are optional.
CORE_FORMATS = frozenset({"png", "jpeg"})


def image_feature(fmt: str, detail: str | None) -> str | None:
    """The optional feature an image request uses: a less common format, a detail level."""
    if fmt not in CORE_FORMATS:
        return f"{fmt} images"
    return None if detail is None else "image detail"


def show(case: CaseRecord, question: Question, files: Sequence[ImageFile]) -> None:
    """Put the pictures and the question in the report, beside the evidence."""
    case.media["images"] = [{"file": f.file, "thumbnail": thumbnail(f)} for f in files]
    case.media["question"] = question.text


def ask(
    openai: OpenAIProbe,
    case: CaseRecord,
    capability: str,
    question: Question,
    messages: list[dict[str, Any]],
    files: Sequence[ImageFile],
    *,
    stream: bool = False,
    size_limit: bool = False,
    feature: str | None = None,
) -> None:
    """Ask about images until the answer shows them, at most ``k`` attempts.

    ``size_limit``: the request carries the large image, which may also be
    refused, with 413 or 400 and the error envelope. ``feature``: the optional
    feature the request uses (a format, a detail level), if any.
    """
    openai.optional_unless_configured(capability, feature)
    body = _body(openai, capability, messages, stream)
    show(case, question, files)

    def attempt() -> list[Finding]:
        exchange = openai.chat(body)
        status = exchange.status or 0
        # How a provider (or the proxy in front of it) refuses an image too large; any
        # other 4xx refuses something else and is judged like any refusal.
        if size_limit and status in vision.LARGE_IMAGE_STATUSES:
            case.add(vision.large_image_refused_cleanly(exchange), exchange)
            case.unsupported(f"the large image was refused: {refusal(exchange)}")
        expect_image_success(openai, exchange, body)
        if stream:
            openai.check_stream(exchange)
        case.media["answer"] = clip(answer_text(exchange), ANSWER_CHARS)
        return [
            *vision.image_delivered(exchange, question.accepted),
            *vision.every_image_delivered(exchange, question.accepted),
        ]

    # "The image was not seen" is claimed only of a model that answers a plain prompt.
    case.until_accepted(attempt, openai.calibration(capability))


def ask_one(
    openai: OpenAIProbe,
    case: CaseRecord,
    capability: str,
    name: str,
    locate: Callable[[ImageFile], str],
    fmt: str = "png",
    *,
    stream: bool = False,
    image_first: bool = False,
    detail: str | None = None,
) -> None:
    """Ask question ``name`` about its one picture in format ``fmt``, the image passed as
    ``locate`` gives it (a fixture URL, a data URL)."""
    q = question(name)
    file = picture(q.pictures[0]).file(fmt)
    messages = one_image(q, locate(file), image_first=image_first, detail=detail)
    feature = image_feature(fmt, detail)
    ask(openai, case, capability, q, messages, [file], stream=stream, feature=feature)


def expect_refusal(
    openai: OpenAIProbe, case: CaseRecord, capability: str, messages: list[dict[str, Any]]
) -> None:
    """An unusable image gets 400 with the error envelope: never a 5xx, never an answer."""
    exchange = openai.chat(_body(openai, capability, messages, stream=False))
    case.add(vision.invalid_image_refused(exchange), exchange)
    openai.check_error(exchange, (400,))
    if (exchange.status or 0) >= 400 or errors.looks_like_error(exchange):
        case.note(f"refused: {refusal(exchange)}")


def refusal(exchange: Exchange) -> str:
    """HTTP status and the provider's error message, for reasons and notes."""
    return f"HTTP {exchange.status}: {error_message(exchange)}"
