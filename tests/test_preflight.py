"""The preflight (chatconform.preflight): asked while the suite starts, one line when it fails."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from interruptible import INTERRUPTIBLE

from chatconform.breaker import Breaker
from chatconform.config import single
from chatconform.preflight import Preflight
from chatconform.reference import ReferenceServer

REFUSAL = b'{"error": {"message": "bad key", "type": "invalid_request_error"}}'


class Provider(BaseHTTPRequestHandler):
    """GET /models answers once a chat request has arrived, or after ``models_wait_s``;
    chat requests after ``chat_wait_s``. Every answer refuses the key."""

    def do_GET(self) -> None:
        server = self.server
        server.chat_first = server.chatted.wait(timeout=server.models_wait_s)  # type: ignore[attr-defined]
        self._refuse()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.chatted.set()  # type: ignore[attr-defined]
        time.sleep(self.server.chat_wait_s)  # type: ignore[attr-defined]
        self._refuse()

    def _refuse(self) -> None:
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(REFUSAL)))
        self.end_headers()
        self.wfile.write(REFUSAL)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(models_wait_s: float, chat_wait_s: float) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    server.chatted, server.chat_first = threading.Event(), None  # type: ignore[attr-defined]
    server.models_wait_s, server.chat_wait_s = models_wait_s, chat_wait_s  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def command(server: ThreadingHTTPServer, reports: Path) -> list[str]:
    return [
        "run", "--base-url", f"http://127.0.0.1:{server.server_port}/v1", "--model", "m",
        "--api-key-env", "CC_PREFLIGHT_KEY", "--only", "openai/text",
        "--reports", str(reports), "--clients", "none",
    ]  # fmt: skip


ENV = {**os.environ, "CC_PREFLIGHT_KEY": "sk-not-this-one"}


def test_cases_start_before_the_answer_and_a_failed_preflight_drops_the_run(
    tmp_path: Path,
) -> None:
    server = serve(models_wait_s=30, chat_wait_s=0)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "chatconform", *command(server, tmp_path / "reports")],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
    assert server.chat_first, "the suite waited for the preflight's answer"  # type: ignore[attr-defined]
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"chatconform: error: http://127.0.0.1:{server.server_port}/v1/models refused the "
        "key in $CC_PREFLIGHT_KEY sent as bearer (HTTP 401); check the variable\n"
    )
    assert "sk-not-this-one" not in done.stdout + done.stderr
    assert not list((tmp_path / "reports").glob("*")), "the run's directory is dropped"


def test_ctrl_c_before_the_answer_keeps_the_partial_run_and_waits_for_nothing(
    tmp_path: Path,
) -> None:
    # Neither the preflight nor the cases are answered before the interrupt.
    server = serve(models_wait_s=60, chat_wait_s=60)
    reports = tmp_path / "reports"
    process = subprocess.Popen(
        [*INTERRUPTIBLE, *command(server, reports)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not server.chatted.is_set():  # type: ignore[attr-defined]
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        # Well before either answer: the run waits for neither.
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
        server.shutdown()
    assert process.returncode == 130, err
    assert "chatconform: interrupted; partial results in" in err
    assert "Traceback" not in err
    (results,) = reports.glob("*/results.json")
    assert json.loads(results.read_text())["complete"] is False


def test_a_problem_trips_the_breaker_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC_PREFLIGHT_KEY", "k")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    breaker = Breaker()
    problem = Preflight(single("p", url, api_key_env="CC_PREFLIGHT_KEY"), breaker.trip).start()
    reason = problem.wait()
    assert reason is not None and reason.startswith(f"cannot reach {url}/models")
    assert breaker.tripped() == f"the preflight failed: {reason}"


def test_a_provider_that_answers_passes_and_trips_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    with ReferenceServer(pace_s=0) as server:
        monkeypatch.setenv("CC_PREFLIGHT_REFERENCE_KEY", server.api_key)
        provider = single("p", server.base_url, api_key_env="CC_PREFLIGHT_REFERENCE_KEY")
        breaker = Breaker()
        assert Preflight(provider, breaker.trip).start().wait() is None
    assert breaker.tripped() is None


def test_an_unreadable_trust_store_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatconform.client import tls_context

    tls_context.cache_clear()
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    monkeypatch.setenv("CC_PREFLIGHT_KEY", "k")
    try:
        reason = Preflight(single("p", "https://p.test/v1"), Breaker().trip).start().wait()
    finally:
        tls_context.cache_clear()
    assert reason is not None
    assert reason.startswith("cannot load the TLS trust store (SSL_CERT_FILE, SSL_CERT_DIR): ")
