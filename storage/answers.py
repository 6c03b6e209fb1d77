"""The answer library (prepared answers staff keep), its full-text index, the offers made
to residents and the counts of what the answers did. The terms in the index are computed
by ``bot.services.answers`` (stemmed); here they are stored and searched with FTS5's bm25."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, to_db


@dataclass(frozen=True)
class StoredAnswer:
    key: str
    text: str
    phrases: tuple[str, ...]
    translations: dict[str, str]


@dataclass(frozen=True)
class Hit:
    key: str
    kind: str
    """'p' for a phrase, 'a' for the answer text."""
    terms: str
    score: float
    """bm25, turned positive: higher is a better match."""


@dataclass(frozen=True)
class Offer:
    token: str
    user_id: int
    request_id: int
    key: str
    language: str


class Answers:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the library ------------------------------------------------------------------------
    async def all(self) -> list[StoredAnswer]:
        rows = await self.db.fetchall("SELECT key, text, phrases FROM answers ORDER BY key")
        translations = await self.db.fetchall(
            "SELECT key, language, text FROM answer_translations ORDER BY key, language"
        )
        by_key: dict[str, dict[str, str]] = {}
        for row in translations:
            by_key.setdefault(row["key"], {})[row["language"]] = row["text"]
        return [
            StoredAnswer(
                row["key"],
                row["text"],
                tuple(p for p in row["phrases"].split("\n") if p),
                by_key.get(row["key"], {}),
            )
            for row in rows
        ]

    async def get(self, key: str) -> StoredAnswer | None:
        row = await self.db.fetchone("SELECT key, text, phrases FROM answers WHERE key = ?", (key,))
        if row is None:
            return None
        translations = await self.db.fetchall(
            "SELECT language, text FROM answer_translations WHERE key = ?", (key,)
        )
        return StoredAnswer(
            row["key"],
            row["text"],
            tuple(p for p in row["phrases"].split("\n") if p),
            {t["language"]: t["text"] for t in translations},
        )

    async def put(self, entries: Iterable[StoredAnswer], now: datetime, *, keep: bool) -> None:
        """Add or replace entries (with their translations); ``keep=False`` first removes
        every other entry (an import restores a library as a whole)."""
        async with self.db.transaction() as conn:
            if not keep:
                await conn.execute("DELETE FROM answers")
            for entry in entries:
                await conn.execute(
                    "INSERT INTO answers (key, text, phrases, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET text = excluded.text,"
                    " phrases = excluded.phrases, updated_at = excluded.updated_at",
                    (entry.key, entry.text, "\n".join(entry.phrases), to_db(now)),
                )
                await conn.execute("DELETE FROM answer_translations WHERE key = ?", (entry.key,))
                await conn.executemany(
                    "INSERT INTO answer_translations (key, language, text) VALUES (?, ?, ?)",
                    [(entry.key, lang, text) for lang, text in entry.translations.items()],
                )

    async def translate(self, key: str, language: str, text: str) -> bool:
        return (
            await self.db.execute(
                "INSERT INTO answer_translations (key, language, text)"
                " SELECT key, ?, ? FROM answers WHERE key = ?"
                " ON CONFLICT (key, language) DO UPDATE SET text = excluded.text",
                (language, text, key),
            )
            > 0
        )

    async def delete(self, key: str) -> bool:
        return await self.db.execute("DELETE FROM answers WHERE key = ?", (key,)) > 0

    async def seeded(self) -> bool:
        return await self.db.fetchone("SELECT 1 FROM answer_library") is not None

    async def mark_seeded(self, now: datetime) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO answer_library (id, seeded_at) VALUES (1, ?)", (to_db(now),)
        )

    # -- the index --------------------------------------------------------------------------
    async def reindex(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Replace the whole index: (key, kind, terms) rows. A library is small (tens of
        entries), so rebuilding beats keeping it in step entry by entry."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM answer_terms")
            await conn.executemany(
                "INSERT INTO answer_terms (key, kind, terms) VALUES (?, ?, ?)", rows
            )

    async def search(self, terms: Sequence[str], limit: int = 40) -> list[Hit]:
        """Rows sharing any of ``terms``, best first (FTS5's bm25)."""
        if not terms:
            return []
        query = " OR ".join('"' + term.replace('"', "") + '"' for term in terms)
        rows = await self.db.fetchall(
            "SELECT key, kind, terms, bm25(answer_terms) AS rank FROM answer_terms"
            " WHERE answer_terms MATCH ? ORDER BY rank LIMIT ?",
            (query, limit),
        )
        return [Hit(row["key"], row["kind"], row["terms"], -float(row["rank"])) for row in rows]

    async def vocabulary(self) -> dict[str, int]:
        """Every indexed term and in how many rows it occurs."""
        rows = await self.db.fetchall("SELECT terms FROM answer_terms")
        counts: dict[str, int] = {}
        for row in rows:
            for term in set(row["terms"].split()):
                counts[term] = counts.get(term, 0) + 1
        return counts

    # -- offers to residents ----------------------------------------------------------------
    async def offer(self, offer: Offer, day: str) -> None:
        await self.db.execute(
            "INSERT INTO answer_offers (token, user_id, request_id, key, language, created_on)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (offer.token, offer.user_id, offer.request_id, offer.key, offer.language, day),
        )

    async def take_offer(self, token: str) -> Offer | None:
        """The offer behind a tap, removed: a second tap finds nothing."""
        row = await self.db.fetchone(
            "DELETE FROM answer_offers WHERE token = ?"
            " RETURNING token, user_id, request_id, key, language",
            (token,),
        )
        if row is None:
            return None
        return Offer(row[0], row[1], row[2], row[3], row[4])

    async def expire_offers(self, before_day: str) -> int:
        return await self.db.execute(
            "DELETE FROM answer_offers WHERE created_on < ?", (before_day,)
        )

    async def forget(self, user_id: int) -> int:
        """Erasure: the resident's links to any offer."""
        return await self.db.execute("DELETE FROM answer_offers WHERE user_id = ?", (user_id,))

    async def offers_of(self, user_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT count(*) FROM answer_offers WHERE user_id = ?", (user_id,)
        )
        return int(row[0]) if row else 0

    # -- counts -----------------------------------------------------------------------------
    async def count(self, month: str, language: str, outcome: str) -> None:
        await self.db.execute(
            "INSERT INTO answer_counts (month, language, outcome, count) VALUES (?, ?, ?, 1)"
            " ON CONFLICT (month, language, outcome) DO UPDATE SET count = count + 1",
            (month, language, outcome),
        )

    async def counts(self, first_month: str, last_month: str) -> dict[tuple[str, str], int]:
        """(language, outcome) -> count over the months ``first_month``..``last_month``."""
        rows = await self.db.fetchall(
            "SELECT language, outcome, sum(count) FROM answer_counts"
            " WHERE month BETWEEN ? AND ? GROUP BY language, outcome",
            (first_month, last_month),
        )
        return {(row[0], row[1]): int(row[2]) for row in rows}
