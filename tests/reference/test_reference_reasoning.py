"""The reference's reasoning model: hidden reasoning, counted, as long as the effort asks."""

from __future__ import annotations

from reasoning_helpers import QUESTION, REASONING_MODEL, delta_kinds, reply
from reference_helpers import MODEL, Api


def test_the_reasoning_model_is_listed_and_answers_with_hidden_reasoning(api: Api) -> None:
    assert REASONING_MODEL in [m["id"] for m in api.get("/v1/models").json()["data"]]
    body = reply(api)
    assert body["model"] == REASONING_MODEL
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "5", "refusal": None}
    usage = body["usage"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    assert reasoning > 0
    assert usage["completion_tokens"] == reasoning + 1


def test_more_effort_is_more_reasoning(api: Api) -> None:
    spent = [
        reply(api, reasoning_effort=effort)["usage"]["completion_tokens_details"][
            "reasoning_tokens"
        ]
        for effort in ("low", "medium", "high")
    ]
    assert spent == sorted(spent) and len(set(spent)) == 3


def test_reasoning_spends_the_cap_first(api: Api) -> None:
    response = api.chat(QUESTION, model=REASONING_MODEL, max_tokens=10).json()
    choice = response["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == ("", "length")
    assert response["usage"]["completion_tokens_details"]["reasoning_tokens"] == 10


def test_streamed_the_reasoning_stays_hidden(api: Api) -> None:
    assert delta_kinds(api) == ["content"]


def test_the_default_model_refuses_reasoning_effort(api: Api) -> None:
    response = api.chat(QUESTION, model=MODEL, reasoning_effort="low")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "reasoning_effort"
    assert "completion_tokens_details" not in api.chat(QUESTION).json()["usage"]
