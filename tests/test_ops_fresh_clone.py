"""The repository is enough: a clone of what is committed, in a temporary folder with
nothing beside it (no ``shared/``), starts the sandbox demo and passes an end-to-end test.
It reuses this checkout's virtual environment with PYTHONPATH on the clone, which keeps it
fast; the test checks that the clone's code, not this checkout's, is what runs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    target = tmp_path_factory.mktemp("fresh") / "quartierbot"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)],
        check=True,
        timeout=120,
    )
    assert not any((parent / "shared").exists() for parent in target.parents)
    return target


def clone_env(clone: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QUARTIERBOT_", "PYTEST_")) and k != "PYTHONPATH"
    }
    return env | {"PYTHONPATH": str(clone), "PYTHONDONTWRITEBYTECODE": "1"}


def test_the_clone_runs_its_own_code(clone: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bot, sandbox.schema as s; print(bot.__file__, s.find_schema())",
        ],
        env=clone_env(clone),
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=60,
    )
    module, schema = result.stdout.split()
    assert module.startswith(str(clone)) and schema.startswith(str(clone)), result


def test_the_sandbox_starts_in_the_clone(clone: Path) -> None:
    env = clone_env(clone) | {"QUARTIERBOT_SANDBOX_PORT": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox"],
        env=env,
        cwd=clone,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "Quartierbot is running" in line or process.poll() is not None:
            break
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)
    text = "".join(lines) + rest
    assert "Quartierbot is running" in text and "/sandbox/" in text, text
    assert process.returncode == 0, text


def test_an_end_to_end_test_passes_in_the_clone(clone: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "tests/test_booking.py::test_full_booking_in_english_with_calendar_file",
        ],
        env=clone_env(clone),
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
