"""Checks of image input (chatconform.dialects.openai.checks.vision)."""

from __future__ import annotations

import json

import pytest
from check_helpers import http_exchange, sse_bytes, sse_exchange, summary
from hypothesis import given, note, settings
from hypothesis import strategies as st

from chatconform.answers import mentions
from chatconform.dialects.openai.checks import vision
from chatconform.exchange import Exchange
from chatconform.reference.gateway import NGINX_413

CONTENT = "/choices/0/message/content"
RED = (("red", "crimson", "scarlet"),)
TWO = (("blue",), ("green", "emerald"))
ENVELOPE = json.dumps(
    {
        "error": {
            "message": "Image too large",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
).encode()


def answer(text: str) -> Exchange:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1735689600,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
    }
    return http_exchange(json.dumps(body).encode())


def streamed(*pieces: str) -> Exchange:
    chunks = [
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1735689600,
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
        }
        for piece in pieces
    ]
    return sse_exchange(sse_bytes(chunks))


def status(code: int, body: bytes = ENVELOPE, content_type: str = "application/json") -> Exchange:
    return http_exchange(body, status=code, content_type=content_type)


@pytest.mark.parametrize(
    ("text", "term", "found"),
    [
        ("Red.", "red", True),
        ("The circle is RED", "red", True),
        ("No image was shared, so I cannot tell.", "red", False),
        ("It is reddish", "red", False),
        ("forty-seven", "forty-seven", True),
        ("147", "47", False),
    ],
)
def test_mentions_matches_whole_words_in_any_case(text: str, term: str, found: bool) -> None:
    assert mentions(text, term) is found


@pytest.mark.parametrize("text", ["Red.", "It's a crimson circle.", "SCARLET"])
def test_an_answer_naming_the_picture_passes(text: str) -> None:
    assert vision.image_delivered(answer(text), RED) == []


@pytest.mark.parametrize(
    "text", ["I don't see any image.", "Blue.", "It looks shared and rendered."]
)
def test_an_answer_without_the_picture_is_a_must(text: str) -> None:
    findings = vision.image_delivered(answer(text), RED)
    assert summary(findings) == [("openai.image.not-delivered", "must", CONTENT)]
    assert "'red' or 'crimson' or 'scarlet'" in findings[0].message


def test_a_streamed_answer_is_read_across_deltas() -> None:
    assert vision.image_delivered(streamed("It is ", "red", "."), RED) == []
    findings = vision.image_delivered(streamed("I see ", "nothing"), RED)
    # The event where the answer starts: a stream has no /choices/0/message.
    assert summary(findings) == [
        ("openai.image.not-delivered", "must", "/events/0/choices/0/delta/content")
    ]


def test_two_images_need_an_answer_about_each() -> None:
    assert vision.every_image_delivered(answer("Blue and emerald."), TWO) == []
    partial = vision.every_image_delivered(answer("Blue."), TWO)
    assert summary(partial) == [("openai.image.multiple-images", "must", CONTENT)]
    assert partial[0].message == (
        "Expected: an answer naming 'blue' and ('green' or 'emerald') (one per image)\n"
        "Received: 'Blue.': nothing about 'green' or 'emerald'"
    )
    assert vision.image_delivered(answer("Blue."), TWO) == [], "one image did arrive"


def test_no_image_at_all_is_not_delivered_rather_than_partial() -> None:
    nothing = answer("I cannot see any images.")
    assert vision.every_image_delivered(nothing, TWO) == []
    assert len(vision.image_delivered(nothing, TWO)) == 1


@pytest.mark.parametrize(
    ("code", "repeat", "control", "flagged"),
    [
        (500, 500, 200, True),
        (502, 500, 200, True),
        (500, 200, 200, False),
        (500, 500, 500, False),
        (503, 503, 400, False),
        (200, 200, 200, False),
    ],
)
def test_a_5xx_is_blamed_on_the_image_only_when_it_persists_and_the_control_succeeds(
    code: int, repeat: int, control: int, flagged: bool
) -> None:
    findings = vision.image_request_not_server_error(status(code), status(repeat), status(control))
    assert [f.rule for f in findings] == (["openai.image.server-error"] if flagged else [])
    if flagged:
        assert (
            f"HTTP {code}, and HTTP {repeat} when sent again, while the same request without "
            "the image got HTTP 200"
        ) in findings[0].message


def test_an_unusable_image_answered_with_200_is_a_must() -> None:
    findings = vision.invalid_image_refused(answer("I see nothing special."))
    assert summary(findings) == [("openai.image.invalid-accepted", "must", "")]
    assert vision.invalid_image_refused(status(400)) == []
    # An error disguised as a 200 is another rule's finding (openai.error.http200-error-body).
    assert vision.invalid_image_refused(status(200)) == []


@pytest.mark.parametrize(
    ("exchange", "flagged"),
    [
        (status(413), False),
        (status(400), False),
        (status(413, NGINX_413.encode(), "text/html"), True),
        (status(422), True),
        (status(400, b"Bad Request", "text/plain"), True),
        (answer("Red."), False),
        (status(500), False),
    ],
    ids=["413", "400", "413-html", "422", "400-text", "answered", "500"],
)
def test_a_large_image_is_refused_with_413_or_400_and_the_envelope(
    exchange: Exchange, flagged: bool
) -> None:
    findings = vision.large_image_refused_cleanly(exchange)
    assert [f.rule for f in findings] == (["openai.image.size-limit"] if flagged else [])


@settings(max_examples=200, deadline=None, database=None)
@given(
    body=st.binary(max_size=200)
    | st.builds(lambda t: json.dumps(t).encode(), st.text(max_size=40)),
    code=st.sampled_from([200, 400, 413, 422, 500, 503]),
    streamed_body=st.booleans(),
)
def test_no_vision_check_raises_on_any_response(
    body: bytes, code: int, streamed_body: bool
) -> None:
    exchange = (
        sse_exchange(body, status=code) if streamed_body else http_exchange(body, status=code)
    )
    note(f"HTTP {code} {'stream' if streamed_body else 'body'}: {body!r}")
    for findings in (
        vision.image_delivered(exchange, RED),
        vision.every_image_delivered(exchange, TWO),
        vision.image_request_not_server_error(exchange, exchange, exchange),
        vision.invalid_image_refused(exchange),
        vision.large_image_refused_cleanly(exchange),
    ):
        assert all(f.rule.startswith("openai.image.") for f in findings)
