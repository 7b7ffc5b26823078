"""The vendor comparison of the clean and the failing run, in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import local_link_problems
from browser_runs import Runs


@pytest.fixture(scope="module")
def comparison(runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """comparison.html in a directory of its own, so its links to the reports go up and
    across, as they do when a user writes it anywhere."""
    from chatconform.compare import load_run, render_comparison

    output = tmp_path_factory.mktemp("comparison") / "comparison.html"
    loaded = [load_run(runs.clean), load_run(runs.failing)]
    output.write_text(render_comparison(loaded, output), encoding="utf-8")
    return output


def test_comparison_loads_without_console_or_page_errors(comparison: Path, open_page) -> None:
    page, log = open_page(comparison)
    page.wait_for_load_state("load")
    assert log.problems() == []


def test_comparison_has_a_column_per_vendor(comparison: Path, runs: Runs, open_page) -> None:
    page, _ = open_page(comparison)
    headers = [text.strip() for text in page.locator("th").all_inner_texts()]
    for run_dir in (runs.clean, runs.failing):
        provider = runs.results(run_dir)["provider"]["name"]
        assert provider in headers, f"no column headed {provider!r} among {headers}"


def test_comparison_evidence_links_land_on_report_anchors(comparison: Path, open_page) -> None:
    page, _ = open_page(comparison)
    checked, problems = local_link_problems(page, lambda path: open_page(path)[0])
    assert problems == []
    # Both runs' reports, and a case of each: not a page without evidence links.
    fragments = page.eval_on_selector_all(
        "a[href*='report.html#']", "(links) => links.map((a) => a.getAttribute('href'))"
    )
    assert len({href.partition("#")[0] for href in fragments}) == 2, fragments
    assert checked >= len(fragments) > 0
