"""The page audits, tested on miniature pages made with html_page.page: each audit finds
the defect it is for, and passes a faithful page."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pytest
from browser_helpers import (
    contrast_offenders,
    contrast_ratio,
    dangling_anchors,
    effective_background,
    injected_elements,
    local_link_problems,
    parse_color,
    pdf_page_count,
    script_ran,
)
from hostile_results import hostile

from chatconform import html_page


def write_page(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(html_page.page("miniature", body), encoding="utf-8")
    return path


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    black, white = parse_color("rgb(0, 0, 0)"), parse_color("rgb(255, 255, 255)")
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == pytest.approx(1.0)
    # #767676 is the lightest grey that passes on white; #777777 is the darkest that fails.
    assert contrast_ratio(parse_color("rgb(118, 118, 118)"), white) == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio(parse_color("rgb(119, 119, 119)"), white) < 4.5


def test_effective_background_composites_translucent_layers_over_white() -> None:
    layers = ["rgba(0, 0, 0, 0)", "rgba(0, 0, 0, 0.5)", "rgba(0, 0, 0, 0)"]
    assert effective_background(layers, None)[:3] == pytest.approx((127.5, 127.5, 127.5))
    assert effective_background(["rgba(0, 0, 0, 0)"], None) == (255, 255, 255, 1.0)
    shape = {"fill": "rgb(0, 0, 0)", "opacity": 1.0}
    assert effective_background(["rgb(255, 255, 255)"], shape)[:3] == (0, 0, 0)


def test_contrast_audit_names_each_low_contrast_text(open_page, tmp_path: Path) -> None:
    body = (
        '<p style="color:#777">grey on white</p>'
        '<p style="color:#767676">darker grey on white</p>'
        '<p style="color:#949494;font-size:24px">large grey</p>'
        '<p style="color:#949494;font-size:19px;font-weight:bold">large bold grey</p>'
        '<p style="color:#949494;font-size:19px">not large enough</p>'
        '<div style="background:rgba(0,0,0,.6)"><span style="color:#555">on a dim veil</span></div>'
        '<div style="background:#222"><span style="color:#fff">white on dark</span></div>'
        '<svg width="200" height="40"><rect width="200" height="40" fill="#000"/>'
        '<text x="5" y="25" fill="#333">dark on a black bar</text>'
        '<text x="120" y="25" fill="#fff">white</text></svg>'
    )
    page, _ = open_page(write_page(tmp_path, body))
    offenders = contrast_offenders(page)
    texts = [line.split("'")[1] for line in offenders]
    assert texts == ["grey on white", "not large enough", "on a dim veil", "dark on a black bar"]
    assert "#777777 on #ffffff is 4.48:1, needs 4.5:1" in offenders[0]


def test_html_page_palette_meets_wcag_aa(open_page, tmp_path: Path) -> None:
    """Every text colour of the shared stylesheet on every verdict background."""
    texts = (
        "plain <a href='#x' id='x'>link</a> <small>small</small> <code>code</code> "
        '<span class="cc-muted">muted</span> <span class="cc-must">must</span> '
        '<span class="cc-should">should</span> <span class="cc-info">info</span>'
    )
    cells = "".join(
        f'<tr><th>{verdict}</th><td class="{html_page.css_class(verdict)}">{texts}</td></tr>'
        for verdict in html_page.VERDICT_BACKGROUNDS
    )
    body = (
        f'<p class="cc-headline">headline</p><p>{texts}</p><table>{cells}</table><pre>{texts}</pre>'
    )
    page, _ = open_page(write_page(tmp_path, body))
    assert contrast_offenders(page) == []


def test_pdf_page_count_counts_printed_pages(open_page, tmp_path: Path) -> None:
    body = "".join(f'<p style="break-after:page">page {n}</p>' for n in range(3)) + "<p>last</p>"
    page, _ = open_page(write_page(tmp_path, body))
    page.emulate_media(media="print")
    assert pdf_page_count(page.pdf(format="A4")) == 4


def test_page_log_records_what_the_csp_refuses(open_page, tmp_path: Path) -> None:
    page, log = open_page(write_page(tmp_path, '<img src="http://127.0.0.1:9/x.png" alt="">'))
    page.wait_for_load_state("load")
    assert any("Content Security Policy" in m for m in log.console_errors), log.problems()


def test_dangling_anchors_lists_links_to_missing_ids(open_page, tmp_path: Path) -> None:
    body = '<a href="#here">here</a> <a href="#gone">gone</a> <p id="here">target</p>'
    page, _ = open_page(write_page(tmp_path, body))
    assert dangling_anchors(page) == ["gone"]


def test_unescaped_hostile_text_is_caught_without_the_csp(open_page, tmp_path: Path) -> None:
    """The hostile-text checks are not vacuous: markup that was not escaped runs as soon
    as the CSP is out of the way, and leaves elements behind either way."""
    path = write_page(tmp_path, f"<p>{hostile('answer')}</p>")
    page, log = open_page(path, bypass_csp=True)
    page.wait_for_timeout(200)
    assert script_ran(page) and log.dialogs
    assert injected_elements(page)
    page, log = open_page(path)
    assert not script_ran(page) and not log.dialogs
    assert injected_elements(page) and log.console_errors


def test_escaped_hostile_text_shows_as_text(open_page, tmp_path: Path) -> None:
    page, log = open_page(
        write_page(tmp_path, f"<p>{escape(hostile('answer'))}</p>"), bypass_csp=True
    )
    assert not script_ran(page) and not log.problems()
    assert injected_elements(page) == []
    assert hostile("answer") in page.inner_text("body")


def test_local_link_problems_finds_missing_files_and_anchors(open_page, tmp_path: Path) -> None:
    write_page(tmp_path, '<p id="there">target</p>', "other.html")
    body = (
        '<a href="other.html#there">ok</a> <a href="other.html#gone">no anchor</a> '
        '<a href="missing.html">no file</a> <a href="https://example.com/">not local</a>'
    )
    page, _ = open_page(write_page(tmp_path, body))
    checked, problems = local_link_problems(page, lambda path: open_page(path)[0])
    assert checked == 3
    assert [p.rpartition("/")[2] for p in problems] == [
        "missing.html: no such file",
        "other.html#gone: no element with that id",
    ]
