"""Image cases in the report: thumbnails, question, answer, attempts; all of it safe."""

from __future__ import annotations

import json
from typing import Any

from chatconform.case import REQUEST_CHARS, CaseInfo, CaseRecord
from chatconform.config import single
from chatconform.exchange import Exchange, RecordedRequest
from chatconform.images import data_url, picture, thumbnail
from chatconform.report import render_report
from chatconform.results import build_results
from chatconform.verdict import Verdict

HOSTILE = '<script>alert("x")</script>'
INFO = CaseInfo("openai/base64_image/data-url", "An image reaches the model", "r", "s")


def result(record: CaseRecord) -> dict[str, Any]:
    return record.result(Verdict.PASS, "", 0.1, None)


def case_html(case: dict[str, Any]) -> str:
    """The report page of a run of that one case: the case is on it, folded or open."""
    return render_report(build_results(single("p", "http://p.test/v1"), [case], 0, 1.0))


def image_record(answer: str, thumb: str) -> CaseRecord:
    record = CaseRecord(INFO, "openai/base64_image/data-url[png]", attempts=2)
    record.media = {
        "images": [{"file": "red-circle.png", "thumbnail": thumb}],
        "question": "What colour is the shape in this image?",
        "answer": answer,
    }
    return record


def test_an_image_case_shows_thumbnail_question_answer_and_attempts() -> None:
    thumb = thumbnail(picture("red-circle").file("png"))
    html = case_html(result(image_record("Red.", thumb)))
    assert f'<img src="{thumb}" alt="red-circle.png"' in html
    assert "Question: <q>What colour is the shape in this image?</q>" in html
    assert "Answer: <q>Red.</q>" in html
    assert "attempts 2" in html


def test_the_answer_is_escaped_and_only_inline_images_are_embedded() -> None:
    hostile_sources = [
        "javascript:alert(1)",
        "https://tracker.example/pixel.png",
        'data:image/png;base64,AAAA" onerror="alert(1)',
        "data:text/html;base64,PHNjcmlwdD4=",
    ]
    for source in hostile_sources:
        html = case_html(result(image_record(HOSTILE, source)))
        assert "<img" not in html, source
        assert "<script>" not in html and "&lt;script&gt;" in html


def test_media_is_in_results_only_for_cases_that_have_it() -> None:
    plain = CaseRecord(INFO, "openai/text/basic-answer")
    assert "media" not in result(plain)
    assert '<div class="cc-media">' not in case_html(result(plain))
    with_media = result(image_record("Red.", "x"))
    assert json.loads(json.dumps(with_media))["media"]["answer"] == "Red."


def test_a_request_with_a_large_image_is_bounded_in_the_results() -> None:
    body = {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {
        "url": data_url(picture("large-photo").file("png"))}}]}]}  # fmt: skip
    request = RecordedRequest(
        "POST", "http://p.test/v1/chat/completions", {}, json.dumps(body).encode()
    )
    record = CaseRecord(INFO, "openai/base64_image/large-image")
    record.add_exchange(Exchange(request=request, status=200))
    curl = result(record)["exchanges"][0]["request"]
    assert len(body["messages"][0]["content"][0]["image_url"]["url"]) > 4_000_000
    assert REQUEST_CHARS <= len(curl) < REQUEST_CHARS + 100
    assert curl.endswith("more characters]")
