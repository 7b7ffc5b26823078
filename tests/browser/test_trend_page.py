"""The trend page of a reports directory, in Chromium: the reference's history of two runs
(the failing run's results a day earlier, then the clean run), and the failing run as a
provider of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import local_link_problems
from browser_runs import CLEAN_PROVIDER, Runs, history


@pytest.fixture(scope="module")
def trend_runs(runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The reference's two runs, oldest first, in a reports directory of their own."""
    return history(runs, tmp_path_factory.mktemp("trend-reports"))


@pytest.fixture(scope="module")
def trend_page(trend_runs: list[Path]) -> Path:
    """trend.html of every provider in the reports directory, where the CLI writes it."""
    from chatconform.trend import render_trend, trend

    reports = trend_runs[0].parent
    output = reports / "trend.html"
    output.write_text(render_trend(trend(reports, None)), encoding="utf-8")
    return output


def _when(run_dir: Path) -> str:
    """A run's start as the page may show it: date and minute (``2026-12-03 03:25``)."""
    from chatconform.compare import load_run

    return load_run(run_dir).started_at[:16].replace("T", " ")


def test_trend_loads_without_console_or_page_errors(trend_page: Path, open_page) -> None:
    page, log = open_page(trend_page)
    page.wait_for_load_state("load")
    assert log.problems() == []


def test_trend_shows_each_run_as_a_dated_column_oldest_first(
    trend_page: Path, trend_runs: list[Path], open_page
) -> None:
    page, _ = open_page(trend_page)
    header_rows = page.eval_on_selector_all(
        "tr",
        """(rows) => rows.map((row) => Array.from(row.children)
             .filter((cell) => cell.tagName === "TH")
             .map((cell) => cell.innerText.replace(/\\s+/g, " ").trim()))""",
    )
    earlier, later = (_when(run_dir) for run_dir in trend_runs)
    assert earlier[:10] != later[:10], "the history's runs should be on different days"
    dated = [row for row in header_rows if any(earlier in cell for cell in row)]
    assert dated, f"no header cell shows {earlier!r}; header rows: {header_rows}"
    for row in dated:
        at = [
            next((n for n, cell in enumerate(row) if when in cell), -1) for when in (earlier, later)
        ]
        assert 0 < at[0] < at[1], (
            f"{CLEAN_PROVIDER}'s runs should be dated columns, {earlier} then {later}: {row}"
        )


def test_trend_links_land_on_report_anchors(trend_page: Path, open_page) -> None:
    page, _ = open_page(trend_page)
    checked, problems = local_link_problems(page, lambda path: open_page(path)[0])
    assert problems == []
    assert checked > 0
