"""A client's outcome: its reading against what the suite read."""

from __future__ import annotations

from chatconform.clients.outcome import outcome, worst
from chatconform.clients.reading import Expected, Reading, ToolCall

ANSWER = Expected(
    status=200,
    text="1, 2, 3",
    tool_calls=(ToolCall("call_1", "get_weather", {"city": "Paris"}, '{"city":"Paris"}'),),
    finish_reason="tool_calls",
    input_tokens=10,
    output_tokens=5,
)


def read(**fields: object) -> Reading:
    base: dict[str, object] = {
        "client": "c",
        "call": "create",
        "text": "1, 2, 3",
        "tool_calls": ANSWER.tool_calls,
        "finish_reason": "tool_calls",
        "input_tokens": 10,
        "output_tokens": 5,
    }
    return Reading(**{**base, **fields})  # type: ignore[arg-type]


def test_the_same_answer_works() -> None:
    assert outcome(ANSWER, read()).kind == "works"
    # The AI SDK's words for the same meaning.
    assert outcome(ANSWER, read(finish_reason="tool-calls")).kind == "works"


def test_each_difference_is_said() -> None:
    cases = {
        "empty text": read(text=""),
        "repeated text": read(text="11, 1, 21, 2, 3"),
        "text cut": read(text="1, 2"),
        "missing or merged tool calls": read(tool_calls=()),
        "cannot parse": read(tool_calls=(ToolCall("call_1", "get_weather", None, "{"),)),
        "no id": read(tool_calls=(ToolCall(None, "get_weather", {"city": "Paris"}),)),
        "finish reason 'stop'": read(finish_reason="stop"),
        "finish reason lost": read(finish_reason=None),
        "usage lost": read(input_tokens=None, output_tokens=None),
    }
    for said, reading in cases.items():
        result = outcome(ANSWER, reading)
        assert result.kind == "wrong" and said in result.detail, (said, result)


def test_an_answer_without_finish_reason_is_wrong_even_when_read_faithfully() -> None:
    cut = Expected(status=200, text="1, 2")
    result = outcome(cut, Reading("c", "stream", text="1, 2"))
    assert result.kind == "wrong" and "cut short" in result.detail


def test_raising_breaks_and_never_returning_hangs() -> None:
    raised = outcome(ANSWER, Reading("c", "stream", error_type="TypeError", error_message="x"))
    assert (raised.kind, raised.detail) == ("breaks", "TypeError: x")
    assert outcome(ANSWER, Reading("c", "stream", hung=True)).kind == "hangs"


def test_an_error_status_works_with_the_typed_error_and_the_providers_message() -> None:
    error = Expected(status=404, error_message="The model `x` does not exist")
    typed = Reading(
        "c",
        "create",
        error_type="NotFoundError",
        error_message="404 {'message': 'The model `x` does not exist'}",
        status=404,
    )
    assert outcome(error, typed).kind == "works"
    # Known by its class's name when the client gives no status.
    unnumbered = Reading(
        "c", "create", error_type="NotFoundError", error_message="The model `x` does not exist"
    )
    assert outcome(error, unnumbered).kind == "works"
    generic = Reading(
        "c",
        "create",
        error_type="NotFoundError",
        error_message="404 status code (no body)",
        status=404,
    )
    assert outcome(error, generic).kind == "wrong"
    other = Reading("c", "create", error_type="JSONDecodeError", error_message="Expecting value")
    assert outcome(error, other).kind == "breaks"
    assert outcome(error, Reading("c", "create", text="")).kind == "wrong"


def test_a_request_the_client_refused_to_send_tells_nothing() -> None:
    refused = Reading("c", "create", error_type="InvalidPromptError", sent=False)
    assert outcome(ANSWER, refused).kind == "n/a"


def test_the_worst_outcome_wins() -> None:
    assert worst(["works", "wrong", "works"]) == "wrong"
    assert worst(["wrong", "hangs", "breaks"]) == "hangs"
    assert worst([]) == "n/a"
