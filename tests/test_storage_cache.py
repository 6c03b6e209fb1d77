"""What storage keeps in memory (residents, current closures, bans) is never staler than the
database: every write path forgets it, an erasure leaves nothing behind, and a read that
overlapped a write is not kept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from storage import Storage
from storage.residents import LAST_SEEN_RESOLUTION, Residents

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
USER = 4242


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = Storage(tmp_path / "cache.sqlite3")
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


class Queries:
    """Counts the statements that reach SQLite."""

    def __init__(self, storage: Storage) -> None:
        self.sql: list[str] = []
        db = storage.db
        fetchone, fetchall = db.fetchone, db.fetchall

        async def counted_one(sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
            self.sql.append(sql)
            return await fetchone(sql, params)

        async def counted_all(sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
            self.sql.append(sql)
            return await fetchall(sql, params)

        db.fetchone = counted_one  # type: ignore[method-assign]
        db.fetchall = counted_all  # type: ignore[method-assign]

    def reads(self, table: str) -> int:
        return sum(1 for sql in self.sql if sql.startswith("SELECT") and table in sql)


async def consented(storage: Storage, language: str = "de") -> None:
    await storage.residents.give_consent(USER, language, "Zeynep", NOW)


# -- residents --------------------------------------------------------------------------------
async def test_a_resident_is_read_once_until_something_changes(storage: Storage) -> None:
    await consented(storage)
    queries = Queries(storage)
    for _ in range(5):
        resident = await storage.residents.get(USER)
        assert resident is not None and resident.language == "de"
    assert queries.reads("residents") == 1


async def test_a_language_change_is_seen_at_once(storage: Storage) -> None:
    await consented(storage)
    assert (await storage.residents.get(USER)).language == "de"  # type: ignore[union-attr]
    await storage.residents.save_language(USER, "ar", NOW)
    resident = await storage.residents.get(USER)
    assert resident is not None and resident.language == "ar"


async def test_an_erasure_leaves_no_cached_resident(storage: Storage) -> None:
    await consented(storage)
    assert await storage.residents.get(USER) is not None
    await storage.privacy.erase(USER)
    assert await storage.residents.get(USER) is None


async def test_consent_given_and_withdrawn_is_seen_at_once(storage: Storage) -> None:
    assert await storage.residents.get(USER) is None  # not a resident: remembered too
    await consented(storage)
    resident = await storage.residents.get(USER)
    assert resident is not None and resident.consented
    await storage.residents.withdraw_consent(USER)
    resident = await storage.residents.get(USER)
    assert resident is not None and not resident.consented


async def test_unreachable_marks_are_seen_at_once(storage: Storage) -> None:
    await consented(storage)
    await storage.residents.get(USER)
    await storage.residents.mark_unreachable(USER, NOW)
    resident = await storage.residents.get(USER)
    assert resident is not None and resident.unreachable_since == NOW
    await storage.residents.mark_reachable(USER)
    resident = await storage.residents.get(USER)
    assert resident is not None and resident.unreachable_since is None


async def test_last_seen_is_written_once_an_hour_and_then_read_again(storage: Storage) -> None:
    await consented(storage)
    resident = await storage.residents.get(USER)
    assert resident is not None
    later = NOW + LAST_SEEN_RESOLUTION
    await storage.residents.touch(resident, later)
    resident = await storage.residents.get(USER)
    assert resident is not None and resident.last_seen == later


async def test_a_read_overlapping_a_write_is_not_kept(storage: Storage) -> None:
    """The read saw the old row; the write finished (and forgot) before the read returned."""
    await consented(storage, "de")
    residents = storage.residents
    fetchone = storage.db.fetchone

    async def read_then_write(sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        row = await fetchone(sql, params)
        storage.db.fetchone = fetchone  # type: ignore[method-assign]
        await residents.save_language(USER, "uk", NOW)
        return row

    storage.db.fetchone = read_then_write  # type: ignore[method-assign]
    stale = await residents.get(USER)
    assert stale is not None and stale.language == "de"
    fresh = await residents.get(USER)
    assert fresh is not None and fresh.language == "uk"


async def test_the_cache_is_bounded_and_emptied_on_reopening(storage: Storage) -> None:
    small = Residents(storage.db, cache_size=3)
    for user_id in range(10):
        await small.get(user_id)
    assert len(small._cache) == 3
    await consented(storage)
    await storage.residents.get(USER)
    await storage.close()
    await storage.open()
    queries = Queries(storage)
    await storage.residents.get(USER)
    assert queries.reads("residents") == 1


# -- closures -------------------------------------------------------------------------------
async def test_current_closures_are_read_once_and_follow_adds_and_lifts(storage: Storage) -> None:
    closures = storage.closures
    today = date(2026, 11, 24)
    queries = Queries(storage)
    assert await closures.current(today) == []
    assert await closures.current(today) == []
    assert queries.reads("closures") == 1
    added = await closures.add("office", today, today + timedelta(days=2), "Ausflug", 1, NOW)
    assert await closures.current(today) == [added]
    # A later day is answered from memory, without closures that ended before it.
    before = queries.reads("closures")
    assert await closures.current(today + timedelta(days=2)) == [added]
    assert await closures.current(today + timedelta(days=3)) == []
    assert queries.reads("closures") == before
    await closures.lift(added.id)
    assert await closures.current(today) == []


async def test_an_earlier_day_is_read_from_the_database(storage: Storage) -> None:
    closures = storage.closures
    day = date(2026, 11, 24)
    past = await closures.add(None, day - timedelta(days=3), day - timedelta(days=1), "x", 1, NOW)
    assert await closures.current(day) == []
    assert await closures.current(day - timedelta(days=2)) == [past]


# -- bans -----------------------------------------------------------------------------------
async def test_bans_are_read_once_and_follow_every_change(storage: Storage) -> None:
    requests = storage.requests
    queries = Queries(storage)
    assert await requests.ban_of(USER) is None
    assert await requests.ban_of(USER + 1) is None
    assert queries.reads("bans") == 1
    await requests.ban(USER, "spam", 1, NOW)
    ban = await requests.ban_of(USER)
    assert ban is not None and ban.notified_at is None
    await requests.ban_notified(USER, NOW)
    ban = await requests.ban_of(USER)
    assert ban is not None and ban.notified_at == NOW
    assert await requests.unban(USER)
    assert await requests.ban_of(USER) is None


async def test_an_erasure_leaves_no_cached_ban(storage: Storage) -> None:
    await consented(storage)
    await storage.requests.ban(USER, "spam", 1, NOW)
    assert await storage.requests.ban_of(USER) is not None
    await storage.privacy.erase(USER)
    assert await storage.requests.ban_of(USER) is None


# -- requests -------------------------------------------------------------------------------
async def test_a_message_continues_the_request_or_opens_one(storage: Storage) -> None:
    """The one-statement path and the transaction give what the transaction alone gave."""
    await consented(storage)
    requests = storage.requests
    first, is_new = await requests.on_resident_message(USER, NOW)
    assert is_new and first.state == "open"
    again, is_new = await requests.on_resident_message(USER, NOW + timedelta(minutes=1))
    assert not is_new and again.id == first.id
    assert again.last_message == NOW + timedelta(minutes=1) and again.waiting_since == NOW
    await requests.claim(first.id, 7, "Petra")
    await requests.mark_answered(USER, 7, "Petra", NOW + timedelta(minutes=2))
    waiting, is_new = await requests.on_resident_message(USER, NOW + timedelta(minutes=3))
    assert not is_new and waiting.state == "claimed"
    assert waiting.waiting_since == NOW + timedelta(minutes=3)
    await requests.close(first.id, NOW + timedelta(minutes=4))
    second, is_new = await requests.on_resident_message(USER, NOW + timedelta(minutes=5))
    assert is_new and second.id != first.id and second.state == "open"


async def test_an_answered_unclaimed_request_is_open_again(storage: Storage) -> None:
    await consented(storage)
    requests = storage.requests
    request, _ = await requests.on_resident_message(USER, NOW)
    await storage.db.execute(
        "UPDATE requests SET state = 'answered', waiting_since = NULL WHERE id = ?",
        (request.id,),
    )
    again, is_new = await requests.on_resident_message(USER, NOW + timedelta(minutes=1))
    assert not is_new and again.state == "open"
