"""The bot running against the Bot API sandbox, for benches that time a whole path (a
resident's message to the staff topic, a staff answer to the resident): the tests' own
harness (tests/conftest.py), without pytest."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from sandbox.server import Sandbox
from tests.conftest import BERLIN, STAFF_CHAT, START, TOKEN, Harness


@asynccontextmanager
async def running_bot(*, ticking: bool = False, **config: Any) -> AsyncIterator[Harness]:
    """A fresh sandbox with the staff group, and the bot started against it. ``ticking``:
    the clock runs with real time (the staff group's 20 posts a minute then pass as they
    would for an office)."""
    clock = FakeClock(START, ticking=ticking)
    with tempfile.TemporaryDirectory() as folder:
        async with Sandbox(TOKEN, clock=clock, strict=False) as sandbox:
            sandbox.add_group("Kom.ZFB Team", is_forum=True, chat_id=STAFF_CHAT)
            base = Config(
                token=TOKEN,
                api_url=sandbox.url,
                db_path=Path(folder) / "bench.sqlite3",
                staff_chat=STAFF_CHAT,
                tz=BERLIN,
            )
            harness = Harness(sandbox, replace(base, **config), clock, I18n(BERLIN))
            await harness.start()
            try:
                yield harness
            finally:
                await harness.stop()
