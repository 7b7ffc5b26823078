"""Helpers for leak tests: a secret in every encoding an output could carry it in."""

from __future__ import annotations

import base64
import gzip
import html
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


def leaks(secret: str, blobs: dict[str, bytes]) -> list[tuple[str, str]]:
    """(blob name, encoding name) of every encoding of ``secret`` found in ``blobs``."""
    return [
        (where, name)
        for name, form in encodings(secret).items()
        for where, blob in blobs.items()
        if form in blob
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
