"""A resident's rights over their data: everything stored about them, exported or erased,
and the retention purge.

Every table that holds something about a resident is named here, so export and erasure
stay complete; ``tests/test_privacy.py`` walks every table of the schema to prove it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Database, from_db, to_db
from storage.mentions import plan_sql
from storage.requests import Requests, request_ref
from storage.residents import Residents

# (table, column naming the resident) for every table with residents' rows. The order is
# the order of erasure: children first.
RESIDENT_TABLES: tuple[tuple[str, str], ...] = (
    ("booking_reminders", "booking_id IN (SELECT id FROM bookings WHERE user_id = ?)"),
    ("booking_waitlist", "user_id = ?"),
    ("booking_drafts", "user_id = ?"),
    ("bookings", "user_id = ?"),
    ("relay_map", "user_id = ?"),
    ("staff_topics", "user_id = ?"),
    ("staff_mentions", "user_id = ?"),
    # Posts queued for them, and notices or agendas still queued that name them.
    (
        "staff_outbox",
        "user_id = ?1 OR from_chat_id = ?1"
        " OR id IN (SELECT item_id FROM staff_outbox_mentions WHERE user_id = ?1)",
    ),
    (
        "staff_outbox_mentions",
        "user_id = ? OR item_id NOT IN (SELECT id FROM staff_outbox)",
    ),
    ("followups", "user_id = ?"),
    ("requests", "user_id = ?"),
    ("bans", "user_id = ?"),
    ("outbox", "user_id = ?"),
    ("subscriptions", "user_id = ?"),
    ("broadcast_drafts", "user_id = ?"),
    ("replies", "chat_id = ?"),
    ("answer_offers", "user_id = ?"),  # a prepared answer offered, not yet tapped (issue 25)
    ("residents", "user_id = ?"),
)

# What the resident sees in their export: no internal bookkeeping columns of the queue.
EXPORT_QUERIES: dict[str, str] = {
    "profile": "SELECT user_id, first_name, language, consent_at, created_at, last_seen,"
    " unreachable_since FROM residents WHERE user_id = ?",
    "appointments": "SELECT id, offer_id, place_id, starts_at, ends_at, status, note,"
    " cancelled_by, cancel_reason, created_at FROM bookings WHERE user_id = ? ORDER BY starts_at",
    "reminders": "SELECT r.booking_id, r.due_at, r.sent_at FROM booking_reminders r"
    " JOIN bookings b ON b.id = r.booking_id WHERE b.user_id = ? ORDER BY r.due_at",
    "waiting_list": "SELECT offer_id, place_id, status, created_at FROM booking_waitlist"
    " WHERE user_id = ?",
    "requests": "SELECT id, state, opened_at, answered_at, closed_at, deadline, sender"
    " FROM requests WHERE user_id = ? ORDER BY id",
    "followups": "SELECT due_at, note, created_at FROM followups WHERE user_id = ? ORDER BY due_at",
    "subscriptions": "SELECT topic, created_at FROM subscriptions WHERE user_id = ?",
    "broadcasts_received": "SELECT o.broadcast_id, b.topic, o.status FROM outbox o"
    " JOIN broadcasts b ON b.id = o.broadcast_id WHERE o.user_id = ?",
    "ban": "SELECT reason, banned_at FROM bans WHERE user_id = ?",
    "staff_actions": "SELECT at, action FROM audit WHERE resident_id = ? ORDER BY id",
    # Which of the bot's posts in the staff group name them (a link between them and those
    # posts, so theirs to see): deleted or edited down with /delete and retention.
    "staff_group_posts": "SELECT message_id, kind, CASE kind WHEN 'queue' THEN NULL"
    " ELSE booking_id END AS appointment, posted_at FROM staff_mentions WHERE user_id = ?"
    " ORDER BY message_id",
    "prepared_answers_offered": "SELECT key, language, created_on FROM answer_offers"
    " WHERE user_id = ?",
}


@dataclass(frozen=True)
class Erased:
    """How much of each kind was erased, for the resident's confirmation."""

    profile: int
    appointments: int
    requests: int
    subscriptions: int
    other: int


@dataclass(frozen=True)
class StaffTraces:
    """What the bot left about one resident (or some expired requests) in the staff group:
    the references staff know them by, their forum topics, and the copies it posted into a
    group without topics (message id, when posted; only those still in ``relay_map``)."""

    refs: tuple[str, ...]
    topics: tuple[int, ...] = ()
    copies: tuple[tuple[int, datetime], ...] = ()
    first_opened: datetime | None = None
    """When the oldest of ``refs`` was opened: copies before that are unknown here."""

    @property
    def empty(self) -> bool:
        return not (self.refs or self.topics or self.copies)


# A resident whose every request is closed before the cutoff (their topic goes with them).
_ALL_EXPIRED = (
    "SELECT user_id FROM requests WHERE user_id IS NOT NULL GROUP BY user_id HAVING"
    " max(CASE WHEN state = 'closed' AND closed_at < ? THEN 0 ELSE 1 END) = 0"
)


class Privacy:
    def __init__(self, db: Database, residents: Residents, requests: Requests) -> None:
        self.db = db
        self.residents = residents
        self.requests = requests
        """Their in-memory copies (the resident, the ban) must not outlive the erasure."""

    async def export(self, user_id: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, sql in EXPORT_QUERIES.items():
            rows = await self.db.fetchall(sql, (user_id,))
            result[name] = [dict(row) for row in rows]
        result["profile"] = result["profile"][0] if result["profile"] else None
        result["ban"] = result["ban"][0] if result["ban"] else None
        return result

    async def staff_traces(self, user_id: int) -> StaffTraces:
        """Before erasing: what of the resident is in the staff group."""
        requests = await self.db.fetchall(
            "SELECT id, opened_at FROM requests WHERE user_id = ? ORDER BY id", (user_id,)
        )
        topics = await self.db.fetchall(
            "SELECT thread_id FROM staff_topics WHERE user_id = ? ORDER BY thread_id", (user_id,)
        )
        copies = await self.db.fetchall(
            "SELECT staff_message_id, created_at FROM relay_map WHERE user_id = ?"
            " ORDER BY staff_message_id",
            (user_id,),
        )
        return StaffTraces(
            refs=tuple(request_ref(r["id"]) for r in requests),
            topics=tuple(int(r["thread_id"]) for r in topics),
            copies=tuple((int(r[0]), _at(r[1])) for r in copies),
            first_opened=_at(requests[0]["opened_at"]) if requests else None,
        )

    async def expiring(self, before: datetime) -> StaffTraces:
        """Before the retention purge: the requests it anonymises, and the topics of the
        residents whose every request it anonymises (a topic still holding a newer request
        stays)."""
        cutoff = to_db(before)
        requests = await self.db.fetchall(
            "SELECT id, opened_at FROM requests WHERE state = 'closed' AND closed_at < ?"
            " AND user_id IS NOT NULL ORDER BY id",
            (cutoff,),
        )
        topics = await self.db.fetchall(
            f"SELECT thread_id FROM staff_topics WHERE user_id IN ({_ALL_EXPIRED})"
            " ORDER BY thread_id",
            (cutoff,),
        )
        return StaffTraces(
            refs=tuple(request_ref(r["id"]) for r in requests),
            topics=tuple(int(r["thread_id"]) for r in topics),
            first_opened=_at(requests[0]["opened_at"]) if requests else None,
        )

    async def erase(self, user_id: int) -> Erased:
        """Everything about the resident, in one transaction. Audit entries of staff
        actions stay (accountability), but no longer say whom they were about."""
        counts: dict[str, int] = {}
        try:
            async with self.db.transaction() as conn:
                # The posts naming them are deleted or edited down by the staff lane: planned
                # here, with the erasure, so a crash in between loses neither.
                await conn.execute(plan_sql("user_id = ?", "erased"), (user_id,))
                for table, where in RESIDENT_TABLES:
                    cursor = await conn.execute(f"DELETE FROM {table} WHERE {where}", (user_id,))
                    counts[table] = cursor.rowcount
                await conn.execute(
                    "UPDATE audit SET resident_id = NULL, detail = '' WHERE resident_id = ?",
                    (user_id,),
                )
        finally:
            self.residents.forget(user_id)
            self.requests.forget_bans()
        main = {"residents", "bookings", "requests", "subscriptions"}
        return Erased(
            profile=counts["residents"],
            appointments=counts["bookings"],
            requests=counts["requests"],
            subscriptions=counts["subscriptions"],
            other=sum(n for table, n in counts.items() if table not in main),
        )

    async def purge(self, before: datetime) -> dict[str, int]:
        """Retention: closed requests and past appointments older than the period lose whom
        they were for, the note and the staff member's name (the project still counts them
        for its funders); the staff-message mapping and sent queue items of that age go."""
        cutoff = to_db(before)
        expiring = (
            "(kind != 'queue' AND booking_id IN (SELECT id FROM bookings WHERE ends_at < ?1"
            " AND user_id > 0)) OR (kind = 'queue' AND booking_id IN (SELECT id FROM requests"
            " WHERE state = 'closed' AND closed_at < ?1 AND user_id IS NOT NULL))"
        )
        statements = {
            # Posts naming those appointments and requests are deleted or edited down.
            "staff_redactions": plan_sql(expiring, "expired"),
            "staff_mentions": f"DELETE FROM staff_mentions WHERE {expiring}",
            # Their topics are deleted in the staff group (``expiring``): forget them first.
            "staff_topics": f"DELETE FROM staff_topics WHERE user_id IN ({_ALL_EXPIRED})",
            "requests": "UPDATE requests SET user_id = NULL, claimed_name = NULL,"
            " answered_name = NULL, claimed_by = NULL, deadline = NULL, sender = NULL,"
            " deadline_reminded = NULL"
            " WHERE state = 'closed' AND closed_at < ? AND user_id IS NOT NULL",
            "booking_reminders": "DELETE FROM booking_reminders WHERE booking_id IN"
            " (SELECT id FROM bookings WHERE ends_at < ?)",
            "booking_waitlist": "DELETE FROM booking_waitlist WHERE status = 'done'"
            " AND created_at < ?",
            # A negative id per row: never a Telegram user, unique for the seat indexes.
            "bookings": "UPDATE bookings SET user_id = -id, note = '', cancel_reason = NULL"
            " WHERE ends_at < ? AND user_id > 0",
            "relay_map": "DELETE FROM relay_map WHERE created_at < ?",
            "staff_outbox": "DELETE FROM staff_outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
            "audit": "DELETE FROM audit WHERE at < ?",
        }
        counts = {}
        async with self.db.transaction() as conn:
            for table, sql in statements.items():
                cursor = await conn.execute(sql, (cutoff,))
                counts[table] = cursor.rowcount
        return counts

    async def rows_mentioning(self, user_id: int) -> dict[str, int]:
        """For tests and operators: rows in any table with a column equal to ``user_id``."""
        found: dict[str, int] = {}
        for table in await self.db.tables():
            columns = [row[1] for row in await self.db.fetchall(f"PRAGMA table_info({table})")]
            if not columns:
                continue
            where = " OR ".join(f'"{c}" = ?' for c in columns)
            row = await self.db.fetchone(
                f"SELECT count(*) FROM {table} WHERE {where}", [user_id] * len(columns)
            )
            if row and row[0]:
                found[table] = row[0]
        return found


def _at(value: str) -> datetime:
    parsed = from_db(value)
    assert parsed is not None
    return parsed
