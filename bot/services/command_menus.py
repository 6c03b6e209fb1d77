"""The "/" command list of each resident's chat, in the language they chose in the bot.

Telegram shows a private chat the list published for the phone's language (setMyCommands
with a ``language_code``), not the language chosen in the bot; Kurmanji and Leichte Sprache
have no Telegram language code at all, so their readers always saw another language's list.
A list published for one chat (``BotCommandScopeChat``) comes first in Telegram's order, so
after a resident chooses a language their chat gets its own list in that language. It is
kept in step with /language, published again when a new version changes the lists (the
residents' row remembers language and a digest of all lists), and withdrawn on erasure.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Sequence

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.delivery.errors import classify
from bot.i18n import LANGUAGES, I18n
from bot.menu import Command
from storage import Storage

log = logging.getLogger(__name__)

BATCH = 200
"""Residents read per query while catching up after a start."""


class CommandMenus:
    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        i18n: I18n,
        commands: Callable[[], Sequence[Command]],
    ) -> None:
        self.bot = bot
        self.storage = storage
        self.i18n = i18n
        self.commands = commands
        """The private-chat commands, in handler order (known once the app is wired)."""
        self._catching_up: asyncio.Task[int] | None = None

    def listing(self, language: str) -> list[BotCommand]:
        t = self.i18n.get(language)
        return [BotCommand(c.name, t._(c.description)) for c in self.commands()]

    @property
    def digest(self) -> str:
        """Changes whenever any language's list changes (a new command, a new translation)."""
        text = "\n".join(
            f"{code}:{c.command}:{c.description}" for code in LANGUAGES for c in self.listing(code)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    async def publish(self, user_id: int, language: str) -> bool:
        """The resident's chat lists the commands in ``language``; False when Telegram
        refused (the resident blocked the bot): the next start tries again."""
        try:
            await self.bot.set_my_commands(
                self.listing(language), scope=BotCommandScopeChat(user_id)
            )
        except TelegramError as exc:
            failure = classify(exc)
            if not (failure.refused or failure.unreachable):
                raise
            log.info("command list for resident %s not published: %s", user_id, failure.kind.value)
            return False
        await self.storage.residents.set_commands(user_id, f"{language}:{self.digest}")
        return True

    async def withdraw(self, user_id: int) -> None:
        """Erasure: the chat falls back to the lists for everybody (nothing in it recalls
        the language the resident chose)."""
        try:
            await self.bot.delete_my_commands(scope=BotCommandScopeChat(user_id))
        except TelegramError as exc:
            failure = classify(exc)
            if not (failure.refused or failure.unreachable):
                raise
            log.info("command list for resident %s not withdrawn: %s", user_id, failure.kind.value)

    async def catch_up(self) -> int:
        """Publish for every consented resident whose chat shows an older list or another
        language (after an update, or residents from before this feature); how many."""
        digest = self.digest
        published = 0
        after = 0
        while True:
            due = await self.storage.residents.commands_out_of_step(digest, after, BATCH)
            if not due:
                return published
            for user_id, language in due:
                after = user_id
                if await self.publish(user_id, language):
                    published += 1

    def start(self) -> None:
        """Catch up in the background: the bot answers meanwhile (the shared rate limiter
        lets replies through between these requests)."""
        self._catching_up = asyncio.create_task(self._run_catch_up())

    async def _run_catch_up(self) -> int:
        try:
            published = await self.catch_up()
        except TelegramError as exc:
            log.warning("command lists not brought up to date: %s", classify(exc).kind.value)
            return 0
        if published:
            log.info("command lists published for %d residents", published)
        return published

    @property
    def busy(self) -> bool:
        return self._catching_up is not None and not self._catching_up.done()

    async def stop(self) -> None:
        task, self._catching_up = self._catching_up, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
