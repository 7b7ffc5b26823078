"""The preflight (chatconform.preflight): asked while the suite starts, one line when it fails."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chatconform.breaker import Breaker
from chatconform.config import single
from chatconform.preflight import Preflight
from chatconform.reference import ReferenceServer


class SlowToRefuse(BaseHTTPRequestHandler):
    """Refuses the key on GET /models only once a chat request has arrived (or after 30 s);
    answers chat requests at once."""

    def do_GET(self) -> None:
        server = self.server
        server.chat_first = server.chatted.wait(timeout=30)  # type: ignore[attr-defined]
        self._send(401, b'{"error": {"message": "bad key", "type": "invalid_request_error"}}')

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.chatted.set()  # type: ignore[attr-defined]
        self._send(401, b'{"error": {"message": "bad key", "type": "invalid_request_error"}}')

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_cases_start_before_the_answer_and_a_failed_preflight_drops_the_run(
    tmp_path: Path,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowToRefuse)
    server.chatted, server.chat_first = threading.Event(), None  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/v1"
    command = [
        sys.executable, "-m", "chatconform", "run", "--base-url", url, "--model", "m",
        "--api-key-env", "CC_PREFLIGHT_KEY", "--only", "openai/text",
        "--reports", str(tmp_path / "reports"), "--clients", "none",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command,
            env={**os.environ, "CC_PREFLIGHT_KEY": "sk-not-this-one"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
    assert server.chat_first, "the suite waited for the preflight's answer"  # type: ignore[attr-defined]
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"chatconform: error: {url}/models refused the key in $CC_PREFLIGHT_KEY sent as "
        "bearer (HTTP 401); check the variable\n"
    )
    assert not list((tmp_path / "reports").glob("*")), "the run's directory is dropped"


def test_a_problem_trips_the_breaker_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC_PREFLIGHT_KEY", "k")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    provider = single("p", url, api_key_env="CC_PREFLIGHT_KEY")
    breaker = Breaker()
    with Preflight(provider, on_problem=breaker.trip) as preflight:
        pass
    assert preflight.problem is not None
    assert preflight.problem.startswith(f"cannot reach {url}/models")
    assert breaker.tripped() == f"the preflight failed: {preflight.problem}"


def test_a_provider_that_answers_passes_and_trips_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    with ReferenceServer(pace_s=0) as server:
        monkeypatch.setenv("CC_PREFLIGHT_REFERENCE_KEY", server.api_key)
        provider = single("p", server.base_url, api_key_env="CC_PREFLIGHT_REFERENCE_KEY")
        breaker = Breaker()
        with Preflight(provider, on_problem=breaker.trip) as preflight:
            pass
    assert preflight.problem is None and breaker.tripped() is None
