"""The built wheel is the whole tool: installed alone, it runs the suites from anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # No build isolation: hatchling is a dev dependency, and the test fetches nothing.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("chatconform-*.whl")
    return built


def test_wheel_carries_what_a_run_needs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for tracked in ("suites", "schemas", "fixtures"):
        files = subprocess.run(
            ["git", "ls-files", tracked], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
        missing = [f for f in files if f"chatconform/data/{f}" not in names]
        assert files and not missing, f"not in the wheel: {missing[:5]}"
    for data in (
        "dialects/openai/rules.toml",
        "dialects/anthropic/rules.toml",
        "reference/faults.toml",
    ):
        assert f"chatconform/{data}" in names


def test_installed_wheel_runs_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    # Dependencies come from this environment's site-packages (a plain path, so its
    # editable install of chatconform is not active): the test fetches nothing.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CHATCONFORM"))}
    where = subprocess.run(
        [str(python), "-c", "import chatconform.paths as p; print(p.__file__); print(p.ROOT)"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert all(str(venv) in line for line in where), where
    done = subprocess.run(
        [
            str(venv / "bin" / "chatconform"),
            "run",
            "--case",
            "openai/text/basic-answer",
            "--case",
            "anthropic/streaming/event-order",
            "--concurrency",
            "1",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (results,) = (work / "reports").glob("*/results.json")
    cases = json.loads(results.read_text())["cases"]
    assert [c["verdict"] for c in cases] == ["pass", "pass"], cases
