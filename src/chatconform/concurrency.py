"""Cases in flight at once inside one pytest process: threads, not processes.

A case spends its time waiting on the provider, so N cases in flight need N
threads, not N interpreters (each xdist worker costs a second or more of start-up
before its first request). pytest stays the case runner: each case still goes
through pytest's setup, call and teardown hooks, its fixtures and its report; only
the call of the protocol moves to a thread, and its reports are logged, under a
lock, when it ends. xdist still spreads a large matrix over processes or hosts:
each worker then keeps its own cases in flight the same way.

pytest's setup stack assumes one item at a time (setting up the next tears down
the last); `CaseSetupState` lets many items be set up at once: collectors
(session, modules) are set up once and stay so until the session ends, and each
item keeps its own finalizers.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from _pytest.fixtures import FixtureDef
from _pytest.runner import SetupState, check_interactive_exception, get_reraise_exceptions

Phase = Literal["setup", "call", "teardown"]
# How long a thread may hold the GIL while another is ready to run (see pytest_sessionstart).
SWITCH_INTERVAL_S = 0.001
# What pytest's own teardown tolerates from a finalizer before it gives up.
_TEARDOWN_ERRORS = (pytest.fail.Exception, pytest.skip.Exception, Exception)


class CaseSetupState(SetupState):
    """pytest's setup stack for items that run concurrently (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self._items: dict[pytest.Item, list[Callable[[], object]]] = {}
        self._running = threading.local()

    def running(self, item: pytest.Item | None) -> None:
        """Say which item this thread runs (None once it is done)."""
        self._running.item = item

    def is_node_active(self, node: Any) -> bool:
        return node in self.stack or node in self._items

    def setup(self, item: pytest.Item) -> None:
        # Under the lock: session fixtures are created by the first case that needs them,
        # once, whichever thread gets there first.
        with self._lock:
            for collector in item.listchain()[:-1]:
                if collector in self.stack:
                    failed = self.stack[collector][1]
                    if failed:
                        raise failed[0].with_traceback(failed[1])
                    continue
                self.stack[collector] = ([collector.teardown], None)
                try:
                    collector.setup()
                except _TEARDOWN_ERRORS as exc:
                    self.stack[collector] = (self.stack[collector][0], (exc, exc.__traceback__))
                    raise
            self._items[item] = [item.teardown]
            item.setup()

    def addfinalizer(self, finalizer: Callable[[], object], node: Any) -> None:
        with self._lock:
            if node in self._items:
                self._items[node].append(finalizer)
            else:
                super().addfinalizer(finalizer, node)

    def teardown_exact(self, nextitem: pytest.Item | None) -> None:
        item = getattr(self._running, "item", None)
        if item is None:
            # The session's end: every case is done; collectors go, last set up first.
            with self._lock:
                super().teardown_exact(None)
            return
        with self._lock:
            finalizers = self._items.pop(item, [])
        errors: list[BaseException] = []
        while finalizers:
            try:
                finalizers.pop()()
            except _TEARDOWN_ERRORS as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise BaseExceptionGroup(f"errors while tearing down {item!r}", errors[::-1])


class CaseRunner:
    """A pytest plugin keeping up to ``concurrency`` items in flight, each in a thread.

    The main loop hands each item to a thread and goes on while fewer than
    ``concurrency`` are running; it waits for all of them before the session ends.
    Only the main thread logs reports (the terminal, xdist's channel and the
    results collector see one report at a time, as they expect), each item's as a
    whole once it has ended.
    """

    def __init__(self, concurrency: int) -> None:
        if concurrency < 2:
            raise ValueError("one case at a time needs no runner")
        self.concurrency = concurrency
        # Daemon threads, not a ThreadPoolExecutor: the interpreter joins an executor's
        # threads as it exits, so an interrupted run would wait out every request in
        # flight (up to its read timeout) before it could end.
        self._items: queue.Queue[pytest.Item | None] = queue.Queue()
        self._lanes = [
            threading.Thread(target=self._lane, name=f"chatconform-case_{n}", daemon=True)
            for n in range(concurrency)
        ]
        self._ended: queue.Queue[_Ended] = queue.Queue()
        self._in_flight = 0
        # Setup and teardown run one at a time (fixtures are created once; pytest's
        # fixture caches are not built for two threads); calls overlap.
        self._fixtures = threading.Lock()
        # Reports are made one at a time (see _call_and_report).
        self._reporting = threading.RLock()
        self._state = CaseSetupState()
        self._switch_interval = sys.getswitchinterval()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        session._setupstate = self._state
        # A thread whose answer arrived waits for the one holding the GIL to let go: for
        # up to the switch interval (5 ms), every time it reads, and timings it takes
        # (time to first token, gaps between chunks) carry that wait. A shorter one
        # keeps them within a millisecond or so. The process's own is restored at the end.
        sys.setswitchinterval(SWITCH_INTERVAL_S)

    def pytest_sessionfinish(self) -> None:
        sys.setswitchinterval(self._switch_interval)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool:
        while self._in_flight >= self.concurrency:
            self._log(self._ended.get())
        if not self._lanes[0].is_alive():
            for lane in self._lanes:
                lane.start()
        self._in_flight += 1
        self._items.put(item)
        return True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Iterator[None]:
        try:
            result = yield
        except BaseException:
            # Interrupted: nothing more starts, and what is in flight is not waited for.
            self._stop_lanes()
            raise
        while self._in_flight:
            self._log(self._ended.get())
        self._stop_lanes()
        for lane in self._lanes:
            if lane.is_alive():
                lane.join()
        return result

    def _stop_lanes(self) -> None:
        while not self._items.empty():
            with contextlib.suppress(queue.Empty):
                self._items.get_nowait()
        for _ in self._lanes:
            self._items.put(None)

    def _lane(self) -> None:
        while (item := self._items.get()) is not None:
            self._run(item)

    def _run(self, item: pytest.Item) -> None:
        try:
            self._ended.put(_Ended(item, self._protocol(item)))
        except BaseException as exc:  # the main thread re-raises it
            self._ended.put(_Ended(item, [], exc))

    def _log(self, ended: _Ended) -> None:
        self._in_flight -= 1
        if ended.crash is not None:
            raise ended.crash
        item = ended.item
        with _reporting_as(item):
            item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
            for report in ended.reports:
                item.ihook.pytest_runtest_logreport(report=report)
            item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)

    def _protocol(self, item: pytest.Item) -> list[pytest.TestReport]:
        """pytest's runtestprotocol, with fixtures set up and torn down under a lock and
        reports kept for the main thread to log."""
        self._state.running(item)
        if hasattr(item, "_request") and not item._request:
            item._initrequest()
        try:
            with self._fixtures:
                reports = [self._call_and_report(item, "setup")]
                values = _FunctionFixtures.detach(item)
            if reports[0].passed:
                reports.append(self._call_and_report(item, "call"))
            with self._fixtures:
                values.attach()
                reports.append(self._call_and_report(item, "teardown", nextitem=None))
            return reports
        finally:
            self._state.running(None)
            if hasattr(item, "_request"):
                item._request = False
                item.funcargs = None

    def _call_and_report(self, item: pytest.Item, when: Phase, **kwargs: Any) -> pytest.TestReport:
        """pytest's call_and_report, the report made under a lock: making it formats
        tracebacks, which parses source, and CPython 3.11's parser is not safe to run
        in two threads at once ("AST constructor recursion depth mismatch")."""
        hook = {
            "setup": item.ihook.pytest_runtest_setup,
            "call": item.ihook.pytest_runtest_call,
            "teardown": item.ihook.pytest_runtest_teardown,
        }[when]
        call = pytest.CallInfo.from_call(
            lambda: hook(item=item, **kwargs),
            when=when,
            reraise=get_reraise_exceptions(item.config),
        )
        with self._reporting:
            report: pytest.TestReport = item.ihook.pytest_runtest_makereport(item=item, call=call)
            if check_interactive_exception(call, report):
                item.ihook.pytest_exception_interact(node=item, call=call, report=report)
        return report


@dataclass
class _FunctionFixtures:
    """An item's function-scoped fixture values, held apart from pytest's fixture
    definitions while the item runs.

    pytest caches a fixture's value on its definition, shared by every test, and
    expects the last test's value gone before the next test's setup: a second case set
    up while the first runs would otherwise be handed the first's values (its record,
    its probe). Each item's are detached once it is set up and attached again for its
    teardown, which finalizes them.
    """

    held: list[tuple[FixtureDef[Any], Any, list[Callable[[], object]]]]

    @classmethod
    def detach(cls, item: pytest.Item) -> _FunctionFixtures:
        info = getattr(item, "_fixtureinfo", None)
        definitions = [] if info is None else info.name2fixturedefs.values()
        held = []
        for definition in {d for chain in definitions for d in chain if d.scope == "function"}:
            held.append((definition, definition.cached_result, list(definition._finalizers)))
            definition.cached_result = None
            definition._finalizers.clear()
        return cls(held)

    def attach(self) -> None:
        for definition, cached, finalizers in self.held:
            definition.cached_result = cached
            definition._finalizers[:] = finalizers


@dataclass
class _Ended:
    item: pytest.Item
    reports: list[pytest.TestReport]
    crash: BaseException | None = None


@contextlib.contextmanager
def _reporting_as(item: pytest.Item) -> Iterator[None]:
    """Under xdist, say which item the reports are of: a worker tags each report with the
    index of the item it last started (its ``item_index``), which, with items in
    flight together, is not the one that just ended."""
    interactor = next(
        (
            p
            for p in item.config.pluginmanager.get_plugins()
            if type(p).__name__ == "WorkerInteractor"
        ),
        None,
    )
    if interactor is None:
        yield
        return
    started = interactor.item_index
    interactor.item_index = _index(item)
    try:
        yield
    finally:
        interactor.item_index = started


def _index(item: pytest.Item) -> int:
    for index, candidate in enumerate(item.session.items):
        if candidate is item:
            return index
    raise LookupError(f"{item.nodeid} is not among the session's items")
