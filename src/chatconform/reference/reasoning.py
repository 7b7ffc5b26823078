"""The reference's reasoning model: it thinks before it answers, as the o-series do.

The official API keeps the reasoning hidden and counts it in
``usage.completion_tokens_details.reasoning_tokens`` (within ``completion_tokens``);
``reasoning_effort`` says how long to think. Vendors that show the reasoning put it in
a field of their own (``reasoning_content``): only the faults here do that.
"""

from __future__ import annotations

from chatconform.reference.faults import FaultSet
from chatconform.reference.thinking import thought

# The reasoning model is the served model's sibling: "reference-1-reasoning".
SUFFIX = "-reasoning"
# Lines of working per effort; a request without reasoning_effort thinks at medium.
EFFORT_STEPS = {"none": 0, "minimal": 0, "low": 1, "medium": 2, "high": 3, "xhigh": 4, "max": 4}
DEFAULT_EFFORT = "medium"
# The field vendors (DeepSeek, vLLM, SiliconFlow) show the reasoning in.
VENDOR_FIELD = "reasoning_content"


def reasoning_model(model: str) -> str:
    """The id of the reasoning model served beside ``model``."""
    return f"{model}{SUFFIX}"


def reasoning(question: str, answer: str, effort: object) -> str:
    """What the model thinks before answering ``question`` with ``answer``."""
    steps = EFFORT_STEPS.get(effort if isinstance(effort, str) else DEFAULT_EFFORT, 2)
    working = [f"Step {n}: I check the question again." for n in range(1, steps + 1)]
    return "\n".join([thought(question, ()), *working, f"So the answer is {answer.strip()}."])


def shown_in(faults: FaultSet) -> str | None:
    """The message field the reasoning is shown in, or None where it stays hidden."""
    if "reasoning-vendor-fields" in faults or "reasoning-after-content" in faults:
        return VENDOR_FIELD
    return None


def in_content(reasoning_text: str, text: str) -> str:
    """The content of a server without a reasoning parser: the thought in <think> tags."""
    return f"<think>\n{reasoning_text}\n</think>\n\n{text}"
