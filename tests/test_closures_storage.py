"""Closures stored before reason keys (migration 0014) keep working: their free text stays,
shown as the office's note, and their reason key is "other"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import storage.db as db_module
from storage.closures import Closures
from storage.db import Database, to_db

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def test_an_old_free_text_closure_gets_the_key_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    every = db_module._migrations()
    with monkeypatch.context() as patch:
        patch.setattr(db_module, "_migrations", lambda: [m for m in every if m[0] <= 13])
        old = Database(path)
        await old.open()
        await old.execute(
            "INSERT INTO closures (place_id, first_day, last_day, reason, created_by, created_at)"
            " VALUES ('fabrik-heeder', '2026-12-05', '2026-12-05', 'Betriebsausflug', 1, ?)",
            (to_db(NOW),),
        )
        await old.close()
    new = Database(path)
    await new.open()
    try:
        closures = Closures(new)
        [closure] = await closures.current(date(2026, 12, 1))
        assert (closure.reason_key, closure.reason) == ("other", "Betriebsausflug")
        added = await closures.add(
            None, date(2026, 12, 7), date(2026, 12, 7), "", 1, NOW, reason_key="illness"
        )
        assert (added.reason_key, added.reason) == ("illness", "")
    finally:
        await new.close()
