"""The audit trail of staff actions that touch a resident (claim, close, ban, cancel, …)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db, to_db


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int
    action: str
    resident_id: int | None
    detail: str


class Audit:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, actor_id: int, action: str, resident_id: int | None, now: datetime, detail: str = ""
    ) -> None:
        await self.db.execute(
            "INSERT INTO audit (at, actor_id, action, resident_id, detail) VALUES (?, ?, ?, ?, ?)",
            (to_db(now), actor_id, action, resident_id, detail[:200]),
        )

    async def recent(self, limit: int = 30, resident_id: int | None = None) -> list[AuditEntry]:
        if resident_id is None:
            rows = await self.db.fetchall("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM audit WHERE resident_id = ? ORDER BY id DESC LIMIT ?",
                (resident_id, limit),
            )
        result = []
        for row in rows:
            at = from_db(row["at"])
            assert at is not None
            result.append(
                AuditEntry(
                    row["id"], at, row["actor_id"], row["action"], row["resident_id"], row["detail"]
                )
            )
        return result
