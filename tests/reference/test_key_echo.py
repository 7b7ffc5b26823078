"""The key-echo faults echo the key only where no verdict can depend on it."""

from __future__ import annotations

from typing import Any

import pytest
from key_echo_helpers import KEY, WIRE_EFFECTS, content
from reference_helpers import COUNT_TO_5, Api
from vision_helpers import inline, with_images

WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}
# Requests whose answers the suite judges word by word, or that carry tools or images.
UNTOUCHED: dict[str, dict[str, Any]] = {
    "tools offered": {"tools": [WEATHER_TOOL]},
    "image": {"messages": with_images("What colour is the shape?", inline("red-circle"))},
    "cut by max_tokens": {"messages": COUNT_TO_5, "max_tokens": 3},
    "cut by stop": {"messages": COUNT_TO_5, "stop": " 4"},
}


@pytest.mark.parametrize("fault", sorted(WIRE_EFFECTS))
@pytest.mark.parametrize("request_params", UNTOUCHED.values(), ids=UNTOUCHED.keys())
def test_answers_the_suite_judges_closely_are_as_without_the_fault(
    fault: str, request_params: dict[str, Any]
) -> None:
    echoed = content(Api(fault), **request_params)
    assert echoed == content(Api(), **request_params)
    assert echoed is None or KEY not in echoed
