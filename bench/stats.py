"""How long do /stats figures take on a database of a project in full swing?

    .venv/bin/python bench/stats.py [RESIDENTS] [BOOKINGS]

Generates a database (default 10,000 residents, 50,000 bookings, 20,000 requests, spread
over the funding period since 2023, with broadcasts and waiting lists), then times the
figures /stats counts — for this month and for the whole funding period — next to a plain
``SELECT count(*)`` over the same bookings, and the chart on its own. The generator writes
rows with the sqlite3 module directly (bulk inserts, not the bot's code paths); the timed
part is exactly what the command runs: ``storage.stats.Stats.collect`` and
``bot.figures.build_figures``.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.figures import build_figures, day_span, parse_period, render_chart
from bot.i18n import I18n
from handlers.stats import chart_labels
from storage import Storage

BERLIN = ZoneInfo("Europe/Berlin")
FUNDING_START = date(2023, 1, 1)
LANGUAGES = (
    ["de"] * 6
    + ["ar"] * 3
    + ["uk"] * 3
    + ["tr"] * 2
    + ["ru", "pl", "bg", "ro", "fa", "ku", "en", "de_easy"]
)
OFFERS = [
    "job-counselling",
    "single-parents",
    "newcomers",
    "language-health",
    "business-support",
    "creative-lab",
]
PLACES = [
    "fabrik-heeder",
    "familienzentrum-diessem",
    "familienzentrum-lehmheide",
    "quartiersbuero-lehmheide",
]
STATUSES = (
    ["attended"] * 6
    + ["no_show"] * 2
    + ["cancelled"] * 2
    + ["confirmed", "requested", "declined", "expired"]
)


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


async def generate(path: Path, *, residents: int, bookings: int, seed: int = 7) -> None:
    """A fresh database with the bot's schema, filled with plausible history."""
    storage = Storage(path)
    await storage.open()  # applies every migration
    await storage.close()
    rng = random.Random(seed)
    start = datetime(2023, 1, 2, 8, tzinfo=UTC)
    end = datetime(2026, 11, 25, 9, tzinfo=UTC)
    span = (end - start).total_seconds()
    conn = sqlite3.connect(path)
    with conn:
        people = []
        for uid in range(1, residents + 1):
            created = start + timedelta(seconds=rng.random() * span)
            seen = created + timedelta(seconds=rng.random() * (end - created).total_seconds())
            people.append((uid, rng.choice(LANGUAGES), _ts(created), _ts(created), _ts(seen)))
        conn.executemany(
            "INSERT INTO residents (user_id, language, consent_at, created_at, last_seen)"
            " VALUES (?, ?, ?, ?, ?)",
            people,
        )
        requests = []
        for _ in range(residents * 2):
            uid = rng.randint(1, residents)
            opened = start + timedelta(seconds=rng.random() * span)
            answer = opened + timedelta(minutes=rng.expovariate(1 / 300))
            answered = _ts(answer) if rng.random() < 0.95 else None
            state = "closed" if answered else "open"
            requests.append((uid, state, _ts(opened), _ts(opened), answered, answered))
        conn.executemany(
            "INSERT INTO requests (user_id, state, opened_at, last_message, answered_at,"
            " first_answered_at) VALUES (?, ?, ?, ?, ?, ?)",
            requests,
        )
        rows = []
        step = span / bookings
        for i in range(bookings):
            starts = start + timedelta(seconds=int(i * step))
            status = rng.choice(STATUSES)
            created = starts - timedelta(days=rng.randint(1, 20))
            rows.append(
                (
                    rng.randint(1, residents),
                    rng.choice(OFFERS),
                    rng.choice(PLACES),
                    _ts(starts),
                    _ts(starts + timedelta(minutes=30)),
                    status,
                    _ts(created) if status == "expired" else None,
                    rng.choice(["resident", "staff", "moved"]) if status == "cancelled" else None,
                    _ts(created),
                    _ts(created),
                )
            )
        conn.executemany(
            "INSERT INTO bookings (user_id, offer_id, place_id, starts_at, ends_at, seat, status,"
            " hold_until, cancelled_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            rows,
        )
        for b in range(1, 41):
            sent = start + timedelta(seconds=b * span / 41)
            conn.execute(
                "INSERT INTO broadcasts (id, topic, texts, created_by, created_at, send_at, status,"
                " started_at, finished_at, lang, report_chat) VALUES"
                " (?, 'general', '{}', 1, ?, ?, 'done', ?, ?, 'de', 1)",
                (b, _ts(sent), _ts(sent), _ts(sent), _ts(sent)),
            )
            conn.executemany(
                "INSERT INTO outbox (broadcast_id, user_id, status) VALUES (?, ?, ?)",
                [
                    (b, uid, rng.choice(["sent"] * 30 + ["blocked", "left"]))
                    for uid in rng.sample(range(1, residents + 1), min(residents, 500))
                ],
            )
        conn.executemany(
            "INSERT OR IGNORE INTO booking_waitlist (user_id, offer_id, status, created_at)"
            " VALUES (?, ?, 'waiting', ?)",
            [
                (rng.randint(1, residents), rng.choice(OFFERS), _ts(end))
                for _ in range(max(1, residents // 100))
            ],
        )
    conn.execute("ANALYZE")
    conn.close()


@dataclass(frozen=True)
class Timing:
    bookings: int
    count_seconds: float
    stats_seconds: float
    """/stats all (the funding period), the heaviest period."""
    month_seconds: float
    chart_seconds: float


async def time_stats(path: Path, *, today: date, rounds: int = 5) -> Timing:
    storage = Storage(path)
    await storage.open()
    try:
        now = datetime.combine(today, datetime.min.time(), BERLIN).replace(hour=12)

        async def figures(arg: str) -> float:
            period = parse_period(arg, today, FUNDING_START)
            buckets = [day_span(b.first, b.last, BERLIN) for b in period.buckets()]
            began = time.perf_counter()
            raw = await storage.stats.collect(period.span(BERLIN), buckets, now)
            build_figures(raw, period, 3)
            return time.perf_counter() - began

        async def count() -> float:
            began = time.perf_counter()
            await storage.db.fetchone("SELECT count(*) FROM bookings")
            return time.perf_counter() - began

        row = await storage.db.fetchone("SELECT count(*) FROM bookings")
        total = int(row[0]) if row else 0
        count_s = statistics.median([await count() for _ in range(rounds)])
        all_s = statistics.median([await figures("all") for _ in range(rounds)])
        month_s = statistics.median([await figures("month") for _ in range(rounds)])
        period = parse_period("all", today, FUNDING_START)
        buckets = [day_span(b.first, b.last, BERLIN) for b in period.buckets()]
        raw = await storage.stats.collect(period.span(BERLIN), buckets, now)
        built = build_figures(raw, period, 3)
        labels = chart_labels(I18n(BERLIN).get("de"), built)
        render_chart(built, labels)  # the first one loads matplotlib and its fonts
        began = time.perf_counter()
        render_chart(built, labels)
        chart_s = time.perf_counter() - began
    finally:
        await storage.close()
    return Timing(total, count_s, all_s, month_s, chart_s)


async def main() -> None:
    residents = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    bookings = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stats.sqlite3"
        began = time.perf_counter()
        await generate(path, residents=residents, bookings=bookings)
        print(
            f"generated {residents:,} residents, {bookings:,} bookings,"
            f" {residents * 2:,} requests in {time.perf_counter() - began:.1f} s"
        )
        t = await time_stats(path, today=date(2026, 11, 25))
    print(f"SELECT count(*) over {t.bookings:,} bookings: {t.count_seconds * 1000:8.1f} ms")
    print(
        f"/stats all (funding period):        {t.stats_seconds * 1000:8.1f} ms"
        f"  ({t.stats_seconds / max(t.count_seconds, 1e-9):.0f}× the count)"
    )
    print(f"/stats month:                        {t.month_seconds * 1000:8.1f} ms")
    print(f"chart (PNG, worker thread, warm):   {t.chart_seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
