"""A run compared with a baseline: what regressed, what is known, what got fixed.

Cases are matched by their stable id and deviations by rule id, never by message text.
Each case of the run is compared with the baseline's entry for it:

- **regression**: the verdict got worse, or a rule fires that did not fire on the case
  before (even if the case failed before too). A case the baseline does not hold is
  compared as if it had not been judged: it regresses if any rule fires on it
  (``non_strict``, ``fail``) or the harness broke (``error``); passing, refused or not
  judged, it is only listed as new.
- **known**: rules firing on the case in both.
- **fixed**: rules that fired before and no longer fire, or a verdict that improved.
  A case now in ``error`` fixes nothing: its rules went unjudged.
- **new cases**: not in the baseline (all of them, the regressing ones included).
- **missing**: in the baseline, not in this run (excluded by ``--only``, an interrupted
  run); never a regression.
- **not judged this time**: the case had another verdict and is now ``inconclusive`` or
  ``skipped`` (an outage, a rate limit): listed, never a regression, since it is
  transient; nothing else about the case counts this time.

"Worse" orders the judged verdicts ``pass < non_strict < fail < error``. ``unsupported``
(a clean refusal of an optional feature, no deviation) sits outside that order: a case
that was ``pass`` or ``non_strict`` and is now ``unsupported`` regressed (a capability
withdrawn); one that was ``fail`` or ``error`` and is now ``unsupported`` is fixed; one
that was ``unsupported`` is fixed if it now passes and regressed if it now deviates
(its deviations were never accepted). ``inconclusive`` and ``skipped`` are not worse
than anything: they are "not judged". A run regressed when some case regressed; that
is what makes ``chatconform diff`` and ``chatconform run --baseline`` exit 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatconform.baseline import (
    Baseline,
    BaselineError,
    load_baseline,
    load_results,
    run_cases,
    write_output,
)
from chatconform.results import headline as run_headline
from chatconform.results import status_label
from chatconform.rules import Rule, catalog

EXIT_OK, EXIT_REGRESSED, EXIT_USAGE = 0, 1, 2
# The judged verdicts, best first: a move to the right is worse.
RANK = {"pass": 0, "non_strict": 1, "fail": 2, "error": 3}
NOT_JUDGED = frozenset({"inconclusive", "skipped"})
# A markdown list of fixed cases longer than this is folded.
FOLD_OVER = 20
CATEGORIES = ("regressions", "fixed", "not_judged", "new_cases", "missing", "known")
_STATUS_MARK = {
    "pass": "✅",
    "non_strict": "🟡",
    "fail": "❌",
    "error": "💥",
    "unsupported": "⚪",
    "inconclusive": "❔",
    "not_measured": "➖",
}


@dataclass(frozen=True)
class CaseChange:
    """One case in one category of a diff."""

    case: str
    old: str | None  # its verdict in the baseline; None for a new case
    new: str | None  # its verdict in this run; None for a missing case
    # The rules the entry is about: newly firing (regressions), still firing (known), no
    # longer firing (fixed), firing (new cases), accepted before (missing).
    rules: tuple[str, ...] = ()
    # Listed (also) for its verdict moving from old to new, not only for its rules.
    verdict_change: bool = False
    reason: str = ""  # this run's reason for the verdict, when it gave one


@dataclass
class RunDiff:
    """A run against a baseline, per category, each sorted by case id."""

    provider: str
    started_at: str
    against: str  # the baseline, for people: its file and run
    regressions: list[CaseChange] = field(default_factory=list)
    known: list[CaseChange] = field(default_factory=list)
    fixed: list[CaseChange] = field(default_factory=list)
    new_cases: list[CaseChange] = field(default_factory=list)
    missing: list[CaseChange] = field(default_factory=list)
    not_judged: list[CaseChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in CATEGORIES}


def diff_runs(old: Baseline, new: dict[str, Any]) -> RunDiff:
    """``new`` (a results.json document) compared with ``old``."""
    now = run_cases(new)
    provider = _get(new, "provider", "name")
    where = f"{old.origin} " if old.origin else ""
    diff = RunDiff(
        provider=provider,
        started_at=_get(new, "started_at"),
        against=f"{where}(run of {old.from_run or 'unknown date'})",
    )
    for case_id in sorted(old.cases.keys() | now.keys()):
        before = old.cases.get(case_id)
        if case_id not in now:
            gone_case = old.cases[case_id]
            diff.missing.append(
                CaseChange(case_id, gone_case.verdict, None, tuple(sorted(gone_case.rules)))
            )
            continue
        verdict, rules, reason = now[case_id]
        was, was_rules = (before.verdict, before.rules) if before else (None, frozenset())
        move = transition(was, verdict)
        if before is None:
            diff.new_cases.append(
                CaseChange(case_id, None, verdict, tuple(sorted(rules)), reason=reason)
            )
        if move == "not_judged":
            diff.not_judged.append(
                CaseChange(case_id, was, verdict, verdict_change=True, reason=reason)
            )
        added = tuple(sorted(rules - was_rules))
        if verdict in NOT_JUDGED:
            # A case stopped short may still have shown a new deviation before it did.
            if added:
                diff.regressions.append(CaseChange(case_id, was, verdict, added, False, reason))
            continue
        gone = () if verdict == "error" else tuple(sorted(was_rules - rules))
        kept = tuple(sorted(rules & was_rules))
        if move == "worse" or added:
            diff.regressions.append(
                CaseChange(case_id, was, verdict, added, move == "worse", reason)
            )
        if move == "better" or gone:
            diff.fixed.append(CaseChange(case_id, was, verdict, gone, move == "better", reason))
        if kept:
            diff.known.append(CaseChange(case_id, was, verdict, kept, reason=reason))
    diff.notes = _notes(old, new, provider)
    return diff


def transition(old: str | None, new: str) -> str | None:
    """How a case's verdict moved: ``worse``, ``better``, ``not_judged`` (it was judged, or
    otherwise not judged, and is now inconclusive or skipped) or None (no change that
    counts). ``old`` None is a case the baseline does not hold."""
    if old == new:
        return None
    if new in NOT_JUDGED:
        return None if old is None else "not_judged"
    if old is None or old in NOT_JUDGED:
        return None if new in ("pass", "unsupported") else "worse"
    if new == "unsupported":
        return "worse" if old in ("pass", "non_strict") else "better"
    if old == "unsupported":
        return "better" if new == "pass" else "worse"
    return "worse" if RANK[new] > RANK[old] else "better"


def _notes(old: Baseline, new: dict[str, Any], provider: str) -> list[str]:
    notes = []
    if old.provider and provider and old.provider != provider:
        notes.append(f"the baseline is of provider {old.provider!r}, this run of {provider!r}")
    version = _get(new, "tool", "version")
    if old.tool_version and version and old.tool_version != version:
        notes.append(
            f"the baseline was made with chatconform {old.tool_version}, this run with "
            f"{version}: cases and rules added since are compared as new"
        )
    if new.get("complete") is False:
        notes.append("this run was interrupted: the cases it did not reach are listed as missing")
    return notes


def headline(d: RunDiff) -> str:
    """``2 regressions, 61 known, 1 fixed, 3 new cases, ...``: the counts, regressions first."""
    counts = d.counts()
    words = {
        "regressions": ("regression", "regressions"),
        "known": ("known", "known"),
        "fixed": ("fixed", "fixed"),
        "new_cases": ("new case", "new cases"),
        "missing": ("missing", "missing"),
        "not_judged": ("not judged", "not judged"),
    }
    always = ("regressions", "known", "fixed")
    return ", ".join(
        f"{counts[name]} {one if counts[name] == 1 else many}"
        for name, (one, many) in words.items()
        if name in always or counts[name]
    )


def format_text(d: RunDiff) -> str:
    """The diff for the terminal: regressions first, one fact per line, each naming its case
    (``case id: pass -> fail``, ``case id: + rule.id``)."""
    lines = [
        f"chatconform diff: {_plain(d.provider)} run of {_plain(d.started_at)} against "
        f"{_plain(d.against)}: {headline(d)}"
    ]
    lines += _text_section("regressions", d.regressions, "+")
    lines += _text_section("fixed", d.fixed, "-")
    lines += _text_section("not judged this time, not counted", d.not_judged, "")
    if d.new_cases:
        lines.append(f"new cases ({len(d.new_cases)}):")
        lines += [f"  {_plain(e.case)}: {e.new}" for e in d.new_cases]
    if d.missing:
        lines.append(f"missing: in the baseline, not in this run ({len(d.missing)}):")
        by_capability = Counter(_capability(e.case) for e in d.missing)
        lines += [f"  {_plain(name)}: {_n(n, 'case')}" for name, n in sorted(by_capability.items())]
    if d.known:
        per_rule = Counter(rule for e in d.known for rule in e.rules)
        lines.append(f"known deviations: {_n(len(d.known), 'case')}, {_n(len(per_rule), 'rule')}:")
        lines += [f"  {_plain(rule)}: {_n(n, 'case')}" for rule, n in sorted(per_rule.items())]
    lines += [f"note: {_plain(note)}" for note in d.notes]
    return "\n".join(lines)


def _text_section(title: str, entries: list[CaseChange], sign: str) -> list[str]:
    if not entries:
        return []
    lines = [f"{title} ({len(entries)}):"]
    for e in entries:
        case = _plain(e.case)
        if e.verdict_change:
            why = f" ({_plain(e.reason)})" if e.reason else ""
            lines.append(f"  {case}: {e.old or 'new case'} -> {e.new}{why}")
        lines += [f"  {case}: {sign} {_plain(rule)}" for rule in e.rules]
    return lines


def _capability(case_id: str) -> str:
    """The scorecard row of a case id: ``openai/vision`` of ``openai/vision/url[png]``."""
    return "/".join(case_id.split("/")[:2])


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def to_json(d: RunDiff) -> dict[str, Any]:
    """The diff as a JSON document (``chatconform diff -o``)."""
    return {
        "chatconform_diff": 1,
        "provider": d.provider,
        "started_at": d.started_at,
        "against": d.against,
        "regressed": d.regressed,
        "counts": d.counts(),
        "notes": list(d.notes),
        **{
            name: [
                {
                    "case": e.case,
                    "old": e.old,
                    "new": e.new,
                    "rules": list(e.rules),
                    "verdict_change": e.verdict_change,
                    "reason": e.reason,
                }
                for e in getattr(d, name)
            ]
            for name in CATEGORIES
        },
    }


def markdown(d: RunDiff | None, results: dict[str, Any] | None) -> str:
    """A summary for ``$GITHUB_STEP_SUMMARY``: the headline, the capability table (with
    ``results``), regressions, fixed, then the known deviations folded. Everything taken
    from a run is escaped, so a hostile provider cannot inject markup. Without a diff
    (``d`` None), the headline and table of ``results`` alone."""
    rules = catalog()
    if d is not None:
        mark = "❌" if d.regressed else "✅"
        head = (
            f"{mark} chatconform: {_md(d.provider)}, run of {_md(d.started_at)}: {_md(headline(d))}"
        )
    elif results is None:
        raise ValueError("markdown() needs a diff, results, or both")
    else:
        head = (
            f"chatconform: {_md(_get(results, 'provider', 'name'))}, run of "
            f"{_md(_get(results, 'started_at'))}: {_md(run_headline(results))}"
        )
    out = [f"### {head}", ""]
    if results is not None:
        out += _capability_table(results)
    if d is None:
        return "\n".join(out).rstrip("\n") + "\n\n"
    out += [f"Baseline: {_md(d.against)}", ""]
    for note in d.notes:
        out += [f"Note: {_md(note)}", ""]
    if d.regressions:
        out += [f"#### Regressions ({len(d.regressions)})", ""]
        out += _entries(d.regressions, rules, "newly firing")
    if d.fixed:
        out += [f"#### Fixed ({len(d.fixed)})", ""]
        fixed = _entries(d.fixed, rules, "no longer firing")
        if len(d.fixed) > FOLD_OVER:
            fixed = ["<details><summary>Show them</summary>", "", *fixed, "</details>", ""]
        out += fixed
    if d.not_judged:
        out += [f"#### Not judged this time ({len(d.not_judged)}), not counted", ""]
        out += _entries(d.not_judged, rules, "")
    extra = [_n(len(d.new_cases), "new case")] if d.new_cases else []
    extra += [f"{len(d.missing)} missing (in the baseline, not run this time)"] if d.missing else []
    if extra:
        out += [f"Also: {', '.join(extra)}.", ""]
    if d.known:
        per_rule: dict[str, list[str]] = {}
        for e in d.known:
            for rule in e.rules:
                per_rule.setdefault(rule, []).append(e.case)
        out += [
            "<details><summary>Known deviations: "
            f"{_n(len(d.known), 'case')}, {_n(len(per_rule), 'rule')}</summary>",
            "",
        ]
        for rule, cases in sorted(per_rule.items()):
            out.append(f"- {_rule_md(rule, rules)}: {_n(len(cases), 'case')}")
            out += [f"  - {_id_md(case)}" for case in cases]
        out += ["", "</details>"]
    return "\n".join(out).rstrip("\n") + "\n\n"


def _capability_table(results: dict[str, Any]) -> list[str]:
    summary = results.get("summary") if isinstance(results.get("summary"), dict) else {}
    statuses = summary.get("capabilities")
    if not isinstance(statuses, dict) or not statuses:
        return []
    counts, refused = summary.get("capability_counts", {}), summary.get("unsupported_features", {})
    rows = ["| capability | status | cases |", "| --- | --- | --- |"]
    for name, status in statuses.items():
        features = refused.get(name, []) if isinstance(refused, dict) else []
        label = status_label(
            str(status), [str(f) for f in features] if isinstance(features, list) else []
        )
        seen = counts.get(name, {}) if isinstance(counts, dict) else {}
        detail = (
            ", ".join(f"{n} {v}" for v, n in sorted(seen.items())) if isinstance(seen, dict) else ""
        )
        mark = _STATUS_MARK.get(str(status), "")
        rows.append(f"| {_id_md(name)} | {mark} {_md(label)} | {_md(detail)} |")
    return [*rows, ""]


def _entries(entries: list[CaseChange], rules: dict[str, Rule], what: str) -> list[str]:
    out = []
    for e in entries:
        if e.verdict_change:
            state = f"{_md(e.old or 'new case')} → {_md(e.new or '')}"
        else:
            state = f"{_md(e.new or '')}, {what}"
        reason = f" — {_md(e.reason, limit=300)}" if e.reason else ""
        out.append(f"- {_id_md(e.case)}: {state}{reason}")
        out += [f"  - {_rule_md(rule, rules)}" for rule in e.rules]
    return [*out, ""]


def _rule_md(rule_id: str, rules: dict[str, Rule]) -> str:
    """A rule id with its title and severity from the catalog; the bare id if unknown."""
    known = rules.get(rule_id)
    if known is None:
        return _id_md(rule_id)
    return f"{_id_md(rule_id)}: {_md(known.title)} ({_md(str(known.severity))})"


# Markdown's and HTML's active characters; all are ASCII punctuation, which CommonMark
# lets a backslash escape. "$" starts GitHub's math, ":" its emoji shortcodes, "@" mentions.
_MD_ACTIVE = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|&~^=:@$])")


# What an id may hold to be shown as code: no backtick, pipe, space or markup of its own.
_SAFE_ID = re.compile(r"[A-Za-z0-9_.:/\[\]=+,@-]{1,200}")


def _id_md(text: str) -> str:
    """A case or rule id as inline code when it is plainly one, else as escaped text."""
    return f"`{text}`" if _SAFE_ID.fullmatch(text) else _md(text)


def _md(text: object, limit: int = 500) -> str:
    """``text`` as inert markdown on one line: no markup, no HTML, no line break."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _MD_ACTIVE.sub(r"\\\1", flat)


def _plain(text: object) -> str:
    """``text`` for a terminal: control characters (escape sequences) shown, not obeyed."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text)
    )


def _get(document: dict[str, Any], *keys: str) -> str:
    value: Any = document
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``chatconform diff A B [-o OUT.json] [--summary-md FILE]``."""
    parser = commands.add_parser(
        "diff", help="compare a run with a baseline or an earlier run; exit 1 if it regressed"
    )
    parser.add_argument(
        "old",
        metavar="A",
        type=Path,
        help="the baseline: an accepted-deviations file, a run directory or a results.json",
    )
    parser.add_argument(
        "new", metavar="B", type=Path, help="the run to judge: a run directory or its results.json"
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="OUT.json", help="also write the diff as JSON"
    )
    parser.add_argument(
        "--summary-md",
        type=Path,
        metavar="FILE",
        help="append a markdown summary to FILE (in GitHub Actions: $GITHUB_STEP_SUMMARY)",
    )
    parser.set_defaults(func=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    try:
        baseline = load_baseline(args.old)
        results = load_results(args.new)
        d = diff_runs(baseline, results)
        print(format_text(d))
        if args.output:
            write_output(args.output, json.dumps(to_json(d), indent=2) + "\n")
        if args.summary_md:
            write_output(args.summary_md, markdown(d, results), append=True)
    except BaselineError as exc:
        print(f"chatconform: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if d.regressed:
        print(f"exit code 1: {len(d.regressions)} cases regressed against {args.old}")
        return EXIT_REGRESSED
    return EXIT_OK
