"""The client matrix in the report and the comparison: escaped, linked, coloured legibly."""

from __future__ import annotations

from test_report import WCAG_AA, contrast, palette

from chatconform.html_page import TEXT, case_anchor
from chatconform.report_clients import CLIENTS_STYLE, NOT_COMPUTED, clients_html, vendors_html

HOSTILE = '<script>alert("x")</script>'
CLIENTS = {
    "openai-python": {
        "version": "1.0<b>",
        "capabilities": {"openai/streaming": "breaks", "openai/text": "works", "anthropic/text": "n/a"},
        "cases": {"openai/streaming/a": "breaks", "openai/text/b": "works"},
        "examples": [
            {"case": "openai/streaming/a", "exchange": 0, "call": "helper", "outcome": "breaks",
             "detail": f"TypeError: {HOSTILE}"},
        ],
    },
    HOSTILE: {"version": None, "capabilities": {"openai/text": "wrong"}, "cases": {}, "examples": []},
}  # fmt: skip


def test_the_matrix_links_each_failing_cell_to_its_case_and_escapes_everything() -> None:
    html = clients_html({"clients": CLIENTS}, {"openai/streaming/a": "case-7"})
    assert '<a href="#case-7">breaks</a>' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "1.0&lt;b&gt;" in html
    # A row no client was replayed on is left out.
    assert "anthropic/<wbr>text" not in html
    # A failing cell without an example still says how the client failed.
    assert '<td class="cc-wrong">wrong</td>' in html
    # Every call that did not work is listed, linked to its case.
    assert html.count('href="#case-7"') == 2


def test_requests_a_client_would_not_send_are_not_counted_as_calls_that_failed() -> None:
    clients = {
        "vercel-ai": {
            "version": "6",
            "capabilities": {"openai/errors": "works"},
            "cases": {"openai/errors/x": "works"},
            "examples": [
                {"case": "openai/errors/x", "exchange": 0, "call": "create", "outcome": "n/a",
                 "detail": "the client did not send the request: AI_InvalidPromptError"},
            ],
        },
        **CLIENTS,
    }  # fmt: skip
    html = clients_html({"clients": clients}, {})
    assert "vercel-ai: 1 requests it would not send (n/a)</summary>" in html
    assert "openai-python: 1 calls that did not work</summary>" in html


def test_a_case_without_a_known_anchor_gets_the_reports_anchor_for_its_id() -> None:
    html = clients_html({"clients": CLIENTS}, {})
    assert f'href="#{case_anchor("openai/streaming/a")}"' in html


def test_a_run_without_a_matrix_says_so() -> None:
    assert NOT_COMPUTED in clients_html({}, {})
    assert NOT_COMPUTED in vendors_html({"a": None}, ["a"])


def test_the_comparison_says_per_vendor_where_a_client_does_not_work() -> None:
    html = vendors_html(
        {"a": CLIENTS, "b": {"openai-python": {"capabilities": {"openai/text": "works"}}}},
        ["a", "b"],
    )
    assert "<small>openai/streaming: breaks</small>" in html
    assert '<td class="cc-works">works</td>' in html
    # A client a vendor's run did not replay.
    assert '<td class="cc-notrun">not run</td>' in html
    assert "<script>" not in html


def test_outcome_colours_keep_text_legible() -> None:
    _, backgrounds, _ = palette(CLIENTS_STYLE)
    assert [b for b in backgrounds if contrast(TEXT, b) < WCAG_AA] == []
