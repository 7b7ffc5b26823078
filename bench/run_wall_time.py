"""Wall time of a full run against a provider with a set latency, at several concurrencies.

A full run (both dialects) is recorded once against the reference provider; each
measured run then goes against a canned provider answering from that recording
after the set latency (bench/canned_provider.py), so the figures are the harness's,
not the reference model's. Printed per latency and concurrency: requests, wall time,
the ideal ``ceil(requests / concurrency) x latency`` and the ratio, and the fixed
cost (wall - ideal). The ideal ignores that some cases send requests one after
another (a tool round trip waits for the call): ``floor`` adds that, the least any
scheduler could do. Cases that judge the canned answers differently from the
recording (a stream the canned provider sends whole is not incremental, where the
reference's may have been) are listed under their row.

The runs measure the harness (`--clients none`). The client matrix, on by default,
replays each run through the real clients after it: one more row, marked `+clients`,
measures a run with it (at 200 ms and concurrency 16 unless told otherwise).
Run by hand (`make bench`); never part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from canned_provider import CannedProvider

from chatconform import archive
from chatconform.fixture_server import FixtureServer
from chatconform.reference import ReferenceServer

KEY_ENV = "CHATCONFORM_BENCH_KEY"


def config(openai_url: str, anthropic_url: str, model: str, images: str) -> str:
    return f"""
[providers.bench]
api_key_env = "{KEY_ENV}"
image_base_url = "{images}"
max_tokens_total = 10000000

[providers.bench.dialects.openai]
base_url = "{openai_url}"
models = {{ default = "{model}" }}

[providers.bench.dialects.anthropic]
base_url = "{anthropic_url}"
models = {{ default = "{model}", thinking = "{model}" }}
"""


def run(
    workdir: Path, name: str, provider_toml: str, key: str, *extra: str
) -> tuple[float, dict[str, Any], Path]:
    """One `chatconform run` in a subprocess: its wall time, results and run directory."""
    conf = workdir / f"{name}.toml"
    conf.write_text(provider_toml)
    reports = workdir / name
    command = [
        sys.executable, "-m", "chatconform", "run", "--config", str(conf),
        "--reports", str(reports), *extra,
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, env={**os.environ, KEY_ENV: key}, capture_output=True, text=True)
    wall = time.monotonic() - started
    found = list(reports.glob("*/results.json"))
    if not found:
        raise SystemExit(f"{name}: no results (exit {done.returncode})\n{done.stderr[-2000:]}")
    return wall, json.loads(found[0].read_text()), found[0].parent


def longest_chain(results: dict[str, Any]) -> int:
    """The most requests one case sends, one after another."""
    return max(case["usage"]["requests"] for case in results["cases"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--latency", type=float, nargs="+", default=[0.2, 2.0], help="seconds per request"
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument(
        "--slow-min-concurrency",
        type=int,
        default=4,
        help="skip concurrencies below this at latencies of 1 s or more (default 4)",
    )
    parser.add_argument(
        "--run-args",
        default="--clients none",
        help="`chatconform run` arguments of the measured runs (default: '--clients none')",
    )
    parser.add_argument(
        "--clients-row",
        default="0.2:16",
        help="latency:concurrency of the one run with the client matrix ('' for none)",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        ReferenceServer(pace_s=0.0) as reference,
        FixtureServer() as images,
    ):
        workdir = Path(tmp)
        toml = config(reference.base_url, reference.root_url, reference.model, images.base_url)
        _, recorded, run_dir = run(
            workdir, "recording", toml, reference.api_key, "--concurrency", "8"
        )
        wire = archive.load(run_dir / archive.ARCHIVE_FILE)
        chain = longest_chain(recorded)
        print(
            f"recorded: {len(recorded['cases'])} cases, {recorded['usage']['requests']} requests "
            f"(longest case: {chain} requests in a row), both dialects"
        )
        print(
            f"{'latency':>7} {'conc':>4} {'reqs':>5} {'wall s':>7} {'ideal s':>7} "
            f"{'wall/ideal':>10} {'fixed s':>7} {'floor s':>7} {'wall/floor':>10} {'verdicts':>9}"
        )
        rows = [
            (latency, concurrency, args.run_args.split(), "")
            for latency in args.latency
            for concurrency in args.concurrency
            if not (latency >= 1 and concurrency < args.slow_min_concurrency)
        ]
        if args.clients_row:
            latency, concurrency = args.clients_row.split(":")
            rows.append((float(latency), int(concurrency), [], " +clients"))
        for latency, concurrency, extra, label in rows:
            with CannedProvider(
                wire, reference.root_url, api_key=reference.api_key, latency_s=latency
            ) as canned:
                toml = config(
                    f"{canned.root_url}/v1", canned.root_url, reference.model, images.base_url
                )
                name = f"l{latency}-c{concurrency}{label.strip()}"
                wall, results, _ = run(
                    workdir, name, toml, reference.api_key,
                    "--concurrency", str(concurrency), *extra,
                )  # fmt: skip
            requests = results["usage"]["requests"]
            ideal = math.ceil(requests / concurrency) * latency
            # The busiest lane or the longest case, whichever is more (the preflight is
            # asked while the cases run).
            floor = max(math.ceil(requests / concurrency), chain) * latency
            recorded_verdicts = {c["id"]: c["verdict"] for c in recorded["cases"]}
            differing = [
                f"{c['id']}: {recorded_verdicts.get(c['id'])} -> {c['verdict']}"
                for c in results["cases"]
                if recorded_verdicts.get(c["id"]) != c["verdict"]
            ]
            print(
                f"{latency * 1000:>5.0f}ms {concurrency:>4} {requests:>5} {wall:>7.2f} "
                f"{ideal:>7.2f} {wall / ideal:>10.2f} {wall - ideal:>7.2f} {floor:>7.2f} "
                f"{wall / floor:>10.2f} {'DIFFER' if differing else 'same':>9}{label}"
                + (f"  ({canned.misses} not canned)" if canned.misses > 2 else "")
            )
            for line in differing[:4]:
                print(f"        {line}")


if __name__ == "__main__":
    main()
