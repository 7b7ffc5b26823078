"""One Chromium per session, the run directories every page test reads, and pages to open.

A missing Chromium skips these tests with the way to get it, unless
CHATCONFORM_REQUIRE_BROWSER=1 (CI) makes it a failure. The runs are real `chatconform
run`s against the embedded reference, made once per session and only when a browser is
there to look at them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from browser_helpers import (
    LAUNCH_ARGS,
    NO_BROWSER,
    REQUIRE_BROWSER_ENV,
    VIEWPORT,
    PageLog,
    browser_required,
    find_chromium,
)
from browser_runs import Runs, make_runs, runs_in
from hostile_results import poison
from made_once import made_once


def _unavailable(reason: str) -> NoReturn:
    if browser_required():
        pytest.fail(f"{reason} ({REQUIRE_BROWSER_ENV} is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = find_chromium()
    if path is None:
        _unavailable(NO_BROWSER)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed; install the dev extras: pip install -e '.[dev]'")
    return path


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


PageOpener = Callable[..., tuple[Any, PageLog]]


@pytest.fixture
def open_page(browser: Any) -> Iterator[PageOpener]:
    """Opens a file in a fresh context (1280x800 unless told otherwise) with its log
    attached from the first moment; ``context_options`` go to ``new_context``."""
    contexts = []

    def opener(path: Path, **context_options: Any) -> tuple[Any, PageLog]:
        context = browser.new_context(**{"viewport": VIEWPORT, **context_options})
        contexts.append(context)
        page = context.new_page()
        log = PageLog.attach(page)
        page.goto(path.resolve().as_uri())
        return page, log

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def runs(chromium_executable: str, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """A clean run and a failing one, made side by side (no browser, no runs)."""
    return runs_in(made_once(tmp_path_factory, "browser-runs", make_runs))


@pytest.fixture(scope="session")
def hostile_report(runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The failing run's results with hostile markup in every provider field, rendered."""
    from chatconform.report import render_report

    path = tmp_path_factory.mktemp("hostile") / "report.html"
    path.write_text(render_report(poison(runs.results(runs.failing))), encoding="utf-8")
    return path
