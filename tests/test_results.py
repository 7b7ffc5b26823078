"""results.json: capability statuses, refused optional features."""

from __future__ import annotations

from typing import Any

from chatconform.config import single
from chatconform.results import build_results, format_summary

PROVIDER = single("p", "http://p.test/v1", models={"default": "m"})


def entry(case_id: str, verdict: str, optional: str | None = None) -> dict[str, Any]:
    dialect, capability, _ = case_id.split("/")
    return {
        "id": case_id,
        "capability": capability,
        "dialect": dialect,
        "verdict": verdict,
        "optional": optional,
        "findings": [],
        "usage": {"requests": 1, "prompt_tokens": 1, "completion_tokens": 1},
    }


def test_a_refused_optional_feature_leaves_a_passing_capability_passing() -> None:
    results = build_results(
        PROVIDER,
        [
            entry("openai/text/basic-answer", "pass"),
            entry("openai/text/n-choices", "unsupported", "n"),
        ],
        0.0,
        1.0,
    )
    assert results["summary"]["capabilities"]["openai/text"] == "pass"
    assert results["summary"]["unsupported_features"] == {"openai/text": ["n"]}
    assert "pass (1 optional feature unsupported: n)" in format_summary(results)


def test_a_capability_refused_as_a_whole_is_unsupported_whatever_else_passed() -> None:
    cases = [
        entry("openai/vision/url[png]", "unsupported", "vision"),
        entry("openai/vision/url[webp]", "unsupported", "webp images"),
        # Bad input refused with 400: passes, but says nothing about images working.
        entry("openai/vision/url-not-found", "pass"),
    ]
    results = build_results(PROVIDER, cases, 0.0, 1.0)
    assert results["summary"]["capabilities"]["openai/vision"] == "unsupported"
    assert results["summary"]["unsupported_features"] == {
        "openai/vision": ["vision", "webp images"]
    }


def test_a_failure_outweighs_refusals() -> None:
    cases = [entry("openai/text/stop", "fail"), entry("openai/text/n-choices", "unsupported", "n")]
    assert (
        build_results(PROVIDER, cases, 0.0, 1.0)["summary"]["capabilities"]["openai/text"] == "fail"
    )
