"""Tests of replay (chatconform.replay): a case's requests answered from the archive."""

from __future__ import annotations

import json

from chatconform import archive
from chatconform.exchange import Exchange, RecordedRequest
from chatconform.replay import NOT_ARCHIVED, ReplayClient

BASE = "http://provider.test/v1"


def entry(body: dict, answer: dict) -> dict:
    sent = RecordedRequest("POST", f"{BASE}/chat/completions", {}, json.dumps(body).encode())
    exchange = Exchange(request=sent, status=200, body=json.dumps(answer).encode())
    return archive.exchange_record(exchange)


def replay(cases: dict[str, list[dict]]) -> ReplayClient:
    return ReplayClient(archive.Archive(header={}, cases=cases), BASE + "/")


def test_a_case_gets_its_own_answers_in_order() -> None:
    ask = {"model": "m", "messages": []}
    client = replay({"c/1": [entry(ask, {"n": 1}), entry(ask, {"n": 2})]}).for_case("c/1")
    first = client.request("POST", "chat/completions", json=ask)
    second = client.request("POST", "/chat/completions", json=ask)
    assert (first.json(), second.json()) == ({"n": 1}, {"n": 2})
    assert client.base_url == BASE


def test_a_request_another_case_sent_gets_that_answer() -> None:
    calibration = {"model": "m", "messages": [{"role": "user", "content": "2+2"}]}
    client = replay({"c/1": [entry(calibration, {"n": 4})], "c/2": []})
    for case in ("c/2", "c/2", "c/3"):
        assert client.for_case(case).request(
            "POST", "chat/completions", json=calibration
        ).json() == {"n": 4}


def test_a_request_nobody_sent_has_no_answer() -> None:
    client = replay({"c/1": [entry({"model": "m"}, {"n": 1})]}).for_case("c/1")
    missing = client.request("POST", "chat/completions", json={"model": "other"}, stream=True)
    assert missing.status is None and missing.error == NOT_ARCHIVED and missing.streamed
    assert missing.request.json() == {"model": "other"}


def test_the_same_request_is_not_answered_twice_from_a_cases_own_record() -> None:
    ask = {"model": "m"}
    client = replay({"c/1": [entry(ask, {"n": 1})], "c/2": [entry(ask, {"n": 2})]})
    case = client.for_case("c/2")
    assert case.request("POST", "chat/completions", json=ask).json() == {"n": 2}
    # Its own record is spent: the first recorded answer to the request, anywhere, serves.
    assert case.request("POST", "chat/completions", json=ask).json() == {"n": 1}
