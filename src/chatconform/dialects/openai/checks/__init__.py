"""Checks of the OpenAI Chat Completions dialect."""

from __future__ import annotations

from collections.abc import Callable

from chatconform.check import REGISTRY, Violation, check, expected
from chatconform.finding import Finding

__all__ = ["REGISTRY", "Violation", "check", "expected", "load_all"]


def load_all() -> dict[str, Callable[..., list[Finding]]]:
    """Import every check module so REGISTRY is complete."""
    from chatconform import refusals  # noqa: F401
    from chatconform.dialects.openai.checks import (  # noqa: F401
        completion,
        embeddings,
        errors,
        logprobs,
        models,
        reasoning,
        streaming,
        structured,
        text,
        tool_streams,
        tools,
        transport,
        usage,
        vision,
    )

    return REGISTRY
