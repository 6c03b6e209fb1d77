"""Counts for the project's figures (/stats, /export): only aggregates leave this module.

Nothing here returns a Telegram id, a name or a message. Every query is a range over an
indexed time column (migration 0008), so a report costs about the same whether the bot
has a hundred residents or ten thousand.

What counts, in one place:

- residents: *new* were created (agreed) in the period; *active* did something we record
  in the period (were seen last, agreed, opened or wrote to a request, booked, attended).
  ``last_seen`` only keeps the latest visit, so for a past period *active* is a lower bound.
- requests are counted in the period they were opened; *answered* and the time to the
  first answer belong to those same requests.
- appointments are counted by the day of the appointment (*held in* the period). *Booked*
  is every booking a resident made (upcoming, done, missed or cancelled), without
  waiting-list holds that were never taken, requests staff declined, and the old slot of a
  rescheduled booking (before migration 0016 a move made a second row). The same
  bookings are also counted by the moment they were made (*booked during* the period),
  so this month's booking activity shows while its appointments are still ahead.
- interpreter needs are counted per language for the appointments held in the period that
  were not cancelled.
- the language is the resident's current one; appointments kept after the retention
  period (no longer linked to a resident) count under ``UNKNOWN_LANGUAGE``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from storage.db import Database, to_db
from storage.voice import LanguageCounts

UNKNOWN_LANGUAGE = "?"

_BOOKED = (
    "(k.status IN ('requested', 'confirmed', 'attended', 'no_show')"
    " OR (k.status = 'cancelled' AND coalesce(k.cancelled_by, '') != 'moved'))"
)
_CANCELLED = "(k.status = 'cancelled' AND coalesce(k.cancelled_by, '') != 'moved')"
_BUCKETS = (
    "WITH b(i, s, e) AS (SELECT CAST(key AS INTEGER), json_extract(value, '$[0]'),"
    " json_extract(value, '$[1]') FROM json_each(?))"
)

Span = tuple[datetime, datetime]
"""[start, end) in UTC."""


@dataclass(frozen=True)
class PlaceCounts:
    offer_id: str
    place_id: str
    booked: int
    cancelled: int
    attended: int
    no_show: int


@dataclass(frozen=True)
class RawFigures:
    """Exact counts for one period, before any cell is suppressed."""

    new_by_language: dict[str, int]
    active_by_language: dict[str, int]
    requests_by_bucket: dict[tuple[int, str], int]
    """(bucket index, language) → requests opened."""
    answered: int
    answer_median: float | None
    """Seconds from opening to the first answer (of the answered ones)."""
    answer_p90: float | None
    """90% were answered within this many seconds (nearest rank)."""
    open_now: int
    bookings_by_bucket: dict[tuple[int, str], int]
    """(bucket index, language) → appointments booked."""
    by_place: tuple[PlaceCounts, ...]
    broadcasts: int
    sent: int
    blocked: int
    waiting_list: int
    made_by_bucket: dict[tuple[int, str], int] = field(default_factory=dict)
    """(bucket index, language) → appointments booked (made) in that bucket."""
    interpreters: dict[str, int] = field(default_factory=dict)
    """Language → appointments held in the period with interpreting asked for."""
    feedback: dict[tuple[bool, str], int] = field(default_factory=dict)
    """(helped, language) → answers to "Did we help you?", counted per month: the months
    that overlap the period."""
    messages_by_language: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """language → (residents' messages, machine translated, transcribed), from counters."""
    prepared: dict[tuple[str, str], int] = field(default_factory=dict)
    """(outcome, language) → what prepared answers did (suggested, offered, helped, talk,
    sent), counted per month: the months that overlap the period."""


def _span(span: Span) -> tuple[str, str]:
    start, end = to_db(span[0]), to_db(span[1])
    assert start is not None and end is not None
    return start, end


def _buckets(buckets: Sequence[Span]) -> str:
    return json.dumps([list(_span(b)) for b in buckets])


class Stats:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def collect(
        self, span: Span, buckets: Sequence[Span], now: datetime, months: Sequence[str] = ()
    ) -> RawFigures:
        """Everything /stats shows for ``span``; ``buckets`` partition it for the chart;
        ``months`` ('YYYY-MM') are those whose feedback counts."""
        new, active = await self.residents(span)
        answered, median, p90 = await self.answer_times(span)
        broadcasts, sent, blocked = await self.broadcast_reach(span)
        return RawFigures(
            new_by_language=new,
            active_by_language=active,
            requests_by_bucket=await self.requests_by_bucket(buckets),
            answered=answered,
            answer_median=median,
            answer_p90=p90,
            open_now=await self.open_requests(),
            bookings_by_bucket=await self.bookings_by_bucket(buckets),
            by_place=await self.bookings_by_place(span),
            broadcasts=broadcasts,
            sent=sent,
            blocked=blocked,
            waiting_list=await self.waiting_list(),
            made_by_bucket=await self.made_by_bucket(buckets),
            interpreters=await self.interpreters(span),
            feedback=await self.feedback(months),
            messages_by_language=await LanguageCounts(self.db).between(*span),
            prepared=await self.prepared(months),
        )

    async def prepared(self, months: Sequence[str]) -> dict[tuple[str, str], int]:
        if not months:
            return {}
        rows = await self.db.fetchall(
            "SELECT outcome, language, sum(count) FROM answer_counts"
            f" WHERE month IN ({','.join('?' * len(months))}) GROUP BY outcome, language",
            tuple(months),
        )
        return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}

    async def feedback(self, months: Sequence[str]) -> dict[tuple[bool, str], int]:
        if not months:
            return {}
        rows = await self.db.fetchall(
            "SELECT helped, language, sum(count) FROM feedback_counts"
            f" WHERE month IN ({','.join('?' * len(months))}) GROUP BY helped, language",
            tuple(months),
        )
        return {(bool(r[0]), str(r[1])): int(r[2]) for r in rows}

    async def residents(self, span: Span) -> tuple[dict[str, int], dict[str, int]]:
        start, end = _span(span)
        rows = await self.db.fetchall(
            "SELECT language, count(*) FROM residents"
            " WHERE created_at >= ? AND created_at < ? GROUP BY language",
            (start, end),
        )
        new = {str(r[0]): int(r[1]) for r in rows}
        rows = await self.db.fetchall(
            "SELECT r.language, count(*) FROM residents r WHERE r.user_id IN ("
            " SELECT user_id FROM residents WHERE last_seen >= ?1 AND last_seen < ?2"
            " UNION SELECT user_id FROM residents WHERE created_at >= ?1 AND created_at < ?2"
            " UNION SELECT user_id FROM requests WHERE opened_at >= ?1 AND opened_at < ?2"
            " UNION SELECT user_id FROM requests WHERE last_message >= ?1 AND last_message < ?2"
            " UNION SELECT user_id FROM bookings WHERE created_at >= ?1 AND created_at < ?2"
            " UNION SELECT user_id FROM bookings k WHERE starts_at >= ?1 AND starts_at < ?2"
            "  AND status = 'attended'"
            ") GROUP BY r.language",
            (start, end),
        )
        active = {str(r[0]): int(r[1]) for r in rows}
        return new, active

    async def requests_by_bucket(self, buckets: Sequence[Span]) -> dict[tuple[int, str], int]:
        rows = await self.db.fetchall(
            f"{_BUCKETS} SELECT b.i, coalesce(r.language, ?) AS lang, count(*)"
            " FROM b JOIN requests q ON q.opened_at >= b.s AND q.opened_at < b.e"
            " LEFT JOIN residents r ON r.user_id = q.user_id GROUP BY b.i, lang",
            (_buckets(buckets), UNKNOWN_LANGUAGE),
        )
        return {(int(r[0]), str(r[1])): int(r[2]) for r in rows}

    async def answer_times(self, span: Span) -> tuple[int, float | None, float | None]:
        """How many of the requests opened in the period were answered, and the median
        and 90th percentile (nearest rank) of the time to their first answer, in
        seconds. Ranked inside SQLite: only three rows come back."""
        start, end = _span(span)
        rows = await self.db.fetchall(
            "WITH d AS (SELECT max(0, unixepoch(first_answered_at) - unixepoch(opened_at)) AS s"
            "  FROM requests WHERE opened_at >= ? AND opened_at < ?"
            "  AND first_answered_at IS NOT NULL),"
            " r AS (SELECT s, row_number() OVER (ORDER BY s) AS i, count(*) OVER () AS n FROM d)"
            " SELECT i, s, n FROM r WHERE i IN ((n + 1) / 2, n / 2 + 1, (9 * n + 9) / 10)",
            (start, end),
        )
        if not rows:
            return 0, None, None
        n = int(rows[0][2])
        at = {int(r[0]): float(r[1]) for r in rows}
        median = at[(n + 1) // 2] if n % 2 else (at[n // 2] + at[n // 2 + 1]) / 2
        return n, median, at[(9 * n + 9) // 10]

    async def open_requests(self) -> int:
        row = await self.db.fetchone(
            "SELECT count(*) FROM requests WHERE state IN ('open', 'claimed')"
        )
        return int(row[0]) if row else 0

    async def bookings_by_bucket(self, buckets: Sequence[Span]) -> dict[tuple[int, str], int]:
        rows = await self.db.fetchall(
            f"{_BUCKETS} SELECT b.i, coalesce(r.language, ?) AS lang, count(*)"
            " FROM b JOIN bookings k ON k.starts_at >= b.s AND k.starts_at < b.e"
            f" LEFT JOIN residents r ON r.user_id = k.user_id WHERE {_BOOKED}"
            " GROUP BY b.i, lang",
            (_buckets(buckets), UNKNOWN_LANGUAGE),
        )
        return {(int(r[0]), str(r[1])): int(r[2]) for r in rows}

    async def made_by_bucket(self, buckets: Sequence[Span]) -> dict[tuple[int, str], int]:
        """By the moment the booking was made (``created_at``), whenever it takes place."""
        rows = await self.db.fetchall(
            f"{_BUCKETS} SELECT b.i, coalesce(r.language, ?) AS lang, count(*)"
            " FROM b JOIN bookings k ON k.created_at >= b.s AND k.created_at < b.e"
            f" LEFT JOIN residents r ON r.user_id = k.user_id WHERE {_BOOKED}"
            " GROUP BY b.i, lang",
            (_buckets(buckets), UNKNOWN_LANGUAGE),
        )
        return {(int(r[0]), str(r[1])): int(r[2]) for r in rows}

    async def interpreters(self, span: Span) -> dict[str, int]:
        start, end = _span(span)
        rows = await self.db.fetchall(
            "SELECT interpreter, count(*) FROM bookings k"
            " WHERE starts_at >= ? AND starts_at < ? AND interpreter IS NOT NULL"
            " AND status IN ('requested', 'confirmed', 'attended', 'no_show')"
            " GROUP BY interpreter",
            (start, end),
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def bookings_by_place(self, span: Span) -> tuple[PlaceCounts, ...]:
        start, end = _span(span)
        rows = await self.db.fetchall(
            "SELECT offer_id, place_id,"
            f" sum({_BOOKED}), sum({_CANCELLED}),"
            " sum(k.status = 'attended'), sum(k.status = 'no_show')"
            f" FROM bookings k WHERE starts_at >= ? AND starts_at < ? AND {_BOOKED}"
            " GROUP BY offer_id, place_id ORDER BY offer_id, place_id",
            (start, end),
        )
        return tuple(
            PlaceCounts(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]))
            for r in rows
        )

    async def broadcast_reach(self, span: Span) -> tuple[int, int, int]:
        """Broadcasts started in the period; messages delivered, and residents who had
        blocked the bot or left Telegram."""
        start, end = _span(span)
        row = await self.db.fetchone(
            "SELECT count(DISTINCT b.id),"
            " coalesce(sum(o.status = 'sent'), 0), coalesce(sum(o.status IN ('blocked', 'left')), 0)"
            " FROM broadcasts b LEFT JOIN outbox o ON o.broadcast_id = b.id"
            " WHERE b.started_at >= ? AND b.started_at < ?",
            (start, end),
        )
        if row is None:
            return 0, 0, 0
        return int(row[0]), int(row[1]), int(row[2])

    async def waiting_list(self) -> int:
        row = await self.db.fetchone(
            "SELECT count(*) FROM booking_waitlist WHERE status IN ('waiting', 'offered')"
        )
        return int(row[0]) if row else 0


__all__ = ["UNKNOWN_LANGUAGE", "PlaceCounts", "RawFigures", "Span", "Stats"]
