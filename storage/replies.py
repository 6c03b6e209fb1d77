"""Replies that matter: the rows the replies lane (``bot.delivery.replies_lane``) sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database, from_db, to_db

PENDING, SENDING, SENT, FAILED, UNKNOWN = "pending", "sending", "sent", "failed", "unknown"


@dataclass(frozen=True)
class Reply:
    id: int
    chat_id: int
    text: str | None
    parse_mode: str | None
    markup: str | None
    from_chat_id: int | None
    from_message_id: int | None
    after_kind: str | None
    after_arg: str | None
    status: str
    attempts: int
    created_at: datetime
    memo: str | None = None
    """Key of a text held in the lane's memory only (``text`` is then empty)."""


def _reply(row: aiosqlite.Row) -> Reply:
    created_at = from_db(row["created_at"])
    assert created_at is not None
    return Reply(
        id=row["id"],
        chat_id=row["chat_id"],
        text=row["text"],
        parse_mode=row["parse_mode"],
        markup=row["markup"],
        from_chat_id=row["from_chat_id"],
        from_message_id=row["from_message_id"],
        after_kind=row["after_kind"],
        after_arg=row["after_arg"],
        status=row["status"],
        attempts=row["attempts"],
        created_at=created_at,
        memo=row["memo"],
    )


class Replies:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        chat_id: int,
        text: str | None,
        now: datetime,
        *,
        parse_mode: str | None = None,
        markup: str | None = None,
        copy_of: tuple[int, int] | None = None,
        after_kind: str | None = None,
        after_arg: str | None = None,
        dedupe_key: str | None = None,
        memo: str | None = None,
    ) -> int | None:
        """A new reply; None when one with the same ``dedupe_key`` exists (open or done)."""
        row = await self.db.fetchone(
            "INSERT OR IGNORE INTO replies (chat_id, text, parse_mode, markup, from_chat_id,"
            " from_message_id, after_kind, after_arg, dedupe_key, created_at, memo)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                chat_id,
                text,
                parse_mode,
                markup,
                copy_of[0] if copy_of else None,
                copy_of[1] if copy_of else None,
                after_kind,
                after_arg,
                dedupe_key,
                to_db(now),
                memo,
            ),
        )
        return int(row[0]) if row else None

    async def heads(self, limit: int = 50) -> list[Reply]:
        """The oldest open row of each chat whose earlier rows are all done, oldest first:
        what may be sent now without overtaking anything in its chat."""
        rows = await self.db.fetchall(
            "SELECT * FROM replies r WHERE r.status = 'pending' AND NOT EXISTS"
            " (SELECT 1 FROM replies e WHERE e.chat_id = r.chat_id AND e.id < r.id"
            "  AND e.status IN ('pending', 'sending'))"
            " ORDER BY r.id LIMIT ?",
            (limit,),
        )
        return [_reply(r) for r in rows]

    async def claim(self, reply_id: int) -> bool:
        """Pending → sending, right before the request leaves."""
        changed = await self.db.execute(
            "UPDATE replies SET status = 'sending', attempts = attempts + 1"
            " WHERE id = ? AND status = 'pending'",
            (reply_id,),
        )
        return changed > 0

    async def sent(self, reply_id: int, message_id: int | None, now: datetime) -> None:
        await self.db.execute(
            "UPDATE replies SET status = 'sent', message_id = ?, done_at = ?, error = NULL"
            " WHERE id = ?",
            (message_id, to_db(now), reply_id),
        )

    async def release(self, reply_id: int, *, refund: bool) -> None:
        """Sending → pending: Telegram took nothing (429, not reached) and it goes again."""
        await self.db.execute(
            "UPDATE replies SET status = 'pending',"
            " attempts = CASE WHEN ? THEN max(attempts - 1, 0) ELSE attempts END"
            " WHERE id = ? AND status = 'sending'",
            (refund, reply_id),
        )

    async def close(self, reply_id: int, status: str, error: str, now: datetime) -> None:
        assert status in (FAILED, UNKNOWN)
        await self.db.execute(
            "UPDATE replies SET status = ?, error = ?, done_at = ?"
            " WHERE id = ? AND status IN ('pending', 'sending')",
            (status, error[:200], to_db(now), reply_id),
        )

    async def recover(self, now: datetime) -> int:
        """After a crash: a row left 'sending' may have arrived; it is never sent again."""
        return await self.db.execute(
            "UPDATE replies SET status = 'unknown', error = 'interrupted while sending',"
            " done_at = ? WHERE status = 'sending'",
            (to_db(now),),
        )

    async def purge(self, before: datetime) -> int:
        return await self.db.execute(
            "DELETE FROM replies WHERE status NOT IN ('pending', 'sending') AND done_at < ?",
            (to_db(before),),
        )

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT status, count(*) AS n FROM replies GROUP BY status", ()
        )
        return {row["status"]: row["n"] for row in rows}
