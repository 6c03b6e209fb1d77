"""Answers to "Did we help you?": counts per month and language, and the one-time tokens
behind unanswered questions. Nothing here names a resident or a request."""

from __future__ import annotations

from storage.db import Database


class Feedback:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def issue(self, token: str, language: str, day: str) -> None:
        await self.db.execute(
            "INSERT INTO feedback_tokens (token, language, created_on) VALUES (?, ?, ?)",
            (token, language, day),
        )

    async def answer(self, token: str, helped: bool, month: str) -> bool:
        """Count the answer once: the token goes in the same transaction. False if it was
        used (or expired) already."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "DELETE FROM feedback_tokens WHERE token = ? RETURNING language", (token,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return False
            await conn.execute(
                "INSERT INTO feedback_counts (month, language, helped, count) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (month, language, helped) DO UPDATE SET count = count + 1",
                (month, row[0], int(helped)),
            )
            return True

    async def expire(self, before_day: str) -> int:
        return await self.db.execute(
            "DELETE FROM feedback_tokens WHERE created_on < ?", (before_day,)
        )
