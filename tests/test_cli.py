"""The command line: exit codes, one-line errors, and the serve/faults/rules commands."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
from interruptible import INTERRUPTIBLE

from chatconform.cli import main
from chatconform.reference import FAULTS, ReferenceServer
from chatconform.rules import catalog


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, for commands that start a pytest run of the suites.

    A run nests a whole pytest session; in-process, it would share this
    session's interpreter, plugins and imported modules.
    """
    return subprocess.run(
        [sys.executable, "-m", "chatconform", *args], capture_output=True, text=True, timeout=120
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CC_TEST_KEY", "sk-test-secret-value")


def test_unreachable_base_url_is_one_line_and_exit_2() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    done = run_cli("run", "--base-url", url, "--model", "m", "--api-key-env", "CC_TEST_KEY")
    code, err = done.returncode, done.stderr
    assert code == 2
    assert err.startswith(f"chatconform: error: cannot reach {url}/models")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not list(Path("reports").glob("*")), "no run directory for a dead host"


def test_a_refused_key_is_one_line_and_no_run() -> None:
    with ReferenceServer(pace_s=0) as server:
        done = run_cli(
            "run", "--base-url", server.base_url, "--model", "m", "--api-key-env", "CC_TEST_KEY"
        )
    assert done.returncode == 2
    assert "refused the key in $CC_TEST_KEY sent as bearer (HTTP 401)" in done.stderr
    assert done.stderr.count("\n") == 1
    assert "sk-test-secret-value" not in done.stdout + done.stderr
    assert not list(Path("reports").glob("*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "--base-url",
                "https://h.example/v1/chat/completions",
                "--model",
                "m",
                "--api-key-env",
                "CC_TEST_KEY",
            ],
            "is an endpoint, not a base URL",
        ),
        (
            ["--base-url", "https://h.example/v1", "--model", "m", "--api-key-env", "CC_UNSET_VAR"],
            "CC_UNSET_VAR is not set",
        ),
        (["--config", "missing.toml"], "missing.toml not found"),
        (["--only", "text,telepathy"], "unknown capability 'telepathy'"),
        (["--fault", "no-such-fault"], "unknown fault 'no-such-fault'"),
        (
            [
                "--base-url",
                "https://h.example/v1",
                "--model",
                "m",
                "--api-key-env",
                "CC_TEST_KEY",
                "--fault",
                "n-ignored",
            ],
            "--fault applies to the embedded reference",
        ),
        (["--fail-on", "fail,nonsense"], "--fail-on: unknown verdict 'nonsense'; choose from"),
        (["--fail-on", "pass"], "--fail-on: unknown verdict 'pass'"),
        (["--fail-on", ","], "--fail-on: no verdict; choose from non_strict, fail"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run_main(capsys, "run", *args)
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_a_selection_matching_nothing_is_a_usage_error() -> None:
    done = run_cli("run", "--case", "openai/nothing/*", "--concurrency", "1")
    assert done.returncode == 2
    assert done.stderr.endswith(
        "chatconform: error: no case matched the selection (--only/--case)\n"
    )


def test_run_writes_results_report_and_junit() -> None:
    done = run_cli("run", "--only", "models", "--concurrency", "1", "--pace", "0")
    out = done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    run_dir = next(Path("reports").glob("*-reference"))
    assert {p.name for p in run_dir.iterdir()} >= {"results.json", "report.html", "junit.xml"}
    assert "openai/models            pass" in out
    assert "anthropic/models         pass" in out
    assert f"report: {run_dir / 'report.html'}" in out
    results = json.loads((run_dir / "results.json").read_text())
    cases = len(results["cases"])
    assert f"\noutcome: {cases} passed\n" in out
    junit = junit_counts(run_dir)
    assert junit == {"tests": str(cases), "failures": "0", "errors": "0", "skipped": "0"}


def junit_counts(run_dir: Path) -> dict[str, str | None]:
    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    return {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")}


STALLS = ("run", "--fault", "stream-stalls", "--only", "openai/streaming", "--timeout", "1.5")


def test_a_run_that_judged_nothing_says_so_everywhere_and_exits_0() -> None:
    done = run_cli(*STALLS)
    assert done.returncode == 0, done.stdout + done.stderr
    run_dir = next(Path("reports").glob("*-reference+stream-stalls"))
    results = json.loads((run_dir / "results.json").read_text())
    cases = len(results["cases"])
    assert cases >= 10 and {c["verdict"] for c in results["cases"]} == {"inconclusive"}
    assert f"\noutcome: Nothing judged: {cases} inconclusive\n" in done.stdout
    assert f"{cases} skipped" in done.stdout and "passed" not in done.stdout
    junit = junit_counts(run_dir)
    assert junit == {"tests": str(cases), "failures": "0", "errors": "0", "skipped": str(cases)}
    page = (run_dir / "report.html").read_text()
    assert 'cc-headline cc-nothing_judged">' in page
    assert f"Nothing judged: {cases} inconclusive</h1>" in page
    assert "No deviations found" not in page


def test_fail_on_inconclusive_makes_a_stalled_run_exit_1() -> None:
    done = run_cli(*STALLS, "--case", "openai/streaming/done-sentinel", "--fail-on", "inconclusive")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.endswith("exit code 1: 1 inconclusive (--fail-on inconclusive)\n")


def test_fail_on_non_strict_makes_a_tolerated_deviation_exit_1() -> None:
    args = ("run", "--fault", "created-in-ms", "--case", "openai/text/created-timestamp")
    assert run_cli(*args, "--concurrency", "1", "--pace", "0").returncode == 0
    done = run_cli(*args, "--concurrency", "1", "--pace", "0", "--fail-on", "fail,non_strict")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.endswith("exit code 1: 1 non_strict (--fail-on non_strict,fail)\n")


def test_faults_lists_every_fault(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "faults")
    assert code == 0
    for name, fault in FAULTS.items():
        assert f"{name} " in out and fault.description in out


def test_rules_lists_every_rule_with_its_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "rules", "--verbose")
    assert code == 0
    for rule_id in catalog():
        assert rule_id in out
    assert out.count("check:       chatconform.") == len(catalog())


def test_serve_prints_its_address_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [*INTERRUPTIBLE, "serve", "--fault", "n-ignored"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        assert lines[0].startswith("base URL: http://127.0.0.1:")
        base_url = lines[0].split(": ", 1)[1].strip()
        assert lines[1].strip() == "model:    reference-1"
        assert lines[3].strip() == "faults:   n-ignored"
        response = httpx.get(f"{base_url}/models", headers={"authorization": "Bearer sk-reference"})
        assert response.json()["data"][0]["id"] == "reference-1"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()


def test_cases_past_the_token_budget_are_inconclusive(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(
        capsys,
        "run",
        "--only",
        "text",
        "--concurrency",
        "1",
        "--pace",
        "0",
        "--max-tokens-total",
        "60",
    )
    assert code == 0, "an exhausted budget is not a failure"
    results = json.loads(next(Path("reports").glob("*/results.json")).read_text())
    verdicts = {c["verdict"] for c in results["cases"]}
    assert verdicts == {"pass", "inconclusive"}
    stopped = [c for c in results["cases"] if c["verdict"] == "inconclusive"]
    assert all(
        c["reason"].startswith("token budget exhausted (max_tokens_total 60; this request")
        for c in stopped
    )
    assert "openai/text              inconclusive" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concurrency", "0"], "concurrency must be at least 1"),
        (["--timeout", "-1"], "timeout_s must be a positive number"),
    ],
)
def test_the_embedded_reference_validates_flags_too(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run_main(capsys, "run", *args)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_serve_refuses_a_port_out_of_range() -> None:
    done = run_cli("serve", "--port", "99999")
    assert done.returncode == 2
    assert "'99999' is not a port (0-65535)" in done.stderr and "Traceback" not in done.stderr


def serve_app(handler: Any) -> Any:
    """A one-route HTTP server on loopback: handler(path) -> (status, headers, body)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = handler(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(
    ("path", "reply", "message"),
    [
        ("/v1", (301, {"location": "https://elsewhere.example/api/v1/models"}, b""),
         "redirects (HTTP 301) to https://elsewhere.example/api/v1/models"),
        ("", (404, {}, b"not found"), "usually end in /v1: try http://127.0.0.1:"),
    ],
)  # fmt: skip
def test_a_wrong_base_url_is_one_line_not_a_run(path: str, reply: tuple, message: str) -> None:
    server = serve_app(lambda _: reply)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}{path}"
        done = run_cli("run", "--base-url", url, "--model", "m", "--api-key-env", "CC_TEST_KEY")
    finally:
        server.shutdown()
    code, err = done.returncode, done.stderr
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not list(Path("reports").glob("*"))


def test_ctrl_c_stops_the_run_and_keeps_partial_results(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*INTERRUPTIBLE, "run", "--fault", "stream-stalls",
         "--timeout", "30", "--concurrency", "1", "--only", "models,openai/streaming"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # The models cases (collected first) finish at once; the first streaming case stalls.
        deadline = time.monotonic() + 60
        while not list(Path("reports").glob("*/provider.json")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        # Collection and the models cases take about a second; the stall lasts 30 s.
        time.sleep(8)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "chatconform: interrupted; partial results in" in err
    assert "Traceback" not in err
    results = json.loads(next(Path("reports").glob("*/results.json")).read_text())
    assert results["complete"] is False
    assert {c["capability"] for c in results["cases"]} == {"models"}
    suite = ET.parse(next(Path("reports").glob("*/junit.xml"))).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == str(len(results["cases"]))
    complete = suite.find("properties/property[@name='chatconform.complete']")
    assert complete is not None and complete.get("value") == "false"


def test_flags_alone_run_the_anthropic_dialect_against_any_server_speaking_it() -> None:
    with ReferenceServer(pace_s=0, api_key="sk-test-secret-value") as server:
        done = run_cli(
            "run", "--dialect", "anthropic", "--base-url", server.root_url,
            "--model", server.model, "--api-key-env", "CC_TEST_KEY",
            "--only", "text", "--concurrency", "1",
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(next(Path("reports").glob("*/results.json")).read_text())
    assert list(results["provider"]["dialects"]) == ["anthropic"]
    assert results["provider"]["dialects"]["anthropic"]["auth"] == "x-api-key"
    assert {c["dialect"] for c in results["cases"]} == {"anthropic"}
    assert {c["verdict"] for c in results["cases"]} == {"pass"}
    assert results["summary"]["capabilities"]["anthropic/text"] == "pass"


def test_a_server_that_does_not_speak_anthropic_gets_one_line() -> None:
    from chatconform.fixture_server import FixtureServer

    with FixtureServer() as elsewhere:
        url = elsewhere.base_url.rstrip("/")
        done = run_cli(
            "run", "--dialect", "anthropic", "--base-url", url,
            "--model", "m", "--api-key-env", "CC_TEST_KEY",
        )  # fmt: skip
    code, err = done.returncode, done.stderr
    assert code == 2
    assert err.startswith(f"chatconform: error: {url}/v1/messages answered HTTP 501")
    assert "does not speak Anthropic's Messages API" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_anthropic_base_url_with_v1_is_refused_with_the_url_to_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_main(
        capsys, "run", "--dialect", "anthropic", "--base-url", "http://127.0.0.1:9/v1",
        "--model", "m", "--api-key-env", "CC_TEST_KEY",
    )  # fmt: skip
    assert code == 2
    assert "Anthropic clients take the URL without it" in err and "'http://127.0.0.1:9'" in err


def test_a_refused_anthropic_key_suggests_the_other_auth_style() -> None:
    with ReferenceServer(pace_s=0, faults={"anthropic-bearer-only"}) as server:
        done = run_cli(
            "run", "--dialect", "anthropic", "--base-url", server.root_url,
            "--model", server.model, "--api-key-env", "CC_TEST_KEY",
        )  # fmt: skip
    code, err = done.returncode, done.stderr
    assert code == 2
    assert (
        "sent as x-api-key (HTTP 401); check the variable, or try --dialect anthropic --auth bearer"
        in err
    )
