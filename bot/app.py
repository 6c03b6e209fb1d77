"""The app factory: builds the Application and registers every capability in one list."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from datetime import timedelta

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults
from telegram.request import HTTPXRequest

from bot.capability import App, Capability
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.context import SERVICES, BotContext, Services, services_of
from bot.delivery.errors import Kind, call_of, classify
from bot.delivery.outbox import Outbox
from bot.delivery.pacing import SharedRateLimiter
from bot.directory import DEFAULT_PATH as DEFAULT_DIRECTORY, load_directory
from bot.engines.detect import LinguaDetector
from bot.engines.translate import build_translator
from bot.engines.voice import Transcriber, build_transcriber
from bot.flows import Flows
from bot.health import Check, Probe, http_probe
from bot.i18n import I18n
from bot.letters.reader import build_letter_reader, reader_probe
from bot.receiver import Receiver
from bot.scheduler import Scheduler
from bot.services.answers import AnswerService
from bot.services.appointments import AppointmentsService
from bot.services.broadcast_recovery import ReportNote
from bot.services.command_menus import CommandMenus
from bot.services.deadlines import Deadlines
from bot.services.feedback import FeedbackService
from bot.services.intake import Intake
from bot.services.interpreting import Interpreter
from bot.services.letters import LetterDesk
from bot.services.privacy import PrivacyService
from bot.services.requests import RequestsService
from bot.services.topics import Topics
from bot.services.translation import ConversationTranslator
from bot.updates import TolerantBot
from handlers import (
    agenda,
    booking,
    broadcast,
    common,
    fallback,
    feedback,
    groups,
    hours,
    news,
    onboarding,
    privacy,
    questions,
    staff,
    stats,
)
from storage import Storage

log = logging.getLogger(__name__)

# Every capability, in the order its handlers get to see an update. ``fallback`` is last:
# it answers whatever nobody else took.
CAPABILITIES: Sequence[Capability] = (
    groups.CAPABILITY,
    common.CAPABILITY,
    onboarding.CAPABILITY,
    hours.CAPABILITY,
    news.CAPABILITY,
    broadcast.CAPABILITY,
    booking.CAPABILITY,
    agenda.CAPABILITY,
    privacy.CAPABILITY,
    stats.CAPABILITY,
    feedback.CAPABILITY,
    staff.CAPABILITY,
    questions.CAPABILITY,
    fallback.CAPABILITY,
)


def capability_names() -> tuple[str, ...]:
    return tuple(c.name for c in CAPABILITIES)


def build_application(
    config: Config,
    *,
    clock: Clock | None = None,
    storage: Storage | None = None,
    i18n: I18n | None = None,
) -> App:
    if config.token is None:
        raise ValueError("build_application needs a token")
    clock = clock or SystemClock()
    telegram = TolerantBot(
        config.token,
        base_url=config.base_url,
        base_file_url=config.base_file_url,
        defaults=Defaults(tzinfo=config.tz),
        # Many requests at once, as ApplicationBuilder would give.
        request=HTTPXRequest(connection_pool_size=256),
        # Two: PTB's last getUpdates at shutdown (confirming the offset) must not wait for the
        # connection of the long poll it has just cancelled, or it times out and logs an error.
        get_updates_request=HTTPXRequest(connection_pool_size=2),
        # The one place that paces requests to Telegram; a 429 is waited out and retried.
        # Not per group: the only group the bot posts into is the staff group, and its
        # lane of the outbox paces that one durably in clock time (20/min). aiolimiter's
        # group bucket would add real-time waits on top and stall the lane. Its waits are in
        # the clock's elapsed time (real seconds, unless a test moves the clock).
        rate_limiter=(limiter := SharedRateLimiter(group_max_rate=0, max_retries=3, clock=clock)),
    )
    application: App = (
        ApplicationBuilder().bot(telegram).context_types(ContextTypes(context=BotContext)).build()
    )
    directory_path = config.directory or DEFAULT_DIRECTORY
    storage = storage or Storage(config.db_path)
    scheduler = Scheduler[BotContext](application, clock)
    topics = Topics(storage)
    appointments = AppointmentsService(
        storage=storage,
        clock=clock,
        scheduler=scheduler,
        config=config,
        # /reload replaces Services.directory as a whole: the service reads it on every use.
        directory=lambda: services_of(application).directory,
    )
    outbox = Outbox(application.bot, storage, clock, config, topics, limiter.log)
    translator, transcriber, probes = build_engines(config, clock)
    letter_reader = build_letter_reader(config.ocr)
    if letter_reader is not None:
        probes.append(reader_probe(letter_reader))

    async def download(file_id: str) -> bytes:
        file = await application.bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())

    deadlines = Deadlines(
        storage=storage, clock=clock, scheduler=scheduler, staff=outbox.staff, tz=config.tz
    )
    interpreter = Interpreter(
        translator=translator,
        transcriber=transcriber,
        staff=outbox.staff,
        storage=storage,
        clock=clock,
        download=download,
    )
    answers = AnswerService(
        storage=storage,
        clock=clock,
        config=config,
        translator=translator,
        close_topic=outbox.staff,
    )
    i18n = i18n or I18n(config.tz)
    letters = LetterDesk(
        storage=storage,
        clock=clock,
        staff=outbox.staff,
        replies=outbox.replies,
        translator=translator,
        deadlines=deadlines,
        download=download,
        spawn=interpreter.spawn,
        # The reader (Tesseract, ``bot.letters.reader``) is Services.letters: read on
        # every use, so tests can put another in its place (None: reading is off).
        reader=lambda: services_of(application).letters,
        tz=config.tz,
        help_residents=config.letter_help,
    )
    services = Services(
        config=config,
        storage=storage,
        clock=clock,
        i18n=i18n,
        directory=load_directory(directory_path),
        directory_path=directory_path,
        scheduler=scheduler,
        outbox=outbox,
        topics=topics,
        appointments=appointments,
        requests=RequestsService(storage=storage, clock=clock, topics=topics, staff=outbox.staff),
        privacy=PrivacyService(
            storage=storage,
            clock=clock,
            appointments=appointments,
            topics=topics,
            retention=timedelta(days=config.retention_days),
            staff_group=outbox.staff,
            memory=[interpreter, outbox.replies, letters],
        ),
        feedback=FeedbackService(storage=storage, clock=clock, config=config),
        translator=translator,
        transcriber=transcriber,
        interpreter=interpreter,
        command_menus=CommandMenus(
            application.bot,
            storage,
            i18n,
            lambda: services_of(application).commands_for("private"),
        ),
        intake=Intake(
            storage=storage,
            clock=clock,
            staff=outbox.staff,
            interpreter=interpreter,
            letters=letters,
            answers=answers,
        ),
        deadlines=deadlines,
        answers=answers,
        letters=letter_reader,
        health_probes=probes,
        flows=Flows(storage, clock),
    )
    services.outbox.broadcasts.report_note = ReportNote(services.i18n)
    interpreter.heard.append(services.answers.heard)  # a request opened by voice
    services.privacy.holds_memory(services.answers)
    application.bot_data[SERVICES] = services
    wire(application, services, CAPABILITIES)
    application.add_error_handler(on_error)
    return application


def build_engines(
    config: Config, clock: Clock
) -> tuple[ConversationTranslator, Transcriber | None, list[Probe]]:
    """The optional engines from the configuration (each may be off), and a health check
    for each one configured."""
    engine = build_translator(
        config.translate_url,
        clock=clock,
        api_key=config.translate_key,
        staff_language=config.staff_language,
    )
    detector = LinguaDetector() if engine is not None else None
    translator = ConversationTranslator(engine, detector, config.staff_language)
    transcriber = build_transcriber(config.voice_model)
    probes: list[Probe] = []
    if config.translate_url:
        probes.append(http_probe("translation", config.translate_url.rstrip("/") + "/languages"))
    if config.voice_model:
        probes.append(_voice_probe(transcriber))
    return translator, transcriber, probes


def _voice_probe(transcriber: Transcriber | None) -> Probe:
    async def probe() -> Check:
        if transcriber is None or not transcriber.available:
            return Check("voice", False, "faster-whisper not installed or model unusable")
        return Check("voice", True)

    return probe


async def start_engines(services: Services) -> None:
    """Say at start what the optional engines do; the bot runs without them."""
    translator = services.translator
    if translator.engine is None:
        log.info("machine translation: off")
    elif await translator.engine.refresh_languages():
        log.info("machine translation: on (%s)", translator.engine.name)
    else:
        log.warning(
            "machine translation: configured, but the server is not reachable yet;"
            " retried when a message needs it"
        )
    transcriber = services.transcriber
    if transcriber is None:
        log.info("voice transcription: off")
    else:
        log.info("voice transcription: on")
        warm_up = getattr(transcriber, "warm_up", None)
        if warm_up is not None:
            await warm_up()
    await services.interpreter.resume()


def wire(application: App, services: Services, capabilities: Sequence[Capability]) -> None:
    """Add every capability's handlers in order and collect what they offer into
    ``services``: commands in handler order, the menu sorted by ``order`` (ties keep handler
    order), hooks in handler order."""
    wired = tuple(capabilities)
    for entry in wired:
        application.add_handlers(list(entry.handlers(services, application)), group=entry.group)
    services.commands = tuple(c for cap in wired for c in cap.commands)
    services.menu = tuple(sorted((e for cap in wired for e in cap.menu), key=lambda e: e.order))
    services.on_start = tuple(h for cap in wired for h in cap.on_start)
    services.on_stop = tuple(h for cap in wired for h in cap.on_stop)


async def startup(application: App) -> None:
    """Run once after ``initialize()``, by ``run`` and by tests alike (PTB's ``post_init``
    only runs under ``run_polling``, which we do not use, so that the sandbox can share
    the event loop)."""
    services = services_of(application)
    await services.storage.open()
    await services.flows.restore()
    for hook in services.on_start:
        await hook(application)
    await services.outbox.start()
    await start_engines(services)
    await publish_commands(application)
    services.command_menus.start()


async def shutdown(application: App) -> None:
    services = services_of(application)
    await services.command_menus.stop()
    for hook in services.on_stop:
        await hook(application)
    await services.interpreter.close()
    if services.letters is not None:
        await services.letters.close()
    await services.outbox.stop()
    await services.storage.close()


async def publish_commands(application: App) -> None:
    """Telegram shows each resident the command list in their app's language."""
    services = services_of(application)
    commands = services.commands_for("private")
    scope = BotCommandScopeAllPrivateChats()
    for t in services.i18n.all():
        if t.language.telegram_code is None:
            continue
        bot_commands = [BotCommand(c.name, t._(c.description)) for c in commands]
        await application.bot.set_my_commands(
            bot_commands, scope=scope, language_code=t.language.telegram_code
        )
        if t.code == "de":  # the default for every other phone language
            await application.bot.set_my_commands(bot_commands, scope=scope)
    staff_chat = services.config.staff_chat
    if staff_chat is not None:
        # The staff group reads German; coordinators' commands are listed there too.
        t = services.i18n.get("de")
        staff_commands = [
            BotCommand(c.name, t._(c.description))
            for c in services.commands_for("staff") + services.commands_for("admin")
        ]
        try:
            await application.bot.set_my_commands(
                staff_commands, scope=BotCommandScopeChat(staff_chat)
            )
        except TelegramError as exc:
            failure = classify(exc)
            if not (failure.refused or failure.unreachable):
                raise
            # the bot is not (yet) in that group
            log.warning(
                "could not publish the staff commands in %s: %s", staff_chat, failure.message
            )


async def on_error(update: object, context: BotContext) -> None:
    """One line per failed request to Telegram (which method, for which chat and update,
    what Telegram said); a traceback only for a bug. The update id is the reference: the
    update itself holds what the resident wrote and their name."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    failure = classify(error) if error is not None else None
    if failure is not None and failure.from_telegram:
        assert error is not None
        call = call_of(error) or "a request"
        if failure.kind in (Kind.BLOCKED, Kind.FORBIDDEN):
            log.info("resident unreachable: %s for update %s: %s", call, update_id, failure.message)
        else:
            log.warning(
                "Telegram did not accept %s for update %s: %s: %s",
                call,
                update_id,
                failure.kind.value,
                failure.message,
            )
        return
    log.error("unhandled error for update %s", update_id, exc_info=error)


async def run(application: App, stop: asyncio.Event | None = None) -> None:
    """Long polling, or a webhook when configured, until SIGINT/SIGTERM; then stop taking
    updates, finish those in flight and close the database."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    receiver = Receiver(application)
    async with application:
        await startup(application)
        try:
            await application.start()
            try:
                await receiver.start()
                log.info("Quartierbot is running; press Ctrl+C to stop")
                await stop.wait()
                log.info("stopping: finishing updates in flight")
            finally:
                await receiver.stop()
                await application.stop()
        finally:
            await shutdown(application)
