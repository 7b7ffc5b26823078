"""results.json: capability statuses, refused optional features; the headline sentence."""

from __future__ import annotations

from typing import Any

import pytest
from suite_cases import declared_cases

from chatconform.config import DIALECT_CAPABILITIES, DialectConfig, ProviderConfig, single
from chatconform.results import (
    broken_clients,
    build_results,
    format_summary,
    headline,
    headline_sentence,
    run_date,
)
from chatconform.rules import catalog

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
    # The clients the run's replay saw fail in the failing rows, named as readers know them.
    results["clients"] = {
        "openai-python": {"capabilities": {"openai/streaming": "works", "openai/text": "works"}},
        "vercel-ai": {"capabilities": {"openai/streaming": "wrong", "openai/text": "works"}},
        "openai-node": {"capabilities": {"openai/streaming": "hangs"}},
    }
    # One dialect: rows are named by capability alone.
    assert headline_sentence(results) == (
        "p, 2026-12-03: 2 of 3 capabilities conform; streaming fails (2 deviations; the Vercel "
        "AI SDK and openai-node each break on at least one)"
    )
    lines = format_summary(results).splitlines()
    assert lines[0] == headline_sentence(results)
    assert lines[1] == "outcome: 2 failed, 2 passed"


@pytest.mark.parametrize(
    ("rules", "failing_clients", "said"),
    [
        (["openai.stream.choice-index"], ["openai-node"], "(1 deviation that breaks openai-node)"),
        (
            ["openai.stream.choice-index", "openai.stream.content-type"],
            ["openai-node"],
            "(2 deviations; openai-node breaks on at least one)",
        ),
        (["openai.stream.content-type"], [], "(1 deviation)"),
    ],
)
def test_the_headline_claims_of_the_clients_no_more_than_was_measured(
    rules: list[str], failing_clients: list[str], said: str
) -> None:
    cases = [failing(f"openai/streaming/{n}", rule) for n, rule in enumerate(rules)]
    results = build_results(PROVIDER, cases, STARTED, 1.0)
    results["clients"] = {
        name: {
            "capabilities": {"openai/streaming": "breaks" if name in failing_clients else "works"}
        }
        for name in ("openai-node", "openai-python")
    }
    assert headline_sentence(results).endswith(f"streaming fails {said}")


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
    results = build_results(BOTH, cases, STARTED, 1.0)
    results["clients"] = {
        "anthropic-python": {"capabilities": {"anthropic/streaming": "breaks"}},
        "openai-python": {"capabilities": {"openai/tools": "wrong"}},
    }
    assert headline_sentence(results) == (
        "acme, 2026-12-03: 2 of 7 capabilities conform, 2 of them non-strict; openai/tools and "
        "anthropic/streaming fail (2 deviations; anthropic-sdk-python and openai-python each "
        "break on at least one); anthropic/models could not be judged (harness "
        "error); anthropic/tools inconclusive; openai/vision unsupported"
    )


def test_clients_are_named_as_readers_know_them() -> None:
    assert broken_clients([], ["anthropic-python", "vercel-ai"]) == (
        "anthropic-sdk-python and the Vercel AI SDK"
    )
    assert broken_clients([], ["a", "b", "c", "d", "e"]) == "a, b, c and 2 other clients"
    # Without a measured matrix, the clients the catalog says the rules break.
    claimed = next(rule for rule in catalog().values() if len(rule.breaks) > 1)
    assert broken_clients([claimed.id]).count(" and ") == 1
    assert broken_clients(["openai.no-such-rule"]) == ""
    assert broken_clients(["openai.no-such-rule"], []) == ""


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


def test_every_scorecard_row_has_cases_in_the_suite() -> None:
    """A row without cases would read not_measured in every run: a promise the suite does
    not keep. A case outside every row would be scored in a row no dialect declares."""
    declared = {
        f"{d}/{c}" for d, capabilities in DIALECT_CAPABILITIES.items() for c in capabilities
    }
    rows = {f"{info.dialect}/{info.capability}" for info in declared_cases().values()}
    assert sorted(declared - rows) == []
    assert sorted(rows - declared) == []


def inconclusive(case_id: str, reason: str) -> dict[str, Any]:
    return {**entry(case_id, "inconclusive"), "reason": reason}


def test_a_run_refused_everywhere_says_why_nothing_was_judged() -> None:
    not_sent = "POST /chat/completions: not sent: rate limited: HTTP 429 for 4 requests in a row"
    cases = [
        inconclusive("openai/text/a", "rate limited: HTTP 429 after 3 attempts (Retry-After: 2)"),
        *(inconclusive(f"openai/text/n{i}", not_sent) for i in range(59)),
    ]
    results = build_results(PROVIDER, cases, 0.0, 1.0)
    assert headline_sentence(results) == (
        "p, 1970-01-01: Nothing judged: 60 inconclusive (rate limited: 60 cases)"
    )


def test_a_provider_gone_half_way_is_named_beside_what_was_judged() -> None:
    cases = [
        entry("openai/text/a", "pass"),
        inconclusive("openai/text/b", "POST /chat/completions: ConnectError: [Errno 111] refused"),
        inconclusive(
            "openai/text/c",
            "POST /chat/completions: not sent: provider unreachable: 3 requests in a row could "
            "not connect (last: ConnectError: [Errno 111] refused)",
        ),
        inconclusive("openai/text/d", "not judged, the model cannot answer the plain version"),
    ]
    results = build_results(PROVIDER, cases, 0.0, 1.0)
    assert headline_sentence(results) == (
        "p, 1970-01-01: 0 of 1 capability conforms; text inconclusive "
        "(provider unreachable: 2 cases)"
    )


def test_the_run_sums_its_cases_waits() -> None:
    cases = [
        {
            **entry("openai/text/a", "pass"),
            "waits": {"retries": 2, "retry_s": 1.25, "rate_limit_s": 0},
        },
        {
            **entry("openai/text/b", "pass"),
            "waits": {"retries": 1, "retry_s": 2, "rate_limit_s": 3.5},
        },
        # A case from an older results.json has none.
        entry("openai/text/c", "pass"),
    ]
    results = build_results(PROVIDER, cases, 0.0, 1.0)
    assert results["waits"] == {"retries": 3, "retry_s": 3.25, "rate_limit_s": 3.5}
