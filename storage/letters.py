"""What the bot keeps of residents' letters: a request's deadline and sender category, and
staff's follow-ups. Never the letter's text (see ``bot.letters``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from storage.db import Database, from_db, to_db
from storage.requests import Request, _request


@dataclass(frozen=True)
class Followup:
    id: int
    user_id: int
    due_at: datetime
    note: str
    created_by: int


def _followup(row: aiosqlite.Row) -> Followup:
    due = from_db(row["due_at"])
    assert due is not None
    return Followup(row["id"], row["user_id"], due, row["note"], row["created_by"])


class Letters:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- deadlines on requests -------------------------------------------------------------
    async def set_deadline(
        self,
        request_id: int,
        deadline: date | None,
        *,
        estimated: bool = False,
        sender: str | None = None,
    ) -> Request | None:
        """Set (or with None clear) the request's deadline; a sender category given is kept,
        none given leaves the stored one. A new deadline may be reminded of again."""
        row = await self.db.fetchone(
            "UPDATE requests SET deadline = ?2, deadline_estimated = ?3,"
            " sender = coalesce(?4, sender),"
            " deadline_reminded = CASE WHEN deadline_reminded = ?2 THEN deadline_reminded END"
            " WHERE id = ?1 AND user_id IS NOT NULL RETURNING *",
            (
                request_id,
                deadline.isoformat() if deadline else None,
                int(estimated and deadline is not None),
                sender,
            ),
        )
        return _request(row) if row else None

    async def set_sender(self, request_id: int, sender: str) -> None:
        await self.db.execute(
            "UPDATE requests SET sender = ? WHERE id = ? AND user_id IS NOT NULL",
            (sender, request_id),
        )

    async def with_deadline(self, first: date, last: date) -> list[Request]:
        """Requests not closed with a deadline from ``first`` to ``last``, nearest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM requests WHERE deadline BETWEEN ? AND ? AND state != 'closed'"
            " AND user_id IS NOT NULL ORDER BY deadline, id",
            (first.isoformat(), last.isoformat()),
        )
        return [_request(r) for r in rows]

    async def reminded(self, request_id: int, deadline: date) -> bool:
        """Mark the reminder of this deadline posted; False when it was already."""
        row = await self.db.fetchone(
            "UPDATE requests SET deadline_reminded = ?2 WHERE id = ?1 AND deadline = ?2"
            " AND (deadline_reminded IS NULL OR deadline_reminded != ?2) RETURNING id",
            (request_id, deadline.isoformat()),
        )
        return row is not None

    # -- follow-ups ------------------------------------------------------------------------
    async def add_followup(
        self, user_id: int, due_at: datetime, note: str, created_by: int, now: datetime
    ) -> Followup:
        row = await self.db.fetchone(
            "INSERT INTO followups (user_id, due_at, note, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING *",
            (user_id, to_db(due_at), note, created_by, to_db(now)),
        )
        assert row is not None
        return _followup(row)

    async def followup(self, followup_id: int) -> Followup | None:
        row = await self.db.fetchone("SELECT * FROM followups WHERE id = ?", (followup_id,))
        return _followup(row) if row else None

    async def take_followup(self, followup_id: int) -> Followup | None:
        """The follow-up, deleted: posting it is its end (run twice, posted once)."""
        row = await self.db.fetchone(
            "DELETE FROM followups WHERE id = ? RETURNING *", (followup_id,)
        )
        return _followup(row) if row else None

    async def followups(self, user_id: int | None = None) -> list[Followup]:
        if user_id is None:
            rows = await self.db.fetchall("SELECT * FROM followups ORDER BY due_at, id")
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM followups WHERE user_id = ? ORDER BY due_at, id", (user_id,)
            )
        return [_followup(r) for r in rows]
