"""Reading updates so that one PTB cannot parse never stops the others.

python-telegram-bot parses a whole ``getUpdates`` batch at once; one update it cannot read (a
field a newer Bot API version dropped or added as required, say a poll without
``persistent_id``) fails the batch, the updater retries the same offset forever and logs the
raw data, message content included, thousands of times a minute. Here every update is parsed
on its own. One that fails is replaced by a bare ``Update(update_id)``: the offset moves past
it, no handler matches it, and it is logged once, by id and type only, and counted. The
webhook listener uses the same :func:`parse_update`.
"""

from __future__ import annotations

import datetime as dtm
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.error import NetworkError, TelegramError
from telegram.ext import ExtBot

from bot.delivery.direction import fix_direction
from bot.delivery.errors import remember_call
from bot.logs import Throttled

log = logging.getLogger(__name__)

__all__ = ["Throttled", "TolerantBot", "UpdateStats", "parse_update"]


class UpdateStats:
    """What the health check and the logs report about incoming updates."""

    def __init__(self) -> None:
        self.unreadable = 0
        self.last_fetch: float | None = None
        """``time.monotonic()`` of the last successful getUpdates or webhook call."""
        self._listeners: list[Callable[[], None]] = []

    def on_fetch(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every successful fetch too (the health check's liveness,
        which keeps the bot's clock so tests can move time)."""
        self._listeners.append(listener)

    def fetched(self) -> None:
        self.last_fetch = time.monotonic()
        for listener in self._listeners:
            listener()


def parse_update(data: JSONDict, bot: ExtBot[Any], stats: UpdateStats | None = None) -> Update:
    """One update, or a bare placeholder with its id when PTB cannot read it."""
    try:
        return Update.de_json(data, bot)
    except Exception as exc:  # any mismatch between Telegram's JSON and PTB's classes
        update_id = data.get("update_id")
        kinds = ",".join(sorted(k for k in data if k != "update_id")) or "empty"
        if stats is not None:
            stats.unreadable += 1
        # The update's id and type only: its content may be a resident's message.
        log.warning(
            "skipped update %s of type %s: python-telegram-bot cannot read it (%s)",
            update_id,
            kinds,
            type(exc).__name__,
        )
        if not isinstance(update_id, int):
            raise
        return Update(update_id=update_id)


class TolerantBot(ExtBot[None]):
    """``getUpdates`` parsed update by update (see module docstring); and every request
    Telegram does not accept says which it was (``bot.delivery.errors.call_of``)."""

    def __init__(self, *args: Any, stats: UpdateStats | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._update_stats = stats or UpdateStats()

    @property
    def update_stats(self) -> UpdateStats:
        return self._update_stats

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,  # noqa: ASYNC109 - the Bot API long-poll parameter
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        data: JSONDict = {
            "timeout": timeout,
            "offset": offset,
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        # As in Bot.get_updates: a long poll may take its timeout on top of the read timeout.
        if not isinstance(read_timeout, DefaultValue):
            base: float = read_timeout or 0
        else:
            base = self._request[0].read_timeout or 0
        if isinstance(timeout, dtm.timedelta):
            effective: float = base + timeout.total_seconds()
        else:
            effective = base + timeout if timeout else base
        try:
            result = await self._post(
                "getUpdates",
                data,
                read_timeout=effective,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
                api_kwargs=api_kwargs,
            )
            self._update_stats.fetched()
            return tuple(parse_update(item, self, self._update_stats) for item in result or ())
        except TelegramError:
            raise
        except Exception as exc:
            # PTB's polling loop logs anything else as CRITICAL and polls again at once;
            # as a network error it backs off (up to 30 s) and our error callback logs it.
            raise NetworkError(f"unusable getUpdates answer: {exc!r}") from exc

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        """Every request passes here (after PTB's rate limiter and its retries): Arabic and
        Farsi texts get their direction fixed line by line (``bot.delivery.direction``)."""
        if endpoint in _WRITES_TEXT:
            fix_direction(data)
        try:
            return await super()._do_post(
                endpoint,
                data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except TelegramError as exc:
            remember_call(exc, endpoint, data)
            raise


_WRITES_TEXT = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageCaption",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
    }
)
