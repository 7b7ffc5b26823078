"""The HTML fragments: provider-returned text is escaped, the scorecard reads right."""

from __future__ import annotations

from chatconform.config import ProviderConfig
from chatconform.report import case_html, scorecard_html
from chatconform.results import build_results, format_summary, public_url

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def a_case(**overrides: object) -> dict:
    entry = {
        "id": "openai/text/basic-answer",
        "capability": "text",
        "dialect": "openai",
        "title": "A trivial prompt is answered",
        "requirement": "The completion answers the user's message.",
        "source": "https://platform.openai.com/docs",
        "verdict": "fail",
        "reason": HOSTILE,
        "findings": [
            {
                "rule": "openai.text.answer",
                "severity": "must",
                "title": "Model did not answer a trivial prompt correctly",
                "message": f"Expected: '5'\nReceived: {HOSTILE}",
                "location": "/choices/0/message/content",
                "evidence": f'HTTP 200\n{{"content": "{HOSTILE}"}}',
                "exchange": 0,
            }
        ],
        "attempts": 2,
        "notes": [HOSTILE],
        "duration_s": 0.1,
        "usage": {"requests": 2, "prompt_tokens": 20, "completion_tokens": 4},
        "exchanges": [
            {
                "request": "curl -sS -X POST 'http://h/v1/chat/completions'",
                "status": 200,
                "content_type": "text/html",
                "elapsed_s": 0.1,
                "first_byte_s": 0.05,
                "events": 0,
                "attempts": 1,
                "error": None,
                "response_excerpt": HOSTILE,
            }
        ],
    }
    entry.update(overrides)
    return entry


def test_case_html_escapes_everything_the_provider_sent() -> None:
    html = case_html(a_case())
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert "attempts 2" in html


def test_scorecard_escapes_provider_names_and_shows_statuses() -> None:
    provider = ProviderConfig(name="p", base_url="http://h/v1", models={"default": "<b>m</b>"})
    results = build_results(
        provider,
        [a_case(), a_case(id="x/streaming/y", capability="streaming", verdict="pass", findings=[])],
        0,
        1.0,
    )
    html = scorecard_html(results)
    assert "<b>m</b>" not in html and "&lt;b&gt;m&lt;/b&gt;" in html
    assert '<td class="cc-fail">fail</td>' in html
    assert '<td class="cc-not_measured">not_measured</td>' in html
    assert "openai.text.answer" in html and "Deviations" in html


def test_results_never_hold_credentials_from_the_url() -> None:
    assert (
        public_url("https://user:sk-secret@h.example:8443/v1?key=sk-secret")
        == "https://h.example:8443/v1"
    )
    provider = ProviderConfig(name="p", base_url="https://u:sk-secret@h/v1?key=sk-secret")
    assert "sk-secret" not in str(build_results(provider, [], 0, 1.0))


def test_summary_lists_capabilities_and_deviations() -> None:
    provider = ProviderConfig(name="p", base_url="http://h/v1")
    text = format_summary(build_results(provider, [a_case()], 0, 1.0))
    assert "text               fail" in text
    assert "[must] openai.text.answer" in text
