"""Questions to counsellors: requests and their queue state, the resident's forum topic in
the staff group, which staff message stands for which resident, bans, and the staff-group
outbox. Message contents are never stored: Telegram keeps them, we keep references."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from storage.db import Database, from_db, to_db
from storage.mentions import Mention, queue_mentions

STATES = ("open", "claimed", "answered", "closed")
"""How long the ids of messages with buttons to take away later are kept (appointments are
booked at most weeks ahead)."""
WAITING = ("open", "claimed")


@dataclass(frozen=True)
class Request:
    id: int
    user_id: int
    state: str
    opened_at: datetime
    waiting_since: datetime | None
    last_message: datetime
    receipt_at: datetime | None
    claimed_by: int | None
    claimed_name: str | None
    answered_at: datetime | None
    closed_at: datetime | None
    answered_name: str | None = None
    """Who answered last; taking a request (``claimed_*``) is only ever /claim."""
    deadline: date | None = None
    """The date to act by of the resident's letter (found on arrival, or set by staff)."""
    deadline_estimated: bool = False
    sender: str | None = None
    """The sender category of the letter (a key of bot/data/senders.yaml)."""
    deadline_reminded: date | None = None

    @property
    def ref(self) -> str:
        return request_ref(self.id)


_REF_MUL, _REF_ADD = 0x9E37, 0x3B1D
_REF_INV = pow(_REF_MUL, -1, 0x10000)


def request_ref(request_id: int) -> str:
    """A short reference for staff ("#A1B2"), derived from the internal id and not from
    the Telegram id. Multiplying by an odd number is a bijection modulo 2**16, so the first
    65,535 requests get distinct four-letter references that do not reveal their order;
    later ones get five or more hex digits."""
    if request_id < 0x10000:
        return f"{(request_id * _REF_MUL + _REF_ADD) & 0xFFFF:04X}"
    return f"{request_id:X}"


def request_id_of(ref: str) -> int | None:
    ref = ref.strip().lstrip("#").upper()
    try:
        value = int(ref, 16)
    except ValueError:
        return None
    if len(ref) == 4:
        return ((value - _REF_ADD) * _REF_INV) & 0xFFFF
    return value if len(ref) > 4 and value >= 0x10000 else None


def _dt(row: aiosqlite.Row, key: str) -> datetime:
    value = from_db(row[key])
    assert value is not None
    return value


def _request(row: aiosqlite.Row) -> Request:
    return Request(
        id=row["id"],
        user_id=row["user_id"],
        state=row["state"],
        opened_at=_dt(row, "opened_at"),
        waiting_since=from_db(row["waiting_since"]),
        last_message=_dt(row, "last_message"),
        receipt_at=from_db(row["receipt_at"]),
        claimed_by=row["claimed_by"],
        claimed_name=row["claimed_name"],
        answered_at=from_db(row["answered_at"]),
        closed_at=from_db(row["closed_at"]),
        answered_name=row["answered_name"],
        deadline=_date(row["deadline"]),
        deadline_estimated=bool(row["deadline_estimated"]),
        sender=row["sender"],
        deadline_reminded=_date(row["deadline_reminded"]),
    )


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class StaffTopic:
    thread_id: int
    user_id: int
    name: str
    is_current: bool
    closed: bool
    card_message_id: int | None = None


def _topic(row: aiosqlite.Row) -> StaffTopic:
    return StaffTopic(
        thread_id=row["thread_id"],
        user_id=row["user_id"],
        name=row["name"],
        is_current=bool(row["is_current"]),
        closed=bool(row["closed"]),
        card_message_id=row["card_message_id"],
    )


@dataclass(frozen=True)
class Ban:
    user_id: int
    reason: str
    banned_by: int
    banned_at: datetime
    notified_at: datetime | None


@dataclass(frozen=True)
class QueueEntry:
    request: Request
    first_name: str
    language: str


class Requests:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._bans: dict[int, Ban] | None = None
        """Every ban, read once: every message of a resident asks, and bans are few and
        change only through this class (and ``storage.privacy``, which calls
        :meth:`forget_bans`)."""
        self._bans_generation = 0

    # -- requests -------------------------------------------------------------------------
    async def get(self, request_id: int) -> Request | None:
        # Anonymised by the retention purge: no longer anybody's request.
        row = await self.db.fetchone(
            "SELECT * FROM requests WHERE id = ? AND user_id IS NOT NULL", (request_id,)
        )
        return _request(row) if row else None

    async def by_ref(self, ref: str) -> Request | None:
        """What staff type: "#A1B2"."""
        request_id = request_id_of(ref)
        return await self.get(request_id) if request_id is not None else None

    async def latest(self, user_id: int) -> Request | None:
        row = await self.db.fetchone(
            "SELECT * FROM requests WHERE user_id = ? ORDER BY id DESC LIMIT 1", (user_id,)
        )
        return _request(row) if row else None

    async def previous(self, user_id: int, before_id: int | None = None) -> list[Request]:
        rows = await self.db.fetchall(
            "SELECT * FROM requests WHERE user_id = ? AND state = 'closed' AND id < ?"
            " ORDER BY id DESC",
            (user_id, before_id if before_id is not None else 2**62),
        )
        return [_request(r) for r in rows]

    async def on_resident_message(self, user_id: int, now: datetime) -> tuple[Request, bool]:
        """The resident wrote: continue their request (waiting again), or open a new one
        after the last was closed. Returns the request and whether it is new."""
        # Most messages continue a request: one statement, atomic on its own, does that.
        # Only when there is none to continue does the transaction below decide (again,
        # under its write lock) whether to open one.
        row = await self.db.fetchone(
            "UPDATE requests SET last_message = ?2, waiting_since = coalesce(waiting_since, ?2),"
            " state = CASE WHEN state != 'answered' THEN state"
            " WHEN claimed_by IS NOT NULL THEN 'claimed' ELSE 'open' END"
            " WHERE id = (SELECT max(id) FROM requests WHERE user_id = ?1) AND state != 'closed'"
            " RETURNING *",
            (user_id, to_db(now)),
        )
        if row is not None:
            return _request(row), False
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM requests WHERE user_id = ? ORDER BY id DESC LIMIT 1", (user_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is None or row["state"] == "closed":
                async with conn.execute(
                    "INSERT INTO requests (user_id, state, opened_at, waiting_since, last_message)"
                    " VALUES (?, 'open', ?, ?, ?) RETURNING *",
                    (user_id, to_db(now), to_db(now), to_db(now)),
                ) as cur:
                    new = await cur.fetchone()
                assert new is not None
                return _request(new), True
            state = row["state"]
            if state == "answered":
                state = "claimed" if row["claimed_by"] is not None else "open"
            async with conn.execute(
                "UPDATE requests SET state = ?, last_message = ?,"
                " waiting_since = coalesce(waiting_since, ?) WHERE id = ? RETURNING *",
                (state, to_db(now), to_db(now), row["id"]),
            ) as cur:
                updated = await cur.fetchone()
            assert updated is not None
            return _request(updated), False

    async def mark_receipt(self, request_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE requests SET receipt_at = ? WHERE id = ?", (to_db(now), request_id)
        )

    async def quiet_since(self, before: datetime) -> list[Request]:
        """Requests not closed with no message from either side since ``before``."""
        rows = await self.db.fetchall(
            "SELECT * FROM requests WHERE state != 'closed' AND user_id IS NOT NULL"
            " AND max(last_message, coalesce(answered_at, last_message)) < ? ORDER BY id",
            (to_db(before),),
        )
        return [_request(r) for r in rows]

    async def has_open(self, user_id: int) -> bool:
        """The resident's latest request is not closed (their next message continues it)."""
        row = await self.db.fetchone(
            "SELECT state FROM requests WHERE user_id = ? ORDER BY id DESC LIMIT 1", (user_id,)
        )
        return row is not None and row["state"] != "closed"

    async def claim(self, request_id: int, staff_id: int, staff_name: str) -> Request | None:
        row = await self.db.fetchone(
            "UPDATE requests SET claimed_by = ?, claimed_name = ?,"
            " state = CASE state WHEN 'open' THEN 'claimed' ELSE state END"
            " WHERE id = ? AND state != 'closed' RETURNING *",
            (staff_id, staff_name[:64], request_id),
        )
        return _request(row) if row else None

    async def mark_answered(
        self, user_id: int, staff_id: int, staff_name: str, now: datetime
    ) -> Request | None:
        """Staff answered: the request now waits for the resident, not for us. It stays
        open until /close, and answering does not take it: only /claim does."""
        del staff_id  # who answered is in the audit trail; the queue shows the first name
        row = await self.db.fetchone(
            "UPDATE requests SET state = 'answered', waiting_since = NULL, answered_at = ?,"
            " first_answered_at = coalesce(first_answered_at, ?), answered_name = ?"
            " WHERE id = (SELECT max(id) FROM requests WHERE user_id = ?) AND state != 'closed'"
            " RETURNING *",
            (to_db(now), to_db(now), staff_name[:64], user_id),
        )
        return _request(row) if row else None

    async def close(self, request_id: int, now: datetime) -> Request | None:
        row = await self.db.fetchone(
            "UPDATE requests SET state = 'closed', closed_at = ?, waiting_since = NULL"
            " WHERE id = ? AND state != 'closed' RETURNING *",
            (to_db(now), request_id),
        )
        return _request(row) if row else None

    async def reopen(self, request_id: int, now: datetime) -> Request | None:
        """Only the resident's latest request can be reopened (a newer one supersedes it)."""
        row = await self.db.fetchone(
            "UPDATE requests SET closed_at = NULL, waiting_since = coalesce(waiting_since, ?),"
            " state = CASE WHEN claimed_by IS NULL THEN 'open' ELSE 'claimed' END"
            " WHERE id = ? AND state IN ('closed', 'answered')"
            " AND id = (SELECT max(id) FROM requests r WHERE r.user_id = requests.user_id)"
            " RETURNING *",
            (to_db(now), request_id),
        )
        return _request(row) if row else None

    async def queue(self, due_by: date | None = None) -> list[QueueEntry]:
        """Every open request, i.e. not closed: those with a deadline up to ``due_by``
        first (the nearest first); then those waiting for an answer from staff (oldest wait
        first), then those answered and waiting for the resident (oldest answer first),
        which are open until somebody closes them."""
        soon = due_by.isoformat() if due_by is not None else ""
        rows = await self.db.fetchall(
            "SELECT q.*, r.first_name AS r_first_name, r.language AS r_language"
            " FROM requests q JOIN residents r ON r.user_id = q.user_id"
            " WHERE q.state != 'closed'"
            " ORDER BY CASE WHEN q.deadline <= ?1 THEN q.deadline ELSE '9999' END,"
            " q.state = 'answered',"
            " coalesce(q.waiting_since, q.answered_at, q.opened_at), q.id",
            (soon,),
        )
        return [QueueEntry(_request(r), r["r_first_name"], r["r_language"]) for r in rows]

    # -- topics ---------------------------------------------------------------------------
    async def current_topic(self, user_id: int) -> StaffTopic | None:
        row = await self.db.fetchone(
            "SELECT * FROM staff_topics WHERE user_id = ? AND is_current = 1", (user_id,)
        )
        return _topic(row) if row else None

    async def topic_by_thread(self, thread_id: int) -> StaffTopic | None:
        row = await self.db.fetchone("SELECT * FROM staff_topics WHERE thread_id = ?", (thread_id,))
        return _topic(row) if row else None

    async def add_topic(self, user_id: int, thread_id: int, name: str, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE staff_topics SET is_current = 0 WHERE user_id = ?", (user_id,)
            )
            await conn.execute(
                "INSERT INTO staff_topics (thread_id, user_id, name, created_at)"
                " VALUES (?, ?, ?, ?)",
                (thread_id, user_id, name, to_db(now)),
            )

    async def set_topic_card(self, thread_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE staff_topics SET card_message_id = ? WHERE thread_id = ?",
            (message_id, thread_id),
        )

    async def rename_topic(self, thread_id: int, name: str) -> None:
        await self.db.execute(
            "UPDATE staff_topics SET name = ? WHERE thread_id = ?", (name, thread_id)
        )

    async def lose_topic(self, thread_id: int) -> None:
        """Deleted (or unusable): the resident's next message opens a new topic."""
        await self.db.execute(
            "UPDATE staff_topics SET is_current = 0 WHERE thread_id = ?", (thread_id,)
        )

    async def set_topic_closed(self, thread_id: int, closed: bool) -> None:
        await self.db.execute(
            "UPDATE staff_topics SET closed = ? WHERE thread_id = ?", (int(closed), thread_id)
        )

    # -- which staff message stands for which resident ------------------------------------
    async def map_message(
        self,
        staff_message_id: int,
        user_id: int,
        resident_message_id: int | None,
        now: datetime,
    ) -> None:
        await self.db.execute(
            "INSERT OR REPLACE INTO relay_map"
            " (staff_message_id, user_id, resident_message_id, created_at) VALUES (?, ?, ?, ?)",
            (staff_message_id, user_id, resident_message_id, to_db(now)),
        )

    async def resident_of(self, staff_message_id: int) -> int | None:
        row = await self.db.fetchone(
            "SELECT user_id FROM relay_map WHERE staff_message_id = ?", (staff_message_id,)
        )
        return int(row[0]) if row else None

    async def staff_copy_of(self, user_id: int, resident_message_id: int) -> int | None:
        row = await self.db.fetchone(
            "SELECT max(staff_message_id) FROM relay_map"
            " WHERE user_id = ? AND resident_message_id = ?",
            (user_id, resident_message_id),
        )
        return int(row[0]) if row and row[0] is not None else None

    async def purge_map(self, before: datetime) -> int:
        return await self.db.execute("DELETE FROM relay_map WHERE created_at < ?", (to_db(before),))

    # -- bans -----------------------------------------------------------------------------
    def forget_bans(self) -> None:
        """Bans changed: the next :meth:`ban_of` reads them again. Called after every write
        (also one that failed); a read that overlapped a write is not kept."""
        self._bans_generation += 1
        self._bans = None

    async def ban(self, user_id: int, reason: str, by: int, now: datetime) -> None:
        try:
            await self.db.execute(
                "INSERT INTO bans (user_id, reason, banned_by, banned_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason,"
                " banned_by = excluded.banned_by, banned_at = excluded.banned_at,"
                " notified_at = NULL",
                (user_id, reason[:200], by, to_db(now)),
            )
        finally:
            self.forget_bans()

    async def unban(self, user_id: int) -> bool:
        try:
            return await self.db.execute("DELETE FROM bans WHERE user_id = ?", (user_id,)) > 0
        finally:
            self.forget_bans()

    async def ban_of(self, user_id: int) -> Ban | None:
        bans = self._bans
        if bans is None:
            generation = self._bans_generation
            bans = {
                row["user_id"]: Ban(
                    user_id=row["user_id"],
                    reason=row["reason"],
                    banned_by=row["banned_by"],
                    banned_at=_dt(row, "banned_at"),
                    notified_at=from_db(row["notified_at"]),
                )
                for row in await self.db.fetchall("SELECT * FROM bans")
            }
            if generation == self._bans_generation:
                self._bans = bans
        return bans.get(user_id)

    async def ban_notified(self, user_id: int, now: datetime) -> None:
        try:
            await self.db.execute(
                "UPDATE bans SET notified_at = ? WHERE user_id = ?", (to_db(now), user_id)
            )
        finally:
            self.forget_bans()


# -- the staff-group outbox -------------------------------------------------------------------
@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    priority: int
    user_id: int | None
    thread_id: int | None
    text: str | None
    markup: str | None
    from_chat_id: int | None
    message_ids: tuple[int, ...]
    group_key: str | None
    reply_to_resident_message: int | None
    reply_to: int | None
    created_at: datetime
    due_at: datetime
    attempts: int
    memo: str | None = None
    """Key of a text held in memory only (a translation): never its content."""
    """What the post's buttons belong to ("booking:12"), so they can be taken away later."""


def _item(row: aiosqlite.Row) -> OutboxItem:
    ids = json.loads(row["message_ids"]) if row["message_ids"] else []
    return OutboxItem(
        id=row["id"],
        kind=row["kind"],
        priority=row["priority"],
        user_id=row["user_id"],
        thread_id=row["thread_id"],
        text=row["text"],
        markup=row["markup"],
        from_chat_id=row["from_chat_id"],
        message_ids=tuple(int(i) for i in ids),
        group_key=row["group_key"],
        reply_to_resident_message=row["reply_to_resident_message"],
        reply_to=row["reply_to"],
        created_at=_dt(row, "created_at"),
        due_at=_dt(row, "due_at"),
        attempts=row["attempts"],
        memo=row["memo"],
    )


class StaffOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        kind: str,
        now: datetime,
        *,
        priority: bool = False,
        user_id: int | None = None,
        thread_id: int | None = None,
        text: str | None = None,
        markup: str | None = None,
        from_chat_id: int | None = None,
        message_ids: Sequence[int] = (),
        group_key: str | None = None,
        reply_to_resident_message: int | None = None,
        reply_to: int | None = None,
        memo: str | None = None,
        mentions: Sequence[Mention] = (),
    ) -> int:
        """``mentions``: the residents the post names (``storage.mentions``), stored with it
        in one transaction and recorded against the message once it is posted."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO staff_outbox (kind, priority, user_id, thread_id, text, markup,"
                " from_chat_id, message_ids, group_key, reply_to_resident_message, reply_to,"
                " created_at, due_at, memo)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    kind,
                    int(priority),
                    user_id,
                    thread_id,
                    text,
                    markup,
                    from_chat_id,
                    json.dumps(list(message_ids)) if message_ids else None,
                    group_key,
                    reply_to_resident_message,
                    reply_to,
                    to_db(now),
                    to_db(now),
                    memo,
                ),
            )
            row = await cursor.fetchone()
            assert row is not None
            item_id = int(row[0])
            await queue_mentions(conn, item_id, mentions)
        return item_id

    # -- buttons to take away later ---------------------------------------------------------
    async def next_due(self, now: datetime) -> OutboxItem | None:
        """Priority first (answers to staff commands), then in order of arrival."""
        row = await self.db.fetchone(
            "SELECT * FROM staff_outbox WHERE sent_at IS NULL AND failed IS NULL"
            " AND due_at <= ? ORDER BY priority DESC, id LIMIT 1",
            (to_db(now),),
        )
        return _item(row) if row else None

    async def next_due_at(self) -> datetime | None:
        row = await self.db.fetchone(
            "SELECT min(due_at) FROM staff_outbox WHERE sent_at IS NULL AND failed IS NULL"
        )
        return from_db(row[0]) if row else None

    async def album(self, item: OutboxItem) -> list[OutboxItem]:
        """All pending parts of the same album, in order."""
        rows = await self.db.fetchall(
            "SELECT * FROM staff_outbox WHERE sent_at IS NULL AND failed IS NULL"
            " AND group_key = ? AND kind = ? AND user_id IS ? ORDER BY id",
            (item.group_key, item.kind, item.user_id),
        )
        return [_item(r) for r in rows]

    async def still_pending(self, item_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM staff_outbox WHERE id = ? AND sent_at IS NULL AND failed IS NULL",
            (item_id,),
        )
        return row is not None

    async def pending_memos(self) -> set[str]:
        """Keys of the in-memory texts that unsent rows still wait for."""
        rows = await self.db.fetchall(
            "SELECT memo FROM staff_outbox"
            " WHERE sent_at IS NULL AND failed IS NULL AND memo IS NOT NULL"
        )
        return {str(r[0]) for r in rows}

    async def pending_count(self) -> int:
        row = await self.db.fetchone(
            "SELECT count(*) FROM staff_outbox WHERE sent_at IS NULL AND failed IS NULL"
        )
        return int(row[0]) if row else 0

    async def done(self, ids: Sequence[int], now: datetime, cost: int) -> None:
        """Sent: the bot's own text is no longer needed; the row stays for pacing."""
        if not ids:
            return
        async with self.db.transaction() as conn:
            await conn.execute(
                f"UPDATE staff_outbox SET sent_at = ?, text = NULL, markup = NULL, cost = 0"
                f" WHERE id IN ({','.join('?' * len(ids))})",
                (to_db(now), *ids),
            )
            await conn.execute("UPDATE staff_outbox SET cost = ? WHERE id = ?", (cost, ids[0]))
            await conn.execute(
                f"DELETE FROM staff_outbox_mentions WHERE item_id IN ({','.join('?' * len(ids))})",
                ids,
            )

    async def is_settled(self, item_id: int) -> bool:
        """Sent or given up (not waiting for another attempt)."""
        row = await self.db.fetchone(
            "SELECT sent_at IS NOT NULL OR failed IS NOT NULL FROM staff_outbox WHERE id = ?",
            (item_id,),
        )
        return row is None or bool(row[0])

    async def retry(self, item_id: int, due: datetime) -> None:
        await self.db.execute(
            "UPDATE staff_outbox SET due_at = ?, attempts = attempts + 1 WHERE id = ?",
            (to_db(due), item_id),
        )

    async def retarget(self, item_id: int) -> None:
        """Its thread is gone or closed: post it into the general chat instead."""
        await self.db.execute(
            "UPDATE staff_outbox SET thread_id = NULL, reply_to = NULL,"
            " attempts = attempts + 1 WHERE id = ?",
            (item_id,),
        )

    async def fail(self, ids: Sequence[int], reason: str) -> None:
        if not ids:
            return
        await self.db.execute(
            f"UPDATE staff_outbox SET failed = ?, text = NULL, markup = NULL"
            f" WHERE id IN ({','.join('?' * len(ids))})",
            (reason[:200], *ids),
        )
        await self.db.execute(
            f"DELETE FROM staff_outbox_mentions WHERE item_id IN ({','.join('?' * len(ids))})",
            ids,
        )

    async def sent_since(self, since: datetime) -> list[tuple[datetime, int]]:
        rows = await self.db.fetchall(
            "SELECT sent_at, cost FROM staff_outbox WHERE sent_at >= ? AND cost > 0",
            (to_db(since),),
        )
        return [(_dt(r, "sent_at"), int(r["cost"])) for r in rows]

    async def purge(self, before: datetime) -> int:
        purged = await self.db.execute(
            "DELETE FROM staff_outbox WHERE (sent_at IS NOT NULL AND sent_at < ?)"
            " OR (failed IS NOT NULL AND created_at < ?)",
            (to_db(before), to_db(before)),
        )
        await self.db.execute(
            "DELETE FROM staff_outbox_mentions WHERE item_id NOT IN (SELECT id FROM staff_outbox)"
        )
        return purged


__all__ = [
    "STATES",
    "WAITING",
    "Ban",
    "OutboxItem",
    "QueueEntry",
    "Request",
    "Requests",
    "StaffOutbox",
    "StaffTopic",
    "request_id_of",
    "request_ref",
]
