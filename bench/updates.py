"""Throughput of the full bot against a bare python-telegram-bot echo bot, same sandbox, one run.

    .venv/bin/python bench/updates.py [N]

Residents (already consented) send N text messages; we measure from the first message until
the N-th reply arrived. The echo bot is the baseline, once bare and once paced by the same
``AIORateLimiter`` as ours (Telegram allows about 30 messages a second, so the paced one is
the ceiling any real bot reaches): the ratios tell what our handlers, database and
translations cost on top of PTB and HTTP.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app import build_application, shutdown, startup
from bot.clock import SystemClock
from bot.config import Config
from sandbox.server import Sandbox

TOKEN = "5555:BENCH"
USERS = 20


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text)


async def drive(sandbox: Sandbox, app: Application, users: list[dict], n: int) -> float:  # type: ignore[type-arg]
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    before = len(sandbox.calls("sendMessage"))
    started = time.perf_counter()
    for i in range(n):
        sandbox.send_text(users[i % len(users)], f"Nachricht {i}")
    await sandbox.wait_for(lambda: len(sandbox.calls("sendMessage")) - before >= n, timeout=600)
    elapsed = time.perf_counter() - started
    await app.updater.stop()
    await app.stop()
    return elapsed


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Sandbox(TOKEN, clock=SystemClock(), strict=True) as sandbox:
            users = [sandbox.add_user(f"R{i}", language_code="de") for i in range(USERS)]

            baseline = ApplicationBuilder().token(TOKEN).base_url(f"{sandbox.url}/bot").build()
            baseline.add_handler(MessageHandler(filters.TEXT, echo))
            async with baseline:
                echo_time = await drive(sandbox, baseline, users, n)

            # Same echo bot, paced like ours (Telegram allows ~30 messages/s overall).
            paced = (
                ApplicationBuilder()
                .token(TOKEN)
                .base_url(f"{sandbox.url}/bot")
                .rate_limiter(AIORateLimiter(max_retries=3))
                .build()
            )
            paced.add_handler(MessageHandler(filters.TEXT, echo))
            async with paced:
                paced_time = await drive(sandbox, paced, users, n)

            config = Config(
                token=TOKEN,
                api_url=sandbox.url,
                db_path=Path(tmp) / "bench.sqlite3",
                tz=ZoneInfo("Europe/Berlin"),
            )
            app = build_application(config)
            async with app:
                await startup(app)
                storage = app.bot_data["services"].storage
                clock = app.bot_data["services"].clock
                for user in users:
                    await storage.residents.give_consent(
                        user["id"], "de", user["first_name"], clock.now()
                    )
                full_time = await drive(sandbox, app, users, n)
                await shutdown(app)
            assert not sandbox.violations, sandbox.violations

    print(f"updates: {n} from {USERS} residents")
    print(f"echo bot (baseline): {n / echo_time:8.1f} updates/s  ({echo_time:.2f} s)")
    print(f"echo bot, paced:     {n / paced_time:8.1f} updates/s  ({paced_time:.2f} s)")
    print(f"Quartierbot:         {n / full_time:8.1f} updates/s  ({full_time:.2f} s)")
    print(f"ratio Quartierbot / bare echo:  {echo_time / full_time:.2f}")
    print(f"ratio Quartierbot / paced echo: {paced_time / full_time:.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
