"""What the health check and ``python -m bot check`` ask the database: can it write, are
the migrations current, how much work is waiting. Counts only, never residents' data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, _migrations, to_db


@dataclass(frozen=True)
class Backlog:
    staff_outbox: int
    """Messages waiting to be posted into the staff group."""
    broadcast_outbox: int
    """Broadcast messages not yet sent (pending or in flight)."""
    pending_reminders: int
    """Appointment reminders not yet sent."""


def known_migrations() -> list[str]:
    return [name for _version, name, _sql in _migrations()]


class HealthQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def write_probe(self, now: datetime) -> None:
        """A real write (it goes to the WAL): raises when the database cannot be written."""
        await self.db.execute(
            "INSERT INTO health_probe (id, checked_at) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
            (to_db(now),),
        )

    async def pending_migrations(self) -> list[str]:
        """Migrations shipped with this version but not applied to the database."""
        rows = await self.db.fetchall("SELECT version FROM schema_migrations")
        applied = {int(row[0]) for row in rows}
        return [name for version, name, _sql in _migrations() if version not in applied]

    async def unknown_migrations(self) -> list[int]:
        """Versions applied by a newer release than this one (a downgrade)."""
        rows = await self.db.fetchall("SELECT version FROM schema_migrations")
        known = {version for version, _name, _sql in _migrations()}
        return sorted(int(row[0]) for row in rows if int(row[0]) not in known)

    async def backlog(self) -> Backlog:
        row = await self.db.fetchone(
            "SELECT (SELECT COUNT(*) FROM staff_outbox WHERE sent_at IS NULL),"
            " (SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')),"
            " (SELECT COUNT(*) FROM booking_reminders WHERE sent_at IS NULL)"
        )
        assert row is not None
        return Backlog(int(row[0]), int(row[1]), int(row[2]))
