"""The cases the installed suites declare, read from their modules without a pytest run."""

from __future__ import annotations

import functools
import importlib.util

from chatconform.case import MARK, CaseInfo
from chatconform.paths import SUITES_DIR


@functools.cache
def declared_cases() -> dict[str, CaseInfo]:
    """Every case's declaration by its id (``dialect/capability/name``, no parameters)."""
    cases = {}
    for path in sorted(SUITES_DIR.glob("*/test_*.py")):
        spec = importlib.util.spec_from_file_location(
            f"_suite_{path.parent.name}_{path.stem}", path
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for value in vars(module).values():
            for mark in getattr(value, "pytestmark", []):
                if mark.name == MARK:
                    cases[mark.args[0].id] = mark.args[0]
    return cases


def round_trip_mismatches(results: dict) -> list[str]:
    """Cases whose run sent other than the requests they declare: more than one request
    undeclared, or fewer than declared (the longest-first schedule would be wrong)."""
    declared = declared_cases()
    wrong = []
    for entry in results["cases"]:
        info = declared[entry["id"].split("[")[0]]
        sent = entry["usage"]["requests"]
        if sent > info.round_trips or (info.round_trips > 1 and sent < info.round_trips):
            wrong.append(f"{entry['id']}: declares {info.round_trips} round trips, sent {sent}")
    return wrong
