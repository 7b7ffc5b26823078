"""Helpers for leak tests: a secret in every encoding an output could carry it in."""

from __future__ import annotations

import base64
import gzip
import html
import json
import re
from collections.abc import Sequence
from pathlib import Path

# A key with characters that JSON, URLs and HTML each write differently.
LEAKY_KEY = "sk-cc/Leak+Test_0123456789abcdef"


def encodings(secret: str) -> dict[str, bytes]:
    """``secret`` as each output might write it, by name of the encoding."""
    forms = {
        "verbatim": secret,
        "json-slash": secret.replace("/", "\\/"),
        "json-unicode-lower": "".join(f"\\u{ord(c):04x}" for c in secret),
        "json-unicode-upper": "".join(f"\\u{ord(c):04X}" for c in secret),
        "percent-upper": "".join(f"%{b:02X}" for b in secret.encode()),
        "percent-lower": "".join(f"%{b:02x}" for b in secret.encode()),
        "percent-reserved": "".join(
            c if c.isascii() and c.isalnum() else f"%{ord(c):02X}" for c in secret
        ),
        "html": html.escape(secret),
        "html-hex": "".join(c if c.isalnum() else f"&#x{ord(c):X};" for c in secret),
        "html-decimal": "".join(c if c.isalnum() else f"&#{ord(c)};" for c in secret),
    }
    # Base64 at each of the three alignments, without the edge characters that depend
    # on the bytes around the secret.
    for shift in range(3):
        forms[f"base64-{shift}"] = base64.b64encode(b"\0" * shift + secret.encode())[4:-4].decode()
    return {name: form.encode() for name, form in forms.items() if len(form) >= 8}


# A logprobs entry's token string and its bytes (an integer array), as JSON writes them.
_TOKEN = re.compile(r'"token"\s*:\s*"((?:[^"\\]|\\.)*)"')
_BYTES = re.compile(r'"bytes"\s*:\s*\[([\d\s,]*)\]')
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
# Tokens a chain of pieces may skip between two of its links: the alternatives listed
# after each token (top_logprobs), a stream chunk's other fields.
_CHAIN_WINDOW = 8


def _unescaped(text: str) -> str:
    """``text`` with one level of JSON string escapes undone (JSON inside JSON)."""

    def char(found: re.Match[str]) -> str:
        escape = found.group(1)
        return chr(int(escape[1:], 16)) if len(escape) == 5 else escape

    return _ESCAPE.sub(char, text)


def _views(blob: bytes) -> list[str]:
    """``blob`` as text, HTML-unescaped, and with up to three levels of JSON escapes undone."""
    text = blob.decode("utf-8", "replace")
    views = []
    for view in (text, html.unescape(text)):
        for _ in range(4):
            views.append(view)
            view = _unescaped(view)
    return views


def _string(escaped: str) -> str:
    try:
        return json.loads(f'"{escaped}"')
    except ValueError:
        return escaped


def _common(a: Sequence, b: Sequence) -> int:
    """The length of what ``a`` and ``b`` begin with alike."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _spelt(secret: Sequence, pieces: Sequence[Sequence]) -> bool:
    """Whether consecutive ``pieces`` (each at most _CHAIN_WINDOW after the last) spell
    ``secret``: the first ends with its beginning, each next one goes on with it (a
    piece followed by other characters, as a listed alternative is, counts if at least
    two of its characters do)."""
    chains: dict[int, set[int]] = {}  # piece index -> how much of the secret it has spelt
    for i, piece in enumerate(pieces):
        if not piece:
            continue
        if secret in piece:
            return True
        spelt = set()
        for start in range(len(piece)):
            n = _common(piece[start:], secret)
            if n >= 2 or (n and start + n == len(piece)):
                spelt.add(n)
        for j in range(max(0, i - _CHAIN_WINDOW), i):
            for done in chains.get(j, ()):
                n = _common(piece, secret[done:])
                if done + n == len(secret):
                    return True
                if n == len(piece) or n >= 2:
                    spelt.add(done + n)
        chains[i] = spelt
    return False


def logprobs_leaks(secret: str, blob: bytes) -> list[str]:
    """How ``blob`` spells ``secret`` out, in any of its encodings, in logprobs entries:
    across consecutive token strings ("logprobs-tokens:<encoding>") or bytes arrays
    ("logprobs-bytes:<encoding>"), in any view of it."""
    found = set()
    forms = encodings(secret)
    for view in _views(blob):
        tokens = [_string(t) for t in _TOKEN.findall(view)]
        arrays = [[int(n) for n in a.replace(",", " ").split()] for a in _BYTES.findall(view)]
        raw = [bytes(a) for a in arrays if all(n < 256 for n in a)]
        for name, form in forms.items():
            if _spelt(form.decode(), tokens):
                found.add(f"logprobs-tokens:{name}")
            if _spelt(form, raw):
                found.add(f"logprobs-bytes:{name}")
    return sorted(found)


def leaks(secret: str, blobs: dict[str, bytes]) -> list[tuple[str, str]]:
    """(blob name, encoding name) of every encoding of ``secret`` found in ``blobs``, also
    spelt out in logprobs tokens or bytes."""
    found = [
        (where, name)
        for name, form in encodings(secret).items()
        for where, blob in blobs.items()
        if form in blob
    ]
    return found + [
        (where, name) for where, blob in blobs.items() for name in logprobs_leaks(secret, blob)
    ]


def outputs(directory: Path, *texts: str) -> dict[str, bytes]:
    """Every file under ``directory`` (by relative path; a gzip file also decompressed),
    and ``texts`` (stdout, stderr)."""
    found = {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
    for name, blob in list(found.items()):
        if name.endswith(".gz"):
            found[name.removesuffix(".gz")] = gzip.decompress(blob)
    found.update({f"text {i}": text.encode() for i, text in enumerate(texts)})
    return found
