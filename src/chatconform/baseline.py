"""Baselines: the deviations a nightly run accepts, and reading a run to compare against.

A baseline says, per case id, the verdict the case had and the rule ids that fired on
it. It comes from one of two files, told apart by their content:

- an *accepted-deviations* file, written by ``chatconform baseline RUN -o FILE``: small,
  sorted, one case per line, meant to be committed and edited by hand. Deleting a case's
  line, or a rule id from its ``rules``, stops accepting it: the case is then compared as
  a new one, or the rule as newly firing (see ``chatconform.diff``). Keys other than
  ``verdict`` and ``rules`` (a ``"note"`` saying why a deviation is accepted) are ignored;

      {
        "chatconform_baseline": 1,
        "provider": "acme",
        "from_run": "2026-12-03T03:22:53Z",
        "tool_version": "0.1.0",
        "cases": {
          "openai/streaming/done-sentinel": {"verdict": "fail", "rules": ["openai.stream.done-sentinel"]},
          "openai/text/basic-answer": {"verdict": "pass", "rules": []}
        }
      }

- a whole ``results.json`` (or the run directory holding it): every case as it was.

Cases that passed are part of the baseline too: without them a case that passed and is
now refused could not be told from a case added since.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatconform.results import RESULTS_FILE, SCHEMA_VERSION
from chatconform.verdict import Verdict

FORMAT_KEY = "chatconform_baseline"
FORMAT_VERSION = 1
EXIT_OK, EXIT_USAGE = 0, 2
_VERDICTS = frozenset(str(v) for v in Verdict)


class BaselineError(ValueError):
    """A baseline or results file that cannot be used; the message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))


@dataclass(frozen=True)
class Accepted:
    """What a baseline holds for one case: its verdict and the rule ids that fired."""

    verdict: str
    rules: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Baseline:
    """The cases a run is compared against, keyed by case id."""

    cases: Mapping[str, Accepted]
    provider: str = ""
    from_run: str = ""
    tool_version: str = ""
    # Where it was read from, for messages: a path, or "" when built in memory.
    origin: str = ""

    @classmethod
    def from_results(cls, results: dict[str, Any], origin: str = "") -> Baseline:
        """The baseline a whole results.json stands for."""
        return cls.from_accepted(accepted_from_results(results, origin), origin)

    @classmethod
    def from_accepted(cls, document: dict[str, Any], origin: str = "") -> Baseline:
        """The baseline of an accepted-deviations document, checked entry by entry."""
        where = origin or "baseline"
        version = document.get(FORMAT_KEY)
        if version != FORMAT_VERSION:
            raise BaselineError(
                f"{where}: accepted-deviations format {version!r} is not supported "
                f"(this chatconform reads {FORMAT_VERSION})"
            )
        entries = document.get("cases")
        if not isinstance(entries, dict):
            raise BaselineError(f"{where}: 'cases' must be an object of case id to entry")
        cases = {}
        for case_id, entry in entries.items():
            if not isinstance(entry, dict):
                raise BaselineError(f"{where}: case {case_id!r}: the entry must be an object")
            verdict = entry.get("verdict")
            if not isinstance(verdict, str) or verdict not in _VERDICTS:
                raise BaselineError(
                    f"{where}: case {case_id!r}: verdict {verdict!r} is not one of "
                    f"{', '.join(str(v) for v in Verdict)}"
                )
            rules = entry.get("rules", [])
            if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
                raise BaselineError(
                    f"{where}: case {case_id!r}: 'rules' must be a list of rule ids"
                )
            cases[case_id] = Accepted(verdict, frozenset(rules))
        return cls(
            cases=cases,
            provider=_text(document.get("provider")),
            from_run=_text(document.get("from_run")),
            tool_version=_text(document.get("tool_version")),
            origin=origin,
        )


def accepted_from_results(results: dict[str, Any], origin: str = "") -> dict[str, Any]:
    """The accepted-deviations document of a run: every case's verdict and fired rules."""
    cases = run_cases(results, origin)
    return {
        FORMAT_KEY: FORMAT_VERSION,
        "provider": _text(_get(results, "provider", "name")),
        "from_run": _text(results.get("started_at")),
        "tool_version": _text(_get(results, "tool", "version")),
        "cases": {
            case_id: {"verdict": verdict, "rules": sorted(rules)}
            for case_id, (verdict, rules, _) in sorted(cases.items())
        },
    }


def run_cases(
    results: dict[str, Any], origin: str = ""
) -> dict[str, tuple[str, frozenset[str], str]]:
    """Each case of a results.json as (verdict, rule ids fired, reason), keyed by case id."""
    where = origin or "results"
    if results.get("schema_version") != SCHEMA_VERSION:
        raise BaselineError(
            f"{where}: results schema_version {results.get('schema_version')!r} is not "
            f"supported (this chatconform reads {SCHEMA_VERSION}); use a run of this version"
        )
    if not isinstance(results.get("cases"), list):
        raise BaselineError(f"{where}: 'cases' must be a list")
    cases: dict[str, tuple[str, frozenset[str], str]] = {}
    for n, case in enumerate(results["cases"]):
        case_id = case.get("id") if isinstance(case, dict) else None
        if not isinstance(case_id, str):
            raise BaselineError(f"{where}: case #{n} has no string 'id'")
        if case_id in cases:
            raise BaselineError(f"{where}: case {case_id!r} appears twice")
        if not isinstance(case.get("verdict"), str) or case.get("verdict") not in _VERDICTS:
            raise BaselineError(
                f"{where}: case {case_id!r}: unknown verdict {case.get('verdict')!r}"
            )
        findings = case.get("findings", [])
        if not isinstance(findings, list) or not all(
            isinstance(f, dict) and isinstance(f.get("rule"), str) for f in findings
        ):
            raise BaselineError(f"{where}: case {case_id!r}: every finding needs a string 'rule'")
        rules = frozenset(f["rule"] for f in findings)
        cases[case_id] = (case["verdict"], rules, _text(case.get("reason")))
    return cases


def dump_accepted(document: dict[str, Any]) -> str:
    """The accepted-deviations file's text: one case per line, so a hand edit is one line
    and a refreshed baseline diffs cleanly in review."""
    head = {k: v for k, v in document.items() if k != "cases"}
    lines = ["{"] + [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    entries = sorted(document.get("cases", {}).items())
    if not entries:
        lines.append('  "cases": {}')
    else:
        lines.append('  "cases": {')
        lines += [
            f"    {json.dumps(case_id)}: {json.dumps(entry)}{',' if n < len(entries) else ''}"
            for n, (case_id, entry) in enumerate(entries, 1)
        ]
        lines.append("  }")
    return "\n".join([*lines, "}"]) + "\n"


def load_baseline(path: Path) -> Baseline:
    """The baseline in ``path``: an accepted-deviations file, a results.json, or a run
    directory holding one; a ``BaselineError`` saying which it is not."""
    document, shown = _read_json(path)
    if FORMAT_KEY in document:
        return Baseline.from_accepted(document, shown)
    if "schema_version" in document and "cases" in document:
        return Baseline.from_results(document, shown)
    raise BaselineError(
        f"{shown} is neither an accepted-deviations file (from chatconform baseline) "
        "nor a chatconform results.json"
    )


def load_results(path: Path) -> dict[str, Any]:
    """The results.json in ``path`` (the file, or the run directory holding it), checked."""
    document, shown = _read_json(path)
    if FORMAT_KEY in document:
        raise BaselineError(
            f"{shown} is an accepted-deviations file; give a run directory or its results.json"
        )
    if "schema_version" not in document or "cases" not in document:
        raise BaselineError(f"{shown} is not a chatconform results.json")
    run_cases(document, shown)
    return document


def write_output(path: Path, text: str, *, append: bool = False) -> None:
    """Write (or append) ``text`` to ``path``, creating its directory; one-line errors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if append else "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise BaselineError(f"cannot write {path}: {exc.strerror or exc}") from None


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``chatconform baseline RUN -o FILE``."""
    parser = commands.add_parser(
        "baseline",
        help="write a run's deviations as an accepted-deviations file, for run --baseline",
    )
    parser.add_argument("run", type=Path, metavar="RUN", help="a run directory or its results.json")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="FILE",
        help="the accepted-deviations file to write (e.g. baselines/acme.json)",
    )
    parser.set_defaults(func=cmd_baseline)


def cmd_baseline(args: argparse.Namespace) -> int:
    try:
        results = load_results(args.run)
        document = accepted_from_results(results)
        write_output(args.output, dump_accepted(document))
    except BaselineError as exc:
        print(f"chatconform: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    cases = document["cases"].values()
    deviating = [c for c in cases if c["rules"]]
    rules = {r for c in deviating for r in c["rules"]}
    partial = (
        "; the run was interrupted: cases it did not reach are not in the baseline"
        if results.get("complete") is False
        else ""
    )
    print(
        f"wrote {args.output}: {len(cases)} cases of the run of {document['from_run'] or '?'}, "
        f"{len(deviating)} with accepted deviations ({len(rules)} rules){partial}"
    )
    return EXIT_OK


def _read_json(path: Path) -> tuple[dict[str, Any], str]:
    """The JSON object in ``path`` (``results.json`` inside a directory), and how to name it."""
    if path.is_dir():
        if not (path / RESULTS_FILE).is_file():
            raise BaselineError(f"{path} is a directory without {RESULTS_FILE}")
        path = path / RESULTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise BaselineError(f"{path} is not JSON (not UTF-8 text)") from None
    except OSError as exc:
        raise BaselineError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"{path} is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise BaselineError(f"{path} nests deeper than a results file does") from None
    if not isinstance(document, dict):
        raise BaselineError(
            f"{path} is neither an accepted-deviations file (from chatconform baseline) "
            "nor a chatconform results.json"
        )
    return document, str(path)


def _get(document: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
