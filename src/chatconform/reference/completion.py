"""What one chat completion request produces, and its non-streamed chat.completion object."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

from chatconform.reference import reasoning as reasoning_model
from chatconform.reference.faults import FaultSet
from chatconform.reference.leaks import with_key_echo
from chatconform.reference.logprobs import choice_logprobs
from chatconform.reference.model import message_text, respond, token_pieces, tokens
from chatconform.reference.model import prompt_tokens as count_prompt_tokens
from chatconform.reference.structured import structured_text
from chatconform.reference.tools import (
    FunctionCall,
    as_text,
    call_tokens,
    followed_tool_choice,
    message_tool_calls,
    plan_calls,
    without_tool_turns,
)
from chatconform.reference.usage_faults import CONSTANT_USAGE, INFLATION, estimated

SYSTEM_FINGERPRINT = "fp_reference"
# A vendor's own processing tier, outside the official ones (service-tier-vendor).
VENDOR_SERVICE_TIER = "on_demand"
# The one answer of a model that cannot follow a prompt (fixed-answer).
FIXED_ANSWER = "I am a test model and I always give this same answer to every message."
# What a model that ignores its cap writes until its context (a small one) is full.
RUNAWAY_WORDS = 4096
SUBSTITUTE_MODEL = "gpt-3.5-turbo"


@dataclass(frozen=True)
class Choice:
    index: int
    text: str
    finish_reason: str
    tool_calls: tuple[FunctionCall, ...] = ()
    # What a reasoning model thought before answering: hidden, but counted.
    reasoning: str = ""


@dataclass(frozen=True)
class Completion:
    """One answered request; streamed and non-streamed responses are both rendered from it."""

    id: str
    created: int
    model: str
    choices: tuple[Choice, ...]
    prompt_tokens: int
    # Whether a reasoning model answered: its usage details count the reasoning.
    reasons: bool = False
    # How many alternatives per token the request asked for; None: no logprobs asked.
    top_logprobs: int | None = None

    @property
    def reasoning_tokens(self) -> int:
        return sum(len(tokens(choice.reasoning)) for choice in self.choices)

    @property
    def completion_tokens(self) -> int:
        return self.reasoning_tokens + sum(
            len(tokens(choice.text)) + call_tokens(choice.tool_calls) for choice in self.choices
        )


def new_id() -> str:
    return f"chatcmpl-{secrets.token_hex(12)}"


def timestamp(faults: FaultSet) -> int:
    if "created-in-ms" in faults:
        return int(time.time() * 1000)
    return int(time.time())


def seen_messages(messages: list[dict], faults: FaultSet) -> list[dict]:
    """The conversation as it reaches the model, after any fault that loses part of it."""
    seen = [message for message in messages if isinstance(message, dict)]
    if "system-prompt-dropped" in faults:
        seen = [message for message in seen if message.get("role") not in ("system", "developer")]
    if "history-dropped" in faults:
        users = [message for message in seen if message.get("role") == "user"]
        seen = users[-1:]
    if "tools-dropped" in faults:
        seen = without_tool_turns(seen)
    if "content-parts-dropped" in faults:
        seen = [
            message if isinstance(message.get("content"), str) else {**message, "content": ""}
            for message in seen
        ]
    return seen


def stop_strings(stop: Any) -> list[str]:
    if isinstance(stop, str):
        return [stop] if stop else []
    if isinstance(stop, list):
        return [item for item in stop if isinstance(item, str) and item]
    return []


def limit(text: str, max_tokens: int | None, stops: list[str]) -> tuple[str, str]:
    """The text cut at max_tokens and then at the earliest stop string, with its finish_reason."""
    finish_reason = "stop"
    if max_tokens is not None:
        kept = tokens(text)
        if len(kept) > max_tokens:
            text = "".join(kept[:max_tokens])
            finish_reason = "length"
    cuts = [found for stop in stops if (found := text.find(stop)) >= 0]
    if cuts:
        text = text[: min(cuts)]
        finish_reason = "stop"
    return text, finish_reason


def _think_within(
    thought: str, text: str, max_tokens: int | None, stops: list[str]
) -> tuple[str, str, str]:
    """(thought, text, finish_reason): reasoning spends the cap first, as on o-series
    models; a cap it exhausts leaves no answer."""
    if not thought:
        return "", *limit(text, max_tokens, stops)
    spent = len(tokens(thought))
    if max_tokens is not None and spent >= max_tokens:
        return "".join(tokens(thought)[:max_tokens]), "", "length"
    return thought, *limit(text, None if max_tokens is None else max_tokens - spent, stops)


def _question(messages: list[dict]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    return message_text(users[-1]) if users else ""


def answer(
    body: dict[str, Any], served_model: str, faults: FaultSet, *, api_key: str = ""
) -> Completion:
    """Run the model on a validated request body (``api_key``: the key it was called with);
    ``served_model`` thinks first when it is the reasoning model."""
    raw_messages = body.get("messages")
    messages = seen_messages(raw_messages if isinstance(raw_messages, list) else [], faults)
    text = "" if "empty-content" in faults else respond(messages)
    if "fixed-answer" in faults:
        text = FIXED_ANSWER
    reasons = served_model.endswith(reasoning_model.SUFFIX)
    thought = ""
    if reasons:
        thought = reasoning_model.reasoning(_question(messages), text, body.get("reasoning_effort"))
    text = structured_text(body, text, faults) or text
    # Before the limits: a key echoed past max_tokens or a stop string is cut like any text.
    text = with_key_echo(text, body, api_key, faults)
    max_tokens = body.get("max_completion_tokens")
    if max_tokens is None:
        max_tokens = body.get("max_tokens")
    if "max-tokens-ignored" in faults:
        max_tokens = None
    if "max-completion-tokens-runaway" in faults and "max_completion_tokens" in body:
        text = " ".join(str(n) for n in range(1, RUNAWAY_WORDS + 1))
        max_tokens = None
    stops = [] if "stop-ignored" in faults else stop_strings(body.get("stop"))
    if thought and "reasoning-in-content" in faults:
        thought, text = "", reasoning_model.in_content(thought, text)
    thought, text, finish_reason = _think_within(thought, text, max_tokens, stops)
    n = 1 if "n-ignored" in faults else body.get("n") or 1
    named = isinstance(followed_tool_choice(body, faults), dict)
    return Completion(
        id=new_id(),
        created=timestamp(faults),
        model=SUBSTITUTE_MODEL if "model-substituted" in faults else served_model,
        choices=tuple(
            _with_calls(
                Choice(index, text, finish_reason, reasoning=thought),
                *plan_calls(body, messages, faults, max_tokens),
                faults,
                named=named,
            )
            for index in range(n)
        ),
        prompt_tokens=count_prompt_tokens(messages),
        reasons=reasons,
        top_logprobs=(body.get("top_logprobs") or 0) if body.get("logprobs") is True else None,
    )


def _with_calls(
    choice: Choice, calls: list[FunctionCall], cut: bool, faults: FaultSet, *, named: bool
) -> Choice:
    """The choice when the model calls tools: no text, the calls, finish_reason tool_calls
    (stop, as the official API says, when tool_choice ``named`` the function)."""
    if not calls and not cut:
        return choice
    if "tool-call-as-text" in faults:
        return replace(choice, text=as_text(calls), finish_reason="length" if cut else "stop")
    reason = "stop" if named or "tool-finish-reason-stop" in faults else "tool_calls"
    return replace(
        choice, text="", finish_reason="length" if cut else reason, tool_calls=tuple(calls)
    )


def finish_reason_on_wire(reason: str, faults: FaultSet) -> str:
    if reason == "stop" and "finish-reason-nonstandard" in faults:
        return "end_turn"
    return reason


def usage_json(
    completion: Completion, faults: FaultSet, *, streamed: bool = False
) -> dict[str, Any]:
    """usage as the response (or, ``streamed``, the include_usage chunk) reports it."""
    prompt, generated = completion.prompt_tokens, completion.completion_tokens
    if "usage-inflated" in faults:
        prompt *= INFLATION
    if streamed and "usage-stream-differs" in faults:
        prompt = estimated(prompt)
    if "usage-constant" in faults:
        prompt, generated = CONSTANT_USAGE
    if "reasoning-tokens-not-in-completion" in faults:
        generated -= completion.reasoning_tokens
    if "usage-zero" in faults:
        prompt = generated = 0
    total = prompt + generated
    if "usage-total-mismatch" in faults:
        total += 7
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": generated,
        "total_tokens": total,
    }
    if completion.reasons:
        usage["completion_tokens_details"] = {"reasoning_tokens": completion.reasoning_tokens}
    return usage


def completion_json(completion: Completion, faults: FaultSet) -> dict[str, Any]:
    """The chat.completion object, as openai-python's ChatCompletion type reads it."""
    choices = []
    for choice in completion.choices:
        message: dict[str, Any] = {"role": "assistant", "content": choice.text, "refusal": None}
        shown = reasoning_model.shown_in(faults)
        if shown and choice.reasoning:
            message[shown] = choice.reasoning
        if choice.tool_calls:
            message["content"] = None
            message["tool_calls"] = message_tool_calls(choice.tool_calls, faults)
        if "message-role-missing" in faults:
            del message["role"]
        if "optional-fields-null" in faults:
            message = {"tool_calls": None, "function_call": None, **message}
        entry = {
            "index": choice.index,
            "message": message,
            "logprobs": choice_logprobs(token_pieces(choice.text), completion.top_logprobs, faults),
            "finish_reason": finish_reason_on_wire(choice.finish_reason, faults),
        }
        if "refusal-logprobs-absent" in faults:
            # The keys left out are those that would be null: asked-for logprobs stay.
            del message["refusal"]
            if entry["logprobs"] is None:
                del entry["logprobs"]
        choices.append(entry)
    body: dict[str, Any] = {
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": completion.model,
        "system_fingerprint": None if "optional-fields-null" in faults else SYSTEM_FINGERPRINT,
        "choices": choices,
        "usage": usage_json(completion, faults),
    }
    if "usage-missing" in faults:
        del body["usage"]
    if "service-tier-vendor" in faults:
        body["service_tier"] = VENDOR_SERVICE_TIER
    return body
