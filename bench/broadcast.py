"""A broadcast to N subscribers through the sandbox, limited like Telegram to 30 requests a
second overall (a faster bot gets 429s there, as it would from Telegram).

    .venv/bin/python bench/broadcast.py [N]

The coordinator goes through /broadcast in the sandbox and confirms; the clock runs from the
confirming tap until the final report arrived. Prints the wall time, the ideal N/30 s, their
ratio (goal ≤ 1.05), the number of 429s (goal 0), and checks that every subscriber got the
message exactly once.
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

from bot.app import build_application, shutdown, startup
from bot.clock import SystemClock
from bot.config import Config
from sandbox.server import Sandbox

TOKEN = "5555:BENCH"
ADMIN = 7000001
LIMIT = 30

JSON = dict[str, Any]


async def step(
    sandbox: Sandbox, admin: JSON, *, text: str | None = None, tap: str | None = None
) -> JSON:
    """One action of the coordinator; returns the newest bot message in their chat."""
    before = len(sandbox.calls())
    if text is not None:
        sandbox.send_text(admin, text)
    else:
        message = sandbox.last_bot_message(admin["id"])
        assert message is not None
        sandbox.tap(admin, message, data=tap)
    await sandbox.wait_for(lambda: len(sandbox.calls()) > before, timeout=30)
    await sandbox.settle(quiet=0.2, timeout=30)
    message = sandbox.last_bot_message(admin["id"])
    assert message is not None
    return message


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Sandbox(
            TOKEN, clock=SystemClock(), strict=True, max_per_second=LIMIT
        ) as sandbox:
            admin = sandbox.add_user("Kora", language_code="en", user_id=ADMIN)
            users = [sandbox.add_user(f"R{i}", language_code="de") for i in range(n)]
            config = Config(
                token=TOKEN,
                api_url=sandbox.url,
                db_path=Path(tmp) / "bench.sqlite3",
                admins=frozenset({ADMIN}),
                tz=ZoneInfo("Europe/Berlin"),
            )
            app = build_application(config)
            async with app:
                await startup(app)
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(
                    poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES
                )
                storage = app.bot_data["services"].storage
                now = app.bot_data["services"].clock.now()
                for user in users:  # residents who agreed and subscribed (not what we measure)
                    await storage.residents.give_consent(user["id"], "de", user["first_name"], now)
                    await storage.subscriptions.subscribe(user["id"], "general", now)

                await step(sandbox, admin, text="/broadcast")
                await step(sandbox, admin, tap="1:bct:general")
                await step(sandbox, admin, text="Jobmesse am Freitag in der Fabrik Heeder.")
                await step(sandbox, admin, tap="1:bcs:media")
                await step(sandbox, admin, tap="1:bcs:nomedia")
                summary = await step(sandbox, admin, tap="1:bcs:now")
                assert "Subscribers now" in summary["text"], summary
                await asyncio.sleep(1.1)  # let the coordinator's own requests leave the window
                errors_before = sandbox.stats["429"]

                started = time.perf_counter()
                sandbox.tap(admin, summary, data="1:bcok")

                def reported() -> bool:
                    return any(
                        m.get("text", "").startswith("🏁") for m in sandbox.bot_messages(ADMIN)
                    )

                await sandbox.wait_for(reported, timeout=n / 10 + 60, message="final report")
                wall = time.perf_counter() - started
                await sandbox.settle(quiet=0.5, timeout=30)
                throttled = sandbox.stats["429"] - errors_before

                await app.updater.stop()
                await app.stop()
                await shutdown(app)
            ids = {u["id"] for u in users}
            per_chat = Counter(
                c.params["chat_id"]
                for c in sandbox.calls("sendMessage")
                if c.ok and c.params.get("chat_id") in ids
            )
            assert not sandbox.violations, sandbox.violations

    ideal = n / LIMIT
    once = sum(1 for i in ids if per_chat.get(i) == 1)
    print(f"broadcast to {n} subscribers, sandbox limit {LIMIT} requests/s")
    print(f"wall time:  {wall:8.2f} s")
    print(f"ideal N/{LIMIT}: {ideal:8.2f} s")
    print(f"ratio:      {wall / ideal:8.3f}  (goal <= 1.05)")
    print(f"429s:       {throttled:8d}  (goal 0)")
    print(f"exactly once: {once} of {n}")
    if once != n:
        raise SystemExit("some subscribers did not get the broadcast exactly once")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
