"""CPU seconds per handled update: the full bot against a bare python-telegram-bot echo bot.

    .venv/bin/python bench/updates.py [N]      # N updates per workload, default 200

Each bot runs in a process of its own, started as an operator would (``python -m bot`` with
``QUARTIERBOT_*`` variables; the echo bot is PTB's plain ``MessageHandler`` that answers every
text), against the project's sandbox in this process. Residents send ``/help``, ``/hours``,
``/today`` and a question at 20 updates a second, below Telegram's 30 per second, so nothing
waits in a rate limiter: a throughput figure would only measure the limiter. What is measured
is the bot process's own CPU time (user + system, from /proc) from the first update of a
workload until the bot has answered all of them and been quiet, divided by N. The echo bot is
the baseline in the same run; ``echo ÷ bot`` near 1 means our handlers, database and
translations cost little on top of PTB and HTTP.

The question workload's copies into the staff group go through the paced staff outbox (at
most 30 a minute, ``QUARTIERBOT_STAFF_PER_MINUTE``): the CPU of the copies still waiting when
the workload ends is not counted, the CPU of writing them down is.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import SystemClock  # noqa: E402
from sandbox.server import Sandbox  # noqa: E402

TOKEN = "5555:BENCH"
STAFF_CHAT = -1009999999999
USERS = 20
RATE = 20.0
"""Updates per second fed to each bot: below Telegram's ~30/s, so no limiter is involved."""
WORKLOADS = ("/help", "/hours", "/today", "question")

ECHO_BOT = """
import sys
from telegram import Update
from telegram.ext import ApplicationBuilder, MessageHandler, filters

async def echo(update: Update, context) -> None:
    await update.effective_message.reply_text(update.effective_message.text)

app = ApplicationBuilder().token(sys.argv[2]).base_url(sys.argv[1] + "/bot").build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def text_of(workload: str, i: int) -> str:
    if workload == "question":
        return f"Ich habe eine Frage zu meinem Brief Nummer {i}, können Sie mir helfen?"
    return workload


async def feed(sandbox: Sandbox, users: list[dict[str, Any]], workload: str, n: int) -> None:
    started = time.monotonic()
    for i in range(n):
        delay = started + i / RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sandbox.send_text(users[i % len(users)], text_of(workload, i))
    await sandbox.settle(quiet=0.5, timeout=300)


async def measure(
    sandbox: Sandbox, proc: subprocess.Popen[bytes], users: list[dict[str, Any]], n: int
) -> dict[str, float]:
    results: dict[str, float] = {}
    for workload in WORKLOADS:
        before_calls = len(sandbox.calls())
        before = cpu_seconds(proc.pid)
        await feed(sandbox, users, workload, n)
        results[workload] = (cpu_seconds(proc.pid) - before) / n
        calls = len(sandbox.calls()) - before_calls
        print(f"  {workload:9} {results[workload] * 1000:7.2f} ms CPU/update  ({calls} API calls)")
    return results


async def wait_polling(sandbox: Sandbox, proc: subprocess.Popen[bytes]) -> None:
    await sandbox.wait_for(
        lambda: proc.poll() is not None or sandbox.calls("getUpdates"), timeout=60
    )
    if proc.poll() is not None:
        raise RuntimeError(f"the bot exited with {proc.returncode}")


def spawn(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """Popen returns at once; the bot runs beside this event loop."""
    return subprocess.Popen(args, cwd=ROOT, **kwargs)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


async def main(n: int) -> None:
    python = sys.executable
    async with Sandbox(TOKEN, clock=SystemClock(), strict=True) as sandbox:
        staff = sandbox.add_user("Petra", language_code="de")
        sandbox.add_group("Kom.ZFB Team", is_forum=True, chat_id=STAFF_CHAT, admins=[staff])
        users = [sandbox.add_user(f"R{i}", language_code="de") for i in range(USERS)]

        print(f"CPU per handled update, {n} updates per workload at {RATE:.0f}/s")
        print("echo bot (bare PTB, baseline):")
        echo = spawn([python, "-c", ECHO_BOT, sandbox.url, TOKEN], stderr=subprocess.DEVNULL)
        try:
            await wait_polling(sandbox, echo)
            baseline = await measure(sandbox, echo, users, n)
        finally:
            stop(echo)

        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "QUARTIERBOT_TOKEN": TOKEN,
                "QUARTIERBOT_API_URL": sandbox.url,
                "QUARTIERBOT_DB": str(Path(tmp) / "bench.sqlite3"),
                "QUARTIERBOT_STAFF_CHAT": str(STAFF_CHAT),
                "QUARTIERBOT_STAFF_PER_MINUTE": "30",
            }
            # BENCH_PROFILE=out.prof runs the bot under cProfile, to see where its time goes.
            profile = (
                ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]]
                if "BENCH_PROFILE" in os.environ
                else []
            )
            full = spawn([python, *profile, "-m", "bot"], env=env, stdout=subprocess.DEVNULL)
            try:
                await wait_polling(sandbox, full)
                # Residents say /start, agree and choose German, as people do.
                for user in users:
                    sandbox.send_text(user, "/start")
                    [welcome] = await sandbox.wait_bot_messages(user["id"], timeout=30)
                    sandbox.tap(user, welcome, data="1:consent:yes")
                    await sandbox.settle(quiet=0.2, timeout=30)
                    sandbox.tap(user, sandbox.last_bot_message(user["id"]) or {}, data="1:lang:de")
                    await sandbox.settle(quiet=0.2, timeout=30)
                print("Quartierbot (python -m bot):")
                ours = await measure(sandbox, full, users, n)
            finally:
                stop(full)
        assert not sandbox.violations, sandbox.violations

    print("ratio echo ÷ bot (CPU per update; 1.00 = no cost over a bare PTB bot):")
    for workload in WORKLOADS:
        print(f"  {workload:9} {baseline[workload] / ours[workload]:.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
