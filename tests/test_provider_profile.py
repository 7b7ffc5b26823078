"""The provider profile of a run (chatconform.provider_profile), as results.json holds it."""

from __future__ import annotations

from typing import Any

from chatconform.config import single
from chatconform.provider_profile import percentile, run_profile, summary
from chatconform.results import build_results


def exchange(**fields: Any) -> dict[str, Any]:
    return {"status": 200, "streamed": False, "elapsed_s": 0.5, **fields}


def stream(first: float, elapsed: float, tokens: int, gaps: list[float]) -> dict[str, Any]:
    return exchange(
        streamed=True,
        first_token_s=first,
        elapsed_s=elapsed,
        usage={"input_tokens": 9, "output_tokens": tokens},
        content_gaps_s=gaps,
    )


def case(dialect: str, *exchanges: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{dialect}/text/x", "dialect": dialect, "exchanges": list(exchanges)}


def test_the_profile_summarises_each_measure_per_dialect() -> None:
    cases = [
        case("openai", stream(0.1, 1.1, 100, [0.02, 0.03]), stream(0.3, 0.8, 50, [0.5])),
        case("openai", exchange(elapsed_s=0.2), exchange(status=429, elapsed_s=30.0)),
        case("anthropic", stream(0.2, 0.6, 20, [0.01])),
    ]
    profile = run_profile(cases)
    assert sorted(profile) == ["anthropic", "openai"]
    openai = profile["openai"]
    assert openai["ttft_s"] == {"n": 2, "p50": 0.2, "p95": 0.29, "max": 0.3}
    # Only answered exchanges: the 429's 30 s is no latency of the provider's answers.
    assert openai["latency_s"]["n"] == 3 and openai["latency_s"]["max"] == 1.1
    # Output tokens per second after the first token: 100 / 1.0 and 50 / 0.5.
    assert openai["output_tokens_per_s"] == {"n": 2, "p50": 100.0, "p95": 100.0, "max": 100.0}
    # Every gap of every stream, pooled.
    assert openai["content_gap_s"] == {"n": 3, "p50": 0.03, "p95": 0.453, "max": 0.5}
    assert profile["anthropic"]["content_gap_s"]["max"] == 0.01


def test_a_measure_never_measured_is_left_out_and_odd_values_are_ignored() -> None:
    cases = [case("openai", exchange(), exchange(streamed=True, content_gaps_s=["x", -1, True]))]
    profile = run_profile(cases)
    assert "ttft_s" not in profile["openai"]
    assert profile["openai"]["content_gap_s"] == {"n": 0}
    assert run_profile([]) == {}
    assert summary([]) == {"n": 0}


def test_results_json_carries_the_profile() -> None:
    cases = [
        {
            **case("openai", stream(0.1, 1.1, 100, [0.02])),
            "verdict": "pass",
            "capability": "text",
            "usage": {},
        }
    ]
    results = build_results(single("p", "http://h/v1"), cases, 0, 1.0)
    assert results["profile"]["openai"]["content_gap_s"]["n"] == 1


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([5.0], 0.95) == 5.0
