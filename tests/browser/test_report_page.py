"""The run report in Chromium: a clean run's, a failing run's, and one whose provider
fields are all hostile markup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    VIEWPORT,
    contrast_offenders,
    dangling_anchors,
    injected_elements,
    open_all_details,
    pdf_page_count,
    script_ran,
)
from browser_runs import Runs
from hostile_results import SHOWN, hostile

from chatconform.html_page import case_anchor

MAX_PRINTED_PAGES = 4
MAX_FOLDS = 20  # folded parts opened in a case before giving up
RUNS = ("clean", "failing")
# The report's parts, by the classes render_report gives them.
HEADLINE = ".cc-headline"
SCORECARD = "table.cc-scorecard"
DEVIATIONS = "table.cc-deviations"
CONTROLS = ".cc-controls"


def report(runs: Runs, which: str) -> Path:
    return getattr(runs, which) / "report.html"


def _failing_case(runs: Runs) -> dict[str, Any]:
    """The failing run's first failed case (by id) with evidence."""
    return next(
        case
        for case in sorted(runs.results(runs.failing)["cases"], key=lambda c: c["id"])
        if case["verdict"] == "fail" and any(f["evidence"] for f in case["findings"])
    )


def _squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("which", RUNS)
def test_report_loads_without_console_or_page_errors(which: str, runs: Runs, open_page) -> None:
    page, log = open_page(report(runs, which))
    page.wait_for_load_state("load")
    assert log.problems() == []


@pytest.mark.parametrize("csp", ["as-shipped", "bypassed"])
def test_provider_markup_never_runs_and_reads_as_text(
    csp: str, hostile_report: Path, open_page
) -> None:
    """Escaping alone holds (CSP bypassed), and the CSP adds nothing to report."""
    page, log = open_page(hostile_report, bypass_csp=csp == "bypassed")
    page.wait_for_load_state("load")
    script_links = page.locator('a[href^="javascript:" i]')
    clicked = script_links.count()
    for n in range(clicked):
        script_links.nth(n).click()
    assert clicked == 0, "links with javascript: URLs on the page"
    assert not script_ran(page), "provider markup ran script: window.__pwned is set"
    assert log.problems() == []
    assert injected_elements(page) == []
    open_all_details(page)
    text = page.inner_text("body")
    missing = [tag for tag in SHOWN if hostile(tag) not in text]
    assert missing == [], f"hostile text of these fields is not on the page as text: {missing}"


@pytest.mark.parametrize("which", RUNS)
def test_headline_and_scorecard_fit_the_first_screen(which: str, runs: Runs, open_page) -> None:
    page, _ = open_page(report(runs, which))
    outside = []
    for selector in (HEADLINE, SCORECARD):
        box = page.locator(selector).first.bounding_box()
        assert box is not None, f"{selector} is not rendered"
        left, top = box["x"], box["y"]
        right, bottom = left + box["width"], top + box["height"]
        if left < 0 or top < 0 or right > VIEWPORT["width"] or bottom > VIEWPORT["height"]:
            outside.append(
                f"{selector}: left {left:.0f}, top {top:.0f}, right {right:.0f}, "
                f"bottom {bottom:.0f} px"
            )
    screen = f"{VIEWPORT['width']}x{VIEWPORT['height']}"
    assert outside == [], f"not within the first {screen} screen: " + "; ".join(outside)


@pytest.mark.parametrize("which", RUNS)
def test_report_text_meets_wcag_aa_contrast(which: str, runs: Runs, open_page) -> None:
    page, _ = open_page(report(runs, which))
    offenders = contrast_offenders(page)
    assert offenders == [], "text below the WCAG AA contrast ratio:\n" + "\n".join(offenders)


def test_clean_report_prints_on_at_most_four_pages(runs: Runs, open_page) -> None:
    page, _ = open_page(report(runs, "clean"))
    page.emulate_media(media="print")
    pages = pdf_page_count(page.pdf(format="A4"))
    assert pages <= MAX_PRINTED_PAGES, f"a clean run prints on {pages} A4 pages"


def test_print_hides_the_filter_controls(runs: Runs, open_page) -> None:
    page, _ = open_page(report(runs, "clean"))
    controls = page.locator(f"{CONTROLS}, input")
    assert controls.count() > 0 and controls.first.is_visible(), "no filter controls on screen"
    page.emulate_media(media="print")
    shown = [n for n in range(controls.count()) if controls.nth(n).is_visible()]
    assert shown == [], f"{len(shown)} filter controls still visible in print"


def test_report_reads_without_javascript(runs: Runs, open_page) -> None:
    page, log = open_page(report(runs, "failing"), java_script_enabled=False)
    for selector in (HEADLINE, SCORECARD, DEVIATIONS):
        assert page.locator(selector).first.is_visible(), f"{selector} not visible without script"
    case = _failing_case(runs)
    finding = next(f for f in case["findings"] if f["evidence"])
    section = page.locator(f"#{case_anchor(case['id'])}")
    assert section.is_visible(), f"failing case {case['id']} not visible"
    # Folded parts open as a reader opens them: a click on their summary, no script.
    folded = section.locator("details:not([open]) > summary")
    for _ in range(MAX_FOLDS):
        if not folded.count():
            break
        folded.first.click()
    text = _squeezed(section.inner_text())
    assert _squeezed(finding["message"].splitlines()[0]) in text
    assert _squeezed(finding["evidence"])[:80] in text, "the failing case's evidence is not shown"
    assert log.problems() == []


@pytest.mark.parametrize("which", RUNS)
def test_in_page_links_land_on_an_element(which: str, runs: Runs, open_page) -> None:
    page, _ = open_page(report(runs, which))
    dangling = dangling_anchors(page)
    assert dangling == [], f"links to ids that are not on the page: {dangling}"


def test_deviation_links_land_on_case_sections(runs: Runs, open_page) -> None:
    page, _ = open_page(report(runs, "failing"))
    targets = page.eval_on_selector_all(
        f'{DEVIATIONS} a[href^="#"]',
        """(links) => links.map((a) => {
             const target = document.getElementById(a.getAttribute("href").slice(1));
             return [a.getAttribute("href"), target ? target.className : null];
           })""",
    )
    assert targets, "the failing run's deviations link to no case"
    off = [href for href, cls in targets if cls is None or "cc-case" not in cls.split()]
    assert off == [], f"deviation links not landing on a case section: {off}"
