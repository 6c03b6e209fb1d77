"""Broadcasts: residents' subscriptions, coordinators' drafts, announcements and the durable
outbox (one row per recipient) that the broadcast lane (``bot.delivery.broadcast_lane``) works through."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import Database, from_db, to_db

GENERAL = "general"
"""The topic for news that belong to no particular offer."""

# Outcomes of one outbox row; 'pending' and 'sending' are still open.
SENT, FAILED, BLOCKED, LEFT, SKIPPED, UNKNOWN = (
    "sent",
    "failed",
    "blocked",
    "left",
    "skipped",
    "unknown",
)
OUTCOMES = (SENT, FAILED, BLOCKED, LEFT, SKIPPED, UNKNOWN)
INTERRUPTED = "interrupted"
"""Not a stored status but how :meth:`Broadcasts.counts` reports 'unknown' rows that a
crash left in flight (the bot stopped while sending): they may be sent again on the
coordinator's request (:meth:`Broadcasts.send_again`)."""
_INTERRUPTED_ERROR = "interrupted while sending"


# -- subscriptions --------------------------------------------------------------------------
class Subscriptions:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def topics(self, user_id: int) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT topic FROM subscriptions WHERE user_id = ?", (user_id,)
        )
        return {row["topic"] for row in rows}

    async def subscribe(self, user_id: int, topic: str, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO subscriptions (user_id, topic, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (user_id, topic, to_db(now)),
        )

    async def unsubscribe(self, user_id: int, topic: str) -> bool:
        changed = await self.db.execute(
            "DELETE FROM subscriptions WHERE user_id = ? AND topic = ?", (user_id, topic)
        )
        return changed > 0

    async def unsubscribe_all(self, user_id: int) -> int:
        return await self.db.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,))

    async def audience(self, topic: str) -> int:
        """How many residents a broadcast on ``topic`` would reach now."""
        row = await self.db.fetchone(
            "SELECT count(*) FROM subscriptions s JOIN residents r USING (user_id)"
            " WHERE s.topic = ? AND r.consent_at IS NOT NULL AND r.unreachable_since IS NULL",
            (topic,),
        )
        return int(row[0]) if row else 0


# -- drafts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Draft:
    user_id: int
    chat_id: int
    thread_id: int | None
    step: str
    topic: str | None
    texts: dict[str, str]
    media_kind: str | None
    media_file_id: str | None
    send_at: datetime | None
    updated_at: datetime
    machine: frozenset[str] = frozenset()
    """Languages whose text in ``texts`` is a machine translation of the German one."""


def _draft(row: aiosqlite.Row) -> Draft:
    return Draft(
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        thread_id=row["thread_id"],
        step=row["step"],
        topic=row["topic"],
        texts=json.loads(row["texts"]),
        media_kind=row["media_kind"],
        media_file_id=row["media_file_id"],
        send_at=from_db(row["send_at"]),
        updated_at=_at(row["updated_at"]),
        machine=frozenset(json.loads(row["machine"])),
    )


def _at(value: str | None) -> datetime:
    parsed = from_db(value)
    assert parsed is not None
    return parsed


_UNSET: Any = object()


class BroadcastDrafts:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> Draft | None:
        row = await self.db.fetchone("SELECT * FROM broadcast_drafts WHERE user_id = ?", (user_id,))
        return _draft(row) if row else None

    async def begin(
        self, user_id: int, chat_id: int, thread_id: int | None, now: datetime
    ) -> Draft:
        """A fresh draft; an unfinished earlier one is discarded."""
        row = await self.db.fetchone(
            "INSERT OR REPLACE INTO broadcast_drafts (user_id, chat_id, thread_id, step, updated_at)"
            " VALUES (?, ?, ?, 'topic', ?) RETURNING *",
            (user_id, chat_id, thread_id, to_db(now)),
        )
        assert row is not None
        return _draft(row)

    async def update(
        self,
        user_id: int,
        now: datetime,
        *,
        step: str,
        topic: str | None = _UNSET,
        texts: dict[str, str] | None = _UNSET,
        media: tuple[str, str] | None = _UNSET,
        send_at: datetime | None = _UNSET,
        machine: frozenset[str] = _UNSET,
    ) -> Draft | None:
        sets = ["step = ?", "updated_at = ?"]
        params: list[Any] = [step, to_db(now)]
        if topic is not _UNSET:
            sets.append("topic = ?")
            params.append(topic)
        if texts is not _UNSET:
            sets.append("texts = ?")
            params.append(json.dumps(texts or {}, ensure_ascii=False))
        if media is not _UNSET:
            sets += ["media_kind = ?", "media_file_id = ?"]
            params += [media[0], media[1]] if media else [None, None]
        if send_at is not _UNSET:
            sets.append("send_at = ?")
            params.append(to_db(send_at))
        if machine is not _UNSET:
            sets.append("machine = ?")
            params.append(json.dumps(sorted(machine)))
        row = await self.db.fetchone(
            f"UPDATE broadcast_drafts SET {', '.join(sets)} WHERE user_id = ? RETURNING *",
            (*params, user_id),
        )
        return _draft(row) if row else None

    async def discard(self, user_id: int) -> bool:
        return (
            await self.db.execute("DELETE FROM broadcast_drafts WHERE user_id = ?", (user_id,)) > 0
        )

    async def all(self) -> list[Draft]:
        rows = await self.db.fetchall("SELECT * FROM broadcast_drafts")
        return [_draft(r) for r in rows]


# -- broadcasts and their outbox ------------------------------------------------------------
@dataclass(frozen=True)
class Broadcast:
    id: int
    topic: str
    texts: dict[str, str]
    media_kind: str | None
    media_file_id: str | None
    created_by: int
    created_at: datetime
    send_at: datetime
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    lang: str
    report_chat: int
    report_thread: int | None
    progress_message: int | None
    machine: frozenset[str] = frozenset()
    """Languages whose text is a machine translation (residents are told so)."""


def _broadcast(row: aiosqlite.Row) -> Broadcast:
    created_at, send_at = from_db(row["created_at"]), from_db(row["send_at"])
    assert created_at is not None and send_at is not None
    return Broadcast(
        id=row["id"],
        topic=row["topic"],
        texts=json.loads(row["texts"]),
        media_kind=row["media_kind"],
        media_file_id=row["media_file_id"],
        created_by=row["created_by"],
        created_at=created_at,
        send_at=send_at,
        status=row["status"],
        started_at=from_db(row["started_at"]),
        finished_at=from_db(row["finished_at"]),
        lang=row["lang"],
        report_chat=row["report_chat"],
        report_thread=row["report_thread"],
        progress_message=row["progress_message"],
        machine=frozenset(json.loads(row["machine"])),
    )


@dataclass(frozen=True)
class OutboxRow:
    broadcast_id: int
    user_id: int
    attempts: int
    language: str
    eligible: bool
    """Still consented, subscribed and reachable: otherwise the row is skipped."""


class Broadcasts:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def confirm(
        self, coordinator: int, lang: str, now: datetime, *, progress_message: int | None = None
    ) -> Broadcast | None:
        """Turn the coordinator's finished draft into a scheduled broadcast, at most once."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "DELETE FROM broadcast_drafts WHERE user_id = ? AND step = 'preview'"
                " AND topic IS NOT NULL RETURNING *",
                (coordinator,),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            draft = _draft(row)
            send_at = draft.send_at or now
            async with conn.execute(
                "INSERT INTO broadcasts (topic, texts, media_kind, media_file_id, created_by,"
                " created_at, send_at, status, lang, report_chat, report_thread, progress_message,"
                " machine) VALUES (?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?, ?) RETURNING *",
                (
                    draft.topic,
                    json.dumps(draft.texts, ensure_ascii=False),
                    draft.media_kind,
                    draft.media_file_id,
                    coordinator,
                    to_db(now),
                    to_db(send_at),
                    lang,
                    draft.chat_id,
                    draft.thread_id,
                    progress_message,
                    json.dumps(sorted(draft.machine)),
                ),
            ) as cur:
                created = await cur.fetchone()
        assert created is not None
        return _broadcast(created)

    async def start(self, broadcast_id: int, now: datetime) -> int | None:
        """Scheduled → sending, writing one outbox row per current subscriber in the same
        transaction. Returns the number of recipients, or None if it was not scheduled
        (already started, or cancelled)."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE broadcasts SET status = 'sending', started_at = ?"
                " WHERE id = ? AND status = 'scheduled' RETURNING topic",
                (to_db(now), broadcast_id),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            async with conn.execute(
                "INSERT INTO outbox (broadcast_id, user_id)"
                " SELECT ?, s.user_id FROM subscriptions s JOIN residents r USING (user_id)"
                " WHERE s.topic = ? AND r.consent_at IS NOT NULL AND r.unreachable_since IS NULL",
                (broadcast_id, row["topic"]),
            ) as cur:
                return cur.rowcount

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self.db.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return _broadcast(row) if row else None

    async def with_status(self, *statuses: str) -> list[Broadcast]:
        marks = ", ".join("?" for _ in statuses)
        rows = await self.db.fetchall(
            f"SELECT * FROM broadcasts WHERE status IN ({marks}) ORDER BY send_at, id", statuses
        )
        return [_broadcast(r) for r in rows]

    async def cancel(self, broadcast_id: int) -> Broadcast | None:
        """Only a broadcast that has not started can be cancelled."""
        row = await self.db.fetchone(
            "UPDATE broadcasts SET status = 'cancelled'"
            " WHERE id = ? AND status = 'scheduled' RETURNING *",
            (broadcast_id,),
        )
        return _broadcast(row) if row else None

    async def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE broadcasts SET progress_message = ? WHERE id = ?", (message_id, broadcast_id)
        )

    async def finish(self, broadcast_id: int, now: datetime) -> bool:
        changed = await self.db.execute(
            "UPDATE broadcasts SET status = 'done', finished_at = ?"
            " WHERE id = ? AND status = 'sending'"
            " AND NOT EXISTS (SELECT 1 FROM outbox WHERE broadcast_id = ?"
            "                 AND status IN ('pending', 'sending'))",
            (to_db(now), broadcast_id, broadcast_id),
        )
        return changed > 0

    # -- the outbox ----------------------------------------------------------------------
    async def pending(self, broadcast_id: int, after_user: int, limit: int) -> list[OutboxRow]:
        """Open rows in user order after ``after_user``, with what decides whether and how
        the resident gets the message (read now, not when the broadcast was confirmed)."""
        rows = await self.db.fetchall(
            "SELECT o.broadcast_id, o.user_id, o.attempts, r.language,"
            " (r.consent_at IS NOT NULL AND r.unreachable_since IS NULL"
            "  AND s.user_id IS NOT NULL) AS eligible"
            " FROM outbox o JOIN broadcasts b ON b.id = o.broadcast_id"
            " JOIN residents r ON r.user_id = o.user_id"
            " LEFT JOIN subscriptions s ON s.user_id = o.user_id AND s.topic = b.topic"
            " WHERE o.broadcast_id = ? AND o.status = 'pending' AND o.user_id > ?"
            " ORDER BY o.user_id LIMIT ?",
            (broadcast_id, after_user, limit),
        )
        return [
            OutboxRow(
                broadcast_id=r["broadcast_id"],
                user_id=r["user_id"],
                attempts=r["attempts"],
                language=r["language"],
                eligible=bool(r["eligible"]),
            )
            for r in rows
        ]

    async def claim(self, broadcast_id: int, user_id: int) -> bool:
        """Pending → sending, right before the request leaves; False if someone else (or a
        cancellation) got there first."""
        changed = await self.db.execute(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1"
            " WHERE broadcast_id = ? AND user_id = ? AND status = 'pending'",
            (broadcast_id, user_id),
        )
        return changed > 0

    async def mark(
        self, broadcast_id: int, user_id: int, status: str, error: str | None = None
    ) -> None:
        assert status in OUTCOMES
        await self.db.execute(
            "UPDATE outbox SET status = ?, error = ?"
            " WHERE broadcast_id = ? AND user_id = ? AND status IN ('pending', 'sending')",
            (status, error[:200] if error else None, broadcast_id, user_id),
        )

    async def release(self, broadcast_id: int, user_id: int, *, refund: bool = False) -> None:
        """Sending → pending: the request never left, or may be tried again."""
        await self.db.execute(
            "UPDATE outbox SET status = 'pending',"
            " attempts = CASE WHEN ? THEN max(attempts - 1, 0) ELSE attempts END"
            " WHERE broadcast_id = ? AND user_id = ? AND status = 'sending'",
            (refund, broadcast_id, user_id),
        )

    async def counts(self, broadcast_id: int) -> dict[str, int]:
        """Rows by status; rows a crash left in doubt as :data:`INTERRUPTED`."""
        rows = await self.db.fetchall(
            "SELECT CASE WHEN status = 'unknown' AND error = ? THEN ? ELSE status END AS s,"
            " count(*) AS n FROM outbox WHERE broadcast_id = ? GROUP BY s",
            (_INTERRUPTED_ERROR, INTERRUPTED, broadcast_id),
        )
        return {row["s"]: row["n"] for row in rows}

    async def recover(self) -> int:
        """After a crash: a row left 'sending' may or may not have reached the resident.
        It is not sent again unless the coordinator asks (:meth:`send_again`)."""
        return await self.db.execute(
            "UPDATE outbox SET status = 'unknown', error = ? WHERE status = 'sending'",
            (_INTERRUPTED_ERROR,),
        )

    async def interrupted(self) -> list[tuple[Broadcast, int]]:
        """Broadcasts with recipients in doubt after a crash, and how many."""
        rows = await self.db.fetchall(
            "SELECT b.*, count(*) AS interrupted FROM outbox o JOIN broadcasts b"
            " ON b.id = o.broadcast_id WHERE o.status = 'unknown' AND o.error = ?"
            " GROUP BY b.id ORDER BY b.id",
            (_INTERRUPTED_ERROR,),
        )
        return [(_broadcast(r), int(r["interrupted"])) for r in rows]

    async def send_again(self, broadcast_id: int) -> int:
        """The coordinator's choice: the recipients in doubt after a crash are sent the
        broadcast again (a duplicate for whoever did get it). Returns how many; 0 if none
        are left (a second tap)."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE outbox SET status = 'pending', error = NULL"
                " WHERE broadcast_id = ? AND status = 'unknown' AND error = ?",
                (broadcast_id, _INTERRUPTED_ERROR),
            ) as cur:
                again = cur.rowcount
            if again:
                await conn.execute(
                    "UPDATE broadcasts SET status = 'sending', finished_at = NULL"
                    " WHERE id = ? AND status IN ('sending', 'done')",
                    (broadcast_id,),
                )
        return again
