"""Operations: the database file is private, and a backup taken while the bot writes is
consistent."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from storage.db import backup
from tests.conftest import Harness

ROOT = Path(__file__).resolve().parent.parent


async def test_database_file_is_readable_only_by_the_service_user(bot: Harness) -> None:
    await bot.onboard("Aylin", "de")
    mode = stat.S_IMODE(os.stat(bot.config.db_path).st_mode)
    assert mode == 0o600


async def test_backup_while_the_bot_is_writing(bot: Harness, tmp_path: Path) -> None:
    async def residents_arrive() -> None:
        for i in range(15):
            await bot.onboard(f"R{i}", "de")

    writing = asyncio.create_task(residents_arrive())
    copies: list[Path] = []
    while not writing.done():
        target = tmp_path / f"copy{len(copies)}.sqlite3"
        assert await asyncio.to_thread(backup, bot.config.db_path, target) == "ok"
        copies.append(target)
        await asyncio.sleep(0.05)
    await writing
    assert copies
    counts = []
    for copy in copies:
        with sqlite3.connect(copy) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = db.execute("SELECT user_id, consent_at FROM residents").fetchall()
            # Each resident is written in one statement: never half a row.
            assert all(consent is not None for _, consent in rows)
            counts.append(len(rows))
        assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600
    assert counts == sorted(counts)


def test_backup_command(tmp_path: Path) -> None:
    db = tmp_path / "live.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.execute("INSERT INTO t VALUES (1)")
    target = tmp_path / "copy.sqlite3"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(target)],
        env={**os.environ, "QUARTIERBOT_DB": str(db)},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
