"""Checks of GET /models (chatconform.dialects.openai.checks.models)."""

from __future__ import annotations

import json

import pytest
from check_helpers import MODELS_URL, http_exchange, json_exchange, summary
from check_helpers import read as read_sample

from chatconform.dialects.openai.checks import models
from chatconform.exchange import Exchange


def _models(name: str, content_type: str = "application/json") -> Exchange:
    return json_exchange(name, request=None, url=MODELS_URL, content_type=content_type)


# --- models_list_shape --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["models_list.json", "bodies/models_list_dated_snapshots.json"])
def test_list_shape_accepts_a_list_object(name: str) -> None:
    assert models.models_list_shape(_models(name)) == []


def test_list_shape_flags_a_bare_array() -> None:
    findings = models.models_list_shape(_models("bodies/models_bare_array.json"))
    assert summary(findings) == [("openai.models.list-shape", "must", "")]
    assert "is not of type 'object'" in findings[0].message


def test_list_shape_flags_a_body_that_is_not_json() -> None:
    findings = models.models_list_shape(
        _models("bodies/response_html_gateway_page.html", "text/html")
    )
    assert summary(findings) == [("openai.models.list-shape", "must", "")]
    assert "not JSON" in findings[0].message


def test_list_shape_flags_a_chat_completion() -> None:
    findings = models.models_list_shape(_models("response_basic.json"))
    assert findings
    assert {f.rule for f in findings} == {"openai.models.list-shape"}
    assert {str(f.severity) for f in findings} == {"must"}


def test_list_shape_leaves_missing_created_and_owned_by_to_model_fields() -> None:
    exchange = _models("bodies/models_list_fields_missing.json")
    assert models.models_list_shape(exchange) == []
    findings = models.model_fields_present(exchange)
    assert summary(findings) == [
        ("openai.models.model-fields", "should", "/data/1/created"),
        ("openai.models.model-fields", "should", "/data/1/owned_by"),
    ]
    assert "no created on 'local-llama' and 1 more (of 3 models)" in findings[0].message
    assert "no owned_by on 'local-llama' (of 3 models)" in findings[1].message


def test_list_shape_still_flags_a_created_that_is_not_an_integer() -> None:
    payload = json.loads(read_sample("models_list.json"))
    payload["data"][0]["created"] = "2024-07-18"
    exchange = http_exchange(json.dumps(payload).encode(), request=None, url=MODELS_URL)
    assert summary(models.models_list_shape(exchange)) == [
        ("openai.models.list-shape", "must", "/data/0/created")
    ]
    assert models.model_fields_present(exchange) == []


@pytest.mark.parametrize("name", ["models_list.json", "bodies/models_list_dated_snapshots.json"])
def test_model_fields_accepts_complete_models(name: str) -> None:
    assert models.model_fields_present(_models(name)) == []


# --- configured_models_listed -------------------------------------------------------------------


@pytest.mark.parametrize(
    "configured",
    [
        ["gpt-4o-mini"],
        ["gpt-4o-mini", "local-llama"],
        ["openai/gpt-4o-mini"],
        ["gpt-4o-mini-2024-07-18"],  # a snapshot of a listed alias
        [],
    ],
)
def test_configured_listed_accepts_listed_models(configured: list[str]) -> None:
    assert models.configured_models_listed(_models("models_list.json"), configured) == []


@pytest.mark.parametrize(
    "configured", [["gpt-4o"], ["gpt-4o-mini"], ["claude-sonnet-4"], ["claude-sonnet-4-20250514"]]
)
def test_configured_listed_accepts_a_dated_snapshot_for_an_alias(configured: list[str]) -> None:
    exchange = _models("bodies/models_list_dated_snapshots.json")
    assert models.configured_models_listed(exchange, configured) == []


def test_configured_listed_flags_a_missing_model() -> None:
    findings = models.configured_models_listed(_models("models_list.json"), ["gpt-4o"])
    assert summary(findings) == [("openai.models.configured-listed", "should", "/data")]
    assert "'gpt-4o' among the listed models" in findings[0].message
    assert "gpt-4o-mini, local-llama" in findings[0].message


def test_configured_listed_names_every_missing_model_in_one_finding() -> None:
    # Findings deduplicate on (rule, location): one finding must carry every missing model.
    configured = ["gpt-4o", "gpt-4o-mini", "o3"]
    findings = models.configured_models_listed(_models("models_list.json"), configured)
    assert summary(findings) == [("openai.models.configured-listed", "should", "/data")]
    assert "'gpt-4o'" in findings[0].message
    assert "'o3'" in findings[0].message
    assert "'gpt-4o-mini'" not in findings[0].message.split("Received")[0]


def test_configured_listed_reads_a_bare_array_too() -> None:
    # The shape is models_list_shape's to judge; the content is still readable.
    exchange = _models("bodies/models_bare_array.json")
    assert models.configured_models_listed(exchange, ["gpt-4o-mini"]) == []
    findings = models.configured_models_listed(exchange, ["gpt-4o"])
    assert summary(findings) == [("openai.models.configured-listed", "should", "/data")]


def test_configured_listed_ignores_a_body_without_a_list() -> None:
    exchange = _models("bodies/response_html_gateway_page.html", "text/html")
    assert models.configured_models_listed(exchange, ["gpt-4o"]) == []


def test_configured_listed_says_when_more_than_ten_are_listed() -> None:
    body = {"object": "list", "data": [{"id": f"model-{n}", "object": "model"} for n in range(12)]}
    exchange = Exchange(
        request=_models("models_list.json").request,
        status=200,
        headers={"content-type": "application/json"},
        body=json.dumps(body).encode(),
    )
    findings = models.configured_models_listed(exchange, ["gpt-4o"])
    assert "and 2 more" in findings[0].message


# --- listed_ids ---------------------------------------------------------------------------------


def test_listed_ids_reads_a_list_object_and_a_bare_array() -> None:
    assert models.listed_ids(_models("models_list.json")) == ["gpt-4o-mini", "local-llama"]
    assert models.listed_ids(_models("bodies/models_bare_array.json")) == [
        "gpt-4o-mini",
        "local-llama",
    ]
    assert models.listed_ids(_models("bodies/response_html_gateway_page.html", "text/html")) is None


# --- listed_model_retrieved and the fields of a retrieved model -------------------------------

RETRIEVE_URL = f"{MODELS_URL}/gpt-4o-mini"


def _retrieved(name: str, status: int = 200) -> Exchange:
    return json_exchange(name, request=None, url=RETRIEVE_URL, status=status)


def test_retrieve_accepts_the_model_object() -> None:
    exchange = _retrieved("model.json")
    assert models.listed_model_retrieved(exchange, "gpt-4o-mini") == []
    assert models.model_fields_present(exchange) == []


def test_retrieve_flags_a_404_for_a_listed_model() -> None:
    exchange = _retrieved("bodies/error_route_not_found.json", status=404)
    findings = models.listed_model_retrieved(exchange, "gpt-4o-mini")
    assert summary(findings) == [("openai.models.retrieve", "must", "")]
    assert "Received: HTTP 404: Invalid URL (GET /v1/models/gpt-4o-mini)" in findings[0].message


def test_retrieve_flags_another_model_object() -> None:
    findings = models.listed_model_retrieved(_retrieved("model.json"), "gpt-4o")
    assert summary(findings) == [("openai.models.retrieve", "must", "/id")]


def test_retrieve_flags_a_list_instead_of_one_model() -> None:
    findings = models.listed_model_retrieved(_retrieved("models_list.json"), "gpt-4o-mini")
    assert findings
    assert {f.rule for f in findings} == {"openai.models.retrieve"}


def test_retrieve_leaves_other_refusals_to_the_refusal_policy() -> None:
    exchange = _retrieved("error_envelope.json", status=405)
    assert models.listed_model_retrieved(exchange, "gpt-4o-mini") == []


def test_a_retrieved_model_without_created_and_owned_by_is_left_to_model_fields() -> None:
    exchange = _retrieved("bodies/model_fields_missing.json")
    assert models.listed_model_retrieved(exchange, "gpt-4o-mini") == []
    assert summary(models.model_fields_present(exchange)) == [
        ("openai.models.model-fields", "should", "/created"),
        ("openai.models.model-fields", "should", "/owned_by"),
    ]
