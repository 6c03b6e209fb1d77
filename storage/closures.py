"""Closures of places, added and lifted by coordinators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from storage.db import Database, to_db


@dataclass(frozen=True)
class StoredClosure:
    id: int
    place_id: str | None
    first_day: date
    last_day: date
    reason: str
    """The staff's own words (German), shown to residents as a note from the office; empty
    when they only picked a reason. Closures from before reason keys keep their text here."""
    reason_key: str = "other"
    """One of :data:`bot.directory.CLOSURE_REASONS`: what residents read in their language."""


def _closure(row: aiosqlite.Row) -> StoredClosure:
    return StoredClosure(
        id=row["id"],
        place_id=row["place_id"],
        first_day=date.fromisoformat(row["first_day"]),
        last_day=date.fromisoformat(row["last_day"]),
        reason=row["reason"],
        reason_key=row["reason_key"],
    )


class Closures:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        place_id: str | None,
        first_day: date,
        last_day: date,
        reason: str,
        created_by: int,
        now: datetime,
        reason_key: str = "other",
    ) -> StoredClosure:
        row = await self.db.fetchone(
            "INSERT INTO closures"
            " (place_id, first_day, last_day, reason, reason_key, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (
                place_id,
                first_day.isoformat(),
                last_day.isoformat(),
                reason,
                reason_key,
                created_by,
                to_db(now),
            ),
        )
        assert row is not None
        return _closure(row)

    async def lift(self, closure_id: int) -> StoredClosure | None:
        row = await self.db.fetchone("DELETE FROM closures WHERE id = ? RETURNING *", (closure_id,))
        return _closure(row) if row else None

    async def current(self, today: date) -> list[StoredClosure]:
        """Closures that end today or later; past ones no longer matter to anyone."""
        rows = await self.db.fetchall(
            "SELECT * FROM closures WHERE last_day >= ? ORDER BY first_day, id",
            (today.isoformat(),),
        )
        return [_closure(r) for r in rows]
