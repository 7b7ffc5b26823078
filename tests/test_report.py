"""The HTML fragments: provider-returned text is escaped, the scorecard reads right."""

from __future__ import annotations

from chatconform.config import single
from chatconform.report import case_html, scorecard_html, verdict_cell_html, verdict_filter_html
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
    provider = single("p", "http://h/v1", models={"default": "<b>m</b>"})
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
    provider = single("p", "https://u:sk-secret@h/v1?key=sk-secret")
    assert "sk-secret" not in str(build_results(provider, [], 0, 1.0))


def test_summary_lists_capabilities_and_deviations() -> None:
    provider = single("p", "http://h/v1")
    text = format_summary(build_results(provider, [a_case()], 0, 1.0))
    assert "openai/text              fail" in text
    assert "[must] openai.text.answer" in text


def run_of(*verdicts: str, complete: bool = True) -> dict:
    """results.json of a run whose cases got ``verdicts``; only fail/non_strict have findings."""
    provider = single("p", "http://h/v1")
    should = {
        **a_case()["findings"][0],
        "rule": "openai.completion.created-unit",
        "severity": "should",
    }
    findings = {"fail": a_case()["findings"], "non_strict": [should]}
    cases = [
        a_case(id=f"openai/text/c{i}", verdict=v, reason="", findings=findings.get(v, []))
        for i, v in enumerate(verdicts)
    ]
    return build_results(provider, cases, 0, 1.0, complete=complete)


def test_a_run_that_judged_nothing_says_so_in_red_first() -> None:
    results = run_of(*["inconclusive"] * 11)
    html = scorecard_html(results)
    headline = '<p class="cc-headline cc-nothing_judged">Nothing judged: 11 inconclusive</p>'
    assert headline in html
    assert html.index(headline) < html.index("<h2>Scorecard</h2>")
    assert "No deviations found" not in html
    assert "No case was judged, so no deviation could be looked for." in html
    assert format_summary(results).splitlines()[0] == "outcome: Nothing judged: 11 inconclusive"


def test_the_headline_counts_worst_first_coloured_by_the_worst() -> None:
    verdicts = ["pass"] * 3 + ["skipped"] * 2 + ["non_strict"] * 2 + ["unsupported", "inconclusive"]
    results = run_of(*verdicts, "fail")
    line = "1 failed, 2 non-strict, 3 passed, 1 inconclusive, 1 unsupported, 2 skipped"
    assert f'<p class="cc-headline cc-fail">{line}</p>' in scorecard_html(results)
    assert format_summary(results).splitlines()[0] == f"outcome: {line}"
    assert '<p class="cc-headline cc-inconclusive">' in scorecard_html(
        run_of("pass", "inconclusive")
    )
    assert '<p class="cc-headline cc-pass">2 passed</p>' in scorecard_html(run_of("pass", "pass"))


def test_harness_errors_alone_judge_nothing() -> None:
    results = run_of("error", "error", "skipped")
    assert format_summary(results).splitlines()[0] == (
        "outcome: Nothing judged: 2 harness errors, 1 skipped"
    )
    assert "Nothing judged: no case ran" in scorecard_html(run_of())


def test_no_deviations_found_names_what_was_not_judged() -> None:
    html = scorecard_html(run_of("pass", "pass", "inconclusive", "skipped"))
    assert "No deviations found in 2 judged cases; not judged: 1 inconclusive, 1 skipped." in html
    assert "<p>No deviations found in 1 judged case.</p>" in scorecard_html(run_of("pass"))


def test_an_interrupted_run_says_its_counts_are_partial() -> None:
    results = run_of("pass", complete=False)
    assert "1 passed (interrupted: partial results)" in scorecard_html(results)


def test_the_verdict_filter_has_a_box_per_verdict_and_disables_empty_ones() -> None:
    html = verdict_filter_html(run_of("pass", "fail", "fail"))
    assert (
        '<input type="checkbox" id="cc-show-fail" checked> <span class="cc-fail">2 fail</span>'
        in html
    )
    assert 'id="cc-show-inconclusive" checked disabled>' in html
    assert (
        "body:has(#cc-show-pass:not(:checked)) #results-table "
        "tbody:has(td.cc-verdict.cc-pass){display:none}"
    ) in html
    assert verdict_cell_html("non_strict") == (
        '<td class="col-verdict cc-verdict cc-non_strict">non_strict</td>'
    )


def test_scorecard_lists_the_optional_features_refused_beside_a_passing_status() -> None:
    from chatconform.results import status_label

    assert status_label("pass", ["n"]) == "pass (1 optional feature unsupported: n)"
    assert status_label("pass", ["n", "webp images"]) == (
        "pass (2 optional features unsupported: n, webp images)"
    )
    assert status_label("unsupported", ["vision"]) == "unsupported"
    assert status_label("fail", []) == "fail"
