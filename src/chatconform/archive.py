"""The wire archive: every exchange of a run, redacted and compressed, to judge again offline.

``exchanges.jsonl.gz`` holds one JSON line per case (``{"case": id, "exchanges": [...]}``)
after a header line (``{"archive": 1, ...}``) with the tool version, the provider as
resolved (no secret) and the run's options: with the suites and fixtures of the installed
version, that is enough to rebuild every request a case sends. Bodies are stored as they
were recorded: redacted, and a response at most the client's body cap (of one the client
cut there, the beginning); a request body over the cap is cut too, and matched by its
digest.

Each xdist worker appends to its own part file while cases finish; the controlling
process concatenates the parts (gzip members concatenate into one valid gzip file).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from chatconform import __version__
from chatconform.exchange import Exchange, RecordedRequest, StreamEvent

ARCHIVE_FILE = "exchanges.jsonl.gz"
FORMAT = 1
_PART_GLOB = ".exchanges-*.jsonl.gz"
# A request body past this is stored cut (a 4 MB image is evidence enough in its first MB);
# its digest still identifies it.
MAX_REQUEST_BYTES = 4 * 1024 * 1024
# A response the client cut at its body cap is never judged (its case is inconclusive):
# its beginning is evidence enough, and keeping megabytes of it would only slow runs.
TRUNCATED_KEEP_BYTES = 64 * 1024


class ArchiveError(ValueError):
    """An archive that cannot be read; its message is one line."""


def request_key(method: str, url: str, body: bytes) -> str:
    """What identifies a request when it is sent again: method, URL and body digest."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method} {url} {digest}"


def _blob(data: bytes, limit: int | None = None) -> dict[str, Any]:
    cut = limit is not None and len(data) > limit
    kept = data[:limit] if cut else data
    try:
        stored: dict[str, Any] = {"text": kept.decode("utf-8")}
    except UnicodeDecodeError:
        stored = {"base64": base64.b64encode(kept).decode("ascii")}
    if cut:
        stored["cut_from"] = len(data)
    return stored


def _unblob(stored: dict[str, Any]) -> bytes:
    if "base64" in stored:
        return base64.b64decode(stored["base64"])
    return str(stored.get("text", "")).encode("utf-8")


def exchange_record(exchange: Exchange) -> dict[str, Any]:
    """An exchange as one archive entry (everything checks read, nothing derived)."""
    request = exchange.request
    return {
        "request": {
            "method": request.method,
            "url": request.url,
            "headers": request.headers,
            "body": _blob(request.body, MAX_REQUEST_BYTES),
            "key": request_key(request.method, request.url, request.body),
        },
        "sent_at": exchange.sent_at,
        "status": exchange.status,
        "headers": exchange.headers,
        "body": _blob(exchange.body, TRUNCATED_KEEP_BYTES if exchange.truncated else None),
        "truncated": exchange.truncated,
        "streamed": exchange.streamed,
        "events": [[e.t, e.event, e.data, e.id, e.retry] for e in exchange.events],
        "unterminated_tail": exchange.unterminated_tail,
        "elapsed_s": exchange.elapsed_s,
        "first_byte_s": exchange.first_byte_s,
        "attempts": exchange.attempts,
        "error": exchange.error,
        "encoding_error": exchange.encoding_error,
        "rate_wait_s": exchange.rate_wait_s,
        "retry_wait_s": exchange.retry_wait_s,
        "cut": exchange.cut,
    }


def exchange_from_record(entry: dict[str, Any]) -> Exchange:
    """The exchange an archive entry recorded, as the recording client made it."""
    request = entry["request"]
    return Exchange(
        request=RecordedRequest(
            method=request["method"],
            url=request["url"],
            headers=dict(request["headers"]),
            body=_unblob(request["body"]),
        ),
        status=entry["status"],
        headers=dict(entry["headers"]),
        body=_unblob(entry["body"]),
        truncated=entry["truncated"],
        streamed=entry["streamed"],
        events=[
            StreamEvent(data, event, id_, retry, t)
            for t, event, data, id_, retry in entry["events"]
        ],
        unterminated_tail=entry["unterminated_tail"],
        elapsed_s=entry["elapsed_s"],
        first_byte_s=entry["first_byte_s"],
        sent_at=entry.get("sent_at"),
        attempts=entry["attempts"],
        error=entry["error"],
        # Absent from archives of older versions.
        encoding_error=entry.get("encoding_error"),
        rate_wait_s=entry.get("rate_wait_s", 0.0),
        retry_wait_s=entry.get("retry_wait_s", 0.0),
        cut=entry["cut"],
    )


_APPENDING = threading.Lock()


def append_case(directory: Path, worker: str, case_id: str, entries: list[dict[str, Any]]) -> None:
    """Add one finished case's exchanges (``exchange_record``s, redacted by the caller)
    to this worker's part of the archive."""
    line = json.dumps({"case": case_id, "exchanges": entries})
    # One gzip member per case: a part cut short by a crash loses at most its last case.
    member = gzip.compress(line.encode("utf-8") + b"\n", compresslevel=6)
    directory.mkdir(parents=True, exist_ok=True)
    # Cases of one worker end in several threads at once: each member is written whole.
    with _APPENDING, open(directory / f".exchanges-{worker}.jsonl.gz", "ab") as part:
        part.write(member)


def assemble(directory: Path, header: dict[str, Any]) -> Path:
    """Join the workers' parts under a header line into ``exchanges.jsonl.gz``."""
    target = directory / ARCHIVE_FILE
    head = {"archive": FORMAT, "tool_version": __version__, **header}
    with open(target, "wb") as out:
        out.write(gzip.compress(json.dumps(head).encode("utf-8") + b"\n"))
        for part in sorted(directory.glob(_PART_GLOB)):
            with open(part, "rb") as data:
                _copy(data, out)
            part.unlink()
    return target


def _copy(source: IO[bytes], target: IO[bytes]) -> None:
    while chunk := source.read(1 << 20):
        target.write(chunk)


@dataclass
class Archive:
    """A run's recorded exchanges, per case, and what the run was asked to do."""

    header: dict[str, Any]
    cases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def exchanges(self, case_id: str) -> list[Exchange]:
        return [exchange_from_record(e) for e in self.cases.get(case_id, [])]


def load(path: Path) -> Archive:
    """Read an archive; an ArchiveError says in one line why it cannot be read."""
    if not path.is_file():
        raise ArchiveError(f"no wire archive at {path} (runs keep one since chatconform 0.1)")
    lines = _lines(path)
    try:
        header = next(lines)
    except StopIteration:
        raise ArchiveError(f"{path} is empty") from None
    if not isinstance(header, dict) or header.get("archive") != FORMAT:
        raise ArchiveError(f"{path} is not a chatconform wire archive (format {FORMAT})")
    archive = Archive(header=header)
    for entry in lines:
        if not isinstance(entry, dict) or not isinstance(entry.get("case"), str):
            raise ArchiveError(f"{path}: a line is not a case's exchanges")
        archive.cases[entry["case"]] = entry.get("exchanges", [])
    return archive


def _lines(path: Path) -> Iterator[Any]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as text:
            for number, line in enumerate(text, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError:
                        raise ArchiveError(f"{path}: line {number} is not JSON") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{path} cannot be read: {exc}") from None
