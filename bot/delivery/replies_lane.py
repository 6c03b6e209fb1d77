"""The replies lane: replies that matter reach the resident, however long Telegram says wait.

A receipt, a booking confirmation, a cancellation, a staff answer: when Telegram answers
429 for longer than the rate limiter retries (about ten seconds), an interactive reply is
lost. A reply that matters is therefore written down first (a row in ``replies``) and this
lane sends it:

* in order per chat (a row waits while an earlier one of its chat is open), one request at
  a time, oldest first;
* claimed (``sending``) only at the moment its request leaves the rate limiter (see
  :class:`~bot.delivery.pacing.Departure`), marked ``sent`` right after Telegram accepted
  it — so a crash leaves a row in doubt only for one round trip; such a row is never sent
  again (``unknown``): no duplicates;
* on 429 the row goes back to ``pending`` uncounted and the lane waits until the pause
  ends (a timed wake-up in the clock's elapsed time: real seconds in production, as
  Telegram counts them; a test moves the clock; no polling), then tries the same row again: a storm of any length is waited out, and the shared
  limiter's window paces what leaves after it;
* rows still pending at a restart are sent after the start.

What says "the resident was told" (a receipt flag, a confirmation time) is recorded only
after Telegram accepted the message: the sender names it with :class:`After` (a kind and
a JSON argument, stored with the row) and the capability that owns that state registers
the kind once at build time with :meth:`RepliesLane.on_sent`. It runs before the row is
marked sent; if the process dies between the two, the state is recorded and the row stays
in doubt. A ``key`` makes a reply idempotent: a second one with the same key (say, the
receipt for a message that arrived while the first receipt was on its way) is not added.

Usage::

    await services.outbox.replies.send(chat_id, text, markup, after=After("receipt", 17),
                                       key="receipt:17:first")
    await services.outbox.replies.copy(user_id, staff_chat, message_id, caption=...,
                                       parse_mode="HTML", after=After("answered", {...}))
    services.outbox.replies.on_sent("receipt", mark_receipt)  # once, at build time
    services.outbox.replies.on_sent("answered", mark_answered, failed=tell_staff)
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    MessageId,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.clock import Clock
from bot.delivery.errors import Failure, Kind, classify
from bot.delivery.lane import Lane
from bot.delivery.pacing import LANE_REQUEST, Departure, NotClaimed, RequestLog
from storage import Storage
from storage.replies import FAILED, UNKNOWN, Reply

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
AfterSent = Callable[[Any, datetime], Awaitable[None]]
"""``callback(arg, accepted_at)``: record that the resident was told."""
AfterFailed = Callable[[Any, Failure], Awaitable[None]]
"""``callback(arg, failure)``: the reply will never be sent (blocked, refused, given up)."""

MAX_NETWORK_ATTEMPTS = 10
NETWORK_BACKOFF = (2.0, 5.0, 15.0, 30.0, 60.0)
"""Seconds (of the clock's elapsed time) before a reply that did not reach Telegram is tried
again."""
KEEP_DONE = timedelta(days=7)
BATCH = 50
MEMORY_SIZE = 1000
"""Texts held in memory for replies that must not be stored (machine translations)."""


@dataclass(frozen=True)
class After:
    """What to record once Telegram accepted the reply: a kind registered with
    :meth:`RepliesLane.on_sent`, and its argument (anything JSON can hold)."""

    kind: str
    arg: Any = None


class RepliesLane(Lane):
    name = "replies-lane"
    stop_grace = 5.0

    def __init__(
        self, bot: Bot, storage: Storage, clock: Clock, request_log: RequestLog | None = None
    ) -> None:
        super().__init__(bot, clock)
        self.storage = storage
        self.log = request_log or RequestLog(clock.monotonic)
        self._after: dict[str, AfterSent] = {}
        self._failed_after: dict[str, AfterFailed] = {}
        self._not_before: dict[int, float] = {}
        self._memory: OrderedDict[str, tuple[int, str]] = OrderedDict()

    # -- the API ----------------------------------------------------------------------------
    def on_sent(self, kind: str, callback: AfterSent, failed: AfterFailed | None = None) -> None:
        """Register what an :class:`After` of this kind records once Telegram accepted the
        reply (at build time); ``failed`` hears of a reply that will never be sent (the
        resident blocked the bot, Telegram refused it), e.g. to tell staff."""
        self._after[kind] = callback
        if failed is not None:
            self._failed_after[kind] = failed

    async def send(
        self,
        chat_id: int,
        text: str,
        markup: Markup | None = None,
        *,
        parse_mode: str | None = None,
        after: After | None = None,
        key: str | None = None,
        in_memory: bool = False,
    ) -> int | None:
        """Write the reply down and wake the lane; returns its row id, or None when a reply
        with the same ``key`` was written before (nothing is added): a key names a message
        that is sent once, e.g. ``receipt:<request>:<when the last receipt was sent>``.
        ``in_memory``: the text must not be stored (a machine translation): the row holds
        only a random key and the text stays in this process; a restart before it is sent
        loses it (then ``failed`` hears of it)."""
        return await self._add(
            chat_id, text[:4096], markup, parse_mode, None, after, key, in_memory
        )

    async def copy(
        self,
        chat_id: int,
        from_chat_id: int,
        message_id: int,
        *,
        caption: str | None = None,
        parse_mode: str | None = None,
        markup: Markup | None = None,
        after: After | None = None,
        key: str | None = None,
        in_memory: bool = False,
    ) -> int | None:
        """Like :meth:`send`, for a copy of a message (a staff answer with a photo, say);
        ``caption`` replaces the original's (held in memory only with ``in_memory``)."""
        copy_of = (from_chat_id, message_id)
        return await self._add(
            chat_id, caption, markup, parse_mode, copy_of, after, key, in_memory and caption
        )

    async def _add(
        self,
        chat_id: int,
        text: str | None,
        markup: Markup | None,
        parse_mode: str | None,
        copy_of: tuple[int, int] | None,
        after: After | None,
        key: str | None,
        in_memory: bool | str | None = False,
    ) -> int | None:
        if after is not None and after.kind not in self._after:
            raise ValueError(f"no on_sent callback for {after.kind!r}")
        memo: str | None = None
        if in_memory and text is not None:
            memo = uuid.uuid4().hex
            self._memory[memo] = (chat_id, text)
            while len(self._memory) > MEMORY_SIZE:
                self._memory.popitem(last=False)
            text = ""
        reply_id = await self.storage.replies.add(
            chat_id,
            text,
            self.clock.now(),
            parse_mode=parse_mode,
            markup=dump_markup(markup),
            copy_of=copy_of,
            after_kind=after.kind if after else None,
            after_arg=json.dumps(after.arg) if after else None,
            dedupe_key=key,
            memo=memo,
        )
        if reply_id is None and memo is not None:
            self._memory.pop(memo, None)
        self.wake()
        return reply_id

    def forget(self, user_id: int) -> None:
        """Erasure: the texts held in memory for this resident go with their rows."""
        for memo in [m for m, (chat, _) in self._memory.items() if chat == user_id]:
            del self._memory[memo]

    async def pending(self) -> int:
        counts = await self.storage.replies.counts()
        return counts.get("pending", 0) + counts.get("sending", 0)

    # -- the lane -----------------------------------------------------------------------------
    async def recover(self) -> None:
        now = self.clock.now()
        interrupted = await self.storage.replies.recover(now)
        if interrupted:
            log.warning(
                "%d repl(y/ies) were in flight at a crash; not sent again (may have arrived)",
                interrupted,
            )
        await self.storage.replies.purge(now - KEEP_DONE)

    async def after_crash(self) -> None:
        await self.sleep(self.backoff(5, 300))
        self.wake()

    async def drain(self) -> None:
        repo = self.storage.replies
        while not self.stopping:
            pause = self.log.pause_left()
            if pause > 0:
                # 429: everything waits out the pause (the lane is idle meanwhile), then
                # the oldest goes first again.
                self.wake_in(pause)
                return
            heads = await repo.heads(BATCH)
            now = self.clock.monotonic()
            due = [r for r in heads if self._not_before.get(r.id, 0.0) <= now]
            if not due:
                if heads:
                    self.wake_in(min(self._not_before[r.id] for r in heads) - now)
                return
            for reply in due:
                if self.stopping:
                    return
                if not await self._deliver(reply):
                    if self.log.pause_left() <= 0:
                        self.wake_in(0.05)
                        return
                    break

    async def _deliver(self, reply: Reply) -> bool:
        """One request; False when Telegram asks to wait."""
        repo = self.storage.replies
        departure = Departure(claim=lambda: repo.claim(reply.id), own_retries=True)
        LANE_REQUEST.set(departure)
        markup = load_markup(reply.markup, self.bot)
        text = reply.text
        if reply.memo is not None:
            held = self._memory.get(reply.memo)
            text = held[1] if held is not None else None
            if text is None:
                # Its text lived in memory only and did not survive a restart.
                log.info("reply %s was held in memory only; not sent", reply.id)
                await self._give_up(
                    reply, Failure(Kind.UNEXPECTED, "held in memory only, lost at a restart")
                )
                return True
        message: Message | MessageId
        try:
            if reply.from_chat_id is not None and reply.from_message_id is not None:
                message = await self.bot.copy_message(
                    reply.chat_id,
                    reply.from_chat_id,
                    reply.from_message_id,
                    caption=text,
                    parse_mode=reply.parse_mode,
                    reply_markup=markup,
                )
            else:
                message = await self.bot.send_message(
                    reply.chat_id,
                    text or "…",
                    parse_mode=reply.parse_mode,
                    reply_markup=markup,
                )
        except NotClaimed:
            return True
        except Exception as exc:
            return await self._failed(reply, exc, departure)
        finally:
            LANE_REQUEST.set(None)
        self._not_before.pop(reply.id, None)
        now = self.clock.now()
        await self._record(reply, now)
        await repo.sent(reply.id, message.message_id, now)
        if reply.memo is not None:
            self._memory.pop(reply.memo, None)
        return True

    async def _record(self, reply: Reply, at: datetime) -> None:
        if reply.after_kind is None:
            return
        callback = self._after.get(reply.after_kind)
        if callback is None:
            log.warning("reply %s: nothing registered for %r", reply.id, reply.after_kind)
            return
        try:
            await callback(json.loads(reply.after_arg or "null"), at)
        except Exception:
            log.exception("reply %s: recording %r failed", reply.id, reply.after_kind)

    async def _give_up(self, reply: Reply, failure: Failure) -> None:
        await self.storage.replies.close(reply.id, FAILED, failure.message, self.clock.now())
        if reply.memo is not None:
            self._memory.pop(reply.memo, None)
        callback = self._failed_after.get(reply.after_kind or "")
        if callback is None:
            return
        try:
            await callback(json.loads(reply.after_arg or "null"), failure)
        except Exception:
            log.exception(
                "reply %s: reporting the failure of %r failed", reply.id, reply.after_kind
            )

    async def _failed(self, reply: Reply, exc: Exception, departure: Departure) -> bool:
        repo = self.storage.replies
        failure = classify(exc)
        now = self.clock.now()
        if failure.kind is Kind.RETRY_AFTER:
            self.log.pause(failure.retry_after)
            await repo.release(reply.id, refund=True)
            self.errors.warning(
                "retry-after",
                "replies: Telegram asks to wait %.0f s; %d repl(y/ies) wait",
                failure.retry_after,
                await self.pending(),
            )
            return False
        if failure.kind is Kind.TIMED_OUT and departure.departed:
            await repo.close(reply.id, UNKNOWN, f"timed out: {failure.message}", now)
            if reply.memo is not None:
                self._memory.pop(reply.memo, None)
            log.warning("reply %s to %s timed out; it may have arrived", reply.id, reply.chat_id)
        elif failure.kind in (Kind.NETWORK, Kind.TIMED_OUT):
            attempts = reply.attempts + (1 if departure.departed else 0)
            if attempts >= MAX_NETWORK_ATTEMPTS:
                await self._give_up(reply, failure)
                log.warning("reply %s to %s given up: %s", reply.id, reply.chat_id, exc)
            else:
                await repo.release(reply.id, refund=False)
                delay = NETWORK_BACKOFF[min(attempts, len(NETWORK_BACKOFF) - 1)]
                self._not_before[reply.id] = self.clock.monotonic() + delay
                self.errors.warning(
                    "network", "replies: Telegram not reached (%s); trying again", exc
                )
        elif failure.unreachable:
            await self._give_up(reply, failure)
            await self.storage.residents.mark_unreachable(reply.chat_id, now)
            log.info("reply %s: chat %s is unreachable (%s)", reply.id, reply.chat_id, exc)
        elif failure.from_telegram:
            await self._give_up(reply, failure)
            log.warning("reply %s to %s refused: %s", reply.id, reply.chat_id, exc)
        else:
            await self._give_up(reply, failure)
            self.errors.error("bug", "reply %s failed", reply.id, exc_info=exc)
        return True


def dump_markup(markup: Markup | None) -> str | None:
    if markup is None:
        return None
    return json.dumps({"kind": type(markup).__name__, "markup": markup.to_dict()})


_MARKUPS: dict[str, type[Markup]] = {
    cls.__name__: cls
    for cls in (InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, ForceReply)
}


def load_markup(raw: str | None, bot: Bot) -> Markup | None:
    if not raw:
        return None
    stored = json.loads(raw)
    return _MARKUPS[stored["kind"]].de_json(stored["markup"], bot)
