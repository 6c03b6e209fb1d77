"""The one owner of the SQLite connection.

aiosqlite runs a single connection on its own thread. Handlers for different residents run
concurrently on the event loop, so every statement and transaction goes through one
``asyncio.Lock``: otherwise one task's statements could land inside another task's open
transaction on the shared connection.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

_TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def to_db(moment: datetime | None) -> str | None:
    """UTC, second precision, in SQLite's own format so its date functions work on it."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime(_TS_FORMAT)


def from_db(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.strptime(value, _TS_FORMAT).replace(tzinfo=UTC)


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def open(self) -> None:
        if self._conn is not None:
            return
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Residents' data: only the service user may read the file (and its WAL).
            old_umask = os.umask(0o077)
        try:
            self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        finally:
            if str(self.path) != ":memory:":
                os.umask(old_umask)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=5000")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        if str(self.path) != ":memory:":
            os.chmod(self.path, 0o600)
        await self._migrate()

    async def close(self) -> None:
        if self._conn is not None:
            async with self._lock:
                await self._conn.close()
                self._conn = None

    async def _migrate(self) -> None:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with self.conn.execute("SELECT version FROM schema_migrations") as cur:
            applied = {row[0] for row in await cur.fetchall()}
        for version, name, sql in _migrations():
            if version in applied:
                continue
            log.info("applying migration %s", name)
            # executescript commits first; wrap in an explicit transaction so a failing
            # migration leaves nothing half-applied.
            await self.conn.executescript(
                f"BEGIN;\n{sql}\n;INSERT INTO schema_migrations VALUES "
                f"({version}, '{name}', datetime('now'));\nCOMMIT;"
            )

    # -- access, always under the lock -----------------------------------------------------
    # A query is one trip to aiosqlite's thread (execute, fetch and close there at once),
    # not three (execute, fetch, close): each trip costs a queue hand-over, a wake-up of the
    # event loop and a future, and every update makes a few.
    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self._lock:
            return list(await self.conn.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """The first row. Every caller asks for one row (a key, ``LIMIT 1``, an aggregate
        or ``RETURNING`` of one row), so fetching all of them costs nothing more."""
        async with self._lock:
            rows = await self.conn.execute_fetchall(sql, tuple(params))
        for row in rows:
            return row
        return None

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement in autocommit; returns the number of rows changed."""
        async with self._lock, self.conn.execute(sql, tuple(params)) as cur:
            return cur.rowcount

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: take the write lock up front so seat counts
        read inside the transaction cannot change before it commits."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
        return [row[0] for row in rows]


def backup(source: Path, target: Path) -> str:
    """Copy a live database with SQLite's online backup API.

    Runs in its own connection, so it can be used from another process while the bot
    writes: copying all pages in one step holds one read transaction, which in WAL mode is
    a consistent snapshot and does not block the bot. Returns the result of an integrity
    check of the copy ("ok" when sound).
    """
    import sqlite3

    target.parent.mkdir(parents=True, exist_ok=True)
    old_umask = os.umask(0o077)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(target)
    finally:
        os.umask(old_umask)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")
        row = dst.execute("PRAGMA integrity_check").fetchone()
        return str(row[0]) if row else "no answer"
    finally:
        dst.close()
        src.close()
        os.chmod(target, 0o600)
