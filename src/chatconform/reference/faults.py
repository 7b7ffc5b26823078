"""The fault catalog: named, realistic deviations the reference provider can be told to make."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CATALOG_PATH = Path(__file__).with_name("faults.toml")


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    seen_in: str


def _load(path: Path) -> dict[str, Fault]:
    with path.open("rb") as file:
        data = tomllib.load(file)
    return {
        name: Fault(name=name, description=entry["description"], seen_in=entry["seen_in"])
        for name, entry in data.items()
    }


FAULTS: dict[str, Fault] = _load(CATALOG_PATH)


def check_fault_names(names: Iterable[str]) -> frozenset[str]:
    """The names as a frozenset, or ValueError naming the first one not in the catalog."""
    chosen = frozenset(names)
    for name in sorted(chosen):
        if name not in FAULTS:
            known = ", ".join(sorted(FAULTS))
            raise ValueError(f"unknown fault {name!r}; known faults: {known}")
    return chosen


class FaultSet:
    """The faults a running app makes; membership tests reject names not in the catalog.

    A misspelt name in the provider's own code would otherwise read as "fault off" forever
    and the fault would silently never happen.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = check_fault_names(names)

    def __contains__(self, name: object) -> bool:
        if name not in FAULTS:
            raise KeyError(f"no fault named {name!r} in the catalog")
        return name in self.names

    def __repr__(self) -> str:
        return f"FaultSet({sorted(self.names)!r})"
