"""End-to-end harness: the real Application talks over HTTP to the local sandbox.

Every test gets a fresh sandbox (which checks each call against the official Bot API
schema), a fresh database and a clock that only moves when the test moves it. The bot's
error handler records every exception; a test fails if any was recorded or if the bot made
a single call that breaks the schema.

Tests never wait for silence. ``Harness.idle()`` asks the bot whether it is done: every
update handled, no Bot API call in flight, no job due or running, the outboxes waiting to be
woken. So "nothing more happened" is checked against the bot's own state, right away, and a
test that waits for one particular message waits for it with ``sandbox.wait_for``.
Only immutable things are shared between tests (translations, the parsed directory, the
Bot API schema); every test builds and starts its own bot.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import certifi
import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from telegram import Update
from telegram.ext import BaseUpdateProcessor, JobQueue

import bot.app as app_factory
from bot.app import build_application, shutdown, startup
from bot.capability import App
from bot.clock import FakeClock
from bot.config import Config
from bot.context import BotContext, Services, services_of
from bot.delivery.pacing import SharedRateLimiter
from bot.directory import DEFAULT_PATH as DEFAULT_DIRECTORY, Directory, load_directory
from bot.i18n import N_, I18n, first_strong
from sandbox.server import WAIT_LIMIT, Sandbox, Storm
from storage import Storage
from tests.rtl import lines_not_rtl

RTL_LANGUAGES = frozenset({"ar", "fa"})
GERMAN_READERS = frozenset({"de", "de_easy"})
GERMAN_MARKERS = re.compile(
    r"(?<!\w)(Termine|Sprechzeiten?|Uhr|geschlossen|Betriebsausflug|Krankheit|Feiertag|"
    r"Wasserschaden|Teamtag|Bitte|bitte|nicht|Ihr|Ihren?|Ihnen|Sie|und|[Ll]eider|für|Büro|"
    r"Hinweis|ist|sind|Wir|haben|können|mit|auf|zum|zur|der|den|des|ein|eine|einen|heute|"
    r"Woche|geöffnet|Anfrage|Frage|Antwort|Beratung|Warteliste|abgesagt|bestätigt|Nachricht|"
    r"Datum)(?!\w)"
)
"""German words that no other language's catalog uses (tests/test_harness.py checks that):
one of them in a non-German resident's chat is German that slipped through."""
GERMAN_NAMES = re.compile(r"Agentur für Arbeit")
"""Proper names of German institutions, given as they are (after a translation) so that
residents find them on letters and signs; not untranslated text."""
GERMAN_NOTE = N_("Note from the office (in German): {note}")
"""The one line that may carry staff's German words, announced as German."""
GERMAN_ONLY = (
    N_("Some of these texts are only available in German."),
    N_("This message is only available in German."),
)
"""A message with one of these notes shows directory or news text that exists only in
German, and says so."""
BERLIN = ZoneInfo("Europe/Berlin")
TOKEN = "4242:TEST-token"
STAFF_CHAT = -1001234567890
ADMIN_ID = 7000001
# Wednesday 25 November 2026, 10:00 in Krefeld.
START = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)

JSON = dict[str, Any]
T = TypeVar("T")


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
        self.chosen: dict[int, str] = {}
        """Language each onboarded resident chose, by user id."""
        self.chosen_after: dict[int, int] = {}
        """The last message an onboarded resident got before choosing their language."""
        self.expected: tuple[type[BaseException], ...] = ()
        # Updates that nobody fetched yet are this bot's to handle; older ones are not.
        pending = [u["update_id"] for u in sandbox.world.updates]
        self.handled_up_to = min(pending, default=sandbox.world.next_update_id) - 1
        """Every update up to this id has been handled (updates may finish out of order)."""
        self._handled: set[int] = set()
        self.jobs_running = 0
        self.app: App | None = None
        self.staff_chat = config.staff_chat

    def watch(self, app: App) -> None:
        """Record the bot's errors, and what idle() needs: handled updates and running jobs."""
        # idle() knows every update is done once PTB is done with it; a handler running in
        # the background (block=False) would escape that.
        for group in app.handlers.values():
            for handler in group:
                assert handler.block, f"{handler!r} runs in the background; idle() cannot see it"

        async def record(update: object, context: BotContext) -> None:
            assert context.error is not None
            if not isinstance(context.error, self.expected):
                self.errors.append(context.error)

        def processed(update: object) -> None:
            if not isinstance(update, Update):
                return
            self._handled.add(update.update_id)
            while self.handled_up_to + 1 in self._handled:
                self.handled_up_to += 1
                self._handled.discard(self.handled_up_to)

        def job_event(event: JobSubmissionEvent | JobExecutionEvent) -> None:
            self.jobs_running += 1 if event.code == EVENT_JOB_SUBMITTED else -1

        app.add_error_handler(record)
        # Marked when PTB has run every handler group for the update, also when a handler
        # stopped the others (ApplicationHandlerStop).
        app._update_processor = Marking(app.update_processor, processed)  # test only
        self.jobs_running = 0
        self.job_queue(app).scheduler.add_listener(
            job_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
        )

    def handled(self, update_id: int) -> bool:
        return update_id <= self.handled_up_to or update_id in self._handled

    async def start(self) -> None:
        app = build_application(self.config, clock=self.clock, i18n=self.i18n)
        self.watch(app)
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

    @staticmethod
    def job_queue(app: App) -> JobQueue[BotContext]:
        queue: JobQueue[BotContext] | None = app.job_queue
        assert queue is not None
        return queue

    def busy(self, *, broadcasts: bool = False) -> str | None:
        """What the bot still has to do right now, or None when it has nothing left.

        Asks the bot, instead of guessing from a quiet spell: every update people made is
        handled, no Bot API call is being answered, no job is due or running, and the staff
        outbox waits to be woken. Work that waits for a later moment of the clock (a
        reminder, a full pacing window, a 429 to wait out) is not "now".
        A broadcast is sent at Telegram's pace over seconds, while the bot goes on
        answering; it counts only with ``broadcasts=True``.
        """
        app = self.app
        assert app is not None, "the bot is not running"
        last = self.sandbox.world.next_update_id - 1
        if self.sandbox.in_flight:
            return f"{self.sandbox.in_flight} Bot API call(s) in flight"
        # A request waiting out a 429 in the rate limiter waits for a later moment of the
        # clock: what holds it (a handler, a job, a lane) is not "at work" now.
        limiter = app.bot.rate_limiter
        held = 0
        if isinstance(limiter, SharedRateLimiter) and limiter.log.pause_left() > 0:
            held = limiter.waiting
        working: list[str] = []
        in_progress = app.update_processor.current_concurrent_updates
        if self.handled_up_to + in_progress < last:
            return f"update {self.handled_up_to + 1} is not handled yet (last: {last})"
        if in_progress:
            working.append("an update is being handled")
        if self.jobs_running:
            working.append(f"{self.jobs_running} job(s) running")
        now = datetime.now(UTC)
        for job in self.job_queue(app).jobs():
            if job.next_t is not None and job.next_t <= now:
                return f"job {job.name} is due"
        services = services_of(app)
        if services.interpreter.busy:
            return "a translation or transcription is at work"
        if services.command_menus.busy:
            return "residents' command lists are being published"
        outbox = services.outbox
        if not outbox.staff.idle:
            working.append("the staff lane is at work")
        if not outbox.replies.idle:
            working.append("the replies lane is at work")
        if broadcasts and not outbox.broadcasts.idle:
            working.append("the broadcast lane is at work")
        if len(working) > held:
            return working[0]
        return None

    async def idle(
        self,
        timeout: float = WAIT_LIMIT,  # noqa: ASYNC109 - one deadline; guards against a hang
        *,
        broadcasts: bool = False,
    ) -> None:
        """Wait until the bot has handled every update people have made so far and has
        nothing left to do now (see :meth:`busy`)."""
        deadline = time.monotonic() + timeout
        calm = 0
        while True:
            reason = self.busy(broadcasts=broadcasts)
            # Twice in a row, one loop turn apart: a step that hands work on to another
            # (a handler waking an outbox) is seen by one of the two looks.
            calm = calm + 1 if reason is None else 0
            if calm >= 2:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the bot is still busy after {timeout}s: {reason}")
            if reason is None:
                await asyncio.sleep(0)
            else:
                await self.sandbox.wait_for(
                    lambda: self.busy(broadcasts=broadcasts) is None,
                    max(deadline - time.monotonic(), 0.001),
                    message=f"the bot to become idle ({reason})",
                    poll=0.002,
                )

    async def outlast(self, storm: Storm) -> None:
        """Move the clock through a 429 storm of the sandbox in steps of its
        ``retry_after`` (plus the rate limiter's slack): at each step the bot wakes, tries
        again, is refused and waits again (it is idle then: nothing to do before a later
        moment of the clock); then past the storm's end, when what waited goes out. No
        real time is waited, however long the storm."""
        while True:
            await self.idle()
            if self.clock.monotonic() > storm.end:
                return
            self.clock.advance(seconds=storm.retry_after + 1)

    def expect(self, *errors: type[BaseException]) -> None:
        """A test that provokes an error from Telegram declares it; anything else fails."""
        self.expected = errors

    async def restart(self) -> None:
        await self.idle()
        await self.stop()
        await self.start()

    @property
    def services(self) -> Services:
        assert self.app is not None, "the bot is not running"
        return services_of(self.app)

    @property
    def storage(self) -> Storage:
        return self.services.storage

    # -- residents -------------------------------------------------------------------------
    def user(self, first_name: str = "Aylin", language_code: str | None = "de") -> JSON:
        return self.sandbox.add_user(first_name, language_code=language_code)

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
        chosen = language or language_code or "de"
        await self.tap(user, after, data=f"1:lang:{chosen}")
        self.chosen[user["id"]] = chosen
        # Before the choice the bot spoke the phone's language (or German and English).
        self.chosen_after[user["id"]] = max(
            (m["message_id"] for m in self.sandbox.bot_messages(user["id"])), default=0
        )
        return user

    async def right_to_left_chats(self) -> set[int]:
        """Private chats of residents who read Arabic or Farsi (as chosen in the test, or as
        stored by the bot)."""
        found = {uid for uid, code in self.chosen.items() if code in RTL_LANGUAGES}
        if self.app is not None and self.storage.db.is_open:
            for chat_id, chat in self.sandbox.world.chats.items():
                if chat.type == "private":
                    resident = await self.storage.residents.get(chat_id)
                    if resident is not None and resident.language in RTL_LANGUAGES:
                        found.add(chat_id)
        return found

    def direction_problems(self, chats: set[int]) -> list[str]:
        """Every line of every message and every button label the bot itself wrote into an
        Arabic or Farsi chat must lay out right to left (Telegram decides per line and per
        button). Copies of staff messages are staff's own words and are left out; so are
        the language buttons, which name each language in its own script."""
        copied = {
            (c.params.get("chat_id"), m["message_id"])
            for c in self.sandbox.calls()
            if c.ok and c.method in ("copyMessage", "copyMessages", "forwardMessage")
            for m in (c.result if isinstance(c.result, list) else [c.result])
        }
        problems = []
        for chat_id in sorted(chats):
            for message in self.sandbox.bot_messages(chat_id):
                if (chat_id, message["message_id"]) in copied or (
                    str(chat_id),
                    message["message_id"],
                ) in copied:
                    continue
                text = message.get("text") or message.get("caption") or ""
                problems += [f"{chat_id} line: {line!r}" for line in lines_not_rtl(text)]
                for button in buttons(message):
                    if str(button.get("callback_data", "")).startswith("1:lang:"):
                        continue
                    if first_strong(button["text"]) == "L":
                        problems.append(f"{chat_id} button: {button['text']!r}")
        return problems

    async def foreign_chats(self) -> dict[int, str]:
        """Private chats of residents who read neither German nor Leichte Sprache, by the
        language they chose; a resident who read German at some point (chosen in the test
        or stored by the bot) is left out, since earlier German messages were right then."""
        found: dict[int, str] = dict(self.chosen)
        if self.app is not None and self.storage.db.is_open:
            for chat_id, chat in self.sandbox.world.chats.items():
                if chat.type == "private":
                    resident = await self.storage.residents.get(chat_id)
                    if resident is None:
                        continue
                    if found.setdefault(chat_id, resident.language) != resident.language:
                        found[chat_id] = "de"  # changed language during the test
        return {c: code for c, code in found.items() if code not in GERMAN_READERS}

    def german_problems(self, chats: dict[int, str]) -> list[str]:
        """No German reaches a resident who reads another language: every message and
        button the bot wrote into their chat is scanned for :data:`GERMAN_MARKERS`. Left
        out: copies of staff messages (staff's own words), the office's note announced as
        German, messages that say their directory or news text exists only in German, and
        what the bot sent before the resident chose their language."""
        copied = self.copied()
        typed = self.typed_by_people()
        problems = []
        for chat_id, code in sorted(chats.items()):
            t = self.i18n.get(code)
            note_prefix = t._(GERMAN_NOTE).split("{note}")[0]
            announced = [t._(msgid) for msgid in GERMAN_ONLY]
            for message in self.sandbox.bot_messages(chat_id):
                if self.is_copy(copied, chat_id, message) or message[
                    "message_id"
                ] <= self.chosen_after.get(chat_id, 0):
                    continue
                text = message.get("text") or message.get("caption") or ""
                if any(note in text for note in announced):
                    continue
                lines = [
                    line
                    for line in text.split("\n")
                    if note_prefix not in line and plain(line) not in typed
                ]
                labels = [
                    b["text"]
                    for b in buttons(message)
                    if not str(b.get("callback_data", "")).startswith("1:lang:")
                ]
                for line in lines + labels:
                    found = GERMAN_MARKERS.search(GERMAN_NAMES.sub("", line))
                    if found:
                        problems.append(f"{chat_id} ({code}) {found.group()!r} in: {line!r}")
        return problems

    def typed_by_people(self) -> set[str]:
        """Lines people typed (staff in the staff group, residents anywhere): their own
        words, passed on as written when staff ask for it (``=``) or no translation could
        be had — staff are told then — not text of the bot's."""
        lines: set[str] = set()
        for chat in self.sandbox.world.chats.values():
            for message in chat.messages.values():
                if message.get("from", {}).get("is_bot"):
                    continue
                text = message.get("text") or message.get("caption") or ""
                lines.update(plain(line).removeprefix("=").strip() for line in text.split("\n"))
        lines.discard("")
        return lines

    def copied(self) -> set[tuple[object, int]]:
        return {
            (c.params.get("chat_id"), m["message_id"])
            for c in self.sandbox.calls()
            if c.ok and c.method in ("copyMessage", "copyMessages", "forwardMessage")
            for m in (c.result if isinstance(c.result, list) else [c.result])
        }

    @staticmethod
    def is_copy(copied: set[tuple[object, int]], chat_id: int, message: JSON) -> bool:
        key = message["message_id"]
        return (chat_id, key) in copied or (str(chat_id), key) in copied


def plain(line: str) -> str:
    """A line without direction marks and HTML tags, as a person typed it."""
    return re.sub(r"<[^>]*>|[\u200e\u200f\u2066-\u2069]", "", line).strip()


def known(value: T | None) -> T:
    """A row the test expects to exist; fails the test when it does not."""
    assert value is not None, "expected a value, found None"
    return value


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


@pytest.fixture(scope="session", autouse=True)
def small_ca_bundle() -> Iterator[None]:
    """Each bot start builds two HTTP clients, and each loads the whole CA bundle (30 ms
    or more on a busy machine). Tests only speak plain HTTP to the sandbox, so httpx gets
    a bundle of one certificate through its documented ``SSL_CERT_FILE``. Readable by
    everyone: some tests run ``python -m bot`` as another user, with this environment."""
    bundle = Path(certifi.where()).read_text(encoding="ascii")
    end = "-----END CERTIFICATE-----"
    first = bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index(end) + len(end)]
    with tempfile.TemporaryDirectory(prefix="quartierbot-ca-") as folder:
        Path(folder).chmod(0o755)
        path = Path(folder) / "one.pem"
        path.write_text(first + "\n", encoding="ascii")
        path.chmod(0o644)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SSL_CERT_FILE", str(path))
            yield


@pytest.fixture(scope="session", autouse=True)
def directory_parsed_once() -> Iterator[None]:
    """Every bot start reads the directory, and parsing its YAML takes a tenth of a second.
    A Directory is immutable (frozen dataclasses), so one parse per file content serves
    every test; a test that writes its own directory file gets its own."""
    parsed: dict[tuple[str, str], Directory] = {}
    load = load_directory

    def load_once(path: Path | str = DEFAULT_DIRECTORY) -> Directory:
        key = (str(Path(path).resolve()), Path(path).read_text(encoding="utf-8"))
        if key not in parsed:
            parsed[key] = load(path)
        return parsed[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app_factory, "load_directory", load_once)
        yield


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
        agenda_at=None,  # the daily agenda has its own tests (tests/test_booking.py)
        # Letters are read by their own tests (test_letters_*.py): elsewhere a photo or a
        # document is only copied, so what staff see does not depend on Tesseract's timing.
        ocr="off",
    )


async def running(harness: Harness) -> AsyncIterator[Harness]:
    """Start the bot for a test; afterwards let it finish what it was doing, stop it, and
    fail on any error it raised or logged."""
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    await harness.start()
    rtl_problems: list[str] = []
    german: list[str] = []
    try:
        yield harness
        if harness.app is not None:
            await harness.idle()
            rtl_problems = harness.direction_problems(await harness.right_to_left_chats())
            german = harness.german_problems(await harness.foreign_chats())
    finally:
        await harness.stop()
        logging.getLogger().removeHandler(errors)
    assert not harness.errors, f"the bot raised: {harness.errors!r}"
    assert not rtl_problems, "left-to-right lines in Arabic/Farsi chats:\n" + "\n".join(
        rtl_problems
    )
    assert not german, "German in the chats of residents who read another language:\n" + (
        "\n".join(german)
    )
    assert not errors.records, "errors were logged:\n" + "\n".join(
        r.getMessage() for r in errors.records
    )


@pytest.fixture
async def bot(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    async for harness in running(Harness(sandbox, config, clock, i18n)):
        yield harness


def with_config(config: Config, **changes: Any) -> Config:
    return replace(config, **changes)
