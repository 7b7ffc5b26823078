"""Wall time of a full run against the reference provider with injected latency.

Prints, for concurrency 1, 4 and 16, the run's wall time, the number of
requests, and the ratio to the ideal ceil(requests / concurrency) x latency.
Run by hand (`make bench`); never part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chatconform.fixture_server import FixtureServer
from chatconform.reference import ReferenceServer

KEY_ENV = "CHATCONFORM_BENCH_KEY"


class Latency:
    """ASGI middleware: every HTTP request waits ``seconds`` before it is handled."""

    def __init__(self, app, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


def measure(concurrency: int, latency_s: float, extra: list[str]) -> dict[str, float]:
    server = ReferenceServer(pace_s=0.0)
    server.app.add_middleware(Latency, seconds=latency_s)
    with server, FixtureServer() as images, tempfile.TemporaryDirectory() as reports:
        command = [
            sys.executable, "-m", "chatconform", "run",
            "--base-url", server.base_url, "--model", server.model, "--api-key-env", KEY_ENV,
            "--image-base-url", images.base_url,
            "--concurrency", str(concurrency), "--reports", reports, *extra,
        ]  # fmt: skip
        started = time.monotonic()
        subprocess.run(
            command, env={**os.environ, KEY_ENV: server.api_key}, capture_output=True, check=False
        )
        wall = time.monotonic() - started
        results = json.loads(next(Path(reports).glob("*/results.json")).read_text())
    skipped = results["summary"]["verdicts"]["skipped"]
    if skipped:
        raise SystemExit(f"{skipped} cases were skipped: the run is not the full suite")
    requests = results["usage"]["requests"]
    ideal = math.ceil(requests / concurrency) * latency_s
    return {
        "wall": wall,
        "session": results["duration_s"],
        "requests": requests,
        "cases": len(results["cases"]),
        "ideal": ideal,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request (0.2)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("extra", nargs="*", help="more `chatconform run` arguments (after --)")
    args = parser.parse_args()
    print(f"latency {args.latency * 1000:.0f} ms per request, reference provider, pace 0")
    print(
        f"{'conc':>4} {'cases':>5} {'reqs':>5} {'wall s':>7} {'pytest s':>8} {'ideal s':>7} {'wall/ideal':>10}"
    )
    for concurrency in args.concurrency:
        m = measure(concurrency, args.latency, args.extra)
        print(
            f"{concurrency:>4} {m['cases']:>5} {m['requests']:>5} {m['wall']:>7.1f} "
            f"{m['session']:>8.1f} {m['ideal']:>7.1f} {m['wall'] / m['ideal']:>10.2f}"
        )


if __name__ == "__main__":
    main()
