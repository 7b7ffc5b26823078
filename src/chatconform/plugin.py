"""The pytest plugin: options, fixtures, a verdict on every case's report, results in the controller.

Verdicts are derived in the worker that ran the case and travel on the report
(``user_properties``), so results assemble in the controlling process and
pytest-xdist can run cases in parallel.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from chatconform import archive
from chatconform.budget import TokenLedger
from chatconform.case import MARK, CaseInfo, CaseRecord, CaseStop
from chatconform.client import Limits, RecordingClient, provider_headers, shared_controls
from chatconform.concurrency import CaseRunner
from chatconform.config import ProviderConfig
from chatconform.dialects.anthropic.probe import AnthropicProbe
from chatconform.dialects.openai.probe import OpenAIProbe
from chatconform.junit import write_junit
from chatconform.probe import Probe
from chatconform.rate import RateLimits
from chatconform.redaction import Redactor
from chatconform.replay import ReplayClient
from chatconform.results import build_results, findings_text, verdict_reason, write_results
from chatconform.verdict import Verdict

P = TypeVar("P", bound=Probe)
RECORD_KEY = pytest.StashKey[CaseRecord]()
ARCHIVE_KEY = pytest.StashKey[archive.Archive]()
RESULT_PROPERTY = "chatconform_result"
# A case's place in the collection: results keep that order, however cases interleave.
ORDER_KEY = pytest.StashKey[int]()
ORDER_PROPERTY = "chatconform_order"
# The pytest outcome of each verdict, which pytest's exit code and its terminal
# count: only a judged case passes; one that could not be judged is
# skipped, its verdict leading the reason ("inconclusive: stream stalled").
OUTCOMES = {
    Verdict.PASS: "passed",
    Verdict.NON_STRICT: "passed",
    Verdict.FAIL: "failed",
    Verdict.ERROR: "failed",
    Verdict.INCONCLUSIVE: "skipped",
    Verdict.UNSUPPORTED: "skipped",
    Verdict.SKIPPED: "skipped",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chatconform", "chatconform conformance runs")
    group.addoption(
        "--cc-provider",
        metavar="PATH",
        help="provider description (JSON) written by `chatconform run`",
    )
    group.addoption(
        "--cc-report-dir", metavar="DIR", help="write results.json for this run into DIR"
    )
    group.addoption(
        "--cc-only",
        metavar="CAPS",
        help="comma-separated capabilities to run (text, or one dialect's: anthropic/text)",
    )
    group.addoption(
        "--cc-case",
        metavar="ID",
        action="append",
        default=[],
        help="case id or glob to run (openai/text/*); repeatable",
    )
    group.addoption(
        "--cc-replay",
        metavar="ARCHIVE",
        help="answer every request from this wire archive (exchanges.jsonl.gz) and send none",
    )
    group.addoption(
        "--cc-concurrency",
        metavar="N",
        type=int,
        default=1,
        help="cases in flight at once in this process, each in a thread (default 1)",
    )
    group.addoption(
        "--cc-attempts",
        metavar="K",
        type=int,
        default=2,
        help="attempts of a semantic probe before judging it (default 2)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARK}(info): a chatconform conformance case (see chatconform.case.case)"
    )
    if config.getoption("cc_report_dir") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(ResultsCollector(config), "chatconform-results")
    concurrency = config.getoption("cc_concurrency")
    if concurrency < 1:
        raise pytest.UsageError("--cc-concurrency must be at least 1")
    # Under xdist the controller runs no case: its workers keep theirs in flight.
    controller = getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput")
    if concurrency > 1 and not controller:
        config.pluginmanager.register(CaseRunner(concurrency), "chatconform-concurrency")


def replayed(config: pytest.Config) -> archive.Archive | None:
    """The archive a re-judged run answers from (read once per process), or None."""
    path = config.getoption("cc_replay")
    if not path:
        return None
    if ARCHIVE_KEY not in config.stash:
        config.stash[ARCHIVE_KEY] = archive.load(Path(path))
    return config.stash[ARCHIVE_KEY]


def case_info(item: pytest.Item) -> CaseInfo | None:
    marker = item.get_closest_marker(MARK)
    return marker.args[0] if marker else None


def case_id(item: pytest.Item, info: CaseInfo) -> str:
    callspec = getattr(item, "callspec", None)
    return f"{info.id}[{callspec.id}]" if callspec else info.id


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    only = {c.strip() for c in (config.getoption("cc_only") or "").split(",") if c.strip()}
    patterns = config.getoption("cc_case")
    provider_file = config.getoption("cc_provider")
    # Cases of a dialect the provider does not offer are not part of its run at all.
    offered = (
        set(ProviderConfig.from_json(Path(provider_file).read_text()).dialects)
        if provider_file
        else None
    )
    recorded = replayed(config)
    selected, deselected = [], []
    for item in items:
        info = case_info(item)
        if info is None:
            selected.append(item)
            continue
        ident = case_id(item, info)
        keep = (
            (offered is None or info.dialect in offered)
            # Offline, only what the run recorded can be judged.
            and (recorded is None or ident in recorded.cases)
            and (not only or info.capability in only or f"{info.dialect}/{info.capability}" in only)
            and (
                not patterns
                or any(fnmatch.fnmatchcase(ident, p) or ident.startswith(p) for p in patterns)
            )
        )
        (selected if keep else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    for order, item in enumerate(items):
        item.stash[ORDER_KEY] = order
    if config.getoption("cc_concurrency") > 1 or hasattr(config, "workerinput"):
        # Longest first: with cases in flight together, a case of four round trips
        # started last would run on alone after all the others. One at a time, the
        # suite's order is kept (a budget too small for the run is spent in that order).
        items.sort(key=lambda item: -_round_trips(item))
    if any(case_info(i) for i in items) and not config.getoption("cc_provider"):
        raise pytest.UsageError(
            "conformance suites run through `chatconform run` (no --cc-provider)"
        )


def _round_trips(item: pytest.Item) -> int:
    info = case_info(item)
    return 1 if info is None else info.round_trips


@pytest.fixture(scope="session")
def provider(pytestconfig: pytest.Config) -> ProviderConfig:
    """The provider under test, as `chatconform run` resolved it."""
    return ProviderConfig.from_json(Path(pytestconfig.getoption("cc_provider")).read_text())


@pytest.fixture(scope="session")
def redactor(provider: ProviderConfig) -> Redactor:
    """The provider's key, and header values read from the environment, redacted: in what
    the client records, and in each case's result."""
    key = provider.api_key()
    headers = [v for d in provider.dialects.values() for v in d.secret_header_values()]
    return Redactor([key, *headers] if key else headers)


@pytest.fixture(scope="session")
def recording_clients(
    pytestconfig: pytest.Config, provider: ProviderConfig, redactor: Redactor
) -> Iterator[dict[str, RecordingClient | ReplayClient]]:
    """One recording client per dialect the provider offers: its base URL, its auth. When
    re-judging, clients that answer from the run's wire archive instead."""
    limits = Limits(
        connect_timeout_s=min(10.0, provider.timeout_s),
        read_timeout_s=provider.timeout_s,
        total_timeout_s=provider.timeout_s * 3,
    )
    recorded = replayed(pytestconfig)
    if recorded is not None:
        yield {
            name: ReplayClient(recorded, spoken.base_url, redactor=redactor, limits=limits)
            for name, spoken in provider.dialects.items()
        }
        return
    # The provider's rate limits and the breaker hold for the whole run: every dialect,
    # thread and process (see chatconform.rate).
    shared = shared_controls(
        pytestconfig.getoption("cc_report_dir"), RateLimits(provider.rpm, provider.tpm)
    )
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(
                RecordingClient(
                    spoken.base_url,
                    headers=provider_headers(provider, name),
                    redactor=redactor,
                    limits=limits,
                    **shared,
                )
            )
            for name, spoken in provider.dialects.items()
        }


@pytest.fixture(scope="session")
def ledger(pytestconfig: pytest.Config, provider: ProviderConfig) -> TokenLedger | None:
    report_dir = pytestconfig.getoption("cc_report_dir")
    # Judged again offline, nothing is spent: the recorded answers are the run's.
    if provider.max_tokens_total is None or not report_dir or replayed(pytestconfig):
        return None
    return TokenLedger(Path(report_dir) / ".tokens-spent", provider.max_tokens_total)


@pytest.fixture(scope="session")
def calibrations() -> dict[str, str | None]:
    """Per model, whether it answered the trivial prompt (None) or why not: asked once
    per worker, by the first case that needs it."""
    return {}


@pytest.fixture
def case(request: pytest.FixtureRequest) -> CaseRecord:
    """The running case's record: its findings, exchanges and attempts."""
    item = request.node
    info = case_info(item)
    if info is None:
        raise pytest.UsageError(f"{item.nodeid} uses the case fixture but has no @case mark")
    record = CaseRecord(
        info=info, case_id=case_id(item, info), max_attempts=request.config.getoption("cc_attempts")
    )
    item.stash[RECORD_KEY] = record
    return record


def _probe(
    kind: type[P],
    case: CaseRecord,
    clients: dict[str, RecordingClient | ReplayClient],
    provider: ProviderConfig,
    ledger: TokenLedger | None,
    calibrations: dict[str, str | None],
) -> P:
    if kind.dialect not in clients:
        case.skip(f"{provider.name} does not offer the {kind.dialect} dialect")
    client = clients[kind.dialect]
    if isinstance(client, ReplayClient):
        client = client.for_case(case.case_id)
    return kind(client, provider, case, ledger, calibrations)


@pytest.fixture
def openai(
    case: CaseRecord,
    recording_clients: dict[str, RecordingClient | ReplayClient],
    provider: ProviderConfig,
    ledger: TokenLedger | None,
    calibrations: dict[str, str | None],
) -> OpenAIProbe:
    """Probes in the OpenAI Chat Completions dialect, recorded into the running case."""
    return _probe(OpenAIProbe, case, recording_clients, provider, ledger, calibrations)


@pytest.fixture
def anthropic(
    case: CaseRecord,
    recording_clients: dict[str, RecordingClient | ReplayClient],
    provider: ProviderConfig,
    ledger: TokenLedger | None,
    calibrations: dict[str, str | None],
) -> AnthropicProbe:
    """Probes in the Anthropic Messages dialect, recorded into the running case."""
    return _probe(AnthropicProbe, case, recording_clients, provider, ledger, calibrations)


def _stopped(call: pytest.CallInfo[None]) -> tuple[Verdict | None, str]:
    excinfo = call.excinfo
    if excinfo is None:
        return None, ""
    if isinstance(excinfo.value, CaseStop):
        return excinfo.value.verdict, excinfo.value.reason
    if excinfo.errisinstance(pytest.skip.Exception):
        return Verdict.SKIPPED, str(excinfo.value.msg)
    return Verdict.ERROR, f"harness error: {excinfo.typename}: {excinfo.value}"


@pytest.hookimpl(tryfirst=True, specname="pytest_runtest_makereport")
def pytest_runtest_makereport_of_a_stop(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> pytest.TestReport | None:
    """A case stopped with its verdict did not crash: its report is made without the
    traceback pytest would format for the exception (~30 ms of parsing source a case,
    and replaced by the verdict's text below anyway)."""
    if call.when == "teardown" or call.excinfo is None:
        return None
    if not isinstance(call.excinfo.value, CaseStop):
        return None
    report = pytest.TestReport.from_item_and_call(
        item, pytest.CallInfo.from_call(lambda: None, when=call.when)
    )
    report.start, report.stop, report.duration = call.start, call.stop, call.duration
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    info = case_info(item)
    if info is None or call.when == "teardown" or (call.when == "setup" and call.excinfo is None):
        return report
    record = item.stash.get(RECORD_KEY, None) or CaseRecord(info=info, case_id=case_id(item, info))
    stopped, reason = _stopped(call)
    verdict = record.verdict(stopped)
    provider = item.funcargs.get("provider") if hasattr(item, "funcargs") else None
    key_env = provider.api_key_env if isinstance(provider, ProviderConfig) else None
    # Redacted whole, here too: a key spelt out over several reads or deltas is whole
    # only in text assembled from them (an answer, a finding's message, a reason).
    redactor = getattr(item, "funcargs", {}).get("redactor") or Redactor()
    reason = redactor.text(reason)
    result = redactor.value(
        record.result(verdict, reason, time.monotonic() - record.started, key_env)
    )
    report.user_properties.append((RESULT_PROPERTY, json.dumps(result)))
    report.user_properties.append((ORDER_PROPERTY, item.stash.get(ORDER_KEY, 0)))
    _archive(item, record, redactor)
    report.outcome = OUTCOMES[verdict]
    if verdict is Verdict.FAIL:
        report.longrepr = findings_text(result)
    elif report.outcome == "skipped":
        line = item.location[1] or 0
        report.longrepr = (str(item.path), line + 1, f"Skipped: {verdict_reason(verdict, reason)}")
    elif report.outcome == "passed":
        report.longrepr = None
    elif report.longrepr is not None:
        # An error keeps pytest's traceback, which shows where the harness broke; its
        # messages may quote what the provider sent, so it is redacted like the rest.
        report.longrepr = redactor.text(str(report.longrepr))
    else:
        report.longrepr = verdict_reason(verdict, reason)
    return report


def _archive(item: pytest.Item, record: CaseRecord, redactor: Redactor) -> None:
    """Keep the case's exchanges in this process's part of the run's wire archive."""
    report_dir = item.config.getoption("cc_report_dir")
    if not report_dir:
        return
    workerinput = getattr(item.config, "workerinput", None)
    worker = workerinput["workerid"] if workerinput else "main"
    entries = [redactor.value(archive.exchange_record(e)) for e in record.exchanges]
    archive.append_case(Path(report_dir), worker, record.case_id, entries)


class ResultsCollector:
    """Gathers case results in the controlling process; writes results.json and junit.xml."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.cases: list[tuple[int, dict[str, Any]]] = []
        self.started_at = time.time()
        self.results: dict[str, Any] | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        if RESULT_PROPERTY in properties:
            self.cases.append(
                (properties.get(ORDER_PROPERTY, 0), json.loads(properties[RESULT_PROPERTY]))
            )

    def _provider(self) -> ProviderConfig:
        return ProviderConfig.from_json(Path(self.config.getoption("cc_provider")).read_text())

    def _build(self, complete: bool = True) -> dict[str, Any]:
        provider = self._provider()
        # Cases end in any order (in flight together, or on several workers).
        cases = [case for _, case in sorted(self.cases, key=lambda entry: entry[0])]
        return build_results(
            provider, cases, self.started_at, time.time() - self.started_at, complete=complete
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        cut_short = exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
        self.results = self._build(complete=not cut_short)
        report_dir = Path(self.config.getoption("cc_report_dir"))
        write_results(report_dir, self.results)
        write_junit(report_dir, self.results)
        # Imported here: the report module imports the rule catalog, which a worker needs not.
        from chatconform.report import write_report

        archive.assemble(
            report_dir,
            {
                "provider": json.loads(self._provider().to_json()),
                "started_at": self.results["started_at"],
                "attempts": self.config.getoption("cc_attempts"),
                "cases": len(self.results["cases"]),
            },
        )
        # Last: the evidence is kept whatever rendering it meets.
        write_report(report_dir, self.results)
