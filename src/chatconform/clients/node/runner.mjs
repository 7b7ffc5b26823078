// Replays recorded exchanges through the Node client libraries, as an application calls them.
//
// Usage: node runner.mjs calls.json
// calls.json: {"calls": [{"id", "client", "call", "dialect", "base_url", "request",
// "timeout_ms"}]}. The calls run one after another, in order (so that a call that blocks the
// process is the one after the last reported); each prints one line to stdout:
// "@chatconform " + JSON {"id", ...what the client returned, or "error_type"/"error_message",
// or "hung"}. Libraries' own console output goes to stderr, never into that protocol.
//
// The server at base_url answers every request with its job's recorded response, whatever
// was sent; the request is still built from the recorded one so that each client takes the
// code path an application's call takes (streamed or not, with the same tools).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const LINE_PREFIX = "@chatconform ";
const MESSAGE_CHARS = 600;
// No real key exists: the replay server ignores it; clients require one to be set.
const API_KEY = "replay-no-key";

for (const method of ["log", "info", "warn", "error", "debug"]) {
  console[method] = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");
}
globalThis.AI_SDK_LOG_WARNINGS = false;

const { default: OpenAI } = await import("openai");
const { generateText, streamText, jsonSchema, tool } = await import("ai");
const { createOpenAI } = await import("@ai-sdk/openai");
const { createAnthropic } = await import("@ai-sdk/anthropic");

const require = createRequire(import.meta.url);
const { VERSION: OPENAI_VERSION } = await import("openai/version");
const version = (name) => require(`${name}/package.json`).version;
const VERSIONS = {
  "openai-node": OPENAI_VERSION,
  "vercel-ai": `${version("ai")} (@ai-sdk/openai ${version("@ai-sdk/openai")}, @ai-sdk/anthropic ${version("@ai-sdk/anthropic")})`,
};

function emit(record) {
  process.stdout.write(LINE_PREFIX + JSON.stringify(record) + "\n");
}

// Bounded on one line; a long message keeps its end too, where validation errors say what
// was wrong after quoting the whole value.
function oneLine(text) {
  const flat = String(text).replace(/\s+/g, " ").trim();
  if (flat.length <= MESSAGE_CHARS) return flat;
  return `${flat.slice(0, MESSAGE_CHARS / 2)} … ${flat.slice(-MESSAGE_CHARS / 2)}`;
}

function errorName(error) {
  if (error === null || typeof error !== "object") return typeof error;
  if (error.name && error.name !== "Error") return error.name;
  return error.constructor?.name || "Error";
}

function shown(value) {
  try {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}

function describeError(error) {
  // Some SDKs throw the provider's error object itself, a plain object: shown as JSON.
  let message = error instanceof Error ? error.message : shown(error);
  // SDK errors wrap the one that says what went wrong (a parse error under a stream error).
  const cause = error?.cause ?? error?.lastError;
  if (cause && cause !== error) message += ` (cause: ${errorName(cause)}: ${cause.message ?? cause})`;
  // The HTTP status a typed API error carries (openai-node's APIError.status, the AI SDK's
  // APICallError.statusCode).
  const status = error?.status ?? error?.statusCode;
  return {
    error_type: errorName(error),
    error_message: oneLine(message),
    status: Number.isInteger(status) ? status : null,
  };
}

// A tool call's arguments as an application reads them: JSON.parse of what the client gave.
function toolCallFromArguments(id, name, value) {
  const raw = typeof value === "string" ? value : value === undefined ? null : String(value);
  try {
    return { id: id ?? null, name: name ?? null, arguments: JSON.parse(raw), parsed: true, raw };
  } catch {
    return { id: id ?? null, name: name ?? null, arguments: null, parsed: false, raw };
  }
}

// ---- openai-node --------------------------------------------------------------------------

// Content as an application that shows it gets it: a non-string shown as its JSON.
function asText(content) {
  if (content === null || content === undefined) return null;
  return typeof content === "string" ? content : JSON.stringify(content);
}

function fromCompletion(completion) {
  const choice = completion.choices[0];
  const message = choice.message;
  return {
    text: asText(message.content),
    tool_calls: (message.tool_calls ?? []).map((call) =>
      toolCallFromArguments(call.id, call.function?.name, call.function?.arguments),
    ),
    finish_reason: choice.finish_reason ?? null,
    input_tokens: completion.usage?.prompt_tokens ?? null,
    output_tokens: completion.usage?.completion_tokens ?? null,
  };
}

// Stream iteration as the openai-node README shows it, with tool-call deltas gathered by
// their `index` as its docs describe.
async function fromChunks(stream) {
  let text = null;
  let finishReason = null;
  let usage = null;
  const calls = new Map();
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    // The first choice (a request for n > 1 gets the others interleaved); a provider that
    // leaves out `index` sends only one.
    const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) continue;
    const delta = choice.delta ?? {};
    if (typeof delta.content === "string") text = (text ?? "") + delta.content;
    for (const part of delta.tool_calls ?? []) {
      const call = calls.get(part.index) ?? { id: undefined, name: "", arguments: "" };
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments !== undefined) call.arguments += part.function.arguments;
      calls.set(part.index, call);
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  return {
    text,
    tool_calls: [...calls.values()].map((c) => toolCallFromArguments(c.id, c.name, c.arguments)),
    finish_reason: finishReason,
    input_tokens: usage?.prompt_tokens ?? null,
    output_tokens: usage?.completion_tokens ?? null,
  };
}

async function openaiNode(spec, signal) {
  const client = new OpenAI({ apiKey: API_KEY, baseURL: spec.base_url, maxRetries: 0 });
  const { stream: _stream, ...body } = spec.request;
  if (spec.call === "create") {
    return fromCompletion(await client.chat.completions.create({ ...body, stream: false }, { signal }));
  }
  if (spec.call === "stream") {
    return await fromChunks(await client.chat.completions.create({ ...body, stream: true }, { signal }));
  }
  if (spec.call === "parse") {
    return fromCompletion(await client.chat.completions.parse(body, { signal }));
  }
  const runner = client.chat.completions.stream(body, { signal });
  return fromCompletion(await runner.finalChatCompletion());
}

// ---- Vercel AI SDK -----------------------------------------------------------------------

function text(content) {
  if (typeof content === "string") return content;
  return (content ?? []).map((part) => part.text ?? "").join("");
}

function imagePart(url) {
  try {
    return { type: "image", image: new URL(url) };
  } catch {
    return { type: "image", image: url };
  }
}

// The recorded Chat Completions messages as AI SDK messages, the way an application that
// holds the same conversation writes them.
function messagesFromOpenAI(messages) {
  const names = new Map();
  return (messages ?? []).map((message) => {
    if (message.role === "system" || message.role === "developer") {
      return { role: "system", content: text(message.content) };
    }
    if (message.role === "assistant") {
      const parts = [];
      if (message.content) parts.push({ type: "text", text: text(message.content) });
      for (const call of message.tool_calls ?? []) {
        names.set(call.id, call.function?.name);
        let input;
        try {
          input = JSON.parse(call.function?.arguments ?? "{}");
        } catch {
          input = {};
        }
        parts.push({ type: "tool-call", toolCallId: call.id, toolName: call.function?.name, input });
      }
      return { role: "assistant", content: parts };
    }
    if (message.role === "tool") {
      const output = { type: "text", value: text(message.content) };
      const toolName = names.get(message.tool_call_id) ?? "tool";
      return {
        role: "tool",
        content: [{ type: "tool-result", toolCallId: message.tool_call_id, toolName, output }],
      };
    }
    if (typeof message.content === "string") return { role: "user", content: message.content };
    const parts = (message.content ?? []).map((part) =>
      part.type === "image_url" ? imagePart(part.image_url?.url) : { type: "text", text: part.text ?? "" },
    );
    return { role: "user", content: parts };
  });
}

function sourceImage(source) {
  if (source?.type === "base64") return { type: "image", image: source.data, mediaType: source.media_type };
  return imagePart(source?.url);
}

function messagesFromAnthropic(request) {
  const messages = [];
  if (request.system) messages.push({ role: "system", content: text(request.system) });
  const names = new Map();
  for (const message of request.messages ?? []) {
    const blocks = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content ?? [];
    if (message.role === "assistant") {
      const parts = blocks.flatMap((block) => {
        if (block.type === "text") return [{ type: "text", text: block.text }];
        if (block.type === "tool_use") {
          names.set(block.id, block.name);
          return [{ type: "tool-call", toolCallId: block.id, toolName: block.name, input: block.input ?? {} }];
        }
        return [];
      });
      messages.push({ role: "assistant", content: parts });
      continue;
    }
    const results = blocks.filter((block) => block.type === "tool_result");
    if (results.length) {
      messages.push({
        role: "tool",
        content: results.map((block) => ({
          type: "tool-result",
          toolCallId: block.tool_use_id,
          toolName: names.get(block.tool_use_id) ?? "tool",
          output: { type: "text", value: text(block.content) },
        })),
      });
    }
    const parts = blocks.flatMap((block) => {
      if (block.type === "text") return [{ type: "text", text: block.text }];
      if (block.type === "image") return [sourceImage(block.source)];
      return [];
    });
    if (parts.length) messages.push({ role: "user", content: parts });
  }
  return messages;
}

// Tools declared from the request's JSON Schemas, without `execute`: the calls come back
// to the application as tool calls, as they do for an agent that runs tools itself.
function toolsFrom(spec) {
  const declared =
    spec.dialect === "anthropic"
      ? (spec.request.tools ?? []).map((t) => [t.name, t.description, t.input_schema])
      : (spec.request.tools ?? []).map((t) => [t.function?.name, t.function?.description, t.function?.parameters]);
  if (!declared.length) return undefined;
  const tools = {};
  for (const [name, description, schema] of declared) {
    tools[name] = tool({ description, inputSchema: jsonSchema(schema ?? { type: "object", properties: {} }) });
  }
  return tools;
}

function toolChoiceFrom(spec) {
  const choice = spec.request.tool_choice;
  if (choice === undefined || choice === null) return undefined;
  if (typeof choice === "string") return choice === "any" ? "required" : choice;
  if (choice.type === "function") return { type: "tool", toolName: choice.function?.name };
  if (choice.type === "tool") return { type: "tool", toolName: choice.name };
  if (choice.type === "any") return "required";
  return choice.type;
}

function stopSequences(stop) {
  if (stop === undefined || stop === null) return undefined;
  return Array.isArray(stop) ? stop : [stop];
}

function settingsFrom(spec) {
  const request = spec.request;
  const settings = {
    maxOutputTokens: request.max_completion_tokens ?? request.max_tokens,
    temperature: request.temperature,
    topP: request.top_p,
    seed: request.seed,
    stopSequences: stopSequences(request.stop ?? request.stop_sequences),
    tools: toolsFrom(spec),
    toolChoice: toolChoiceFrom(spec),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

// The AI SDK's finish reasons in the Chat Completions words they stand for; the others
// ("other", "unknown", "error") are kept as the SDK says them.
const FINISH_REASONS = { stop: "stop", length: "length", "tool-calls": "tool_calls", "content-filter": "content_filter" };

function fromAiResult(result) {
  return {
    text: result.text,
    tool_calls: result.toolCalls.map((call) =>
      // A call the SDK could not parse keeps its text as `input`; one it flagged for another
      // reason (a tool not declared) is still handed to the application with its input.
      typeof call.input === "string"
        ? toolCallFromArguments(call.toolCallId, call.toolName, call.input)
        : { id: call.toolCallId, name: call.toolName, arguments: call.input ?? null, parsed: true, raw: null },
    ),
    finish_reason: FINISH_REASONS[result.finishReason] ?? result.finishReason ?? null,
    input_tokens: result.usage?.inputTokens ?? null,
    output_tokens: result.usage?.outputTokens ?? null,
  };
}

async function vercelAi(spec, signal) {
  const model =
    spec.dialect === "anthropic"
      ? createAnthropic({ apiKey: API_KEY, baseURL: spec.base_url })(spec.request.model)
      : createOpenAI({ apiKey: API_KEY, baseURL: spec.base_url }).chat(spec.request.model);
  const messages = spec.dialect === "anthropic" ? messagesFromAnthropic(spec.request) : messagesFromOpenAI(spec.request.messages);
  const options = { model, messages, maxRetries: 0, abortSignal: signal, ...settingsFrom(spec) };
  if (spec.call === "create") return fromAiResult(await generateText(options));
  // streamText reports a failed stream to onError (by default it logs it) and rejects the
  // result's promises with a generic error; the application sees the onError one.
  let streamError;
  const result = streamText({ ...options, onError: ({ error }) => (streamError ??= error) });
  const [content, toolCalls, finishReason, usage] = await Promise.all([
    result.text,
    result.toolCalls,
    result.finishReason,
    result.usage,
  ]).catch((error) => {
    throw streamError ?? error;
  });
  if (streamError) throw streamError;
  return fromAiResult({ text: content, toolCalls, finishReason, usage });
}

// ---- the calls ---------------------------------------------------------------------------

const CLIENTS = { "openai-node": openaiNode, "vercel-ai": vercelAi };

// An error a library throws where the application cannot catch it (a rejected promise of
// its own that nothing awaits) ends a Node application by default: it is how the call
// fails. The calls run one at a time, so it belongs to the one running.
let escaped;
let onEscape = () => {};
const escape = (error) => {
  escaped ??= { error };
  onEscape();
};
process.on("unhandledRejection", escape);
process.on("uncaughtException", escape);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function run(spec, timeoutMs) {
  const controller = new AbortController();
  let timer;
  escaped = undefined;
  const hung = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ hung: true }), timeoutMs);
  });
  const thrown = new Promise((resolve) => {
    onEscape = () => resolve({});
  });
  try {
    const outcome = await Promise.race([CLIENTS[spec.client](spec, controller.signal), hung, thrown]);
    // A rejection nothing handles is reported once the current turn is over.
    await nextTurn();
    if (escaped) {
      const { error_type, error_message, status } = describeError(escaped.error);
      controller.abort();
      return { error_type, error_message: `unhandled, ends the application: ${error_message}`, status };
    }
    if (outcome.hung) {
      controller.abort();
      return { ...outcome, error_message: `no answer within ${timeoutMs / 1000} s` };
    }
    return outcome;
  } catch (error) {
    return describeError(error);
  } finally {
    clearTimeout(timer);
  }
}

const { calls } = JSON.parse(readFileSync(process.argv[2], "utf8"));
emit({ ready: true });
for (const spec of calls) {
  const outcome = await run(spec, spec.timeout_ms);
  emit({ id: spec.id, client_version: VERSIONS[spec.client], ...outcome });
}
// Aborted requests may leave sockets behind: the work is done, so leave now.
process.exit(0);
