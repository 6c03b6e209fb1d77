"""What does the translation client add on top of the server's own answer time?

    .venv/bin/python bench/translate.py [REQUESTS]

Against the project's LibreTranslate-compatible test server answering at once (so the
figures are the client's and the HTTP round trip's, not a model's), times REQUESTS
translations each way: a bare aiohttp POST to ``/translate`` (the baseline), the same
through ``bot.engines.translate.LibreTranslate`` with a new text every time (cache misses:
semaphore, JSON, outcome), and through the client again for texts it has just translated
(cache hits), then 50 concurrent translations through the client's bound of 4.

Then, through the whole bot and the Bot API sandbox (bench/through_sandbox.py), the added
delay of a translated staff answer: a counsellor writes in an Arabic resident's topic, and
the time until the resident has the message is measured for free text (translated, a new
text every time, so no cache hit) against the same text marked ``=`` (sent verbatim, no
engine call), alternating, ``ANSWERS`` of each.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.through_sandbox import running_bot
from bot.clock import FakeClock
from bot.engines.translate import LibreTranslate
from sandbox.libretranslate import FakeLibreTranslate
from tests.conftest import STAFF_CHAT
from tests.test_questions import topic_of

ANSWERS = 40


def summary(name: str, seconds: list[float], baseline: float | None = None) -> float:
    ms = sorted(s * 1000 for s in seconds)
    p50 = statistics.median(ms)
    p95 = ms[int(len(ms) * 0.95) - 1]
    ratio = f"  x{p50 / baseline:.2f} of the baseline" if baseline else ""
    print(f"{name:<34} p50 {p50:7.3f} ms  p95 {p95:7.3f} ms{ratio}")
    return p50


async def timed(n: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    seconds = []
    for i in range(n):
        started = time.perf_counter()
        await call(i)
        seconds.append(time.perf_counter() - started)
    return seconds


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    async with FakeLibreTranslate() as server:
        async with aiohttp.ClientSession() as session:

            async def bare(i: int) -> object:
                body = {"q": f"Frage {i} zum Brief", "source": "de", "target": "ar"}
                async with session.post(f"{server.url}/translate", json=body) as resp:
                    return await resp.json()

            await timed(20, bare)
            base = summary("bare aiohttp POST /translate", await timed(n, bare))

        clock = FakeClock(datetime.now(UTC))
        async with LibreTranslate(server.url, clock=clock, cache_size=n) as client:
            assert await client.refresh_languages()

            async def miss(i: int) -> object:
                outcome = await client.translate(f"Eine Frage {i} zum Brief", "de", "ar")
                assert outcome.ok
                return outcome

            async def hit(i: int) -> object:
                outcome = await client.translate(f"Eine Frage {i} zum Brief", "de", "ar")
                assert outcome.ok and outcome.cached
                return outcome

            await timed(20, lambda i: client.translate(f"warm {i} up", "de", "en"))
            summary("client, new text (cache miss)", await timed(n, miss), base)
            summary("client, same text (cache hit)", await timed(n, hit), base)

            started = time.perf_counter()
            outcomes = await asyncio.gather(
                *(client.translate(f"Parallel {i} gefragt", "de", "tr") for i in range(50))
            )
            wall = time.perf_counter() - started
            assert all(outcome.ok for outcome in outcomes)
            print(
                f"50 at once through {client.max_concurrent} slots: {wall * 1000:.1f} ms wall,"
                f" at most {server.max_in_flight} at the server"
            )

    await through_the_bot()


async def through_the_bot() -> None:
    async with FakeLibreTranslate() as server, running_bot(translate_url=server.url) as bot:
        omar = await bot.onboard("Omar", "ar")
        await bot.send(omar, "مرحبا")
        thread = await topic_of(bot, omar)
        jana = bot.sandbox.add_user("Jana", language_code="de")
        times: dict[str, list[float]] = {"translated": [], "verbatim": []}
        for i in range(ANSWERS):
            for kind in ("translated", "verbatim"):
                text = f"Bitte bringen Sie den Brief Nummer {i} am Donnerstag mit."
                if kind == "verbatim":
                    text = "=" + text
                before = len(bot.sandbox.bot_messages(omar["id"]))
                started = time.perf_counter()
                bot.sandbox.send_text(jana, text, chat_id=STAFF_CHAT, thread_id=thread)
                await bot.sandbox.wait_for(
                    lambda before=before: len(bot.sandbox.bot_messages(omar["id"])) > before,
                    poll=0.0005,
                )
                times[kind].append(time.perf_counter() - started)
        print(f"\nthrough the bot and the sandbox, {ANSWERS} staff answers each:")
        base = summary("staff answer sent verbatim (=)", times["verbatim"])
        translated = summary("staff answer translated", times["translated"], base)
        print(f"added delay of a translated answer (p50): {translated - base:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
