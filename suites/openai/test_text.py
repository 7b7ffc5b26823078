"""OpenAI Chat Completions, non-streamed text: answers, instructions, parameters, usage."""

from __future__ import annotations

from chatconform.case import CaseRecord, Control, case
from chatconform.dialects.openai.checks import completion as checks
from chatconform.dialects.openai.checks import logprobs, text
from chatconform.dialects.openai.checks import usage as usage_checks
from chatconform.dialects.openai.probe import OpenAIProbe, over_cap
from chatconform.dialects.openai.requests import chat_body
from chatconform.dialects.openai.stream import parse
from chatconform.exchange import Exchange
from chatconform.prompts import Prompt, prompt

API = "https://platform.openai.com/docs/api-reference/chat/create"
OBJECT = "https://platform.openai.com/docs/api-reference/chat/object"


def _semantic(
    openai: OpenAIProbe, case: CaseRecord, body: dict, check, accept, control: Control | None
) -> None:
    def attempt() -> list:
        exchange = openai.chat(body)
        openai.expect_success(exchange)
        return check(exchange, accept)

    case.until_accepted(attempt, control)


def _with_control(openai: OpenAIProbe, case: CaseRecord, p: Prompt, check) -> None:
    """A semantic probe whose failure is claimed only if the model answers its plain version."""
    if p.control is None:
        raise ValueError(f"prompt {p.name!r} has no control in fixtures/prompts.toml")
    body = chat_body(p, openai.model("text"), max_tokens=16, temperature=0)
    _semantic(openai, case, body, check, p.accept, openai.control(p.control, "text"))


@case(
    "openai/text/basic-answer",
    title="A trivial prompt is answered",
    requirement="The completion answers the user's message.",
    source=API,
)
def test_basic_answer(openai: OpenAIProbe, case: CaseRecord) -> None:
    p = prompt("arithmetic")
    body = chat_body(p, openai.model("text"), max_tokens=16, temperature=0)
    # This case is the calibration of the others: it has no control of its own.
    _semantic(openai, case, body, text.answers_trivial_prompt, p.accept, None)


@case(
    "openai/text/system-prompt",
    title="The system message is obeyed",
    requirement="Messages with role system give instructions the model follows.",
    source=f"{API}#chat-create-messages",
)
def test_system_prompt(openai: OpenAIProbe, case: CaseRecord) -> None:
    _with_control(openai, case, prompt("system_codeword"), text.follows_system_prompt)


@case(
    "openai/text/developer-role",
    title="The developer message is obeyed",
    requirement="Messages with role developer give instructions the model follows.",
    source=f"{API}#chat-create-messages",
)
def test_developer_role(openai: OpenAIProbe, case: CaseRecord) -> None:
    _with_control(openai, case, prompt("developer_codeword"), text.follows_developer_message)


@case(
    "openai/text/multi-turn",
    title="Earlier turns are used",
    requirement="The model answers given the whole messages array, earlier turns included.",
    source="https://platform.openai.com/docs/guides/conversation-state",
)
def test_multi_turn(openai: OpenAIProbe, case: CaseRecord) -> None:
    _with_control(openai, case, prompt("multi_turn"), text.uses_earlier_turns)


@case(
    "openai/text/content-parts",
    title="Content as an array of text parts is read",
    requirement="A message's content may be an array of content parts; text parts are text.",
    source="openai-openapi: ChatCompletionRequestUserMessage.content",
)
def test_content_parts(openai: OpenAIProbe, case: CaseRecord) -> None:
    _with_control(openai, case, prompt("content_parts"), text.reads_content_parts)


@case(
    "openai/text/sampling-params",
    title="temperature and top_p are accepted",
    requirement="temperature (0-2) and top_p (0-1) are accepted sampling parameters.",
    source=f"{API}#chat-create-temperature",
)
def test_sampling_params(openai: OpenAIProbe, case: CaseRecord) -> None:
    p = prompt("arithmetic")
    body = chat_body(p, openai.model("text"), max_tokens=16, temperature=0.2, top_p=0.9)
    # The plain version is the same prompt without the sampling parameters.
    control = openai.control(p, "text")
    _semantic(openai, case, body, text.answers_trivial_prompt, p.accept, control)


def _max_tokens_case(openai: OpenAIProbe, case: CaseRecord, param: str) -> None:
    if param != openai.provider.token_param:
        # The config says the provider's models take the other parameter (token_param):
        # a clean refusal of this one is a missing optional feature, not a failure.
        case.optional = param
    # Streamed first, so that the suite counts what arrives and cuts a provider that
    # ignores the cap, instead of waiting (and paying) for a whole context of tokens.
    body = chat_body(prompt("counting"), openai.model("text"), temperature=0, **{param: 5})
    streamed = openai.chat({**body, "stream": True}, cut=over_cap(5), as_given=True)
    openai.expect_success(streamed)
    openai.check_stream(streamed)
    if case.add(text.max_tokens_honoured(streamed, 5, parse(streamed).usage()), streamed):
        return
    # Honoured in a stream: the plain request, which this capability is about, is now
    # safe to send, and judged too (with its usage).
    plain = openai.chat(body, as_given=True)
    openai.expect_success(plain)
    usage = (plain.json_or_none() or {}).get("usage")
    case.add(text.max_tokens_honoured(plain, 5, usage), plain)


@case(
    "openai/text/max-tokens",
    title="max_tokens is honoured",
    requirement="At most max_tokens tokens are generated; a cut completion has finish_reason length.",
    source=f"{API}#chat-create-max_tokens",
    round_trips=2,
)
def test_max_tokens(openai: OpenAIProbe, case: CaseRecord) -> None:
    _max_tokens_case(openai, case, "max_tokens")


@case(
    "openai/text/max-completion-tokens",
    title="max_completion_tokens is honoured",
    requirement="max_completion_tokens bounds the generated tokens like max_tokens, which it replaces.",
    source=f"{API}#chat-create-max_completion_tokens",
    round_trips=2,
)
def test_max_completion_tokens(openai: OpenAIProbe, case: CaseRecord) -> None:
    _max_tokens_case(openai, case, "max_completion_tokens")


# Numbers the counting probe writes after the stop sequence "5".
# Numbers the counting probe writes after the stop sequence "5".
AFTER_STOP = tuple(str(n) for n in range(6, 31))


def _stop_case(openai: OpenAIProbe, case: CaseRecord, stop: str | list[str]) -> None:
    body = chat_body(
        prompt("counting"), openai.model("text"), max_tokens=80, temperature=0, stop=stop
    )
    for n in range(1, case.max_attempts + 1):
        case.attempts = n
        exchange = openai.chat(body)
        openai.expect_success(exchange)
        findings = case.add(text.stop_honoured(exchange, "5", "4", AFTER_STOP), exchange)
        # The stop sequence (or what follows it) in the output is proof: no retry.
        if findings or text.reaches(exchange, "4"):
            return
    case.inconclusive(
        "the answer never reached the stop sequence (no '4' before it): stop not judged"
    )


@case(
    "openai/text/stop",
    title="A stop string is honoured",
    requirement="Generation stops before a stop sequence, which is not included; finish_reason stop.",
    source=f"{API}#chat-create-stop",
)
def test_stop(openai: OpenAIProbe, case: CaseRecord) -> None:
    _stop_case(openai, case, "5")


@case(
    "openai/text/stop-list",
    title="A list of stop sequences is honoured",
    requirement="stop may be a list of up to 4 sequences; generation stops at the first one met.",
    source=f"{API}#chat-create-stop",
)
def test_stop_list(openai: OpenAIProbe, case: CaseRecord) -> None:
    _stop_case(openai, case, ["5", "twenty"])


@case(
    "openai/text/n-choices",
    title="n: 2 gives two choices",
    requirement="n choices are generated, indexed 0..n-1, or the request is refused cleanly.",
    source=f"{API}#chat-create-n",
    optional="n",
)
def test_n_choices(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = chat_body(
        prompt("arithmetic"), openai.model("text"), max_tokens=16, temperature=0.7, n=2
    )
    exchange = openai.chat(body)
    openai.expect_success(exchange)
    case.add(text.n_choices_honoured(exchange, 2), exchange)


@case(
    "openai/text/logprobs",
    title="logprobs: true gives the log probability of each token",
    requirement="With logprobs true and top_logprobs 2, logprobs.content lists each token with its logprob (<= 0), bytes and up to 2 top_logprobs; or the request is refused cleanly.",
    source=f"{API}#chat-create-logprobs",
    optional="logprobs",
)
def test_logprobs(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = chat_body(
        prompt("arithmetic"),
        openai.model("text"),
        max_tokens=16,
        temperature=0,
        logprobs=True,
        top_logprobs=2,
    )
    exchange = openai.chat(body)
    openai.expect_success(exchange)
    case.add(logprobs.logprobs_as_requested(exchange, 2), exchange)


@case(
    "openai/text/seed",
    title="seed is accepted",
    requirement="seed (an integer) is accepted for best-effort deterministic sampling, and the prompt is still answered; or the request is refused cleanly.",
    source=f"{API}#chat-create-seed",
    optional="seed",
)
def test_seed(openai: OpenAIProbe, case: CaseRecord) -> None:
    p = prompt("arithmetic")
    body = chat_body(p, openai.model("text"), max_tokens=16, temperature=0, seed=7)
    # The plain version is the same prompt without seed.
    control = openai.control(p, "text")
    _semantic(openai, case, body, text.answers_trivial_prompt, p.accept, control)


@case(
    "openai/text/response-schema",
    title="The response matches the chat.completion schema",
    requirement="The response is a chat.completion object with the official fields and types.",
    source="openai-openapi: CreateChatCompletionResponse",
)
def test_response_schema(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = chat_body(prompt("arithmetic"), openai.model("text"), max_tokens=16)
    exchange = openai.chat(body)
    openai.expect_success(exchange)
    case.add(checks.response_matches_schema(exchange), exchange)
    case.add(checks.finish_reason_in_enum(exchange), exchange)
    # usage null or absent is openai.usage.present's (should), not a schema must.
    case.add(checks.usage_present(exchange), exchange)
    case.add(checks.service_tier_official(exchange), exchange)
    # What clients tolerate is a should, at the place where the schema reports it.
    case.add(checks.null_fields_present(exchange), exchange)
    case.add(checks.optional_fields_not_null(exchange), exchange)


@case(
    "openai/text/created-timestamp",
    title="created is a Unix time in seconds",
    requirement="created is the Unix timestamp (in seconds) of when the completion was created.",
    source=f"{OBJECT}#chat/object-created",
)
def test_created_timestamp(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = openai.chat(chat_body(prompt("arithmetic"), openai.model("text"), max_tokens=16))
    openai.expect_success(exchange)
    case.add(checks.created_in_seconds(exchange), exchange)


@case(
    "openai/text/model-echo",
    title="The response names the requested model",
    requirement="model is the model used: the requested one or a dated snapshot of it.",
    source=f"{OBJECT}#chat/object-model",
)
def test_model_echo(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = openai.chat(chat_body(prompt("arithmetic"), openai.model("text"), max_tokens=16))
    openai.expect_success(exchange)
    case.add(checks.model_matches_request(exchange), exchange)


@case(
    "openai/text/usage",
    title="usage is present, consistent and plausible",
    requirement="usage counts prompt and completion tokens; total = prompt + completion.",
    source=f"{OBJECT}#chat/object-usage",
)
def test_usage(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchange = openai.chat(chat_body(prompt("arithmetic"), openai.model("text"), max_tokens=16))
    openai.expect_success(exchange)
    usage = (exchange.json_or_none() or {}).get("usage")
    case.add(checks.usage_present(exchange), exchange)
    case.add(checks.usage_total_consistent(usage), exchange)
    case.add(
        checks.usage_plausible(usage, exchange.request.json(), text.answer_text(exchange)),
        exchange,
    )


# --- usage honesty beyond one response ----------------------------------------------------


def _note_uncounted(case: CaseRecord, *exchanges: Exchange) -> None:
    """Say why usage was not compared: an answer without a count is openai/text/usage's
    (or the stream's include-usage) finding, not this case's."""
    if not all(usage_checks.prompt_count(e).tokens for e in exchanges):
        case.note("not compared: an answer reported no prompt_tokens (or 0)")


@case(
    "openai/text/usage-streamed",
    title="Streamed usage matches the non-streamed usage",
    requirement="The same request reports the same prompt_tokens streamed (include_usage) and not.",
    source=f"{API}#chat-create-stream_options",
    round_trips=2,
)
def test_usage_streamed(openai: OpenAIProbe, case: CaseRecord) -> None:
    body = chat_body(prompt("arithmetic"), openai.model("text"), max_tokens=16, temperature=0)
    plain = openai.chat(body)
    openai.expect_success(plain)
    streamed = openai.chat({**body, "stream": True, "stream_options": {"include_usage": True}})
    openai.expect_success(streamed)
    openai.check_stream(streamed)
    _note_uncounted(case, plain, streamed)
    case.add(usage_checks.streamed_usage_matches(plain, streamed), streamed)


@case(
    "openai/text/usage-rate",
    title="prompt_tokens grows with the prompt at a tokenizer's rate",
    requirement="A longer prompt counts more prompt_tokens: about one per 4 characters of "
    "English (one per 2 to one per 8).",
    source=f"{OBJECT}#chat/object-usage",
    round_trips=2,
)
def test_usage_rate(openai: OpenAIProbe, case: CaseRecord) -> None:
    exchanges = []
    for name in ("arithmetic", "prose_arithmetic"):
        exchange = openai.chat(
            chat_body(prompt(name), openai.model("text"), max_tokens=16, temperature=0)
        )
        openai.expect_success(exchange)
        exchanges.append(exchange)
    short, long = exchanges
    _note_uncounted(case, short, long)
    case.add(usage_checks.usage_follows_prompt(short, long), long)
    case.add(usage_checks.prompt_rate_plausible(short, long), long)
