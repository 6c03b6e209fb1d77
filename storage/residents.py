"""Residents: who talks to the bot, in which language, and whether they consented.

Every update starts by reading the resident who sent it, so :class:`Residents` keeps the rows
it has read in memory: one query per resident until something changes. Every change of a
resident's row goes through this class (``storage.privacy`` erases through
:meth:`Residents.forget`), and each write forgets the cached row after it is done, so the
next read sees the database again. A read that raced with a write is not kept (see
:meth:`Residents.get`). The bot is the only writer of its database while it runs; the cache
is emptied when the database is opened or closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage.db import Database, from_db, to_db

CACHE_SIZE = 10_000
"""Residents (and people who are not residents) remembered at most; the oldest go first."""

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
    def __init__(self, db: Database, cache_size: int = CACHE_SIZE) -> None:
        self.db = db
        self.cache_size = cache_size
        self._cache: dict[int, Resident | None] = {}
        """user id -> the row as last read (None: not a resident)."""
        self._generation = 0
        """Counts forgets: a read that overlapped one may have read the old row."""

    async def get(self, user_id: int) -> Resident | None:
        try:
            return self._cache[user_id]
        except KeyError:
            pass
        generation = self._generation
        row = await self.db.fetchone("SELECT * FROM residents WHERE user_id = ?", (user_id,))
        resident = _resident(row) if row else None
        # Kept only if no write finished while the query ran: that write may have come
        # after the read, and its forget before this line.
        if generation == self._generation:
            if len(self._cache) >= self.cache_size:
                del self._cache[next(iter(self._cache))]
            self._cache[user_id] = resident
        return resident

    def forget(self, user_id: int) -> None:
        """The row changed (or is gone): the next :meth:`get` reads it again. Called after
        every write, also one that failed."""
        self._generation += 1
        self._cache.pop(user_id, None)

    def forget_all(self) -> None:
        self._generation += 1
        self._cache.clear()

    @asynccontextmanager
    async def _changing(self, user_id: int) -> AsyncIterator[None]:
        try:
            yield
        finally:
            self.forget(user_id)

    async def save_language(self, user_id: int, language: str, now: datetime) -> None:
        async with self._changing(user_id):
            await self.db.execute(
                "UPDATE residents SET language = ?, last_seen = ? WHERE user_id = ?",
                (language, to_db(now), user_id),
            )

    async def give_consent(
        self, user_id: int, language: str, first_name: str, now: datetime
    ) -> None:
        async with self._changing(user_id):
            await self.db.execute(
                "INSERT INTO residents (user_id, language, first_name, consent_at, created_at, last_seen)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET"
                " consent_at = coalesce(residents.consent_at, excluded.consent_at),"
                " first_name = excluded.first_name, last_seen = excluded.last_seen",
                (user_id, language, first_name[:64], to_db(now), to_db(now), to_db(now)),
            )

    async def withdraw_consent(self, user_id: int) -> None:
        async with self._changing(user_id):
            await self.db.execute(
                "UPDATE residents SET consent_at = NULL WHERE user_id = ?", (user_id,)
            )

    async def touch(self, resident: Resident, now: datetime) -> None:
        if now - resident.last_seen >= LAST_SEEN_RESOLUTION:
            async with self._changing(resident.user_id):
                await self.db.execute(
                    "UPDATE residents SET last_seen = ? WHERE user_id = ?",
                    (to_db(now), resident.user_id),
                )

    async def mark_unreachable(self, user_id: int, now: datetime) -> None:
        """No further broadcasts until the resident writes again."""
        async with self._changing(user_id):
            await self.db.execute(
                "UPDATE residents SET unreachable_since = coalesce(unreachable_since, ?)"
                " WHERE user_id = ?",
                (to_db(now), user_id),
            )

    async def mark_reachable(self, user_id: int) -> None:
        async with self._changing(user_id):
            await self.db.execute(
                "UPDATE residents SET unreachable_since = NULL WHERE user_id = ?", (user_id,)
            )

    # -- the command list shown in the resident's chat (bot.services.command_menus) --------
    async def set_commands(self, user_id: int, signature: str | None) -> None:
        """What was published for the resident's chat (None: nothing, or withdrawn)."""
        await self.db.execute(
            "UPDATE residents SET commands = ? WHERE user_id = ?", (signature, user_id)
        )

    async def commands_out_of_step(
        self, digest: str, after: int, limit: int
    ) -> list[tuple[int, str]]:
        """Consented, reachable residents (ids above ``after``) whose chat shows another
        list than the one of their language in this version (``digest``): (id, language)."""
        rows = await self.db.fetchall(
            "SELECT user_id, language FROM residents WHERE consent_at IS NOT NULL"
            " AND unreachable_since IS NULL AND commands IS NOT (language || ':' || ?)"
            " AND user_id > ? ORDER BY user_id LIMIT ?",
            (digest, after, limit),
        )
        return [(row["user_id"], row["language"]) for row in rows]
