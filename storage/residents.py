"""Residents: who talks to the bot, in which language, and whether they consented."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage.db import Database, from_db, to_db

# last_seen is only refreshed this often, so a chatty resident does not cost a write per
# message.
LAST_SEEN_RESOLUTION = timedelta(hours=1)


@dataclass(frozen=True)
class Resident:
    user_id: int
    language: str
    first_name: str
    consent_at: datetime | None
    created_at: datetime
    last_seen: datetime
    unreachable_since: datetime | None = None
    """Telegram refused delivery (blocked, account gone); cleared when they write again."""

    @property
    def consented(self) -> bool:
        return self.consent_at is not None


def _resident(row: aiosqlite.Row) -> Resident:
    created_at = from_db(row["created_at"])
    last_seen = from_db(row["last_seen"])
    assert created_at is not None and last_seen is not None
    return Resident(
        user_id=row["user_id"],
        language=row["language"],
        first_name=row["first_name"],
        consent_at=from_db(row["consent_at"]),
        created_at=created_at,
        last_seen=last_seen,
        unreachable_since=from_db(row["unreachable_since"]),
    )


class Residents:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> Resident | None:
        row = await self.db.fetchone("SELECT * FROM residents WHERE user_id = ?", (user_id,))
        return _resident(row) if row else None

    async def save_language(self, user_id: int, language: str, now: datetime) -> None:
        await self.db.execute(
            "UPDATE residents SET language = ?, last_seen = ? WHERE user_id = ?",
            (language, to_db(now), user_id),
        )

    async def give_consent(
        self, user_id: int, language: str, first_name: str, now: datetime
    ) -> None:
        await self.db.execute(
            "INSERT INTO residents (user_id, language, first_name, consent_at, created_at, last_seen)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET"
            " consent_at = coalesce(residents.consent_at, excluded.consent_at),"
            " first_name = excluded.first_name, last_seen = excluded.last_seen",
            (user_id, language, first_name[:64], to_db(now), to_db(now), to_db(now)),
        )

    async def withdraw_consent(self, user_id: int) -> None:
        await self.db.execute(
            "UPDATE residents SET consent_at = NULL WHERE user_id = ?", (user_id,)
        )

    async def touch(self, resident: Resident, now: datetime) -> None:
        if now - resident.last_seen >= LAST_SEEN_RESOLUTION:
            await self.db.execute(
                "UPDATE residents SET last_seen = ? WHERE user_id = ?",
                (to_db(now), resident.user_id),
            )

    async def mark_unreachable(self, user_id: int, now: datetime) -> None:
        """No further broadcasts until the resident writes again."""
        await self.db.execute(
            "UPDATE residents SET unreachable_since = coalesce(unreachable_since, ?)"
            " WHERE user_id = ?",
            (to_db(now), user_id),
        )

    async def mark_reachable(self, user_id: int) -> None:
        await self.db.execute(
            "UPDATE residents SET unreachable_since = NULL WHERE user_id = ?", (user_id,)
        )
