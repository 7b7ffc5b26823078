"""results.json: capability statuses, refused optional features; the headline sentence."""

from __future__ import annotations

from typing import Any

from chatconform.config import DialectConfig, ProviderConfig, single
from chatconform.results import (
    broken_clients,
    build_results,
    format_summary,
    headline,
    headline_sentence,
    run_date,
)

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


# --- the headline sentence ----------------------------------------------------------

BOTH = ProviderConfig(
    name="acme",
    dialects={
        "openai": DialectConfig(
            base_url="http://p.test/v1", auth="bearer", models={"default": "m"}
        ),
        "anthropic": DialectConfig(
            base_url="http://p.test", auth="x-api-key", models={"default": "m"}
        ),
    },
)
STARTED = 1_796_268_178.0  # 2026-12-03


def failing(case_id: str, *rules: str, verdict: str = "fail") -> dict[str, Any]:
    case = entry(case_id, verdict)
    case["findings"] = [{"rule": rule, "severity": "must", "title": rule} for rule in rules]
    return case


def test_the_headline_says_how_many_capabilities_conform_and_what_fails_breaks() -> None:
    cases = [
        entry("openai/text/basic-answer", "pass"),
        failing("openai/streaming/done-sentinel", "openai.stream.done-sentinel"),
        failing("openai/streaming/chunks", "openai.stream.content-type"),
        entry("openai/models/list-shape", "pass"),
    ]
    results = build_results(PROVIDER, cases, STARTED, 1.0)
    # One dialect: rows are named by capability alone.
    assert headline_sentence(results) == (
        "p, 2026-12-03: 2 of 3 capabilities conform; streaming fails (2 deviations that break "
        "openai-python, openai-node, the Vercel AI SDK and LangChain)"
    )
    lines = format_summary(results).splitlines()
    assert lines[0] == headline_sentence(results)
    assert lines[1] == "outcome: 2 failed, 2 passed"


def test_the_headline_names_rows_by_dialect_lists_the_others_and_counts_non_strict() -> None:
    cases = [
        entry("openai/text/a", "non_strict"),
        entry("anthropic/text/a", "non_strict"),
        failing("openai/tools/a", "openai.tools.arguments-not-string"),
        failing("anthropic/streaming/a", "anthropic.stream.block-index"),
        entry("openai/vision/a", "unsupported", "vision"),
        entry("anthropic/tools/a", "inconclusive"),
        entry("anthropic/models/a", "error"),
    ]
    sentence = headline_sentence(build_results(BOTH, cases, STARTED, 1.0))
    assert sentence == (
        "acme, 2026-12-03: 2 of 7 capabilities conform, 2 of them non-strict; openai/tools and "
        "anthropic/streaming fail (2 deviations that break anthropic-sdk-python, "
        "anthropic-sdk-typescript, Claude Code and 4 other clients); anthropic/models could "
        "not be judged (harness "
        "error); anthropic/tools inconclusive; openai/vision unsupported"
    )


def test_clients_are_named_as_readers_know_them() -> None:
    # "does not break ..." lines name what a deviation spares, not what it breaks.
    assert broken_clients(["openai.completion.null-field-absent"]) == ""
    assert broken_clients(["openai.usage.present"]) == "LangChain and LiteLLM"
    # No client named: the "every ..." lines say who is hit.
    assert broken_clients(["openai.image.not-delivered"]) == "every vision app"
    assert broken_clients(["openai.no-such-rule"]) == ""


def test_a_run_that_judged_nothing_says_so_with_its_counts() -> None:
    results = build_results(PROVIDER, [entry("openai/text/a", "inconclusive")] * 11, STARTED, 1.0)
    assert headline_sentence(results) == "p, 2026-12-03: Nothing judged: 11 inconclusive"
    assert format_summary(results).splitlines()[1] == "outcome: Nothing judged: 11 inconclusive"
    errors = [entry("openai/text/a", "error")] * 2 + [entry("openai/text/b", "skipped")]
    assert headline(build_results(PROVIDER, errors, 0, 1.0)) == (
        "Nothing judged: 2 harness errors, 1 skipped"
    )
    assert headline(build_results(PROVIDER, [], 0, 1.0)) == "Nothing judged: no case ran"


def test_the_headline_counts_worst_first_and_an_interrupted_run_says_so() -> None:
    verdicts = ["pass"] * 3 + ["skipped"] * 2 + ["non_strict"] * 2
    verdicts += ["unsupported", "inconclusive", "fail"]
    cases = [entry(f"openai/text/c{i}", v) for i, v in enumerate(verdicts)]
    results = build_results(PROVIDER, cases, STARTED, 1.0, complete=False)
    assert headline(results) == (
        "1 failed, 2 non-strict, 3 passed, 1 inconclusive, 1 unsupported, 2 skipped "
        "(interrupted: partial results)"
    )
    assert headline_sentence(results).startswith("p, 2026-12-03: 0 of 1 capability conforms; text")
    assert headline_sentence(results).endswith("(interrupted: partial results)")
    assert run_date({"started_at": "garbled"}) == "date unknown"


def test_the_prices_are_kept_in_the_results() -> None:
    provider = single("p", "http://p.test/v1", prices={"input": 2.5, "output": 10.0})
    assert build_results(provider, [], 0.0, 1.0)["provider"]["prices"] == {
        "input": 2.5,
        "output": 10.0,
    }
