"""Whole runs against providers that misbehave in ways no catalog fault covers.

Whatever a provider sends, the run finishes, every case gets a verdict from
the provider's behaviour (never a harness error), and no traceback is shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

KEY_ENV = "CHATCONFORM_HOSTILE_KEY"
MODELS = (
    b'{"object": "list", "data": [{"id": "m", "object": "model", "created": 1, "owned_by": "x"}]}'
)


def garbage(request: Request) -> Response:
    return Response(b"\x00\xff\xfe<<not json>>\x80" * 20, media_type="text/plain")


def null_body(request: Request) -> Response:
    return Response(b"null", media_type="application/json")


def html_500(request: Request) -> Response:
    return Response(
        b"<html><body>502 Bad Gateway</body></html>", status_code=500, media_type="text/html"
    )


def huge(request: Request) -> Response:
    body = b'{"choices": [{"message": {"content": "' + b"x" * (10 * 1024 * 1024) + b'"}}]}'
    return Response(body, media_type="application/json")


def binary_stream(request: Request) -> Response:
    async def chunks() -> Any:
        for _ in range(5):
            yield b"data: \xff\xfe\x00{\x80\r\n\r\n"
        yield b"data: [DONE]\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream")


def wrong_shapes(request: Request) -> Response:
    odd = {"id": 7, "object": ["x"], "created": "now", "model": None, "choices": "none", "usage": 5}
    return Response(json.dumps(odd).encode(), media_type="application/json")


# Deeper than any JSON parser recurses: Python's json raises RecursionError on it.
DEPTH = 100_000
NESTED = "[" * DEPTH + "]" * DEPTH
COMPLETION = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m"}


def _events(data: list[str]) -> Response:
    async def chunks() -> Any:
        for item in data:
            yield f"data: {item}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream")


async def deeply_nested(request: Request) -> Response:
    """JSON nested far too deep: the body, each chunk, or (with tools) the call's arguments."""
    try:
        body = await request.json()
    except ValueError:
        body = None  # the errors cases send broken requests on purpose
    body = body if isinstance(body, dict) else {}
    tools = body.get("tools")
    if not (isinstance(tools, list) and tools):
        if body.get("stream"):
            return _events([NESTED, NESTED])
        return Response(NESTED.encode(), media_type="application/json")
    fn = tools[0].get("function") if isinstance(tools[0], dict) else None
    name = fn.get("name") if isinstance(fn, dict) else "get_weather"
    call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": NESTED}}
    if body.get("stream"):
        delta = {"role": "assistant", "content": None, "tool_calls": [{"index": 0, **call}]}
        choice = {"index": 0, "delta": delta, "finish_reason": "tool_calls"}
        chunk = {**COMPLETION, "object": "chat.completion.chunk", "choices": [choice]}
        return _events([json.dumps(chunk)])
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    reply = {
        **COMPLETION,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
    }
    return Response(json.dumps(reply).encode(), media_type="application/json")


BEHAVIOURS = {
    "garbage": garbage,
    "null-body": null_body,
    "html-500": html_500,
    "huge-body": huge,
    "binary-stream": binary_stream,
    "wrong-shapes": wrong_shapes,
    "deeply-nested": deeply_nested,
}
# Every capability a hostile answer can reach; vision (URL images) would add only downloads.
ONLY = "text,streaming,errors,models,tools,base64_image"
# Capabilities whose cases all need a correct chat answer to pass.
CHAT = ("text", "streaming", "tools", "base64_image")


def app_for(chat: Any) -> Starlette:
    """The behaviour on the chat route of each dialect."""

    def models(request: Request) -> Response:
        return Response(MODELS, media_type="application/json")

    def count_tokens(request: Request) -> Response:
        # Answered well, so the run gets past the preflight to the chat routes.
        return Response(b'{"input_tokens": 1}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/messages", chat, methods=["POST"]),
            Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
            Route("/v1/models", models),
        ]
    )


class Serving:
    """A uvicorn server for one app on an ephemeral loopback port."""

    def __init__(self, app: Starlette) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_a_hostile_provider_gets_verdicts_not_tracebacks(
    behaviour: str, dialect: str, tmp_path: Path
) -> None:
    with Serving(app_for(BEHAVIOURS[behaviour])) as base_url:
        # Anthropic's clients take the URL without /v1.
        url = base_url if dialect == "openai" else base_url.removesuffix("/v1")
        done = subprocess.run(
            [
                sys.executable, "-m", "chatconform", "run", "--dialect", dialect,
                "--base-url", url, "--model", "m", "--api-key-env", KEY_ENV,
                "--reports", str(tmp_path), "--concurrency", "1", "--timeout", "5",
                "--only", ONLY,
            ],
            env={**os.environ, KEY_ENV: "sk-hostile"},
            capture_output=True,
            text=True,
            timeout=300,
        )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    results = json.loads(next(tmp_path.glob("*/results.json")).read_text())
    errors = [(c["id"], c["reason"]) for c in results["cases"] if c["verdict"] == "error"]
    assert errors == []
    judged = {c["verdict"] for c in results["cases"] if c["capability"] in CHAT}
    assert "pass" not in judged, f"{behaviour} passed a chat case: {judged}"
