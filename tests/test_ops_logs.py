"""Logs for an office's collector: ``QUARTIERBOT_LOG_FORMAT=json`` gives one JSON object per
line; what residents write and their names never appear, in either format."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import sys
from pathlib import Path

from bot.logs import JsonFormatter, configure_logging
from sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parent.parent


def test_json_lines_carry_time_level_logger_message_and_extras() -> None:
    stream = io.StringIO()
    configure_logging("json", stream)
    try:
        log = logging.getLogger("quartierbot.test")
        log.info("booking %s confirmed", 17, extra={"booking_id": 17, "ref": "R-4"})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("handler failed for update %s", 5)
    finally:
        configure_logging("text")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert set(first) == {"time", "level", "logger", "message", "booking_id", "ref"}
    assert first["level"] == "INFO" and first["logger"] == "quartierbot.test"
    assert first["message"] == "booking 17 confirmed" and first["booking_id"] == 17
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]
    assert isinstance(JsonFormatter().format(logging.makeLogRecord({"msg": "x"})), str)


def test_text_lines_are_one_per_event_too() -> None:
    stream = io.StringIO()
    configure_logging("text", stream)
    try:
        log = logging.getLogger("quartierbot.test")
        log.warning("Telegram refused: %s", "bad\nINFO forged line")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    finally:
        configure_logging("text")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("WARNING quartierbot.test: Telegram refused: bad\\nINFO forged line")
    assert "Traceback" in lines[1] and "ValueError: boom" in lines[1]


async def test_the_running_bot_logs_json_without_names_or_words(tmp_path: Path) -> None:
    token = "777:OPERATOR-json"
    async with Sandbox(token) as sandbox:
        staff = sandbox.add_group("Team", is_forum=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTIERBOT_")}
        env |= {
            "QUARTIERBOT_TOKEN": token,
            "QUARTIERBOT_API_URL": sandbox.url,
            "QUARTIERBOT_STAFF_CHAT": str(staff["id"]),
            "QUARTIERBOT_ADMINS": "1",
            "QUARTIERBOT_DB": str(tmp_path / "bot.sqlite3"),
            "QUARTIERBOT_LOG_FORMAT": "json",
            "PYTHONPATH": str(ROOT),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            user = sandbox.add_user("Zeynepxyz", language_code="tr")
            await sandbox.wait_for(lambda: sandbox.calls("getUpdates"), timeout=30)
            sandbox.send_text(user, "/start")
            [welcome] = await sandbox.wait_bot_messages(user["id"], timeout=30)
            sandbox.tap(user, welcome, data="1:consent:yes")
            # The bot runs in another process: it cannot be asked whether it is idle, so
            # here (only) the sandbox waits for a quiet spell.
            await sandbox.settle(timeout=30)
            [current] = [
                m for m in sandbox.messages(user["id"]) if m["message_id"] == welcome["message_id"]
            ]
            sandbox.tap(user, current, data="1:lang:tr")
            await sandbox.settle(timeout=30)
            sandbox.send_text(user, "Mein Vermieter Quxwort schreibt mir")
            await sandbox.wait_for(lambda: sandbox.bot_messages(staff["id"]), timeout=30)
            await sandbox.settle()
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, output.decode()
    lines = output.decode().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    messages = [r["message"] for r in records]
    assert any("Quartierbot is running" in m for m in messages), messages
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    text = output.decode()
    assert "Zeynepxyz" not in text and "Quxwort" not in text
    assert token.split(":")[1] not in text, "the token never reaches the logs"
