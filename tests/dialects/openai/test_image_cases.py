"""How image cases judge what comes back (chatconform.dialects.openai.image_cases), and image_base_url."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatconform.case import CaseInfo, CaseRecord, CaseStop
from chatconform.client import RecordingClient
from chatconform.config import ConfigError, Overrides, load_file, resolve, single
from chatconform.dialects.openai.image_cases import ask, expect_refusal, one_image
from chatconform.dialects.openai.probe import OpenAIProbe
from chatconform.images import data_url, picture, question
from chatconform.reference import ReferenceServer
from chatconform.reference.gateway import NGINX_413
from chatconform.verdict import Verdict

Handler = Callable[[httpx.Request], httpx.Response]
ENVELOPE = {
    "error": {"message": "nope", "type": "invalid_request_error", "param": None, "code": None}
}
QUESTION = question("shape-colour")
FILE = picture("red-circle").file("png")


def completion(text: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1735689600,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21},
        },
    )


def has_image(request: httpx.Request) -> bool:
    return b'"image_url"' in request.content


def run(
    handler: Handler, body: Callable[[OpenAIProbe, CaseRecord], None]
) -> tuple[Verdict, CaseRecord]:
    """Run one image case against a fake provider; its verdict and record."""
    record = CaseRecord(CaseInfo("openai/base64_image/t", "t", "r", "s"), "openai/base64_image/t")
    provider = single("p", "http://p.test/v1", models={"default": "m"})
    with RecordingClient(
        provider.dialects["openai"].base_url, transport=httpx.MockTransport(handler)
    ) as client:
        try:
            body(OpenAIProbe(client, provider, record), record)
            stopped = None
        except CaseStop as stop:
            stopped = stop.verdict
    return record.verdict(stopped), record


def ask_red(openai: OpenAIProbe, case: CaseRecord, **kwargs: Any) -> None:
    ask(
        openai,
        case,
        "base64_image",
        QUESTION,
        one_image(QUESTION, data_url(FILE)),
        [FILE],
        **kwargs,
    )


def rules(record: CaseRecord) -> list[str]:
    return [f.rule for f in record.unique_findings()]


def test_a_right_answer_passes_and_the_report_shows_it() -> None:
    verdict, record = run(lambda r: completion("It is red."), ask_red)
    assert verdict is Verdict.PASS and record.attempts == 1
    assert record.media["question"] == QUESTION.text
    assert record.media["answer"] == "It is red."
    assert [i["file"] for i in record.media["images"]] == ["red-circle.png"]


def test_a_wrong_answer_is_retried_then_fails_once_the_model_is_calibrated() -> None:
    answers = iter([completion("I cannot see an image."), completion("Still nothing.")])

    def handler(request: httpx.Request) -> httpx.Response:
        # The calibration prompt is answered; the image question never is.
        return next(answers) if has_image(request) else completion("5")

    verdict, record = run(handler, ask_red)
    assert verdict is Verdict.FAIL and record.attempts == 2
    assert rules(record) == ["openai.image.not-delivered"]
    assert len(record.exchanges) == 3, "two attempts, then the calibration prompt"


def test_a_model_that_answers_nothing_makes_the_image_case_inconclusive() -> None:
    verdict, record = run(lambda r: completion("I am a test model."), ask_red)
    assert verdict is Verdict.INCONCLUSIVE and rules(record) == []


def test_a_second_attempt_can_pass() -> None:
    answers = iter([completion("Hmm."), completion("Red.")])
    verdict, record = run(lambda r: next(answers), ask_red)
    assert verdict is Verdict.PASS and record.attempts == 2


def test_a_5xx_the_image_causes_fails() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json=ENVELOPE) if has_image(request) else completion("Hi.")

    verdict, record = run(handler, ask_red)
    assert verdict is Verdict.FAIL
    assert rules(record) == ["openai.image.server-error"]
    assert len(record.exchanges) == 3, "the image request, sent again, and without the image"
    assert b'"image_url"' in record.exchanges[1].request.body
    assert b'"image_url"' not in record.exchanges[2].request.body


def test_a_5xx_for_everything_is_an_outage_not_a_failure() -> None:
    verdict, record = run(lambda r: httpx.Response(500, json=ENVELOPE), ask_red)
    assert verdict is Verdict.INCONCLUSIVE and rules(record) == []


def test_a_clean_refusal_is_unsupported() -> None:
    verdict, record = run(lambda r: httpx.Response(400, json=ENVELOPE), ask_red)
    assert verdict is Verdict.UNSUPPORTED and rules(record) == []


@pytest.mark.parametrize(
    ("response", "verdict", "found"),
    [
        (httpx.Response(413, json=ENVELOPE), Verdict.UNSUPPORTED, []),
        (httpx.Response(413, html=NGINX_413), Verdict.FAIL, ["openai.image.size-limit"]),
        (completion("Red."), Verdict.PASS, []),
    ],
    ids=["413-envelope", "413-html", "answered"],
)
def test_the_large_image_is_answered_or_refused_cleanly(
    response: httpx.Response, verdict: Verdict, found: list[str]
) -> None:
    got, record = run(lambda r: response, lambda o, c: ask_red(o, c, size_limit=True))
    assert got is verdict and rules(record) == found


@pytest.mark.parametrize(
    ("response", "verdict", "found"),
    [
        (httpx.Response(400, json=ENVELOPE), Verdict.PASS, []),
        (completion("Red."), Verdict.FAIL, ["openai.image.invalid-accepted"]),
        (httpx.Response(500, json=ENVELOPE), Verdict.FAIL, ["openai.error.server-error"]),
        (httpx.Response(422, json=ENVELOPE), Verdict.NON_STRICT, ["openai.error.status"]),
        (httpx.Response(400, text="bad"), Verdict.FAIL, ["openai.error.envelope"]),
        (httpx.Response(200, json=ENVELOPE), Verdict.FAIL, ["openai.error.http200-error-body"]),
    ],
    ids=["400", "answered", "500", "422", "400-text", "200-error"],
)
def test_an_unusable_image_must_get_400_and_the_envelope(
    response: httpx.Response, verdict: Verdict, found: list[str]
) -> None:
    messages = one_image(QUESTION, "data:image/png;base64,not base64!")
    got, record = run(
        lambda r: response, lambda o, c: expect_refusal(o, c, "base64_image", messages)
    )
    assert got is verdict
    assert [r for r in rules(record) if r != "openai.error.json-content-type"] == found


# --- image_base_url: configuration, and what URL cases do without it -----------


def test_image_base_url_comes_from_the_file_or_the_flag(tmp_path: Path) -> None:
    path = tmp_path / "chatconform.toml"
    path.write_text(
        '[providers.acme]\nbase_url = "https://api.acme.example/v1"\napi_key_env = "K"\n'
        'image_base_url = "https://cdn.acme.example/fixtures/"\n[providers.acme.models]\n'
        'default = "m"\n'
    )
    assert load_file(path)["acme"].image_base_url == "https://cdn.acme.example/fixtures/"
    flagged = resolve(
        config_path=path,
        provider_name=None,
        overrides=Overrides(image_base_url="http://other.example/img/"),
        environ={"K": "k"},
    )
    assert flagged is not None and flagged.image_base_url == "http://other.example/img/"
    with pytest.raises(ConfigError, match="image_base_url 'file:///tmp' is not an http"):
        resolve(
            config_path=path,
            provider_name=None,
            overrides=Overrides(image_base_url="file:///tmp"),
            environ={"K": "k"},
        )


@pytest.fixture
def reference() -> Iterator[ReferenceServer]:
    with ReferenceServer(pace_s=0) as server:
        yield server


def run_cli(server: ReferenceServer, tmp_path: Path, *args: str) -> dict[str, Any]:
    """`chatconform run` against ``server`` in a subprocess (as users run it); its results."""
    command = [
        sys.executable, "-m", "chatconform", "run", "--base-url", server.base_url,
        "--model", server.model, "--api-key-env", "CC_IMAGE_KEY", "--concurrency", "1",
        "--reports", str(tmp_path), *args,
    ]  # fmt: skip
    env = {**os.environ, "CC_IMAGE_KEY": server.api_key}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    found = list(tmp_path.glob("*/results.json"))
    assert len(found) == 1, done.stdout + done.stderr
    return json.loads(found[0].read_text())


def test_url_cases_are_skipped_without_image_base_url(
    reference: ReferenceServer, tmp_path: Path
) -> None:
    results = run_cli(reference, tmp_path, "--only", "vision,base64_image")
    vision = [c for c in results["cases"] if c["id"].startswith("openai/vision/")]
    assert len(vision) >= 15
    assert {c["verdict"] for c in vision} == {"skipped"}
    assert all("--image-base-url" in c["reason"] for c in vision)
    assert results["summary"]["capabilities"]["openai/vision"] == "not_measured"
    assert results["summary"]["capabilities"]["openai/base64_image"] == "pass"


def test_a_wrong_image_base_url_is_inconclusive_not_the_providers_fault(
    reference: ReferenceServer, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    results = run_cli(
        reference, tmp_path, "--case", "openai/vision/url[*", "--image-base-url", nowhere
    )
    assert {c["verdict"] for c in results["cases"]} == {"inconclusive"}
    assert all(c["reason"].startswith(f"cannot use {nowhere}") for c in results["cases"])
    assert all(c["exchanges"] == [] for c in results["cases"]), "the provider was not asked"
