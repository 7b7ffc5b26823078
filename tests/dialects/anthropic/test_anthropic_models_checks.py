"""Checks of GET /v1/models (chatconform.dialects.anthropic.checks.models)."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic_helpers import MODELS_URL, http_exchange, json_exchange, sample, summary

from chatconform.dialects.anthropic.checks import models
from chatconform.exchange import Exchange


def _list(body: Any = None, status: int = 200) -> Exchange:
    return http_exchange(
        sample("models_list.json") if body is None else body,
        status=status,
        request=None,
        url=MODELS_URL,
    )


def test_faithful_list_gives_no_finding() -> None:
    exchange = _list()
    assert models.models_list_shape(exchange) == []
    assert (
        models.configured_models_listed(exchange, ["claude-sonnet-4-5", "claude-3-5-haiku-latest"])
        == []
    )
    assert models.models_endpoint_offered(exchange) == []


@pytest.mark.parametrize(
    ("change", "location"),
    [
        (lambda b: b.pop("has_more"), "/has_more"),
        (lambda b: b["data"][0].pop("display_name"), "/data/0/display_name"),
        (lambda b: b["data"][1].update(created_at=1729555200), "/data/1/created_at"),
        (lambda b: b["data"][0].update(type="model_info"), "/data/0/type"),
    ],
)
def test_list_shape_fires_where_it_breaks(change: Any, location: str) -> None:
    body = sample("models_list.json")
    change(body)
    assert summary(models.models_list_shape(_list(body))) == [
        ("anthropic.models.list-shape", "must", location)
    ]


def test_openai_list_is_not_a_model_page() -> None:
    body = {
        "object": "list",
        "data": [
            {"id": "claude-sonnet-4-5", "object": "model", "created": 0, "owned_by": "anthropic"}
        ],
    }
    locations = [f.location for f in models.models_list_shape(_list(body))]
    assert "/has_more" in locations and "/data/0/display_name" in locations


def test_list_shape_not_json() -> None:
    exchange = http_exchange(
        b"<html></html>", content_type="text/html", request=None, url=MODELS_URL
    )
    assert summary(models.models_list_shape(exchange)) == [
        ("anthropic.models.list-shape", "must", "")
    ]


def test_configured_model_missing() -> None:
    found = models.configured_models_listed(_list(), ["claude-opus-4-1"])
    assert summary(found) == [("anthropic.models.configured-listed", "should", "/data")]
    assert "'claude-opus-4-1'" in found[0].message


def test_configured_model_may_be_on_a_later_page() -> None:
    body = sample("models_list.json")
    body["has_more"] = True
    assert models.configured_models_listed(_list(body), ["claude-opus-4-1"]) == []


def test_absent_endpoint_is_info() -> None:
    clean = json_exchange("error_not_found.json", status=404, request=None, url=MODELS_URL)
    found = models.models_endpoint_offered(clean)
    assert summary(found) == [("anthropic.models.absent", "info", "")]
    assert "with the error envelope ('not_found_error')" in found[0].message
    bare = http_exchange(
        b"Not Found", status=404, content_type="text/plain", request=None, url=MODELS_URL
    )
    assert "without the error envelope" in models.models_endpoint_offered(bare)[0].message
