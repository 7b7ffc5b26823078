"""The Node clients as judges: openai-node and the Vercel AI SDK replaying recorded exchanges.

The client libraries are pinned in ``clients/node/package-lock.json`` and installed once per
machine with ``npm ci`` into ``$XDG_CACHE_HOME/chatconform/node-<lock digest>`` (default
``~/.cache``), under a file lock so that concurrent pytest workers install them once.

``read`` serves every job's recorded response on a loopback HTTP server
(``/job/<n>/call/<id>/...`` answers job n's status, headers and body, flushed chunk by
chunk so that streams stay streams, and ends it as it ended: cleanly, stalled or
dropped), and runs ONE ``node runner.mjs`` for all jobs: it calls each client as an
application would, against that server, with the recorded request's model, messages,
tools and stream option, and prints what each returned (or raised). Which calls apply:

- a job of dialect ``openai`` (a ``.../chat/completions`` exchange): openai-node for each of
  the job's calls (``create``; ``stream``: ``create({stream: true})`` iterated, tool-call
  deltas gathered by ``index``; ``helper``: ``chat.completions.stream()`` and
  ``finalChatCompletion()``; ``parse``: ``chat.completions.parse``), and vercel-ai through ``@ai-sdk/openai``'s chat model:
  ``generateText`` for ``create``/``parse``, ``streamText`` for ``stream``/``helper`` (once;
  not for a request of ``n`` > 1 choices, which no AI SDK application sends);
- a job of dialect ``anthropic`` (a ``.../messages`` exchange): vercel-ai through
  ``@ai-sdk/anthropic``, the same way;
- anything else: no reading.

An error a library throws where the application cannot catch it (an unhandled rejection,
which ends a Node process by default) is the call's error, its message saying so. A
reading's ``sent`` tells whether the client sent its request at all.

Readings come back in job order, a job's readings together (openai-node's calls in the
job's order, then vercel-ai's), each carrying its job's ``case_id`` and ``exchange_index``.
A tool call's ``arguments`` are what ``JSON.parse`` makes of what the client returned
(None when that throws; ``raw`` keeps the string, or ``String(value)`` of a non-string as
an application's ``JSON.parse`` sees it); vercel-ai's parsed ``input`` is taken as is.
vercel-ai's finish reasons are given in Chat Completions words (``tool-calls`` ->
``tool_calls``); the ones it has no such word for (``other``, ``unknown``) as it says them.

Bounds: each call gets ``timeout_s`` (past it the reading is ``hung``); a call that blocks
the whole Node process past ``timeout_s`` plus a grace is taken as hung too, the process is
killed and a new one goes on with the next call. Whatever fails on the Node side itself
(Node missing, npm failing, the runner dying) raises ``NodeRunnerError`` with a one-line
reason, never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, ClassVar

from chatconform.clients.reading import Call, Job, Reading, ToolCall

RUNNER_DIR = Path(__file__).with_name("node")
# undici, which the pinned AI SDK pulls in, declares node >= 18.17.
MIN_NODE = (18, 17)
INSTALL_TIMEOUT_S = 300.0
# Starting node and importing the libraries; and how long past its own bound a call may
# block the process before it is taken as hung and the process killed.
STARTUP_S = 30.0
GRACE_S = 5.0
# A response that stalled when recorded stalls again. Its recorded chunks arrive at once
# over loopback, so a client still not done this long after is waiting where it stalled.
STALLED_S = 2.0
STALLED = "waits for data where the recorded stream stalled, until its read timeout"
LOOPBACK = "127.0.0.1"
_LINE_PREFIX = "@chatconform "
_MESSAGE_CHARS = 600
_INSTALLED_MARK = ".installed"
# Headers that describe the recorded connection, not the response: the replay server sends
# the body decoded (as recorded), chunked, and closes the connection after it.
_HOP_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive"}
)
# /job/<n>/call/<id>/...: job n's response, to call id (which tells that the call sent it).
_CALL_PATH = re.compile(r"^/job/(\d+)/call/(\d+)(?:/|$)")
_DIALECT_PATHS = {"openai": "/chat/completions", "anthropic": "/messages"}


class NodeRunnerError(RuntimeError):
    """The Node side could not run; the message is one line saying why and how to fix it."""


def available() -> str | None:
    """None when the Node clients can run here (installing them first if needed), else a
    one-line reason why not."""
    try:
        _installed_modules()
    except NodeRunnerError as error:
        return str(error)
    return None


def read(jobs: list[Job], timeout_s: float) -> list[Reading]:
    """Every applicable Node client call over every job (see the module docstring); raises
    ``NodeRunnerError`` when the Node side cannot run."""
    modules = _installed_modules()
    planned = [
        (index, client, call) for index, job in enumerate(jobs) for client, call in _calls_for(job)
    ]
    if not planned:
        return []
    specs = [_CallSpec(n, job, client, call) for n, (job, client, call) in enumerate(planned)]
    with (
        _ReplayServer(jobs) as server,
        tempfile.TemporaryDirectory(prefix="chatconform-node-") as work,
    ):
        outcomes = _run_all(Path(work), modules, specs, jobs, server.base_url, timeout_s)
    return [
        _reading(spec, jobs[spec.job], outcomes[spec.id], spec.id in server.received)
        for spec in specs
    ]


@dataclass(frozen=True)
class _CallSpec:
    """One client call the runner makes: ``id`` ties its output line back to it."""

    id: int
    job: int
    client: str
    call: Call


def _calls_for(job: Job) -> list[tuple[str, Call]]:
    """The (client, call) pairs that apply to a job (see the module docstring)."""
    suffix = _DIALECT_PATHS.get(job.dialect)
    path = job.path.split("?", 1)[0].rstrip("/")
    if suffix is None or not path.endswith(suffix) or not isinstance(job.request_body, dict):
        return []
    calls: list[Call] = list(dict.fromkeys(job.calls))
    # The AI SDK has one call of each kind: generateText (also for a structured answer)
    # and streamText, which accumulates on its own (its helper).
    sdk_calls: list[Call] = list(
        dict.fromkeys("stream" if c in ("stream", "helper") else "create" for c in calls)
    )
    openai_node = [("openai-node", call) for call in calls] if job.dialect == "openai" else []
    # The AI SDK cannot ask for several choices: no application of it sends such a request.
    if job.request_body.get("n", 1) != 1:
        return openai_node
    return openai_node + [("vercel-ai", call) for call in sdk_calls]


# ---- installing the pinned libraries ------------------------------------------------------


@functools.cache
def _prepared() -> Path | str:
    """The installed node_modules, or why the Node clients cannot run (once per process)."""
    try:
        return _prepare()
    except NodeRunnerError as error:
        return str(error)


def _installed_modules() -> Path:
    prepared = _prepared()
    if isinstance(prepared, str):
        raise NodeRunnerError(prepared)
    return prepared


def _prepare() -> Path:
    node = _node()
    found = _node_version(node)
    if found < MIN_NODE:
        raise NodeRunnerError(
            f"node {'.'.join(map(str, found))} is too old for the Node clients: "
            f"install Node.js >= {'.'.join(map(str, MIN_NODE))}"
        )
    lock = (RUNNER_DIR / "package-lock.json").read_bytes()
    target = _cache_root() / f"node-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not (target / _INSTALLED_MARK).exists():
        _install(target)
    return target / "node_modules"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise NodeRunnerError(
            "node is not on PATH: install Node.js >= 18.17 to replay exchanges through "
            "openai-node and the Vercel AI SDK"
        )
    return node


def _node_version(node: str) -> tuple[int, int]:
    try:
        done = subprocess.run(
            [node, "--version"],
            capture_output=True,
            text=True,
            timeout=STARTUP_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NodeRunnerError(f"`node --version` failed: {error}") from None
    match = re.match(r"v(\d+)\.(\d+)", done.stdout.strip())
    if match is None:
        raise NodeRunnerError(
            f"`node --version` said {_last_line(done.stdout + done.stderr)!r}, not a version"
        )
    return int(match[1]), int(match[2])


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chatconform"


def _install(target: Path) -> None:
    """``npm ci`` of the pinned lock into ``target``, once however many processes ask."""
    try:
        import fcntl
    except ImportError:
        raise NodeRunnerError(
            "installing the Node clients needs a POSIX system (file locks)"
        ) from None
    npm = shutil.which("npm")
    if npm is None:
        raise NodeRunnerError(
            "npm is not on PATH: it comes with Node.js, and installs the pinned Node clients"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.parent / f"{target.name}.lock", "w") as lock:
            # Blocks while another process installs; it has finished when we get the lock.
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (target / _INSTALLED_MARK).exists():
                return
            target.mkdir(exist_ok=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(RUNNER_DIR / name, target / name)
            _npm_ci(npm, target)
            (target / _INSTALLED_MARK).write_text("installed by chatconform with npm ci\n")
    except OSError as error:
        raise NodeRunnerError(f"cannot install the Node clients into {target}: {error}") from None


def _npm_ci(npm: str, target: Path) -> None:
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        done = subprocess.run(
            command,
            cwd=target,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise NodeRunnerError(
            f"npm ci did not finish within {INSTALL_TIMEOUT_S:.0f} s in {target}: "
            "check that the npm registry is reachable (npm config get registry), then run again"
        ) from None
    if done.returncode != 0:
        raise NodeRunnerError(
            f"npm ci failed in {target}: {_last_line(done.stderr or done.stdout)}; "
            "check that the npm registry is reachable (npm config get registry), then run again"
        )


# ---- serving the recorded responses -------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Answers ``/job/<n>/call/<id>/...`` with job n's recorded response, whatever the
    request, and notes that call id sent its request."""

    protocol_version = "HTTP/1.1"
    # Each recorded read goes out when written, not held for the ACK of the one before.
    disable_nagle_algorithm = True
    jobs: ClassVar[list[Job]] = []
    received: ClassVar[set[int]] = set()

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.close_connection = True
        match = _CALL_PATH.match(self.path)
        job = self.jobs[int(match[1])] if match and int(match[1]) < len(self.jobs) else None
        if match:
            self.received.add(int(match[2]))
        try:
            if job is None:
                self.send_response_only(404)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            self._send(job)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up (its call was aborted): nothing left to serve

    def _send(self, job: Job) -> None:
        # send_response_only: no Server/Date of ours beside the recorded headers.
        self.send_response_only(job.status)
        for name, value in job.headers.items():
            if name.lower() not in _HOP_HEADERS:
                self.send_header(name, value.encode("latin-1", "replace").decode("latin-1"))
        bodiless = job.status < 200 or job.status in (204, 304)
        if not bodiless:
            self.send_header("transfer-encoding", "chunked")
        # Ends the connection after the response; a response whose connection broke says
        # keep-alive, as the provider's did, else undici takes the close as the body's end.
        self.send_header("connection", "keep-alive" if job.ending == "dropped" else "close")
        self.end_headers()
        self.close_connection = True  # whatever the header said
        if bodiless:
            return
        for chunk in job.chunks:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
        if job.ending == "stalled":
            assert isinstance(self.server, _QuietServer)
            self.server.released.wait()
        elif job.ending == "dropped":
            return  # the connection closes before the body's end, as it did
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the readings are the output."""


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[_Handler]) -> None:
        super().__init__((LOOPBACK, 0), handler)
        # Set when the replay is over: the stalled responses end then.
        self.released = threading.Event()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that drops its connection is not an error of the replay."""


class _ReplayServer:
    """The jobs' recorded responses on an ephemeral loopback port, for a with-block."""

    def __init__(self, jobs: list[Job]) -> None:
        handler = type("ReplayHandler", (_Handler,), {"jobs": jobs, "received": set()})
        self.received: set[int] = handler.received
        self._server = _QuietServer(handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="chatconform-node-replay", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def __enter__(self) -> _ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=STARTUP_S)


# ---- running the runner -------------------------------------------------------------------


def _run_all(
    work: Path,
    modules: Path,
    specs: list[_CallSpec],
    jobs: list[Job],
    base_url: str,
    timeout_s: float,
) -> dict[int, dict[str, Any]]:
    """Every call's output record; a call that blocks the process is recorded as hung and
    a new process goes on with the ones after it."""
    shutil.copyfile(RUNNER_DIR / "runner.mjs", work / "runner.mjs")
    # The runner imports the libraries from node_modules beside it (ESM has no NODE_PATH).
    (work / "node_modules").symlink_to(modules, target_is_directory=True)
    outcomes: dict[int, dict[str, Any]] = {}
    pending = list(specs)
    while pending:
        reported, blocked, ended = _run_once(work, pending, jobs, base_url, timeout_s)
        outcomes.update(reported)
        pending = [spec for spec in pending if spec.id not in outcomes]
        if ended is not None and not outcomes:
            # It never ran a call: the runner is broken, not the first client it tried.
            raise NodeRunnerError(f"the Node client runner stopped before its first call ({ended})")
        if blocked and pending:
            outcomes[pending[0].id] = {
                "hung": True,
                "error_message": f"blocked the Node process for over {timeout_s + GRACE_S:g} s",
            }
            pending = pending[1:]
        elif ended is not None and pending:
            # What an application would see: its process gone in the middle of this call.
            outcomes[pending[0].id] = {
                "error_type": "ProcessExit",
                "error_message": f"the Node process ended during this call: {ended}",
            }
            pending = pending[1:]
    return outcomes


def _run_once(
    work: Path,
    specs: list[_CallSpec],
    jobs: list[Job],
    base_url: str,
    timeout_s: float,
) -> tuple[dict[int, dict[str, Any]], bool, str | None]:
    """One runner process over ``specs`` in order: the records it printed, whether it was
    killed because a call blocked it, and, when it ended before the last call, how."""
    calls = [
        {
            "id": spec.id,
            "client": spec.client,
            "call": spec.call,
            "dialect": jobs[spec.job].dialect,
            "base_url": f"{base_url}/job/{spec.job}/call/{spec.id}/v1",
            "request": jobs[spec.job].request_body,
            "timeout_ms": round(1000 * _bound(jobs[spec.job], timeout_s)),
        }
        for spec in specs
    ]
    (work / "calls.json").write_text(json.dumps({"calls": calls}), encoding="utf-8")
    ids = {spec.id for spec in specs}
    reported: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen(
                [_node(), "runner.mjs", "calls.json"],
                cwd=work,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as error:
            raise NodeRunnerError(f"cannot start node: {error}") from None
        try:
            blocked = _collect(process, reported, ids, timeout_s)
        finally:
            _stop(process)
        if blocked or len(reported) == len(ids):
            return reported, blocked, None
        stderr.seek(0)
        said = _last_line(stderr.read().decode("utf-8", "replace"))
    return reported, False, f"exit status {process.returncode}: {said}"


def _bound(job: Job, timeout_s: float) -> float:
    return min(timeout_s, STALLED_S) if job.ending == "stalled" else timeout_s


def _collect(
    process: subprocess.Popen[bytes],
    reported: dict[int, dict[str, Any]],
    ids: set[int],
    timeout_s: float,
) -> bool:
    """Reads the runner's records into ``reported`` until it ends; True when it stopped
    answering (killed), raises when it does not start."""
    assert process.stdout is not None
    lines: queue.Queue[bytes | None] = queue.Queue()
    threading.Thread(
        target=_pump, args=(process.stdout, lines), name="chatconform-node-out", daemon=True
    ).start()
    started = False
    while True:
        try:
            raw = lines.get(timeout=timeout_s + GRACE_S if started else STARTUP_S)
        except queue.Empty:
            if not started:
                raise NodeRunnerError(
                    f"the Node client runner did not start within {STARTUP_S:.0f} s"
                ) from None
            return True
        if raw is None:
            return False
        record = _record(raw)
        if record is None:
            continue
        if record.get("ready") is True:
            started = True
        elif record.get("id") in ids:
            reported[record["id"]] = record


def _pump(stream: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    for raw in stream:
        lines.put(raw)
    lines.put(None)


def _record(raw: bytes) -> dict[str, Any] | None:
    """A protocol line's record; None for anything else a library printed."""
    text = raw.decode("utf-8", "replace")
    if not text.startswith(_LINE_PREFIX):
        return None
    try:
        record = json.loads(text[len(_LINE_PREFIX) :])
    except ValueError:
        raise NodeRunnerError(
            f"the Node client runner printed a broken line: {text[:200]!r}"
        ) from None
    return record if isinstance(record, dict) else None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ends the runner (its whole process group: it started none of its own)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STARTUP_S)
    if process.stdout is not None:
        process.stdout.close()


# ---- records to readings ------------------------------------------------------------------


def _reading(spec: _CallSpec, job: Job, record: dict[str, Any], sent: bool) -> Reading:
    hung = record.get("hung") is True
    message = STALLED if hung and job.ending == "stalled" else _text(record.get("error_message"))
    return Reading(
        client=spec.client,
        call=spec.call,
        text=_text(record.get("text")),
        tool_calls=tuple(
            _tool_call(call) for call in record.get("tool_calls") or [] if isinstance(call, dict)
        ),
        finish_reason=_text(record.get("finish_reason")),
        input_tokens=_count(record.get("input_tokens")),
        output_tokens=_count(record.get("output_tokens")),
        error_type=_text(record.get("error_type")),
        error_message=message,
        hung=hung,
        status=_count(record.get("status")),
        sent=sent,
        client_version=_text(record.get("client_version")),
        case_id=job.case_id,
        exchange_index=job.exchange_index,
    )


def _tool_call(call: dict[str, Any]) -> ToolCall:
    return ToolCall(
        id=_text(call.get("id")),
        name=_text(call.get("name")),
        arguments=call.get("arguments") if call.get("parsed") is True else None,
        raw=_text(call.get("raw")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _last_line(text: str) -> str:
    """What a process said last, without a Node stack trace's frames and version banner."""
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith(("at ", "Node.js v"))
    ]
    return lines[-1][:_MESSAGE_CHARS] if lines else "no output"
