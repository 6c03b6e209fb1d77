"""The app factory: builds the Application and registers every capability in one list."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.context import SERVICES, BotContext, Services
from bot.directory import DEFAULT_PATH as DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.i18n import I18n
from bot.outbox import SharedRateLimiter
from bot.scheduler import Scheduler
from bot.services.appointments import AppointmentsService
from bot.staffpost import StaffPost
from handlers import (
    agenda,
    booking,
    broadcast,
    common,
    fallback,
    hours,
    news,
    onboarding,
    privacy,
    questions,
    staff,
    stats,
)
from handlers.common import SHUTDOWN_HOOKS, STARTUP_HOOKS, commands_of
from storage import Storage

log = logging.getLogger(__name__)

# Every capability, in the order its handlers get to see an update. ``fallback`` is last:
# it answers whatever nobody else took.
HANDLER_MODULES: Sequence[ModuleType] = (
    common,
    onboarding,
    hours,
    news,
    broadcast,
    booking,
    agenda,
    privacy,
    stats,
    staff,
    questions,
    fallback,
)

App = Application[Any, BotContext, Any, Any, Any, Any]


def build_application(
    config: Config,
    *,
    clock: Clock | None = None,
    storage: Storage | None = None,
    i18n: I18n | None = None,
) -> App:
    if config.token is None:
        raise ValueError("build_application needs a token")
    application: App = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.base_url)
        .base_file_url(config.base_file_url)
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(tzinfo=config.tz))
        # The one place that paces requests to Telegram; a 429 is waited out and retried.
        # Not per group: the only group the bot posts into is the staff group, and
        # bot.staffpost paces that one durably in clock time (20/min). aiolimiter's group
        # bucket would add real-time waits on top and stall the outbox worker.
        .rate_limiter(SharedRateLimiter(group_max_rate=0, max_retries=3))
        .build()
    )
    clock = clock or SystemClock()
    directory_path = config.directory or DEFAULT_DIRECTORY
    storage = storage or Storage(config.db_path)
    scheduler = Scheduler(application, clock)
    appointments = AppointmentsService(
        storage=storage,
        clock=clock,
        scheduler=scheduler,
        config=config,
        # /reload replaces Services.directory as a whole: the service reads it on every use.
        directory=lambda: application.bot_data[SERVICES].directory,
    )
    application.bot_data[SERVICES] = Services(
        config=config,
        storage=storage,
        clock=clock,
        i18n=i18n or I18n(config.tz),
        directory=load_directory(directory_path),
        directory_path=directory_path,
        scheduler=scheduler,
        staffpost=StaffPost(application, storage, clock, config, scheduler),
        appointments=appointments,
    )
    for module in HANDLER_MODULES:
        module.register(application)
    application.add_error_handler(on_error)
    return application


async def startup(application: App) -> None:
    """Run once after ``initialize()``, by ``run`` and by tests alike (PTB's ``post_init``
    only runs under ``run_polling``, which we do not use, so that the sandbox can share
    the event loop)."""
    services: Services = application.bot_data[SERVICES]
    await services.storage.open()
    for hook in application.bot_data.get(STARTUP_HOOKS, []):
        await hook(application)
    await publish_commands(application)


async def shutdown(application: App) -> None:
    services: Services = application.bot_data[SERVICES]
    for hook in application.bot_data.get(SHUTDOWN_HOOKS, []):
        await hook(application)
    await services.staffpost.stop()
    await services.storage.close()


async def publish_commands(application: App) -> None:
    """Telegram shows each resident the command list in their app's language."""
    services: Services = application.bot_data[SERVICES]
    commands = commands_of(application, "private")
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
            for c in commands_of(application, "staff") + commands_of(application, "admin")
        ]
        try:
            await application.bot.set_my_commands(
                staff_commands, scope=BotCommandScopeChat(staff_chat)
            )
        except BadRequest as exc:  # the bot is not (yet) in that group
            log.warning("could not publish the staff commands in %s: %s", staff_chat, exc)


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    if isinstance(error, Forbidden):
        log.info("resident unreachable: %s", error)
        return
    if isinstance(error, TelegramError):
        log.warning("Telegram refused a request: %s", error, exc_info=error)
        return
    log.error("unhandled error for update %r", update, exc_info=error)


async def run(application: App, stop: asyncio.Event | None = None) -> None:
    """Long polling until SIGINT/SIGTERM; then finish in-flight updates and close the DB."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    async with application:
        await startup(application)
        try:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            log.info("Quartierbot is running; press Ctrl+C to stop")
            await stop.wait()
            log.info("stopping: finishing updates in flight")
            await application.updater.stop()
            await application.stop()
        finally:
            await shutdown(application)
