"""Cases in flight together inside one pytest process (chatconform.concurrency).

Each test runs a small pytest session in a subprocess with the harness plugin and
``--cc-concurrency``. Overlap is proven without timing: the tests wait on a barrier
that opens only when enough of them run at once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from chatconform.concurrency import SWITCH_INTERVAL_S

pytest_plugins = ["pytester"]

# Tests of the sample session write what they saw here, one JSON line each.
SEEN = """
import json, os, threading

def seen(**fields):
    with open(os.environ["SEEN_FILE"], "a") as out:
        out.write(json.dumps(fields) + "\\n")
"""


def _seen(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def seen_file(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = pytester.path / "seen.jsonl"
    path.touch()
    monkeypatch.setenv("SEEN_FILE", str(path))
    pytester.makepyfile(seen_helper=SEEN)
    return path


def test_cases_run_at_once_up_to_the_concurrency(
    pytester: pytest.Pytester, seen_file: Path
) -> None:
    pytester.makepyfile(
        test_overlap="""
        import threading, pytest
        from seen_helper import seen

        # Opens only when four tests wait at once; a sequential run times out here.
        BARRIER = threading.Barrier(4, timeout=20)

        @pytest.mark.parametrize("n", range(8))
        def test_wait(n):
            BARRIER.wait()
            seen(n=n, thread=threading.current_thread().name)
        """
    )
    result = pytester.runpytest_subprocess("--cc-concurrency=4")
    result.assert_outcomes(passed=8)
    threads = {entry["thread"] for entry in _seen(seen_file)}
    assert len(threads) == 4 and all(t.startswith("chatconform-case") for t in threads)


def test_one_case_at_a_time_without_the_option(pytester: pytest.Pytester, seen_file: Path) -> None:
    pytester.makepyfile(
        test_serial="""
        import threading
        from seen_helper import seen

        def test_a():
            seen(thread=threading.current_thread().name)

        def test_b():
            seen(thread=threading.current_thread().name)
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=2)
    assert {e["thread"] for e in _seen(seen_file)} == {"MainThread"}


def test_each_case_has_its_own_function_fixtures(
    pytester: pytest.Pytester, seen_file: Path
) -> None:
    """pytest caches a fixture's value on its definition: cases set up while another runs
    must still get their own values, each torn down once, after its own case."""
    pytester.makepyfile(
        test_fixtures="""
        import itertools, threading, pytest
        from seen_helper import seen

        BARRIER = threading.Barrier(3, timeout=20)
        made = itertools.count()
        sessions = itertools.count()

        @pytest.fixture(scope="session")
        def shared():
            return next(sessions)

        @pytest.fixture
        def record(request, shared):
            value = {"n": next(made), "owner": request.node.name}
            yield value
            seen(event="teardown", owner=value["owner"], n=value["n"])

        @pytest.fixture
        def probe(record):
            return {"record": record}

        @pytest.mark.parametrize("i", range(6))
        def test_case(i, record, probe, shared, request):
            BARRIER.wait()
            assert record["owner"] == request.node.name
            assert probe["record"] is record
            seen(event="call", owner=request.node.name, n=record["n"], shared=shared)
        """
    )
    result = pytester.runpytest_subprocess("--cc-concurrency=3")
    result.assert_outcomes(passed=6)
    events = _seen(seen_file)
    calls = [e for e in events if e["event"] == "call"]
    teardowns = [e for e in events if e["event"] == "teardown"]
    assert len({e["n"] for e in calls}) == 6, "two cases shared a function-scoped value"
    assert {e["shared"] for e in calls} == {0}, "the session fixture was made more than once"
    assert sorted((e["owner"], e["n"]) for e in teardowns) == sorted(
        (e["owner"], e["n"]) for e in calls
    )


def test_failures_and_errors_are_reported_against_their_own_case(
    pytester: pytest.Pytester, seen_file: Path
) -> None:
    pytester.makepyfile(
        test_outcomes="""
        import threading, pytest

        BARRIER = threading.Barrier(3, timeout=20)

        @pytest.fixture
        def broken():
            raise RuntimeError("fixture broke")

        def test_fails():
            BARRIER.wait()
            assert 1 == 2

        def test_passes():
            BARRIER.wait()

        def test_skips():
            BARRIER.wait()
            pytest.skip("not today")

        def test_errors(broken):
            pass
        """
    )
    result = pytester.runpytest_subprocess("--cc-concurrency=3", "-rA")
    result.assert_outcomes(passed=1, failed=1, skipped=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR test_outcomes.py::test_errors*fixture broke*"])
    result.stdout.fnmatch_lines(["*FAILED test_outcomes.py::test_fails*assert 1 == 2*"])


def test_xdist_workers_keep_their_cases_in_flight(
    pytester: pytest.Pytester, seen_file: Path
) -> None:
    pytester.makepyfile(
        test_spread="""
        import os, threading, pytest
        from seen_helper import seen

        @pytest.mark.parametrize("n", range(12))
        def test_case(n):
            seen(n=n, worker=os.environ.get("PYTEST_XDIST_WORKER"),
                 thread=threading.current_thread().name)
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "--cc-concurrency=3")
    result.assert_outcomes(passed=12)
    entries = _seen(seen_file)
    assert sorted(e["n"] for e in entries) == list(range(12))
    assert all(e["thread"].startswith("chatconform-case") for e in entries)


def test_concurrency_below_one_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--cc-concurrency=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--cc-concurrency must be at least 1*"])


def test_threads_hand_the_gil_over_within_a_millisecond_while_cases_run(
    pytester: pytest.Pytester, seen_file: Path
) -> None:
    # A thread whose answer arrived waits at most the switch interval for the GIL, and the
    # timings it takes carry that wait; the process gets its own interval back after.
    pytester.makeconftest(
        """
        import sys
        from seen_helper import seen

        def pytest_unconfigure(config):
            seen(when="after", interval=sys.getswitchinterval())
        """
    )
    pytester.makepyfile(
        test_interval="""
        import sys
        from seen_helper import seen

        def test_a():
            seen(when="during", interval=sys.getswitchinterval())

        def test_b():
            pass
        """
    )
    pytester.runpytest_subprocess("--cc-concurrency=2").assert_outcomes(passed=2)
    intervals = {e["when"]: e["interval"] for e in _seen(seen_file)}
    assert intervals == {"during": SWITCH_INTERVAL_S, "after": sys.getswitchinterval()}
