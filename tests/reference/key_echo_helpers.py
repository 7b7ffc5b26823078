"""Helpers for the key-echo faults: a reference app whose key JSON, URLs and HTML each
write differently, and what its answers carry."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

from reference_helpers import MODEL, Api, event_data

from chatconform.reference import create_app
from chatconform.reference.leaks import percent_encoded, usage_signature

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

KEY = "sk-cc/Leak+Test_0123456789abcdef"
ARITHMETIC = [{"role": "user", "content": "What is 2 + 3?"}]


def _post(api: Api, **params: Any) -> bytes:
    """The raw body of an arithmetic answer from ``api``'s faults, served with ``KEY``."""
    client = TestClient(create_app(api_key=KEY, faults=api.faults, pace_s=0))
    response = client.post(
        "/v1/chat/completions",
        json={"model": MODEL, "messages": ARITHMETIC, **params},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert response.status_code == 200, response.text
    return response.content


def content(api: Api, **params: Any) -> str | None:
    return json.loads(_post(api, **params))["choices"][0]["message"]["content"]


def raw_holds(form: str) -> Callable[[Api], tuple[str, bool]]:
    """The answer, and whether the raw body holds the key written as ``form``."""
    return lambda api: (content(api), form.encode() in _post(api))


def deltas(api: Api) -> list[str]:
    events = event_data(_post(api, stream=True).decode())
    chunks = [json.loads(data) for data in events if data != "[DONE]"]
    return [c["choices"][0]["delta"].get("content") or "" for c in chunks]


UNICODE_ESCAPED = "".join(f"\\u{ord(c):04X}" for c in KEY)

# Each key-echo fault's wire effect for tests/reference/test_faults.py:
# (observation, its value from the faithful reference, its value under the fault).
WIRE_EFFECTS: dict[str, tuple[Callable[[Api], Any], Any, Any]] = {
    "key-echo-json-escaped": (
        raw_holds(KEY.replace("/", "\\/")),
        ("5", False),
        (f"5 (debug key: {KEY})", True),
    ),
    "key-echo-unicode-escaped": (
        raw_holds(UNICODE_ESCAPED),
        ("5", False),
        (f"5 (debug key: {KEY})", True),
    ),
    "key-echo-url-encoded": (
        content,
        "5",
        f"5 (key status: https://reference.invalid/v1/keys/{percent_encoded(KEY)})",
    ),
    "key-echo-split-deltas": (
        lambda api: (
            content(api),
            "".join(deltas(api)),
            any(KEY in delta for delta in deltas(api)),
        ),
        ("5", "5", False),
        (f"5 (debug key: {KEY})", f"5 (debug key: {KEY})", False),
    ),
    "key-echo-query-string": (
        content,
        "5",
        f"5 (usage: https://reference.invalid/v1/usage?api_key={KEY}&sig={usage_signature(KEY)})",
    ),
}
