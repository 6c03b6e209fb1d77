"""Voice messages waiting for transcription, and the per-language counters for /stats.

Only references and counts: a Telegram file id and a message id, never audio or text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, to_db


@dataclass(frozen=True)
class PendingVoice:
    id: int
    user_id: int
    resident_message_id: int
    file_id: str
    duration: int | None
    language: str
    attempts: int


COUNTERS = ("messages", "translated", "transcribed")


class VoicePending:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        user_id: int,
        resident_message_id: int,
        file_id: str,
        duration: int | None,
        language: str,
        now: datetime,
    ) -> int:
        row = await self.db.fetchone(
            "INSERT INTO voice_pending (user_id, resident_message_id, file_id, duration,"
            " language, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (user_id, resident_message_id, file_id, duration, language, to_db(now)),
        )
        assert row is not None
        return int(row[0])

    async def all(self) -> list[PendingVoice]:
        rows = await self.db.fetchall("SELECT * FROM voice_pending ORDER BY id")
        return [
            PendingVoice(
                id=r["id"],
                user_id=r["user_id"],
                resident_message_id=r["resident_message_id"],
                file_id=r["file_id"],
                duration=r["duration"],
                language=r["language"],
                attempts=r["attempts"],
            )
            for r in rows
        ]

    async def attempt(self, pending_id: int) -> None:
        await self.db.execute(
            "UPDATE voice_pending SET attempts = attempts + 1 WHERE id = ?", (pending_id,)
        )

    async def done(self, pending_id: int) -> None:
        await self.db.execute("DELETE FROM voice_pending WHERE id = ?", (pending_id,))


class LanguageCounts:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def count(self, now: datetime, language: str, counter: str) -> None:
        if counter not in COUNTERS:
            raise ValueError(counter)
        day = to_db(now)
        assert day is not None
        await self.db.execute(
            f"INSERT INTO language_counts (day, language, {counter}) VALUES (?, ?, 1)"
            f" ON CONFLICT (day, language) DO UPDATE SET {counter} = {counter} + 1",
            (day[:10], language),
        )

    async def between(self, start: datetime, end: datetime) -> dict[str, tuple[int, int, int]]:
        """language -> (messages, translated, transcribed) for the days in [start, end)."""
        first, last = to_db(start), to_db(end)
        assert first is not None and last is not None
        rows = await self.db.fetchall(
            "SELECT language, sum(messages), sum(translated), sum(transcribed)"
            " FROM language_counts WHERE day >= ? AND day < ? GROUP BY language",
            (first[:10], last[:10]),
        )
        return {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}
