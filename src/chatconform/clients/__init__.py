"""Real clients as judges: a run's recorded answers replayed to real client libraries.

``jobs`` turns a run's wire archive into replay jobs, ``python`` and ``node`` serve them
to the client libraries, ``outcome`` compares what each returned with what the suite
read, and ``matrix`` makes results.json's ``clients`` of it.
"""

from __future__ import annotations

# What --clients chooses from; `none` turns the matrix off. Here, not in ``matrix``: the
# command line reads --clients without importing the clients.
FAMILIES = ("python", "node")


def parse_families(value: str | None) -> tuple[str, ...] | None:
    """``--clients``: the families named (None: every one that can run); ValueError
    with a one-line message for a name that is none."""
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if names == ["none"]:
        return ()
    unknown = [n for n in names if n not in FAMILIES]
    if unknown or not names:
        what = f"unknown client family {unknown[0]!r}" if unknown else "no client family"
        raise ValueError(f"--clients: {what}; choose from {','.join(FAMILIES)} or none")
    return tuple(dict.fromkeys(names))
