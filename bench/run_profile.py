"""What a run costs besides wall time: TTFT accuracy, memory under a huge body, requests and tokens.

Printed, each measured side by side in one run:
- time to first token as the harness measures it vs the value injected by a canned
  provider (bench/canned_provider.py) that holds each stream's body back that long,
  next to what a bare httpx client measures of the same streams (the rig's own share:
  the provider's parsing, its timer, the loopback);
- peak RSS of a `chatconform run` process while the reference sends 40 MB bodies
  (fault huge-body), next to a clean run's;
- requests and tokens of a full run, and the tokens spent by a run with a budget
  against a provider that ignores max_tokens (fault max-tokens-ignored).
Run by hand (`make bench`); never part of `make test`.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from canned_provider import CannedProvider
from run_wall_time import KEY_ENV, config, run

from chatconform import archive
from chatconform.archive import exchange_from_record
from chatconform.client import http_transport
from chatconform.exchange import RecordedRequest
from chatconform.fixture_server import FixtureServer
from chatconform.redaction import REDACTED
from chatconform.reference import FAULTS, ReferenceServer

# Runs the command it is given and prints its peak resident set size in KiB (Linux).
PEAK_RSS = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


# Streams in flight together, in the harness's run and in the bare client's.
TTFT_CONCURRENCY = 4


def first_tokens(results: dict[str, Any]) -> list[float]:
    return [
        e["first_token_s"]
        for case in results["cases"]
        for e in case["exchanges"]
        if e.get("first_token_s") is not None
    ]


def bare_first_bytes(
    url: str, wire: archive.Archive, api_key: str, concurrency: int
) -> list[float]:
    """Time to the first body byte of each recorded stream of the streaming cases, asked
    again by a bare httpx client, as many at once as the harness had: what the rig costs
    without the harness."""
    requests = [
        exchange.request
        for case_id, entries in wire.cases.items()
        if "/streaming/" in case_id
        for exchange in map(exchange_from_record, entries)
        if exchange.streamed and exchange.status == 200
    ]

    def first_byte(request: RecordedRequest) -> float:
        headers = {
            k: v.replace(REDACTED, api_key)
            for k, v in request.headers.items()
            if k.lower() not in ("content-length", "host")
        }
        started = time.monotonic()
        with client.stream(
            request.method, url + urlsplit(request.url).path,
            content=request.body, headers=headers,
        ) as response:  # fmt: skip
            for chunk in response.iter_bytes():
                if chunk:
                    return time.monotonic() - started
        raise RuntimeError(f"{request.url}: no body")

    with (
        httpx.Client(transport=http_transport(), timeout=30) as client,
        ThreadPoolExecutor(concurrency) as pool,
    ):
        return list(pool.map(first_byte, requests))


def spread(errors: list[float]) -> str:
    return (
        f"median {statistics.median(errors):+.1f} ms, min {errors[0]:+.1f} ms, "
        f"max {errors[-1]:+.1f} ms"
    )


def peak_rss_mb(reference: ReferenceServer, images: str, *extra: str) -> float:
    with tempfile.TemporaryDirectory() as reports:
        command = [
            sys.executable, "-m", "chatconform", "run", "--base-url", reference.base_url,
            "--model", reference.model, "--api-key-env", KEY_ENV, "--image-base-url", images,
            "--reports", reports, *extra,
        ]  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, *command],
            env={**os.environ, KEY_ENV: reference.api_key},
            capture_output=True,
            text=True,
            check=True,
        )
    return int(done.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-token", type=float, default=0.25, help="injected TTFT (s)")
    args = parser.parse_args()
    # The huge-body fault's reference server sees its reader hang up: not news here.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp, FixtureServer() as images:
        workdir = Path(tmp)
        with ReferenceServer(pace_s=0.0) as reference:
            toml = config(reference.base_url, reference.root_url, reference.model, images.base_url)
            _, recorded, run_dir = run(workdir, "recording", toml, reference.api_key)
            usage = recorded["usage"]
            print(
                f"full run: {len(recorded['cases'])} cases, {usage['requests']} requests, "
                f"{usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion tokens"
            )
            wire = archive.load(run_dir / archive.ARCHIVE_FILE)
            with CannedProvider(
                wire, reference.root_url, api_key=reference.api_key, first_token_s=args.first_token
            ) as canned:
                toml = config(
                    f"{canned.root_url}/v1", canned.root_url, reference.model, images.base_url
                )
                _, results, _ = run(
                    workdir, "ttft", toml, reference.api_key,
                    "--only", "openai/streaming,anthropic/streaming",
                    "--concurrency", str(TTFT_CONCURRENCY),
                )  # fmt: skip
                bare = bare_first_bytes(canned.root_url, wire, reference.api_key, TTFT_CONCURRENCY)
            errors = sorted((t - args.first_token) * 1000 for t in first_tokens(results))
            rig = sorted((t - args.first_token) * 1000 for t in bare)
            print(
                f"TTFT: injected {args.first_token * 1000:.0f} ms; measured - injected over "
                f"{len(errors)} streams, {TTFT_CONCURRENCY} at once, by the harness: {spread(errors)}; "
                f"by a bare httpx client, as many at once: {spread(rig)}"
            )
            clean = peak_rss_mb(reference, images.base_url, "--only", "openai/text")
        if "huge-body" in FAULTS:
            with ReferenceServer(pace_s=0.0, faults={"huge-body"}) as huge:
                peak = peak_rss_mb(huge, images.base_url, "--only", "openai/text")
            print(f"peak RSS: {peak:.0f} MB under huge-body (40 MB bodies), {clean:.0f} MB clean")
        else:
            print(f"peak RSS: {clean:.0f} MB clean (this version has no huge-body fault)")
        budget = 3000
        with ReferenceServer(pace_s=0.0, faults={"max-tokens-ignored"}) as greedy:
            toml = config(greedy.base_url, greedy.root_url, greedy.model, images.base_url)
            toml = toml.replace("max_tokens_total = 10000000", f"max_tokens_total = {budget}")
            _, results, _ = run(workdir, "budget", toml, greedy.api_key)
        spent = results["usage"]["prompt_tokens"] + results["usage"]["completion_tokens"]
        inconclusive = results["summary"]["verdicts"]["inconclusive"]
        print(
            f"budget: {spent} tokens spent of a {budget}-token budget against a provider "
            f"ignoring max_tokens ({inconclusive} cases inconclusive once it ran out)"
        )


if __name__ == "__main__":
    main()
