"""The command line: `chatconform run`, `serve`, `faults`, `rules`."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from chatconform import __version__, baseline, compare, diff, load, trend
from chatconform.client import run_breaker
from chatconform.compare import printable
from chatconform.config import (
    AUTH_STYLES,
    CAPABILITIES,
    DIALECT_CAPABILITIES,
    DIALECTS,
    ConfigError,
    DialectConfig,
    Overrides,
    ProviderConfig,
    apply_overrides,
    resolve,
    validate,
)
from chatconform.paths import SUITES_DIR
from chatconform.preflight import Preflight
from chatconform.results import RESULTS_FILE, format_summary, verdict_counts
from chatconform.verdict import Verdict

REFERENCE_KEY_ENV = "CHATCONFORM_REFERENCE_KEY"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
PYTEST_INTERRUPTED = 2
# What --fail-on may name: every verdict but pass, in the order of results.json.
FAILABLE = tuple(str(v) for v in Verdict if v is not Verdict.PASS)
FAIL_ON_DEFAULT = "fail,error"


class UsageError(Exception):
    """A problem with how the tool was called; printed as one line, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, UsageError) as exc:
        print(f"chatconform: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("chatconform: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatconform",
        description="Conformance tests for OpenAI-compatible and Anthropic-native chat APIs.",
    )
    parser.add_argument("--version", action="version", version=f"chatconform {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="run the suites against a provider (default: the reference)"
    )
    run.add_argument(
        "--config", type=Path, help="provider TOML (default: ./chatconform.toml if present)"
    )
    run.add_argument("--provider", help="which provider of the config file to test")
    run.add_argument(
        "--dialect",
        choices=DIALECTS,
        help="the dialect the flags describe, and the only one run (default: openai, or "
        "the config's only dialect)",
    )
    run.add_argument(
        "--base-url",
        help="the provider's base URL, as the SDKs take it "
        "(openai: https://host/v1; anthropic: https://host, like ANTHROPIC_BASE_URL)",
    )
    run.add_argument(
        "--auth",
        choices=AUTH_STYLES,
        help="how the key is sent (default: bearer for openai, x-api-key for anthropic)",
    )
    run.add_argument("--model", help="model id for every capability")
    run.add_argument(
        "--api-key-env", metavar="VAR", help="environment variable holding the API key"
    )
    run.add_argument(
        "--concurrency", type=int, help="requests in flight at once, one per case (default 4)"
    )
    run.add_argument(
        "--processes",
        type=_positive,
        default=1,
        help="worker processes the cases are spread over (default 1: cases wait on the "
        "provider, so one process keeps them all in flight, in threads)",
    )
    run.add_argument(
        "--timeout",
        type=float,
        dest="timeout_s",
        help="seconds of silence before a request is cut (default 60)",
    )
    run.add_argument("--max-tokens-total", type=int, help="token budget of the whole run")
    run.add_argument(
        "--load",
        type=load.load_count,
        metavar="N",
        help="after the suite, send N identical small requests at once and report their "
        "success rate and latency against one alone (information, never a verdict)",
    )
    run.add_argument(
        "--image-base-url",
        metavar="URL",
        help="where fixtures/images is published for the provider to fetch "
        "(URL image cases; the embedded reference serves them itself)",
    )
    run.add_argument(
        "--only",
        help=f"capabilities to run, comma-separated: {','.join(CAPABILITIES)}; "
        "one dialect's as anthropic/text",
    )
    run.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="ID",
        help="case id or glob (openai/streaming/*, anthropic/*); repeatable",
    )
    run.add_argument(
        "--attempts",
        type=int,
        default=2,
        help="attempts of a semantic probe before judging (default 2)",
    )
    run.add_argument(
        "--fail-on",
        metavar="VERDICTS",
        default=FAIL_ON_DEFAULT,
        help=f"comma-separated verdicts that make the exit code 1 (default {FAIL_ON_DEFAULT}; "
        f"choose from {','.join(FAILABLE)})",
    )
    run.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="accepted deviations (from `chatconform baseline`) or an earlier results.json: "
        "exit 1 only for regressions against it, instead of --fail-on",
    )
    run.add_argument(
        "--summary-md",
        type=Path,
        metavar="FILE",
        help="append a markdown summary to FILE (e.g. $GITHUB_STEP_SUMMARY)",
    )
    run.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        help="where run directories go (default ./reports)",
    )
    run.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="with the embedded reference provider: inject this fault; repeatable",
    )
    run.add_argument(
        "--pace",
        type=float,
        default=0.02,
        help="with the embedded reference: seconds between stream chunks",
    )
    run.add_argument(
        "--clients",
        metavar="FAMILIES",
        help="real client libraries to replay the run through, after it: python, node or "
        "both (python,node), or none (default: every family that can run here)",
    )
    run.set_defaults(func=cmd_run)

    serve = commands.add_parser("serve", help="serve the reference provider on loopback")
    serve.add_argument(
        "--port", type=_port, default=0, help="port on 127.0.0.1 (default: any free port)"
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="inject a catalog fault; repeatable",
    )
    serve.add_argument("--pace", type=float, default=0.02, help="seconds between stream chunks")
    serve.set_defaults(func=cmd_serve)

    faults = commands.add_parser("faults", help="list the reference provider's fault catalog")
    faults.set_defaults(func=cmd_faults)

    rejudge = commands.add_parser(
        "rejudge",
        help="judge a run again offline, from its wire archive, with this version's rules",
    )
    rejudge.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory")
    rejudge.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="NEW_DIR",
        help="where the new results and report go (default RUN_DIR/rejudged)",
    )
    rejudge.add_argument(
        "--fail-on",
        metavar="VERDICTS",
        default=FAIL_ON_DEFAULT,
        help=f"as for run (default {FAIL_ON_DEFAULT})",
    )
    rejudge.add_argument(
        "--clients", metavar="FAMILIES", help="as for run (default: every family that can run)"
    )
    rejudge.set_defaults(func=cmd_rejudge)

    rules = commands.add_parser("rules", help="list every rule with its severity and requirement")
    rules.add_argument(
        "--verbose", "-v", action="store_true", help="also show requirement, source, check"
    )
    rules.set_defaults(func=cmd_rules)

    for module in (baseline, diff, compare, trend):
        module.add_parser(commands)
    return parser


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port (0-65535)")
    return int(value)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


def cmd_run(args: argparse.Namespace) -> int:
    only = _capabilities(args.only)
    fail_on = _fail_on(args.fail_on)
    families = _client_families(args.clients)
    if args.attempts < 1:
        raise UsageError("--attempts must be at least 1")
    try:
        # Read before the run: a baseline that cannot be used costs no request.
        accepted = None if args.baseline is None else baseline.load_baseline(args.baseline)
    except baseline.BaselineError as exc:
        raise UsageError(str(exc)) from None
    overrides = Overrides(
        base_url=args.base_url,
        model=args.model,
        api_key_env=args.api_key_env,
        concurrency=args.concurrency,
        timeout_s=args.timeout_s,
        max_tokens_total=args.max_tokens_total,
        image_base_url=args.image_base_url,
        dialect=args.dialect,
        auth=args.auth,
    )
    provider = resolve(config_path=args.config, provider_name=args.provider, overrides=overrides)
    with ExitStack() as stack:
        if provider is None:
            provider = _start_reference(stack, args, overrides)
        elif args.fault:
            raise UsageError(
                "--fault applies to the embedded reference provider only (drop --base-url/--config)"
            )
        run_dir = _run_dir(args.reports, provider.name)
        provider_file = run_dir / "provider.json"
        provider_file.write_text(provider.to_json(), encoding="utf-8")
        # The suite starts while the preflight is asked; a problem stops the run sending.
        preflight = Preflight(provider, on_problem=run_breaker(run_dir).trip).start()
        code = _pytest(
            provider, run_dir, provider_file, only, args.case, args.attempts, args.processes
        )
        # Interrupted, the partial results are kept and nothing more is waited for.
        problem = None if code == PYTEST_INTERRUPTED else preflight.wait()
        if problem is not None:
            # Nothing of a run against a provider that cannot be tested is worth keeping
            # (pytest returned: no case is still writing into it).
            shutil.rmtree(run_dir, ignore_errors=True)
            raise UsageError(problem)
        if args.load and code != PYTEST_INTERRUPTED:
            load.after_run(provider, run_dir, args.load)
    _client_matrix(run_dir, code, families, provider)
    return _finish(run_dir, code, fail_on, accepted, args.summary_md)


def _capabilities(value: str | None) -> list[str]:
    if not value:
        return []
    names = [c.strip() for c in value.split(",") if c.strip()]
    for name in names:
        dialect, _, capability = name.rpartition("/")
        if dialect and dialect not in DIALECT_CAPABILITIES:
            raise UsageError(
                f"--only {name}: no dialect {dialect!r}; choose from {', '.join(DIALECTS)}"
            )
        known = DIALECT_CAPABILITIES[dialect] if dialect else CAPABILITIES
        if capability not in known:
            raise UsageError(
                f"unknown capability {name!r}; choose from {', '.join(known)}"
                + ("" if dialect else " (or one dialect's, as anthropic/text)")
            )
    return names


def _client_families(value: str | None) -> tuple[str, ...] | None:
    from chatconform.clients import parse_families

    try:
        return parse_families(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _client_matrix(
    run_dir: Path, code: int, families: tuple[str, ...] | None, provider: ProviderConfig
) -> None:
    """Replay the finished run through the real client libraries (results.json's
    ``clients``); a run cut short or broken gets none."""
    if code not in (0, 1) or not (run_dir / RESULTS_FILE).exists():
        return
    from chatconform.clients.matrix import attach
    from chatconform.redaction import Redactor

    key = provider.api_key()
    headers = [v for d in provider.dialects.values() for v in d.secret_header_values()]
    for note in attach(run_dir, families, Redactor([key, *headers] if key else headers)):
        print(f"chatconform: {printable(note)}", file=sys.stderr)


def _fail_on(value: str) -> frozenset[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in FAILABLE]
    if unknown or not names:
        what = f"unknown verdict {unknown[0]!r}" if unknown else "no verdict"
        raise UsageError(f"--fail-on: {what}; choose from {', '.join(FAILABLE)}")
    return frozenset(names)


def _start_reference(
    stack: ExitStack, args: argparse.Namespace, overrides: Overrides
) -> ProviderConfig:
    from chatconform.fixture_server import FixtureServer
    from chatconform.reference import ReferenceServer
    from chatconform.reference.embeddings import EMBEDDING_MODEL
    from chatconform.reference.faults import check_fault_names

    try:
        faults = check_fault_names(args.fault)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    server = stack.enter_context(ReferenceServer(faults=faults, pace_s=args.pace))
    # The reference fetches URL images over HTTP like any provider: publish them on loopback.
    images = overrides.image_base_url or stack.enter_context(FixtureServer()).base_url
    os.environ[REFERENCE_KEY_ENV] = server.api_key
    label = "reference" + "".join(f"+{f}" for f in sorted(faults))
    print(
        f"chatconform: no provider configured; testing the embedded reference provider at {server.base_url}"
        + (f" with faults {', '.join(sorted(faults))}" if faults else "")
    )
    # The reference speaks both dialects, thinks when asked to, and embeds.
    provider = ProviderConfig(
        name=label,
        dialects={
            "openai": DialectConfig(
                base_url=server.base_url,
                auth="bearer",
                models={
                    "default": server.model,
                    "embeddings": EMBEDDING_MODEL,
                    "reasoning": server.reasoning_model,
                },
            ),
            "anthropic": DialectConfig(
                base_url=server.root_url,
                auth="x-api-key",
                models={"default": server.model, "thinking": server.model},
            ),
        },
        api_key_env=REFERENCE_KEY_ENV,
        image_base_url=images,
    )
    provider = apply_overrides(provider, replace(overrides, image_base_url=None, base_url=None))
    validate(provider, "command line", os.environ)
    return provider


def _run_dir(reports: Path, provider_name: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir = reports / f"{stamp}-{provider_name}"
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = reports / f"{stamp}-{provider_name}-{suffix}"
    try:
        run_dir.mkdir(parents=True)
    except OSError as exc:
        raise UsageError(f"cannot create the report directory {run_dir}: {exc.strerror}") from None
    return run_dir


def _pytest(
    provider: ProviderConfig,
    run_dir: Path,
    provider_file: Path,
    only: list[str],
    cases: list[str],
    attempts: int,
    processes: int = 1,
    replay: Path | None = None,
) -> int:
    import pytest

    args = [
        str(SUITES_DIR),
        f"--rootdir={SUITES_DIR.parent}",
        f"--cc-provider={provider_file}",
        f"--cc-report-dir={run_dir}",
        f"--cc-attempts={attempts}",
        "-q",
        "--no-header",
        "--tb=short",
        "-p",
        "no:cacheprovider",
        # Hypothesis (a dependency, for the project's own tests) registers a pytest
        # plugin whose import alone costs seconds; the suites do not use it, nor anyio's.
        "-p",
        "no:hypothesispytest",
        "-p",
        "no:anyio",
        # The suites and the harness use no bare asserts: rewriting them would only cost
        # each run a recompile of every suite module.
        "--assert=plain",
    ]
    if only:
        args.append(f"--cc-only={','.join(only)}")
    args += [f"--cc-case={c}" for c in cases]
    concurrency = provider.concurrency
    if replay is not None:
        args.append(f"--cc-replay={replay}")
        # Offline, cases wait on nothing: judging is all CPU, spread over the cores, and
        # more processes than cores only cost start-up.
        processes = min(concurrency, os.cpu_count() or 1)
        concurrency = processes
    processes = min(processes, concurrency)
    # Each process keeps its share of the requests in flight, in threads. pytest's output
    # capture is one per process, so it cannot tell concurrent cases' output apart; the
    # suites print nothing, and what a harness bug prints is better seen than misfiled.
    threads = -(-concurrency // processes)
    args.append(f"--cc-concurrency={threads}")
    if threads > 1:
        args.append("--capture=no")
    if processes > 1:
        args += ["-n", str(processes)]
    else:
        # Not loaded where unused: starting a run is part of its every wait.
        args += ["-p", "no:xdist"]
    return int(pytest.main(args))


def _finish(
    run_dir: Path,
    code: int,
    fail_on: frozenset[str],
    accepted: baseline.Baseline | None = None,
    summary_md: Path | None = None,
) -> int:
    """The exit code: from the verdicts in results.json and ``--fail-on``, or, against a
    baseline, from whether the run regressed."""
    results_file = run_dir / RESULTS_FILE
    if code == PYTEST_INTERRUPTED:
        partial = f"; partial results in {results_file}" if results_file.exists() else ""
        print(f"chatconform: interrupted{partial}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if code not in (0, 1) or not results_file.exists():
        if code == 5:
            raise UsageError("no case matched the selection (--only/--case)")
        print(
            f"chatconform: the test run ended abnormally (pytest exit code {code})", file=sys.stderr
        )
        return EXIT_USAGE
    import json

    results = json.loads(results_file.read_text(encoding="utf-8"))
    print()
    print(format_summary(results))
    print(f"report: {run_dir / 'report.html'}")
    print(f"results: {results_file}")
    changes = None if accepted is None else diff.diff_runs(accepted, results)
    if summary_md is not None:
        try:
            baseline.write_output(summary_md, diff.markdown(changes, results), append=True)
        except baseline.BaselineError as exc:
            print(f"chatconform: error: {exc}", file=sys.stderr)
    counts = verdict_counts(results)
    if code == 1 and not counts[Verdict.FAIL] and not counts[Verdict.ERROR]:
        # pytest failed something that is no case (a fixture's teardown, say): the
        # harness broke, and no verdict says so.
        print(
            "chatconform: pytest reported a failure outside any case; counted as an error",
            file=sys.stderr,
        )
        counts[Verdict.ERROR] += 1
        if changes is not None:
            return EXIT_FAILED
    if changes is not None:
        print()
        print(diff.format_text(changes))
        if not changes.regressed:
            return EXIT_OK
        print("exit code 1: regressions against the baseline")
        return EXIT_FAILED
    hits = [f"{counts[v]} {v}" for v in FAILABLE if v in fail_on and counts[v]]
    if not hits:
        return EXIT_OK
    print(
        f"exit code 1: {', '.join(hits)} (--fail-on {','.join(v for v in FAILABLE if v in fail_on)})"
    )
    return EXIT_FAILED


def cmd_rejudge(args: argparse.Namespace) -> int:
    """Run every case again on the run's wire archive: this version's requests, checks and
    rules over the recorded answers, no request sent."""
    import json

    from chatconform import archive
    from chatconform.junit import write_junit
    from chatconform.report import write_report
    from chatconform.results import write_results

    fail_on = _fail_on(args.fail_on)
    families = _client_families(args.clients)
    source = args.run_dir
    try:
        recorded = archive.load(source / archive.ARCHIVE_FILE)
        provider = ProviderConfig.from_json(json.dumps(recorded.header["provider"]))
    except archive.ArchiveError as exc:
        raise UsageError(str(exc)) from None
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"{source}: the archive's header does not describe a provider") from None
    # The archive holds what was recorded, redacted; a key the provider spelt out in pieces
    # (two content blocks, say) is whole only in text the checks put together again, and
    # only a known key can be redacted there.
    needed = [provider.api_key_env] if provider.api_key_env else []
    needed += [
        value[1:]
        for spoken in provider.dialects.values()
        for value in spoken.headers.values()
        if value.startswith("$")
    ]
    unset = [name for name in needed if not os.environ.get(name)]
    if unset:
        raise UsageError(
            f"set {unset[0]} to the key the run used (nothing is sent): rejudge redacts it "
            "from the text it reassembles from the archive"
            + (
                " (the embedded reference's key is sk-reference)"
                if unset[0] == REFERENCE_KEY_ENV
                else ""
            )
        )
    target = args.output or source / "rejudged"
    if target.resolve() == source.resolve():
        raise UsageError("-o must name another directory than the run's own")
    earlier = _original_results(target)
    if earlier is not None and "rejudged" not in earlier:
        raise UsageError(f"{target} holds a run of its own: give -o a new directory")
    try:
        target.mkdir(parents=True, exist_ok=True)
        # What an interrupted rejudge left there must not join this one's archive.
        for stale in target.glob(".exchanges-*"):
            stale.unlink()
    except OSError as exc:
        raise UsageError(f"cannot create {target}: {exc.strerror}") from None
    provider_file = target / "provider.json"
    provider_file.write_text(provider.to_json(), encoding="utf-8")
    print(
        printable(
            f"chatconform: judging {len(recorded.cases)} recorded cases of {provider.name} "
            f"({recorded.header.get('started_at', 'unknown date')}, chatconform "
            f"{recorded.header.get('tool_version', '?')}) offline with chatconform {__version__}"
        )
    )
    attempts = recorded.header.get("attempts", 2)
    code = _pytest(
        provider, target, provider_file, [], [], attempts, replay=source / archive.ARCHIVE_FILE
    )
    results_file = target / RESULTS_FILE
    _client_matrix(target, code, families, provider)
    if results_file.exists():
        results = json.loads(results_file.read_text(encoding="utf-8"))
        original = _original_results(source)
        # The evidence is as old as the run: so is the report's date.
        results["started_at"] = recorded.header.get("started_at", results["started_at"])
        duration = None if original is None else original.get("duration_s")
        if isinstance(duration, int | float) and not isinstance(duration, bool):
            results["duration_s"] = duration
        results["rejudged"] = {
            "from": str(source),
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "recorded_with": recorded.header.get("tool_version"),
        }
        write_results(target, results)
        write_junit(target, results)
        write_report(target, results)
        judged = {c["id"] for c in results["cases"]}
        missing = sorted(set(recorded.cases) - judged)
        if missing:
            print(
                f"chatconform: {len(missing)} recorded cases are not in this version's suites "
                f"(e.g. {printable(missing[0])}): not judged"
            )
    return _finish(target, code, fail_on)


def _original_results(run_dir: Path) -> dict | None:
    """A run directory's results, when it holds a readable object of them."""
    import json

    try:
        results = json.loads((run_dir / RESULTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return results if isinstance(results, dict) else None


def cmd_serve(args: argparse.Namespace) -> int:
    from chatconform.reference import ReferenceServer
    from chatconform.reference.faults import check_fault_names

    try:
        faults = check_fault_names(args.fault)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        server = ReferenceServer(faults=faults, pace_s=args.pace, port=args.port)
        server.__enter__()
    except (OSError, RuntimeError) as exc:
        raise UsageError(f"cannot serve on 127.0.0.1:{args.port}: {exc}") from None
    try:
        print(f"base URL: {server.base_url}")
        print(f"model:    {server.model}")
        print(f"key:      {server.api_key}")
        if faults:
            print(f"faults:   {', '.join(sorted(faults))}")
        print("Ctrl-C to stop.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        server.__exit__(None, None, None)


def cmd_faults(args: argparse.Namespace) -> int:
    from chatconform.reference.faults import FAULTS

    width = max(map(len, FAULTS))
    for name, fault in sorted(FAULTS.items()):
        print(f"{name:<{width}}  {fault.description}")
        print(f"{'':<{width}}  seen in: {fault.seen_in}")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from chatconform.check import load_all
    from chatconform.rules import catalog

    checks = load_all()
    rules = catalog()
    width = max(map(len, rules))
    for rule_id, rule in rules.items():
        print(f"{rule_id:<{width}}  {rule.severity:<6}  {rule.title}")
        if args.verbose:
            check = checks.get(rule_id)
            print(f"{'':<{width}}  requirement: {rule.requirement}")
            print(f"{'':<{width}}  source:      {rule.source}")
            if check is not None:
                print(f"{'':<{width}}  check:       {check.__module__}.{check.__name__}")
    return EXIT_OK
