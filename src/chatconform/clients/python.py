"""The Python client libraries, replaying jobs in this process: openai-python for the
OpenAI dialect, anthropic-sdk-python for the Anthropic one.

Each call runs in its own thread, bounded in time: a client that does not return within
the bound (a recorded stall it waits on forever, a loop that never ends) is reported as
hung, and its stalled transport is released so the thread ends.
"""

from __future__ import annotations

import dataclasses
import importlib
import threading
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from chatconform.clients.reading import Call, Job, Reading
from chatconform.clients.transport import replay_client
from chatconform.exchange import clip
from chatconform.redaction import Redactor

# Client name -> its dialect and the module that calls it (importing that imports the
# SDK, a second or so: only the clients of the dialects a run replays are imported).
MODULES = {
    "openai-python": ("openai", "chatconform.clients.openai_python"),
    "anthropic-python": ("anthropic", "chatconform.clients.anthropic_python"),
}
# What a reading keeps of an exception's message: enough to recognise it.
MESSAGE_CHARS = 600
# After a hung call is released, how long its thread gets to end.
_RELEASE_S = 2.0
_POLL_S = 0.005


def clients(dialects: Iterable[str] | None = None) -> dict[str, ModuleType | str]:
    """Each Python client (of ``dialects``, default all): its module, or why it cannot
    run (its SDK does not import)."""
    found: dict[str, ModuleType | str] = {}
    wanted = None if dialects is None else set(dialects)
    for name, (dialect, module) in MODULES.items():
        if wanted is not None and dialect not in wanted:
            continue
        try:
            found[name] = importlib.import_module(module)
        except ImportError as exc:
            found[name] = f"{name} is not installed ({exc}); pip install 'chatconform[clients]'"
    return found


def available() -> str | None:
    """None when every Python client can run, else why not (one line)."""
    reasons = [found for found in clients().values() if isinstance(found, str)]
    return "; ".join(reasons) or None


def read(jobs: list[Job], timeout_s: float, redactor: Redactor | None = None) -> list[Reading]:
    """The readings of every call each job asks for, by every Python client of its dialect
    that can run; each carries its job's case_id and exchange_index."""
    redactor = redactor or Redactor()
    found = clients({job.dialect for job in jobs})
    modules = [m for m in found.values() if isinstance(m, ModuleType)]
    readings = []
    for job in jobs:
        for module in modules:
            if job.dialect != module.DIALECT:
                continue
            for call in job.calls:
                if call in module.CALLS:
                    reading = bounded(module, job, call, timeout_s, redactor)
                    readings.append(
                        dataclasses.replace(
                            reading, case_id=job.case_id, exchange_index=job.exchange_index
                        )
                    )
    return readings


def _message(error: BaseException) -> str:
    """An exception's message; for one without (a failed ``assert``), where it was raised:
    the library's file, line and source line."""
    if str(error):
        return str(error)
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return repr(error)
    frame = frames[-1]
    parts = Path(frame.filename).parts
    where = "/".join(
        parts[parts.index("site-packages") + 1 :] if "site-packages" in parts else parts[-2:]
    )
    return f"raised at {where}:{frame.lineno}: {frame.line or ''}".rstrip(": ")


def bounded(
    module: ModuleType, job: Job, call: Call, timeout_s: float, redactor: Redactor
) -> Reading:
    """One call of one client on one job, within ``timeout_s``."""
    release, stalled, sent = threading.Event(), threading.Event(), threading.Event()
    done: dict[str, Any] = {}

    def run() -> None:
        try:
            http_client = replay_client(module.HTTP, job, release, stalled, sent)
            done["reading"] = module.call(job, call, http_client)
        except Exception as exc:  # every way a client breaks is a finding about it
            done["error"] = exc

    thread = threading.Thread(target=run, name=f"replay {module.CLIENT}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    # A client waiting where the recorded stream stalled waits for its own read timeout
    # (minutes by default): it hangs, and there is no need to wait that long to say so.
    while thread.is_alive() and not stalled.is_set() and time.monotonic() < deadline:
        thread.join(_POLL_S)
    if thread.is_alive():
        release.set()
        thread.join(_RELEASE_S)
        return Reading(
            client=module.CLIENT,
            call=call,
            hung=True,
            error_message=(
                "waits for data where the recorded stream stalled, until its read timeout"
                if stalled.is_set()
                else f"no result within {timeout_s:g} s"
            ),
            client_version=module.VERSION,
            sent=sent.is_set(),
        )
    if "reading" in done:
        return dataclasses.replace(done["reading"], sent=True)
    error = done["error"]
    return Reading(
        client=module.CLIENT,
        call=call,
        error_type=type(error).__name__,
        error_message=clip(redactor.text(_message(error)), MESSAGE_CHARS),
        status=error.status_code if isinstance(error, module.STATUS_ERROR) else None,
        client_version=module.VERSION,
        sent=sent.is_set(),
    )
