"""End-to-end harness: the real Application talks over HTTP to the local sandbox.

Every test gets a fresh sandbox (which checks each call against the official Bot API
schema), a fresh database and a clock that only moves when the test moves it. The bot's
error handler records every exception; a test fails if any was recorded or if the bot made
a single call that breaks the schema.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.app import App, build_application, shutdown, startup
from bot.clock import FakeClock
from bot.config import Config
from bot.context import BotContext
from bot.i18n import I18n
from sandbox.server import Sandbox

BERLIN = ZoneInfo("Europe/Berlin")
TOKEN = "4242:TEST-token"
STAFF_CHAT = -1001234567890
ADMIN_ID = 7000001
# Wednesday 25 November 2026, 10:00 in Krefeld.
START = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)

JSON = dict[str, Any]


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Harness:
    """The bot as residents and staff meet it, plus ways to restart it and move time."""

    def __init__(self, sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n) -> None:
        self.sandbox = sandbox
        self.config = config
        self.clock = clock
        self.i18n = i18n
        self.errors: list[BaseException] = []
        self.expected: tuple[type[BaseException], ...] = ()
        self.last_processed = 0
        self.app: App | None = None
        self.staff_chat = config.staff_chat

    async def start(self) -> None:
        app = build_application(self.config, clock=self.clock, i18n=self.i18n)

        async def record(update: object, context: BotContext) -> None:
            assert context.error is not None
            if not isinstance(context.error, self.expected):
                self.errors.append(context.error)

        def processed(update: object) -> None:
            if isinstance(update, Update):
                self.last_processed = max(self.last_processed, update.update_id)

        app.add_error_handler(record)
        # Marked when PTB has run every handler group for the update, also when a handler
        # stopped the others (ApplicationHandlerStop).
        app._update_processor = Marking(app.update_processor, processed)  # test only
        await app.initialize()
        await startup(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES
        )
        self.app = app

    async def stop(self) -> None:
        app = self.app
        if app is None:
            return
        self.app = None
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        await shutdown(app)
        await app.shutdown()

    async def idle(self) -> None:
        """Wait until the bot has fully handled every update people have made so far."""
        last = self.sandbox.world.next_update_id - 1
        await self.sandbox.wait_for(
            lambda: self.last_processed >= last, message=f"update {last} handled"
        )
        await self.sandbox.settle()

    def expect(self, *errors: type[BaseException]) -> None:
        """A test that provokes an error from Telegram declares it; anything else fails."""
        self.expected = errors

    async def restart(self) -> None:
        await self.sandbox.settle()
        await self.stop()
        await self.start()

    @property
    def storage(self) -> Any:
        assert self.app is not None
        return self.app.bot_data["services"].storage

    # -- residents -------------------------------------------------------------------------
    def user(self, first_name: str = "Aylin", language_code: str | None = "de") -> JSON:
        return self.sandbox.add_user(first_name, language_code=language_code)  # type: ignore[arg-type]

    async def send(self, user: JSON, text: str, count: int = 1) -> list[JSON]:
        """A resident writes in the private chat; returns the bot's new messages."""
        self.sandbox.send_text(user, text)
        await self.idle()
        return await self.sandbox.wait_bot_messages(user["id"], count)

    async def tap(
        self, user: JSON, message: JSON, *, data: str | None = None, text: str | None = None
    ) -> JSON:
        """Tap a button; returns the message as it is afterwards (edited in place)."""
        self.sandbox.tap(user, message, data=data, text=text)
        await self.idle()
        return self.current(user["id"], message["message_id"])

    def current(self, chat_id: int, message_id: int) -> JSON:
        for m in self.sandbox.messages(chat_id):
            if m["message_id"] == message_id:
                return m
        raise AssertionError(f"message {message_id} is gone from chat {chat_id}")

    def last(self, chat_id: int) -> JSON:
        message = self.sandbox.last_bot_message(chat_id)
        assert message is not None, f"the bot sent nothing to {chat_id}"
        return message

    async def onboard(
        self, name: str = "Aylin", language_code: str | None = "de", language: str | None = None
    ) -> JSON:
        """A resident who has said /start, agreed and chosen a language."""
        user = self.user(name, language_code)
        [welcome] = await self.send(user, "/start")
        after = await self.tap(user, welcome, data="1:consent:yes")
        await self.tap(user, after, data=f"1:lang:{language or language_code or 'de'}")
        return user


class Marking(BaseUpdateProcessor):
    """The bot's own update processor, telling the harness when an update is done."""

    def __init__(self, inner: BaseUpdateProcessor, done: Callable[[object], None]) -> None:
        super().__init__(inner.max_concurrent_updates)
        self.inner = inner
        self.done = done

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await self.inner.do_process_update(update, coroutine)
        finally:
            self.done(update)

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()


def buttons(message: JSON) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def button_texts(message: JSON) -> list[str]:
    return [b["text"] for b in buttons(message)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return I18n(BERLIN)


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[Sandbox]:
    async with Sandbox(TOKEN, clock=clock, strict=True) as box:
        group = box.add_group("Kom.ZFB Team", is_forum=True, chat_id=STAFF_CHAT)
        assert group["id"] == STAFF_CHAT
        yield box
        assert not box.violations, "the bot broke the Bot API schema:\n" + "\n".join(box.violations)


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox) -> Config:
    return Config(
        token=TOKEN,
        api_url=sandbox.url,
        db_path=tmp_path / "bot.sqlite3",
        staff_chat=STAFF_CHAT,
        admins=frozenset({ADMIN_ID}),
        tz=BERLIN,
    )


@pytest.fixture
async def bot(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    harness = Harness(sandbox, config, clock, i18n)
    await harness.start()
    try:
        yield harness
        await sandbox.settle()
    finally:
        await harness.stop()
        logging.getLogger().removeHandler(errors)
    assert not harness.errors, f"the bot raised: {harness.errors!r}"
    assert not errors.records, "errors were logged:\n" + "\n".join(
        r.getMessage() for r in errors.records
    )


def with_config(config: Config, **changes: Any) -> Config:
    return replace(config, **changes)
