"""The bot as an operator starts it: `python -m bot` with QUARTIERBOT_* variables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QUARTIERBOT_")}
    return {**clean, "QUARTIERBOT_DB": str(tmp_path / "bot.sqlite3"), **values}


def test_configuration_errors_are_reported_one_line_each(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        env=env(tmp_path, QUARTIERBOT_ADMINS="12,abc", QUARTIERBOT_TZ="Nowhere/Town"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("config error:")]
    assert len(lines) == 2
    assert "QUARTIERBOT_ADMINS" in lines[0] and "QUARTIERBOT_TZ" in lines[1]


def test_without_token_the_sandbox_runs_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        env=env(tmp_path, QUARTIERBOT_SANDBOX_PORT="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    output = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        output.append(line)
        if "Quartierbot is running" in line or process.poll() is not None:
            break
    text = "".join(output)
    assert "No QUARTIERBOT_TOKEN is set" in text
    assert "http://127.0.0.1:" in text and "/sandbox/" in text
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, text + rest
    assert "Application.stop() complete" in rest
    # The demo never touches the operator's database.
    assert not (tmp_path / "bot.sqlite3").exists()


async def test_with_a_token_the_bot_serves_residents_from_any_bot_api(tmp_path: Path) -> None:
    """As an operator runs it against another Bot API server: long polling, then SIGTERM."""
    import asyncio

    from sandbox.server import Sandbox

    token = "777:OPERATOR-test"
    async with Sandbox(token) as sandbox:
        staff = sandbox.add_group("Team", is_forum=True)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=env(
                tmp_path,
                QUARTIERBOT_TOKEN=token,
                QUARTIERBOT_API_URL=sandbox.url,
                QUARTIERBOT_STAFF_CHAT=str(staff["id"]),
                QUARTIERBOT_ADMINS="1",
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            user = sandbox.add_user("Leyla", language_code="tr")
            await sandbox.wait_for(lambda: sandbox.calls("getUpdates"), timeout=30)
            sandbox.send_text(user, "/start")
            [welcome] = await sandbox.wait_bot_messages(user["id"], timeout=30)
            assert welcome["text"].startswith("Merhaba Leyla!")
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, output.decode()
        assert not sandbox.violations, sandbox.violations
    assert (tmp_path / "bot.sqlite3").exists()
