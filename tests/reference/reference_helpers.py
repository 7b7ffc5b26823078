"""Helpers for the reference provider tests: an in-process client and SSE parsing."""

from __future__ import annotations

import json
import warnings
from typing import Any

import httpx

from chatconform.reference import create_app

with warnings.catch_warnings():
    # Starlette nudges towards httpx2; the plain httpx transport is what is installed.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

API_KEY = "sk-reference"
MODEL = "reference-1"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
COUNT_TO_5 = [{"role": "user", "content": "Count from 1 to 5."}]


def event_data(body: str) -> list[str]:
    """The data of each SSE event in a (LF-framed) stream body, multi-line data joined by LF."""
    events = []
    for block in body.split("\n\n"):
        lines = [line.removeprefix("data: ") for line in block.split("\n") if line]
        if lines:
            events.append("\n".join(lines))
    return events


class Api:
    """A reference app with the given faults, driven in-process."""

    def __init__(self, *faults: str, pace_s: float = 0.0) -> None:
        self.faults = frozenset(faults)
        self.app = create_app(faults=self.faults, pace_s=pace_s)
        self.client = TestClient(self.app)

    def chat(
        self,
        messages: list[dict[str, Any]] | None = None,
        *,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> httpx.Response:
        body = {"model": MODEL, "messages": COUNT_TO_5 if messages is None else messages}
        return self.post({**body, **params}, headers=headers)

    def post(self, body: Any, *, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.post(
            "/v1/chat/completions", json=body, headers=AUTH if headers is None else headers
        )

    def post_raw(self, content: bytes) -> httpx.Response:
        headers = {**AUTH, "content-type": "application/json"}
        return self.client.post("/v1/chat/completions", content=content, headers=headers)

    def get(self, path: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.get(path, headers=AUTH if headers is None else headers)

    def events(self, messages: list[dict[str, Any]] | None = None, **params: Any) -> list[str]:
        response = self.chat(messages, stream=True, **params)
        assert response.status_code == 200, response.text
        return event_data(response.text)

    def chunks(self, messages: list[dict[str, Any]] | None = None, **params: Any) -> list[dict]:
        return [json.loads(data) for data in self.events(messages, **params) if data != "[DONE]"]
