"""Issue 15's figures at full scale, in real time (tests/test_storm.py runs them scaled).

    .venv/bin/python bench/storm.py [STORM_SECONDS] [RETRY_AFTER]

1. A 429 storm of STORM_SECONDS (default 60; every send answered 429 with retry_after
   RETRY_AFTER, default 10): six residents ask a question during it. Prints how many
   receipts arrived after it, how long after its end, whether in order and without
   duplicates, and how many sends the sandbox refused meanwhile.
2. 300 replies queued during a 2-second pause, through PTB's stock ``AIORateLimiter`` and
   through ``SharedRateLimiter``: the peak of sends in any second after the pause.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import AIORateLimiter, BaseRateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.app import build_application, shutdown, startup
from bot.clock import SystemClock
from bot.config import Config
from bot.delivery.pacing import SharedRateLimiter
from sandbox.server import Sandbox

TOKEN = "5556:BENCH"
STAFF = -1009999
JSON = dict[str, Any]


async def onboard(sandbox: Sandbox, name: str) -> JSON:
    user = sandbox.add_user(name, language_code="en")
    for data in (None, "1:consent:yes", "1:lang:en"):
        if data is None:
            sandbox.send_text(user, "/start")
        else:
            message = sandbox.last_bot_message(user["id"])
            assert message is not None
            sandbox.tap(user, message, data=data)
        before = len(sandbox.calls())
        await sandbox.wait_for(lambda b=before: len(sandbox.calls()) > b, timeout=30)
        await sandbox.settle(quiet=0.2, timeout=30)
    return user


def receipts(sandbox: Sandbox, user: JSON) -> list[Any]:
    return [
        c
        for c in sandbox.calls("sendMessage", chat_id=user["id"])
        if c.ok and str(c.params.get("text", "")).startswith("✅")
    ]


async def storm(seconds: float, retry_after: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Sandbox(TOKEN, clock=SystemClock(), strict=True) as sandbox:
            sandbox.add_group("Team", is_forum=True, chat_id=STAFF)
            config = Config(
                token=TOKEN,
                api_url=sandbox.url,
                db_path=Path(tmp) / "bot.sqlite3",
                staff_chat=STAFF,
                tz=ZoneInfo("Europe/Berlin"),
            )
            app = build_application(config)
            await app.initialize()
            await startup(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(
                poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES
            )
            try:
                residents = [await onboard(sandbox, f"R{i}") for i in range(6)]
                the_storm = sandbox.storm(seconds, retry_after=retry_after)
                for user in residents:
                    sandbox.send_text(user, f"A question from {user['first_name']}")
                    await asyncio.sleep(seconds / 12)
                await sandbox.wait_for(
                    lambda: all(receipts(sandbox, u) for u in residents),
                    timeout=seconds + 4 * retry_after + 30,
                )
                await asyncio.sleep(2)
                got = [receipts(sandbox, u) for u in residents]
                arrivals = [g[0].monotonic for g in got]
                print(
                    f"storm {seconds:.0f} s, retry_after {retry_after}: {the_storm.refused} sends "
                    f"refused during it; receipts after it {sum(map(len, got))} of 6 "
                    f"(one each: {all(len(g) == 1 for g in got)}), in order: "
                    f"{arrivals == sorted(arrivals)}, all after the storm: "
                    f"{min(arrivals) >= the_storm.end}, last {max(arrivals) - the_storm.end:.1f} s "
                    "after its end"
                )
            finally:
                await app.updater.stop()
                await app.stop()
                await shutdown(app)
                await app.shutdown()


async def pause(limiter: BaseRateLimiter[Any], label: str, n: int = 300) -> None:
    async with Sandbox(TOKEN, strict=True) as sandbox:
        bot = ExtBot(
            TOKEN,
            base_url=sandbox.base_url,
            rate_limiter=limiter,
            request=HTTPXRequest(connection_pool_size=256),
        )
        users = [sandbox.add_user(f"U{i}") for i in range(n)]
        sandbox.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
        start = time.monotonic()
        async with bot:
            results = await asyncio.gather(
                *(bot.send_message(u["id"], "hello") for u in users), return_exceptions=True
            )
        refused = [c for c in sandbox.sends(start) if c.error_code == 429]
        after = refused[0].monotonic + 2 if refused else start
        delivered = Counter(c.chat_id for c in sandbox.sends(start) if c.ok)
        lost = sum(1 for r in results if isinstance(r, BaseException))
        print(
            f"{label}: {n} replies around a 2 s pause: peak {sandbox.peak_rate(after)} sends in "
            f"any second after it (whole run {sandbox.peak_rate(start)}); delivered "
            f"{len(delivered)}, lost {lost}, {time.monotonic() - start:.1f} s"
        )


async def main(seconds: float, retry_after: int) -> None:
    await pause(AIORateLimiter(group_max_rate=0, max_retries=3), "stock AIORateLimiter")
    await pause(SharedRateLimiter(group_max_rate=0, max_retries=3), "SharedRateLimiter   ")
    await storm(seconds, retry_after)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    asyncio.run(
        main(float(arguments[0]) if arguments else 60.0, int(arguments[1]) if arguments[1:] else 10)
    )
