"""Closures of places, added and lifted by coordinators.

``/hours``, ``/today``, the receipt of a question and every slot search ask for the current
closures; they change only when a coordinator adds or lifts one. So :class:`Closures` keeps
those that had not ended on the day it last read them and filters that list for later days;
adding or lifting forgets it (after the write, also one that failed; a read that overlapped
a write is not kept).
"""

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
        self._current: tuple[date, tuple[StoredClosure, ...]] | None = None
        """(the day read for, the closures ending that day or later), in order."""
        self._generation = 0

    def forget(self) -> None:
        self._generation += 1
        self._current = None

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
        try:
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
        finally:
            self.forget()
        assert row is not None
        return _closure(row)

    async def lift(self, closure_id: int) -> StoredClosure | None:
        try:
            row = await self.db.fetchone(
                "DELETE FROM closures WHERE id = ? RETURNING *", (closure_id,)
            )
        finally:
            self.forget()
        return _closure(row) if row else None

    async def current(self, today: date) -> list[StoredClosure]:
        """Closures that end today or later; past ones no longer matter to anyone."""
        cached = self._current
        if cached is not None and cached[0] <= today:
            # Those ending on or after the cached day include all that end today or later.
            return [c for c in cached[1] if c.last_day >= today]
        generation = self._generation
        rows = await self.db.fetchall(
            "SELECT * FROM closures WHERE last_day >= ? ORDER BY first_day, id",
            (today.isoformat(),),
        )
        found = [_closure(r) for r in rows]
        if generation == self._generation:
            self._current = (today, tuple(found))
        return found
