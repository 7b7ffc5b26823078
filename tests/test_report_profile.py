"""The report's provider profile (chatconform.report_profile): gaps and the load probe."""

from __future__ import annotations

from typing import Any

from chatconform.config import single
from chatconform.report_profile import load_html, profile_html
from chatconform.results import build_results


def results_with_gaps(gaps: list[float]) -> dict[str, Any]:
    exchange = {
        "status": 200,
        "streamed": True,
        "elapsed_s": 1.0,
        "first_token_s": 0.1,
        "content_gaps_s": gaps,
    }
    case = {"id": "openai/streaming/x", "dialect": "openai", "capability": "streaming"}
    case |= {"verdict": "pass", "usage": {}, "exchanges": [exchange]}
    return build_results(single("p", "http://h/v1"), [case], 0, 1.0)


def test_gaps_are_numbers_in_the_table_not_a_chart_and_the_longest_is_named() -> None:
    html = profile_html(results_with_gaps([0.02, 0.03, 1.5]))
    assert html.count("<svg") == 2  # time to first token and latency; no dot per gap
    assert '<th colspan="3">Inter-chunk gap</th>' in html
    assert '<td class="cc-num">3</td><td class="cc-num">30 ms</td>' in html
    assert "Longest inter-chunk gap: openai 1.50 s." in html


def test_a_run_without_streams_says_the_gaps_were_not_measured() -> None:
    html = profile_html(results_with_gaps([]))
    assert "Inter-chunk gap: not measured" in html
    assert "Longest inter-chunk gap" not in html


def test_the_load_probe_is_a_table_and_says_it_decides_no_verdict() -> None:
    load = {
        "dialect": "openai",
        "concurrency": 8,
        "alone": {"requests": 3, "succeeded": 3, "latency_p50_s": 0.2, "latency_p95_s": 0.25},
        "concurrent": {"requests": 8, "succeeded": 6, "latency_p50_s": 0.5, "latency_p95_s": 1.2},
        "success_rate": 0.75,
        "slowdown_p50": 2.5,
        "errors": {"429": 2},
    }
    html = load_html(load)
    assert "Load probe: 8 identical requests at once" in html
    assert "<td>concurrently</td><td class='cc-num'>8</td><td class='cc-num'>6</td>" in html
    assert "<td class='cc-num'>500 ms</td><td class='cc-num'>1.20 s</td>" in html
    assert "took 2.50× as long as alone" in html and "Errors: 429: 2." in html
    assert "no verdict depends on it" in html


def test_load_from_a_hostile_or_older_file_is_escaped_or_absent() -> None:
    assert load_html(None) == ""
    assert load_html({"skipped": "<script>x</script>"}) == (
        '<p class="cc-muted">Load probe: not run (&lt;script&gt;x&lt;/script&gt;).</p>'
    )
    html = load_html({"concurrency": "<b>", "errors": {"<i>": "many"}, "slowdown_p50": "x"})
    assert "<b>" not in html and "<i>" not in html and "&lt;i&gt;: ?" in html
