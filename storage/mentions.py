"""Which of the bot's posts in the staff group name a resident, and the redactions still to
do when a resident erases their data or their appointments expire.

A booking notice, a reason picker or an agenda names the resident and may quote their
booking note. The bot cannot read its posts back from Telegram, so it keeps, per post and
appointment, only the message id, the kind of post and when it was posted: enough to delete
the post or edit it down to the appointment's reference, nothing of its text. The rows are
about a resident and go with them (``storage.privacy`` turns them into redactions in the
erasing transaction); a redaction names no resident and goes once the staff lane has done it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from storage.db import Database, from_db, to_db

MentionKind = Literal[
    "notice", "picker", "closure", "agenda_daily", "agenda_day", "agenda_week", "queue"
]
WHOLE: frozenset[str] = frozenset({"notice", "picker", "copy"})
"""Posts about one appointment only (or, ``copy``, a resident's message or its header in a
group without topics): deleted (or edited down) as a whole. The others list several
residents and are rendered again without the one who is gone."""


@dataclass(frozen=True)
class Mention:
    """A post names the resident ``user_id`` about appointment ``booking_id``."""

    user_id: int
    booking_id: int
    """The appointment; for ``queue`` (a /queue answer), the request."""
    kind: MentionKind
    about: str | None = None
    """Agenda: the day (ISO) the line stands under; closure notice: the closure's number."""


async def queue_mentions(
    conn: aiosqlite.Connection, item_id: int, mentions: Sequence[Mention]
) -> None:
    """With a post queued in the staff outbox (its transaction): whom it names."""
    await conn.executemany(
        "INSERT INTO staff_outbox_mentions (item_id, user_id, booking_id, kind, about)"
        " VALUES (?, ?, ?, ?, ?)",
        [(item_id, m.user_id, m.booking_id, m.kind, m.about) for m in mentions],
    )


@dataclass(frozen=True)
class Line:
    """An appointment (or request) in a post, and what it stood under (agenda: the day)."""

    booking_id: int
    about: str | None


@dataclass(frozen=True)
class Redaction:
    """A post to delete, or to edit down to references (``bookings``)."""

    id: int
    message_id: int
    kind: str
    why: Literal["erased", "expired"]
    bookings: tuple[Line, ...]
    """The appointments shown as references, with the day (agenda) they stood under."""
    posted_at: datetime
    attempts: int

    @property
    def whole(self) -> bool:
        return self.kind in WHOLE


def plan_sql(where: str, why: Literal["erased", "expired"]) -> str:
    """The INSERT that turns the mentions matching ``where`` into redactions, one per post
    (run in the erasing or purging transaction, before those mentions are deleted)."""
    assert why in ("erased", "expired")
    return (
        "INSERT INTO staff_redactions (message_id, kind, why, bookings, posted_at, due_at)"
        f" SELECT message_id, min(kind), '{why}',"
        " json_group_array(json_array(booking_id, about)), min(posted_at), min(posted_at)"
        f" FROM staff_mentions WHERE {where} GROUP BY message_id"
    )


def _at(value: str) -> datetime:
    parsed = from_db(value)
    assert parsed is not None
    return parsed


class StaffMentions:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def posted(
        self, item_id: int, message_id: int, now: datetime, *, buttons: bool = False
    ) -> None:
        """The outbox item was posted as ``message_id`` (``buttons``: with buttons): whom
        it names is recorded against the message."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO staff_mentions"
                " (message_id, user_id, booking_id, kind, about, posted_at, buttons)"
                " SELECT ?, user_id, booking_id, kind, about, ?, ? FROM staff_outbox_mentions"
                " WHERE item_id = ?",
                (message_id, to_db(now), int(buttons), item_id),
            )
            await conn.execute("DELETE FROM staff_outbox_mentions WHERE item_id = ?", (item_id,))

    async def superseded(self, item_id: int) -> list[int]:
        """Notices whose buttons a queued post makes stale: the earlier notices, still with
        buttons, of the appointments it is a notice (or closure notice) of — a moved or
        cancelled appointment's old confirm and attendance buttons."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT m.message_id FROM staff_mentions m"
            " JOIN staff_outbox_mentions q ON q.booking_id = m.booking_id"
            " WHERE q.item_id = ? AND q.kind IN ('notice', 'closure')"
            " AND m.kind = 'notice' AND m.buttons = 1 ORDER BY m.message_id",
            (item_id,),
        )
        return [int(r[0]) for r in rows]

    async def buttons_gone(self, message_id: int) -> None:
        await self.db.execute(
            "UPDATE staff_mentions SET buttons = 0 WHERE message_id = ?", (message_id,)
        )

    async def lines_of(self, message_id: int) -> list[Line]:
        """The appointments a post still shows (of residents not erased)."""
        rows = await self.db.fetchall(
            "SELECT booking_id, about FROM staff_mentions WHERE message_id = ? ORDER BY booking_id",
            (message_id,),
        )
        return [Line(int(r[0]), r[1]) for r in rows]

    async def plan_copies(
        self,
        copies: Sequence[tuple[int, datetime]],
        why: Literal["erased", "expired"],
        refs: Sequence[str],
        now: datetime,
    ) -> None:
        """In a group without topics: the copies and header lines the bot posted for the
        resident (message id, when), edited down to the requests' references."""
        about = json.dumps([[0, ", ".join(refs)]])
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO staff_redactions (message_id, kind, why, bookings, posted_at,"
                " due_at) VALUES (?, 'copy', ?, ?, ?, ?)",
                [(mid, why, about, to_db(at), to_db(now)) for mid, at in copies],
            )

    async def next_redaction(self, now: datetime) -> Redaction | None:
        row = await self.db.fetchone(
            "SELECT * FROM staff_redactions WHERE due_at <= ? ORDER BY due_at, id LIMIT 1",
            (to_db(now),),
        )
        if row is None:
            return None
        return Redaction(
            id=int(row["id"]),
            message_id=int(row["message_id"]),
            kind=str(row["kind"]),
            why="expired" if row["why"] == "expired" else "erased",
            bookings=tuple(Line(int(b), a) for b, a in json.loads(row["bookings"])),
            posted_at=_at(row["posted_at"]),
            attempts=int(row["attempts"]),
        )

    async def next_redaction_at(self) -> datetime | None:
        row = await self.db.fetchone("SELECT min(due_at) FROM staff_redactions")
        return from_db(row[0]) if row else None

    async def pending(self) -> int:
        row = await self.db.fetchone("SELECT count(*) FROM staff_redactions")
        return int(row[0]) if row else 0

    async def redacted(self, redaction_id: int) -> None:
        """Done (or given up): nothing of it is kept."""
        await self.db.execute("DELETE FROM staff_redactions WHERE id = ?", (redaction_id,))

    async def retry(self, redaction_id: int, due: datetime) -> None:
        await self.db.execute(
            "UPDATE staff_redactions SET due_at = ?, attempts = attempts + 1 WHERE id = ?",
            (to_db(due), redaction_id),
        )
