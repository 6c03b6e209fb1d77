"""200 residents race for 20 seats through the sandbox: does every seat go exactly once, and
how long does a resident wait for each reply?

    .venv/bin/python bench/booking.py [RESIDENTS] [SEATS]

Every resident (already consented) walks the whole flow as a real client would: /book, the
offer, the day, the time, skip the note, confirm — each step only after the bot has
answered the previous one. The offer has one slot with SEATS seats, so nearly everyone
arrives at the summary before the seats are gone and most confirmations lose the race.
Latency is measured per step, from the resident's action to the bot's message or edit in
their chat, and printed as p50/p95/p99. The bot runs as in production (updates handled one
after another, requests paced by the rate limiter, ~30/s like Telegram); the staff group is
left out so the numbers are about residents' replies.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build_application, shutdown, startup
from bot.clock import FakeClock
from bot.config import Config
from sandbox.server import Sandbox

TOKEN = "5555:BENCH"
BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)
SENDING = {"sendMessage", "editMessageText", "sendDocument"}

DIRECTORY = """
version: 1
topics:
  - id: work
    title: {{de: Arbeit, en: Work}}
places:
  - id: heeder
    name: {{de: Fabrik Heeder}}
    address: {{street: Virchowstraße 128C, postcode: "47805", city: Krefeld}}
offers:
  - id: consult
    topic: work
    title: {{de: Beratung, en: Consultation}}
    sessions:
      - place: heeder
        dates:
          - {{date: 2026-11-27, start: "10:00", end: "11:00"}}
    booking:
      slot_minutes: 60
      seats: {seats}
      min_notice: 1
      max_ahead: 28
      max_per_resident: 1
      confirm: instant
"""

JSON = dict[str, Any]


class Replies:
    """Bot messages and edits per chat, counted incrementally from the sandbox's call log."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.seen = 0
        self.count: dict[int, int] = {}

    def of(self, chat_id: int) -> int:
        log = self.sandbox.world.call_log
        for call in log[self.seen :]:
            if call.ok and call.method in SENDING and isinstance(call.chat_id, int):
                self.count[call.chat_id] = self.count.get(call.chat_id, 0) + 1
        self.seen = len(log)
        return self.count.get(chat_id, 0)


def data_of(message: JSON, prefix: str) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [
        b["callback_data"]
        for row in rows
        for b in row
        if b.get("callback_data", "").startswith(prefix)
    ]


async def resident(sandbox: Sandbox, replies: Replies, user: JSON, latencies: list[float]) -> str:
    """Walk the flow; returns how it ended ("booked", "taken", "no-days")."""
    chat = user["id"]

    async def act(action: Any) -> JSON:
        before = replies.of(chat)
        started = time.perf_counter()
        action()
        await sandbox.wait_for(lambda: replies.of(chat) > before, timeout=600)
        latencies.append(time.perf_counter() - started)
        message = sandbox.last_bot_message(chat)
        assert message is not None
        return message

    message = await act(lambda: sandbox.send_text(user, "/book"))
    message = await act(lambda: sandbox.tap(user, message, data="1:bko:consult"))
    days = data_of(message, "1:bkd:")
    if not days:
        return "no-days"
    message = await act(lambda: sandbox.tap(user, message, data=days[0]))
    times = data_of(message, "1:bkt:")
    if not times:
        return "no-days"
    message = await act(lambda: sandbox.tap(user, message, data=times[0]))
    message = await act(lambda: sandbox.tap(user, message, data=data_of(message, "1:bkn:")[0]))
    message = await act(lambda: sandbox.tap(user, message, data=data_of(message, "1:bkok:")[0]))
    return "booked" if message.get("document") or "✅" in message.get("text", "") else "taken"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


async def main(residents: int, seats: int) -> None:
    clock = FakeClock(START, ticking=True)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "directory.yaml"
        directory.write_text(DIRECTORY.format(seats=seats), encoding="utf-8")
        async with Sandbox(TOKEN, clock=clock, strict=True) as sandbox:
            users = [sandbox.add_user(f"R{i}", language_code="en") for i in range(residents)]
            config = Config(
                token=TOKEN,
                api_url=sandbox.url,
                db_path=Path(tmp) / "bench.sqlite3",
                tz=BERLIN,
                directory=directory,
            )
            app = build_application(config, clock=clock)
            async with app:
                await startup(app)
                storage = app.bot_data["services"].storage
                for user in users:
                    await storage.residents.give_consent(
                        user["id"], "en", user["first_name"], clock.now()
                    )
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(poll_interval=0, timeout=1)
                replies = Replies(sandbox)
                latencies: list[float] = []
                started = time.perf_counter()
                outcomes = await asyncio.gather(
                    *(resident(sandbox, replies, u, latencies) for u in users)
                )
                elapsed = time.perf_counter() - started
                await sandbox.settle()
                day = datetime(2026, 11, 27, tzinfo=BERLIN)
                booked = await storage.bookings.between(day, day.replace(day=28))
                await app.updater.stop()
                await app.stop()
                await shutdown(app)
            assert not sandbox.violations, sandbox.violations
            answered_429 = sandbox.stats.get("429", 0)

    print(
        f"residents: {residents}, seats: {seats}, time: {elapsed:.1f} s, replies: {len(latencies)}"
    )
    print(f"bookings made: {len(booked)} (distinct residents: {len({b.user_id for b in booked})})")
    print(
        "outcomes: " + ", ".join(f"{k} {outcomes.count(k)}" for k in ("booked", "taken", "no-days"))
    )
    print(
        f"reply latency: p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms, "
        f"mean {statistics.mean(latencies) * 1000:.0f} ms"
    )
    print(
        f"throughput: {len(latencies) / elapsed:.1f} replies/s (Telegram allows about 30 requests/s)"
    )
    print(f"429 answers from the sandbox: {answered_429}")
    if len(booked) != seats:
        raise SystemExit(f"FAILED: {len(booked)} bookings for {seats} seats")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(args[0] if args else 200, args[1] if len(args) > 1 else 20))
