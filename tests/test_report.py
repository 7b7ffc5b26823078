"""report.html: one standalone page from results.json, safe whatever the provider sent,
readable without script, its colours legible."""

from __future__ import annotations

import copy
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from chatconform import compare, trend
from chatconform.config import single
from chatconform.html_page import STYLE, case_anchor, rule_anchor
from chatconform.report import REPORT_STYLE, render_report, write_report
from chatconform.report_evidence import curl, pretty
from chatconform.report_profile import percentile
from chatconform.results import build_results, format_summary, public_url

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>\'" onmouseover="alert(2)'
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
COMPLETION = (
    '{"id":"chatcmpl-1","object":"chat.completion","created":1796268178,"model":"m",'
    '"choices":[{"index":0,"message":{"role":"assistant","content":"I see no image.",'
    '"refusal":null},"logprobs":null,"finish_reason":"stop"}],'
    '"usage":{"prompt_tokens":18,"completion_tokens":8,"total_tokens":26}}'
)


# The evidence's answer as the page shows it: on its own line of indented JSON.
INDENTED = escape('\n    "message": {"role": "assistant", "content": "I see no image."')


def an_exchange(**overrides: Any) -> dict[str, Any]:
    exchange = {
        "request": "curl -sS -X POST 'http://h/v1/chat/completions' --data-raw '{}'",
        "status": 200,
        "content_type": "application/json",
        "elapsed_s": 0.1,
        "first_byte_s": 0.05,
        "streamed": False,
        "events": 0,
        "usage": {"input_tokens": 18, "output_tokens": 8},
        "attempts": 1,
        "error": None,
        "response_excerpt": f"HTTP 200 (application/json)\n{COMPLETION}",
    }
    exchange.update(overrides)
    return exchange


def a_case(**overrides: Any) -> dict[str, Any]:
    """A failing case of the samples' shape: one must finding on its only exchange."""
    entry = {
        "id": "openai/text/basic-answer",
        "capability": "text",
        "dialect": "openai",
        "title": "A trivial prompt is answered",
        "requirement": "The completion answers the user's message.",
        "source": "https://platform.openai.com/docs",
        "verdict": "fail",
        "reason": "",
        "optional": None,
        "findings": [
            {
                "rule": "openai.text.answer",
                "severity": "must",
                "title": "Model did not answer a trivial prompt correctly",
                "message": "Expected: '5'\nReceived: 'I see no image.'",
                "location": "/choices/0/message/content",
                "evidence": f"HTTP 200 (application/json)\n{COMPLETION}",
                "exchange": 0,
            }
        ],
        "attempts": 1,
        "notes": [],
        "duration_s": 0.1,
        "usage": {"requests": 1, "prompt_tokens": 18, "completion_tokens": 8},
        "exchanges": [an_exchange()],
    }
    entry.update(overrides)
    return entry


def passing(case_id: str, **overrides: Any) -> dict[str, Any]:
    dialect, capability, _ = case_id.split("/")
    values = {"id": case_id, "dialect": dialect, "capability": capability, "verdict": "pass"}
    return a_case(findings=[], **{**values, **overrides})


def run_of(*verdicts: str, complete: bool = True, **provider: Any) -> dict[str, Any]:
    """results.json of a run whose openai/text cases got ``verdicts``; only fail and
    non_strict cases have findings."""
    should = {**a_case()["findings"][0], "rule": "openai.usage.present", "severity": "should"}
    findings = {"fail": a_case()["findings"], "non_strict": [should]}
    cases = [
        a_case(id=f"openai/text/c{i}", verdict=v, findings=findings.get(v, []))
        for i, v in enumerate(verdicts)
    ]
    return build_results(single("p", "http://h/v1", **provider), cases, 0, 1.0, complete=complete)


class Page(HTMLParser):
    """The tags, attributes, ids and in-page links of a rendered page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.ids = [a["id"] for _, a in self.tags if a.get("id")]
        self.links = [a["href"] for t, a in self.tags if t == "a" and a.get("href")]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def element(self, element_id: str) -> tuple[str, dict[str, str | None]]:
        return next((t, a) for t, a in self.tags if a.get("id") == element_id)


# What the report is made of; anything else came from a provider's markup.
ALLOWED_TAGS = {
    *("html", "head", "meta", "link", "title", "style", "body", "footer", "section", "div"),
    *("h1", "h2", "h3", "h4", "p", "a", "b", "small", "span", "code", "pre", "q", "br", "wbr"),
    *("table", "tr", "th", "td", "ul", "li", "dl", "dt", "dd", "details", "summary"),
    *("fieldset", "legend", "label", "input", "img", "figure", "figcaption"),
    *("svg", "circle", "line", "text"),
}


def hostile_results() -> dict[str, Any]:
    """A run whose every provider- or config-given string is hostile markup."""
    results = run_of("fail", "pass", "non_strict", "inconclusive")
    results["provider"]["name"] = HOSTILE
    results["provider"]["dialects"]["openai"].update(
        base_url="javascript:alert(1)//" + HOSTILE, auth=HOSTILE, models={HOSTILE: HOSTILE}
    )
    results["provider"]["prices"] = {"input": HOSTILE, "output": 1.0}
    results["started_at"] = HOSTILE
    results["tool"]["version"] = HOSTILE
    for case in results["cases"]:
        case.update(title=HOSTILE, requirement=HOSTILE, source="javascript:alert(1)")
        case.update(reason=HOSTILE, notes=[HOSTILE])
        case["id"] = case["id"] + HOSTILE
        for finding in case["findings"]:
            finding.update(title=HOSTILE, message=HOSTILE, location=HOSTILE, evidence=HOSTILE)
        case["exchanges"] = [
            an_exchange(
                request=f"curl '{HOSTILE}'",
                status=HOSTILE,
                content_type=HOSTILE,
                error=HOSTILE,
                response_excerpt=HOSTILE,
                usage={"input_tokens": HOSTILE, "output_tokens": HOSTILE},
            )
        ]
    results["cases"][0]["findings"].append({**results["cases"][0]["findings"][0], "rule": HOSTILE})
    results["cases"][0]["media"] = {
        "images": [
            {"file": HOSTILE, "thumbnail": PNG},
            {"file": "x.png", "thumbnail": PNG + '" onerror="alert(1)'},
            {"file": "y.png", "thumbnail": "javascript:alert(1)"},
            {"file": "z.png", "thumbnail": "https://tracker.example/pixel.png"},
            {"file": "w.png", "thumbnail": "data:text/html;base64,PHNjcmlwdD4="},
        ],
        "question": HOSTILE,
        "answer": HOSTILE,
    }
    return results


def test_every_provider_string_is_text_never_markup() -> None:
    html = render_report(hostile_results())
    page = Page(html)
    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
    assert not [name for _, attrs in page.tags for name in attrs if name.startswith("on")]
    assert all(link.startswith("#") for link in page.links), "a link leaves the page"
    images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    assert images == [PNG], "only the inline PNG thumbnail is embedded"
    assert "<script>" not in html and "javascript:alert" not in "".join(page.links)
    # Shown, as text: in elements and in quoted attributes alike.
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 20
    assert "&#x27;&quot; onmouseover=&quot;alert(2)" in html


def test_invisible_characters_in_evidence_are_shown_as_escapes() -> None:
    case = a_case(reason="abc\u202edef\u200bghi\x07")
    html = render_report(build_results(single("p", "http://h/v1"), [case], 0, 1.0))
    assert "abc\\u202edef\\u200bghi\\u0007" in html and "\u202e" not in html


def test_every_link_lands_on_an_element_and_ids_are_unique() -> None:
    cases = [
        a_case(id="openai/text/a-b", verdict="fail"),
        a_case(id="openai/text/a/b", verdict="fail"),  # same anchor as a-b: made unique
        passing("openai/text/ok"),
    ]
    results = build_results(single("p", "http://h/v1"), cases, 0, 1.0)
    page = Page(render_report(results))
    assert len(page.ids) == len(set(page.ids))
    assert {link[1:] for link in page.links} <= set(page.ids)
    deviation = [a["href"] for t, a in page.tags if t == "a" and "case-" in (a.get("href") or "")]
    assert len(deviation) == 2
    for href in deviation:
        tag, attrs = page.element(href[1:])
        assert tag == "section" and attrs["class"] == "cc-case"
    assert case_anchor("openai/text/a-b") in page.ids
    # A finding links back to its rule's row in the deviations table.
    assert f'href="#{rule_anchor("openai.text.answer")}"' in render_report(results)
    assert page.element(rule_anchor("openai.text.answer"))[0] == "tr"


def test_the_page_is_in_the_order_a_reader_needs() -> None:
    html = render_report(run_of("fail", "pass"))
    marks = ['class="cc-headline', 'id="scorecard"', 'class="cc-legend"', 'id="provider"']
    marks += ['id="deviations"', 'id="cases"', 'id="run"']
    positions = [html.index(mark) for mark in marks]
    assert positions == sorted(positions)


def test_failures_open_with_their_evidence_once_passes_one_folded_line() -> None:
    case = a_case()
    html = render_report(
        build_results(single("p", "http://h/v1"), [case, passing("openai/text/ok")], 0, 1.0)
    )
    failing = html[html.index(f'id="{case_anchor(case["id"])}"') :]
    failing = failing[: failing.index("</section>")]
    assert INDENTED in failing, "the evidence, its JSON indented"
    assert failing.count("I see no image.") == 2  # message, evidence; the response not again
    assert "Response: the evidence above." in failing
    ok = f'<details class="cc-case" id="{case_anchor("openai/text/ok")}" data-verdict="pass">'
    assert ok in html


def test_a_rules_evidence_is_open_at_its_first_case_and_folded_at_the_next() -> None:
    cases = [a_case(id="openai/text/a"), a_case(id="openai/text/b")]
    html = render_report(build_results(single("p", "http://h/v1"), cases, 0, 1.0))
    second = html[html.index(f'id="{case_anchor("openai/text/b")}"') :]
    folded = '<details class="cc-evidence"><summary>Evidence (the response of exchange 0)'
    assert folded in second and folded not in html[: html.index(second)]
    assert html.count(INDENTED) == 2  # a's open, b's folded; neither response again


def test_filters_work_by_css_alone() -> None:
    results = run_of("pass", "fail", "fail")
    html = render_report(results)
    assert '<input type="checkbox" id="cc-show-fail" checked>' in html
    assert '<input type="checkbox" id="cc-show-inconclusive" checked disabled>' in html
    assert (
        'body:has(#cc-show-pass:not(:checked)) .cc-case[data-verdict="pass"]{display:none}' in html
    )
    # A capability whose every verdict is unchecked hides with its heading.
    assert (
        "body:has(#cc-show-fail:not(:checked)):has(#cc-show-pass:not(:checked)) "
        ".cc-set-fail-pass{display:none}"
    ) in html
    assert 'class="cc-group cc-set-fail-pass"' in html
    assert "<script" not in html and "script-src" not in html


def test_a_run_that_judged_nothing_says_so_in_red_first() -> None:
    html = render_report(run_of(*["inconclusive"] * 11))
    headline = (
        '<h1 class="cc-headline cc-nothing_judged">p, 1970-01-01: Nothing judged: 11 inconclusive'
    )
    assert html.index(headline) < html.index('id="scorecard"')
    assert "No deviations found" not in html
    assert "No case was judged, so no deviation could be looked for." in html


def test_the_headline_is_coloured_by_the_worst_verdict() -> None:
    assert '<h1 class="cc-headline cc-fail">' in render_report(run_of("pass", "fail"))
    assert '<h1 class="cc-headline cc-inconclusive">' in render_report(
        run_of("pass", "inconclusive")
    )
    assert '<h1 class="cc-headline cc-pass">p, 1970-01-01: 1 of 1 capability conforms</h1>' in (
        render_report(run_of("pass", "pass"))
    )


def test_no_deviations_found_names_what_was_not_judged() -> None:
    html = render_report(run_of("pass", "pass", "inconclusive", "skipped"))
    assert "No deviations found in 2 judged cases; not judged: 1 inconclusive, 1 skipped." in html
    assert "<p>No deviations found in 1 judged case.</p>" in render_report(run_of("pass"))


def test_the_scorecard_has_counts_refused_features_a_legend_and_why_not_measured() -> None:
    provider = single("p", "http://h/v1", dialect="anthropic", models={"default": "m"})
    cases = [
        passing("anthropic/text/a"),
        passing("anthropic/text/n", verdict="unsupported", optional="n"),
        passing("anthropic/tools/x", verdict="skipped", reason="no tools configured"),
    ]
    html = render_report(build_results(provider, cases, 0, 1.0))
    assert '<td class="cc-pass">pass (1 optional feature unsupported: n)</td>' in html
    assert "not_measured <small>(all 1 cases skipped: no tools configured)</small>" in html
    assert "(no case ran: no model is configured for it (models.thinking))" in html
    # Rows a narrowed run did not select fold into one line under the table.
    assert (
        "not_measured, no case ran: not selected (--only or --case): anthropic/streaming," in html
    )
    for verdict in ("pass", "non_strict", "fail", "error", "unsupported", "inconclusive"):
        assert f'<dt><span class="cc-v cc-{verdict}">{verdict}</span></dt><dd>' in html
    assert "<dd>the harness itself broke; never blamed on the provider</dd>" in html
    assert "not_measured</span></dt><dd>no case of the row was judged" in html


def test_a_capability_the_suite_has_no_case_for_says_so() -> None:
    # Every row of this version has cases (tests/test_results.py); a run made with
    # another version may hold a row the installed suite has no case for.
    results = run_of("pass")
    results["summary"]["capabilities"]["openai/telepathy"] = "not_measured"
    html = render_report(results)
    assert "(no case ran: the suite has no case for it yet)" in html


def test_an_interrupted_run_says_its_counts_are_partial() -> None:
    html = render_report(run_of("pass", complete=False))
    assert "(interrupted: partial results)</h1>" in html
    assert "interrupted: partial results</p></footer>" in html
    assert "no case ran: the run was interrupted first" in html


def test_the_run_metadata_closes_the_page() -> None:
    html = render_report(run_of("pass"))
    footer = html[html.index('<footer class="cc-meta" id="run">') :]
    for fact in ("chatconform 0.1.0", "results.json schema 2", "started 1970-01-01T00:00:00Z"):
        assert fact in footer
    assert "took 1.00 s · 1 cases · complete" in footer
    results = run_of("pass")
    results["rejudged"] = {"from": "r", "at": "2026-12-04T00:00:00Z", "recorded_with": "0.0.9"}
    assert "re-judged 2026-12-04T00:00:00Z from a run recorded with chatconform 0.0.9" in (
        render_report(results)
    )


def test_provider_facts_and_the_estimated_cost() -> None:
    results = run_of("pass", prices={"input": 2.5, "output": 10.0})
    html = render_report(results)
    assert "<td><code>http://h/v1</code></td><td>bearer</td>" in html
    assert "1 requests · 18 input + 8 output tokens" in html
    # 18 * 2.5 / 1e6 + 8 * 10 / 1e6
    assert "estimated cost <b>0.000125</b> (at 2.5 input and 10 output per million tokens)" in html
    assert "estimated cost" not in render_report(run_of("pass"))
    assert "estimated cost" not in render_report(run_of("pass", prices={"input": 1.0}))


def test_provider_facts_say_the_retries_and_the_time_requests_waited() -> None:
    results = run_of("pass")
    assert "retr" not in render_report(results).split('id="provider"')[1].split("</p>")[0]
    results["waits"] = {"retries": 3, "retry_s": 1.5, "rate_limit_s": 2.7}
    assert (
        "· 3 retries · requests waited 4.20 s in all (1.50 s between attempts, "
        "2.70 s for rate limits)" in render_report(results)
    )
    results["waits"] = {"retries": 1, "retry_s": 0.25, "rate_limit_s": 0}
    assert "· 1 retry · requests waited 250 ms in all (250 ms between attempts)" in render_report(
        results
    )
    results["waits"] = {"retries": 0, "retry_s": 0, "rate_limit_s": 61}
    assert "tokens · requests waited 61.00 s in all (61.00 s for rate limits)" in render_report(
        results
    )


def streamed(first: float | None, elapsed: float, tokens: int | None, **more: Any) -> dict:
    usage = None if tokens is None else {"input_tokens": 5, "output_tokens": tokens}
    exchange = an_exchange(streamed=True, first_byte_s=0.01, elapsed_s=elapsed, usage=usage, **more)
    if first is not None:
        exchange["first_token_s"] = first
    return exchange


def test_the_provider_profile_charts_ttft_latency_and_throughput_with_p50_p95() -> None:
    exchanges = [streamed(0.1, 1.1, 100), streamed(0.2, 2.2, 100), streamed(None, 0.51, 50)]
    exchanges += [an_exchange(elapsed_s=0.3), an_exchange(status=500, elapsed_s=9.0)]
    case = passing("openai/streaming/x", exchanges=exchanges)
    html = render_report(build_results(single("p", "http://h/v1"), [case], 0, 1.0))
    assert html.count('<svg class="cc-chart" role="img"') == 3
    # Time to first token: 0.1, 0.2 and, where the token's time is missing, the first byte.
    assert 'aria-label="Time to first token (streamed exchanges answered 2xx): openai: ' in html
    assert "3 exchanges, p50 100 ms, p95 190 ms" in html
    # Latency of the 2xx exchanges only (0.3, 0.51, 1.1, 2.2): the 500 is not in it.
    assert "openai: 4 exchanges, p50 805 ms, p95 2.03 s" in html
    # Tokens per second after the first token: 100/1.0, 100/2.0, 50/0.5.
    assert "openai: 3 exchanges, p50 100 tokens/s, p95 100 tokens/s" in html
    assert "the first byte's where the token's time was not recorded" in html
    assert (
        '<td class="cc-num">3</td><td class="cc-num">100 ms</td><td class="cc-num">190 ms</td>'
        in (html)
    )


def test_an_older_results_file_without_the_new_fields_still_renders() -> None:
    results = run_of("fail", "pass")
    del results["provider"]["prices"]
    for case in results["cases"]:
        for exchange in case["exchanges"]:
            for key in ("streamed", "usage", "first_token_s"):
                exchange.pop(key, None)
    results["cases"][0]["findings"][0]["rule"] = "openai.response.retired-rule"
    html = render_report(results)
    assert "not in this version's rule catalog" in html
    assert "Time to first token: not measured (no streamed exchanges answered 2xx)." in html
    assert "Total latency" in html


def test_pretty_evidence_indents_json_and_leaves_streams_and_clips_alone() -> None:
    assert pretty(f"HTTP 200 (application/json)\n{COMPLETION}").startswith(
        'HTTP 200 (application/json)\n{\n  "id": "chatcmpl-1",\n'
    )
    # Members in order, duplicates kept, numbers spelled as sent.
    assert pretty('{"a": 1.50, "a": 2e3, "b": [1, 2]}') == '{"a": 1.50, "a": 2e3, "b": [1, 2]}'
    stream = 'HTTP 200 (text/event-stream)\ndata: {"id":"x","choices":[]}\n\ndata: [DONE]'
    assert pretty(stream) == stream
    clipped = '{"id": "x", "choices": [… [1027 more characters]'
    assert pretty(clipped) == clipped
    long = "Received: " + '{"k": "' + "v" * 120 + '"}'
    assert pretty(long) == 'Received:\n{\n  "k": "' + "v" * 120 + '"\n}'
    assert pretty("[" * 5000) == "[" * 5000


def test_a_curl_line_keeps_its_shape_and_loses_its_inline_image() -> None:
    line = f'curl --data-raw \'{{"url": "data:image/png;base64,{"A" * 4000}"}}\''
    assert curl(line) == (
        'curl --data-raw \'{"url": "data:image/png;base64,AAAAAAAAAAAAAAAAAAAAAAAA'
        "…[4000 base64 characters]\"}'"
    )


def test_long_ids_wrap_at_their_dots_and_slashes_and_pre_never_breaks_words() -> None:
    html = render_report(run_of("fail"))
    assert "openai/<wbr>text/<wbr>c0" in html and "openai.<wbr>text.<wbr>answer" in html
    assert "word-break:break-all" not in html and "overflow-wrap:anywhere" in STYLE


def test_write_report_writes_report_html(tmp_path: Path) -> None:
    path = write_report(tmp_path / "run", run_of("pass"))
    assert path == tmp_path / "run" / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_results_never_hold_credentials_from_the_url() -> None:
    assert (
        public_url("https://user:sk-secret@h.example:8443/v1?key=sk-secret")
        == "https://h.example:8443/v1"
    )
    provider = single("p", "https://u:sk-secret@h/v1?key=sk-secret")
    results = build_results(provider, [], 0, 1.0)
    assert "sk-secret" not in str(results) and "sk-secret" not in render_report(results)


def test_summary_lists_capabilities_and_deviations() -> None:
    text = format_summary(run_of("fail"))
    assert "  text                     fail" not in text
    assert "openai/text              fail" in text
    assert "[must] openai.text.answer" in text and "(1 case)" in text


# --- contrast -----------------------------------------------------------------------

WCAG_AA = 4.5  # text
WCAG_MARKS = 3.0  # graphical objects: the charts' dots and lines
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def luminance(colour: str) -> float:
    digits = colour[1:] if len(colour) == 7 else "".join(c * 2 for c in colour[1:])
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def palette(css: str) -> tuple[set[str], set[str], set[str]]:
    """Text colours (``color``, and ``fill`` of SVG text), backgrounds (the page's white
    and every ``background``), and chart marks (other ``fill`` and ``stroke``)."""
    texts, backgrounds, marks = set(), {"#ffffff"}, set()
    for selector, body in _RULE.findall(css):
        for declaration in body.split(";"):
            name, _, value = (part.strip() for part in declaration.partition(":"))
            if value in ("none", "inherit", "currentColor"):
                continue  # its parent's colour, counted where that is set
            if name == "color" or (name == "fill" and selector.strip().endswith(" text")):
                kind = texts
            elif name in ("background", "background-color"):
                kind = backgrounds
            elif name in ("fill", "stroke"):
                kind = marks
            else:
                continue
            assert _HEX.fullmatch(value), f"{selector.strip()}: {name}:{value} is not a hex colour"
            kind.add(value.lower())
    return texts, backgrounds, marks


@pytest.mark.parametrize(
    "css",
    [REPORT_STYLE, compare._STYLE, trend._STYLE],
    ids=["report", "comparison", "trend"],
)
def test_every_text_colour_meets_wcag_aa_on_every_background(css: str) -> None:
    """Each page's own styles over the shared sheet: every text colour on every background."""
    texts, backgrounds, _ = palette(STYLE + css)
    assert texts
    low = [
        f"{text} on {background}: {contrast(text, background):.2f}:1"
        for text in sorted(texts)
        for background in sorted(backgrounds)
        if contrast(text, background) < WCAG_AA
    ]
    assert low == []


def test_chart_marks_stand_out_from_white() -> None:
    _, _, marks = palette(STYLE + REPORT_STYLE)
    assert marks and all(contrast(mark, "#ffffff") >= WCAG_MARKS for mark in marks)


def test_the_contrast_arithmetic_matches_wcag() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#777", "#fff") < WCAG_AA


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([1.0], 0.95) == 1.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([float(v) for v in range(1, 101)], 0.95) == pytest.approx(95.05)


def test_rendering_does_not_change_the_results() -> None:
    results = hostile_results()
    before = copy.deepcopy(results)
    render_report(results)
    assert results == before
