"""A real run's results with hostile markup in every field the provider controls.

Each field gets the same payloads, after a tag naming the field (``[evidence] <script>…``),
so a test can say which fields reached the page and that each arrived as text.
"""

from __future__ import annotations

import copy
from typing import Any

# Markup that runs script (or defaces the page) wherever it is not escaped: in text, in
# a double- or single-quoted attribute, inside <pre>, <textarea>, <title> or <style>.
PAYLOADS = (
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    '<a href="javascript:window.__pwned=1">link</a>',
    '"><svg onload="window.__pwned=1;alert(1)">',
    '\'><iframe src="javascript:parent.__pwned=1"></iframe>',
    "</pre></textarea></title><style>*{display:none}</style>",
)
HOSTILE = " ".join(PAYLOADS)

# The provider-controlled fields a report must show, by tag: each must reach the page as
# visible text. Other tagged fields (content type, location, error, request, image file
# names) may be shown or not, but never as markup.
SHOWN = ("model", "answer", "excerpt", "message", "evidence", "reason", "note")

# A 1x1 PNG, the one kind of image source the report embeds.
PIXEL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def hostile(tag: str) -> str:
    """The hostile text put into fields of kind ``tag``."""
    return f"[{tag}] {HOSTILE}"


def poison(results: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``results`` (a real run's, with findings) whose provider-controlled
    strings are all hostile: model names, answers, excerpts, findings, reasons, notes."""
    poisoned = copy.deepcopy(results)
    for dialect in poisoned["provider"]["dialects"].values():
        for capability in dialect["models"]:
            dialect["models"][capability] = hostile("model")
    cases = poisoned["cases"]
    for case in cases:
        if case["reason"] or case["verdict"] != "pass":
            case["reason"] = hostile("reason")
        case["notes"] = [hostile("note"), *case["notes"]]
        for finding in case["findings"]:
            finding["message"] = hostile("message")
            finding["evidence"] = hostile("evidence")
            finding["location"] = "/choices/0/" + hostile("location")
        for exchange in case["exchanges"]:
            exchange["response_excerpt"] = hostile("excerpt")
            exchange["content_type"] = hostile("content-type")
            exchange["request"] = f"curl -d '{hostile('request')}'"
            if exchange.get("error") is not None:
                exchange["error"] = hostile("error")
        if case.get("media"):
            case["media"]["answer"] = hostile("answer")
    if not any(case["reason"] for case in cases):
        cases[0]["reason"] = hostile("reason")
    # An image case's thumbnails and answer, in the first case with a finding (or the first).
    target = next((c for c in cases if c["findings"]), cases[0])
    target["media"] = {
        "images": [
            {"file": hostile("image-file"), "thumbnail": PIXEL},
            {"file": "x.png", "thumbnail": 'x" onerror="window.__pwned=1'},
            {"file": "y.png", "thumbnail": "javascript:window.__pwned=1"},
        ],
        "question": "What colour is the shape in this image? Reply with the colour only.",
        "answer": hostile("answer"),
    }
    return poisoned
