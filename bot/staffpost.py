"""The one paced, durable outbox for everything the bot posts into the staff group.

Telegram allows about 20 messages a minute into one group and answers more with 429. A
resident's burst (an album, a flood of voice messages, many residents at once) must reach
staff late rather than never, and a restart must not lose what was still waiting. So every
post into the staff group is a row in SQLite first; one worker sends the rows in order, at
most ``per_minute`` per minute of *clock* time (the injected clock, so tests move time
instead of sleeping), and marks them sent. Resident messages are stored as references
(chat id + message ids, copied by Telegram), never their content.

Posts for a resident go to their forum topic: the worker creates it (name and card come
from the topic builder that ``handlers.staff`` installs) when there is none, reopens it when
it was closed, and opens a new one when staff deleted it. In a group without topics, each
resident post is preceded by a header line that staff reply to.

Usage from any handler::

    await context.services.staffpost.send_text(text, thread_id=None, markup=None)
    await context.services.staffpost.copy(from_chat_id, [message_id], resident_id=user_id)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram import ForceReply, InlineKeyboardMarkup, MessageId, ReplyParameters
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.config import Config
from storage import Storage
from storage.requests import OutboxItem

if TYPE_CHECKING:
    from bot.context import BotContext
    from bot.scheduler import Scheduler

log = logging.getLogger(__name__)

WINDOW = timedelta(seconds=60)
WAKE_JOB = "staffpost:wake"
PURGE_JOB = "staffpost:purge"
KEEP_SENT = timedelta(days=1)
MAX_ATTEMPTS = 8
# Album parts arrive as separate updates within moments; wait this long (real seconds)
# after the last part so the album is copied as one.
ALBUM_GRACE = 1.0
_LOST_TOPIC = ("thread not found", "topic_deleted", "topic_id_invalid", "topic_closed")
_GONE_SOURCE = ("message to copy not found", "message to forward not found",
                "message can't be copied", "message can't be forwarded",
                "message_id_invalid")  # fmt: skip


@dataclass(frozen=True)
class TopicInfo:
    """What staff see of a resident: the topic (or header) name and the card that opens a
    new topic. Never a phone number or a Telegram id."""

    name: str
    card: str | None = None


TopicBuilder = Callable[[Any, int], Awaitable[TopicInfo]]
"""``async def build(application, user_id) -> TopicInfo``."""


class _Wait(Exception):
    """The pacing window is full: stop here, the worker is woken when there is room."""


class StaffPost:
    def __init__(
        self,
        application: Any,
        storage: Storage,
        clock: Clock,
        config: Config,
        scheduler: Scheduler,
        *,
        per_minute: int | None = None,
    ) -> None:
        self.application = application
        self.storage = storage
        self.clock = clock
        self.config = config
        self.scheduler = scheduler
        self.per_minute = max(1, per_minute or config.staff_per_minute)
        self.album_grace = ALBUM_GRACE
        self.topic_builder: TopicBuilder | None = None
        self._forum: bool | None = None
        self._sent: collections.deque[datetime] = collections.deque()
        self._albums: dict[str, float] = {}
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._waiting = False

    # -- the API for handlers -------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.config.staff_chat is not None

    @property
    def chat_id(self) -> int | None:
        return self.config.staff_chat

    @property
    def is_forum(self) -> bool:
        return self._forum is not False

    async def send_text(
        self,
        text: str,
        *,
        thread_id: int | None = None,
        markup: InlineKeyboardMarkup | ForceReply | None = None,
        resident_id: int | None = None,
        reply_to: int | None = None,
        priority: bool = False,
    ) -> int:
        """Post the bot's own text: into ``thread_id``, or into the topic of
        ``resident_id``. ``priority`` is for answers to staff commands (still paced)."""
        return await self._add(
            "text",
            text=text[:4096],
            markup=_dump_markup(markup),
            thread_id=thread_id,
            user_id=resident_id,
            reply_to=reply_to,
            priority=priority,
        )

    async def copy(
        self,
        from_chat_id: int,
        message_ids: Sequence[int],
        *,
        resident_id: int | None = None,
        thread_id: int | None = None,
        group_key: str | None = None,
        reply_to_resident_message: int | None = None,
        priority: bool = False,
    ) -> int:
        """Copy messages (no "forwarded from" link to the sender's account). For a
        resident's messages pass ``resident_id``; album parts share ``group_key``."""
        if group_key is not None:
            self._albums[group_key] = time.monotonic()
        return await self._add(
            "copy",
            from_chat_id=from_chat_id,
            message_ids=message_ids,
            user_id=resident_id,
            thread_id=thread_id,
            group_key=group_key,
            reply_to_resident_message=reply_to_resident_message,
            priority=priority,
        )

    async def forward(
        self,
        from_chat_id: int,
        message_ids: Sequence[int],
        *,
        resident_id: int | None = None,
        thread_id: int | None = None,
        priority: bool = False,
    ) -> int:
        return await self._add(
            "forward",
            from_chat_id=from_chat_id,
            message_ids=message_ids,
            user_id=resident_id,
            thread_id=thread_id,
            priority=priority,
        )

    async def close_topic(self, resident_id: int) -> int:
        return await self._add("close_topic", user_id=resident_id, priority=True)

    async def reopen_topic(self, resident_id: int) -> int:
        return await self._add("reopen_topic", user_id=resident_id, priority=True)

    async def pending(self) -> int:
        return await self.storage.outbox.pending_count()

    async def _add(self, kind: str, **fields: Any) -> int:
        if not self.enabled:
            raise RuntimeError("QUARTIERBOT_STAFF_CHAT is not set")
        item_id = await self.storage.outbox.add(kind, self.clock.now(), **fields)
        self.wake()
        return item_id

    # -- life cycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """After the database is open: learn whether the group has topics, restore the
        pacing window from what was sent in the last minute, and send what waits."""
        if not self.enabled:
            return
        now = self.clock.now()
        for sent_at, cost in await self.storage.outbox.sent_since(now - WINDOW):
            # Stored to the second; in the rare case that frees a slot a fraction of a
            # second early, Telegram's 429 is waited out by the rate limiter.
            self._sent.extend([sent_at] * cost)
        self._sent = collections.deque(sorted(self._sent))
        assert self.config.staff_chat is not None
        try:
            chat = await self.application.bot.get_chat(self.config.staff_chat)
            self._forum = bool(chat.is_forum)
        except TelegramError as exc:
            log.warning("cannot read the staff group %s: %s", self.config.staff_chat, exc)
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="staffpost")
        # A clock moved by hand (tests, the demo's fast-forward) may have freed the window.
        self.clock.on_jump(self.wake)
        self.scheduler.every(PURGE_JOB, now + timedelta(hours=1), timedelta(days=1), _purge)
        self.wake()

    async def stop(self) -> None:
        """Let the send in flight finish (so it is marked sent), then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._event.set()
        try:
            await asyncio.wait_for(task, 5.0)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        self._event.set()

    @property
    def idle(self) -> bool:
        """Nothing to send until woken again (a new row, a due moment, a clock jump), and
        no album still waiting for its last part. Tests wait for this, not for silence."""
        if self._task is None:
            return True
        now = time.monotonic()
        albums = any(now - seen < self.album_grace for seen in self._albums.values())
        return self._waiting and not self._event.is_set() and not albums

    async def _loop(self) -> None:
        while not self._stopping:
            self._waiting = True
            await self._event.wait()
            self._waiting = False
            self._event.clear()
            if self._stopping:
                return
            try:
                await self._drain()
            except Exception:
                log.exception("staff outbox: unexpected error; trying again in a minute")
                self._wake_at(self.clock.now() + WINDOW)

    def _wake_at(self, when: datetime) -> None:
        self.scheduler.at(WAKE_JOB, when, _wake)

    # -- pacing ---------------------------------------------------------------------------
    def _room(self, now: datetime, needed: int) -> None:
        while self._sent and self._sent[0] <= now - WINDOW:
            self._sent.popleft()
        if len(self._sent) + needed > self.per_minute:
            index = min(len(self._sent) + needed - self.per_minute, len(self._sent)) - 1
            self._wake_at(self._sent[index] + WINDOW)
            raise _Wait

    def _spend(self, now: datetime, n: int = 1) -> None:
        self._sent.extend([now] * n)

    # -- the worker -----------------------------------------------------------------------
    async def _drain(self) -> None:
        outbox = self.storage.outbox
        while not self._stopping:
            now = self.clock.now()
            item = await outbox.next_due(now)
            if item is None:
                due = await outbox.next_due_at()
                if due is not None:
                    self._wake_at(due)
                return
            parts = [item]
            if item.group_key is not None:
                seen = self._albums.get(item.group_key)
                if seen is not None:
                    remaining = self.album_grace - (time.monotonic() - seen)
                    if remaining > 0:
                        asyncio.get_running_loop().call_later(remaining, self.wake)
                        return
                    del self._albums[item.group_key]
                parts = await outbox.album(item) or [item]
            try:
                await self._send(parts, now)
            except _Wait:
                return

    async def _send(self, parts: list[OutboxItem], now: datetime) -> None:
        item = parts[0]
        ids = [p.id for p in parts]
        outbox = self.storage.outbox
        try:
            cost = await self._deliver(item, parts, now)
        except _Wait:
            raise
        except RetryAfter as exc:
            seconds = exc.retry_after
            delay = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
            log.warning("staff group: Telegram asks to wait %s", delay)
            await outbox.retry(item.id, now + delay)
            self._wake_at(now + delay)
            raise _Wait from exc
        except _LostTopic as exc:
            await self.storage.requests.lose_topic(exc.thread_id)
            if item.attempts + 1 >= MAX_ATTEMPTS:
                await outbox.fail(ids, "topic lost again and again")
                log.warning("staff outbox: item %s failed: topics keep disappearing", item.id)
            else:
                await outbox.retry(item.id, now)  # a new topic is opened at once
            return
        except BadRequest as exc:
            text = exc.message.lower()
            if _is_lost(exc) and item.user_id is None and item.thread_id is not None:
                # e.g. the answer to a command typed in a topic closed meanwhile
                await outbox.retarget(item.id)
                return
            if "not a forum" in text and self._forum is not False:
                self._forum = False
                await outbox.retry(item.id, now)
                return
            if any(m in text for m in _GONE_SOURCE):
                log.info("staff outbox: item %s can no longer be sent: %s", item.id, exc)
            else:
                log.warning("staff outbox: Telegram refused item %s: %s", item.id, exc)
            await outbox.fail(ids, exc.message)
            return
        except (Forbidden, NetworkError) as exc:
            # Bot removed from the group, or Telegram unreachable: keep it and try later.
            delay = timedelta(minutes=min(2 ** min(item.attempts, 6), 60))
            log.warning("staff outbox: cannot post (%s); retrying in %s", exc, delay)
            await outbox.retry(item.id, now + delay)
            self._wake_at(now + delay)
            raise _Wait from exc
        await outbox.done(ids, now, cost)

    async def _deliver(self, item: OutboxItem, parts: list[OutboxItem], now: datetime) -> int:
        """Send one item (or album); returns how many messages it took."""
        bot = self.application.bot
        staff = self.config.staff_chat
        assert staff is not None
        cost = 0
        thread_id = item.thread_id
        reply_to = item.reply_to
        user_id = item.user_id
        if item.kind in ("close_topic", "reopen_topic"):
            return await self._topic_state(item, now)
        if user_id is not None:
            if self.is_forum:
                thread_id, cost = await self._topic_for(user_id, now)
            else:
                self._room(now, 2)
                info = await self._info(user_id)
                header = await bot.send_message(staff, info.name)
                self._spend(now)
                cost += 1
                await self.storage.requests.map_message(header.message_id, user_id, None, now)
                reply_to = header.message_id
        if item.reply_to_resident_message is not None and user_id is not None:
            original = await self.storage.requests.staff_copy_of(
                user_id, item.reply_to_resident_message
            )
            reply_to = original if original is not None else reply_to
        self._room(now, 1)
        reply = (
            ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        try:
            sent = await self._post(item, parts, staff, thread_id, reply)
        except BadRequest as exc:
            if thread_id is not None and user_id is not None and _is_lost(exc):
                raise _LostTopic(thread_id) from exc
            raise
        finally:
            # A refused request still counts for Telegram's limit as far as we know.
            self._spend(now)
        cost += 1
        if user_id is not None:
            resident_ids: list[int | None] = [m for p in parts for m in p.message_ids]
            if item.kind == "text" or not resident_ids:
                resident_ids = [None]
            for index, message_id in enumerate(sent):
                resident_message = resident_ids[min(index, len(resident_ids) - 1)]
                await self.storage.requests.map_message(message_id, user_id, resident_message, now)
        return cost

    async def _post(
        self,
        item: OutboxItem,
        parts: list[OutboxItem],
        staff: int,
        thread_id: int | None,
        reply: ReplyParameters | None,
    ) -> list[int]:
        bot = self.application.bot
        if item.kind == "text":
            markup = _load_markup(item.markup, bot)
            message = await bot.send_message(
                staff,
                item.text or "…",
                message_thread_id=thread_id,
                reply_markup=markup,
                reply_parameters=reply,
            )
            return [message.message_id]
        assert item.from_chat_id is not None
        message_ids = sorted({m for p in parts for m in p.message_ids})
        if item.kind == "copy":
            if len(message_ids) == 1:
                copied: MessageId = await bot.copy_message(
                    staff,
                    item.from_chat_id,
                    message_ids[0],
                    message_thread_id=thread_id,
                    reply_parameters=reply,
                )
                return [copied.message_id]
            many = await bot.copy_messages(
                staff, item.from_chat_id, message_ids, message_thread_id=thread_id
            )
            return [m.message_id for m in many]
        if len(message_ids) == 1:
            forwarded = await bot.forward_message(
                staff, item.from_chat_id, message_ids[0], message_thread_id=thread_id
            )
            return [forwarded.message_id]
        many = await bot.forward_messages(
            staff, item.from_chat_id, message_ids, message_thread_id=thread_id
        )
        return [m.message_id for m in many]

    async def _info(self, user_id: int) -> TopicInfo:
        if self.topic_builder is None:
            return TopicInfo("💬")
        return await self.topic_builder(self.application, user_id)

    async def _topic_for(self, user_id: int, now: datetime) -> tuple[int, int]:
        """The resident's current topic (thread id), creating or reopening it; returns
        the thread and how many messages that took."""
        bot = self.application.bot
        staff = self.config.staff_chat
        assert staff is not None
        requests = self.storage.requests
        topic = await requests.current_topic(user_id)
        if topic is not None and not topic.closed:
            return topic.thread_id, 0
        if topic is not None:
            self._room(now, 2)
            try:
                await bot.reopen_forum_topic(staff, topic.thread_id)
            except BadRequest as exc:
                if "not_modified" not in exc.message.lower():
                    raise _LostTopic(topic.thread_id) from exc
            finally:
                self._spend(now)
            await requests.set_topic_closed(topic.thread_id, False)
            return topic.thread_id, 1
        info = await self._info(user_id)
        self._room(now, 3 if info.card else 2)
        created = await bot.create_forum_topic(staff, info.name[:128])
        self._spend(now)
        thread_id = created.message_thread_id
        await requests.add_topic(user_id, thread_id, info.name[:128], now)
        cost = 1
        if info.card:
            card = await bot.send_message(staff, info.card[:4096], message_thread_id=thread_id)
            self._spend(now)
            cost += 1
            await requests.map_message(card.message_id, user_id, None, now)
        return thread_id, cost

    async def _topic_state(self, item: OutboxItem, now: datetime) -> int:
        """Close or reopen the resident's topic along with their request."""
        if item.user_id is None or not self.is_forum:
            return 0
        requests = self.storage.requests
        topic = await requests.current_topic(item.user_id)
        closing = item.kind == "close_topic"
        if topic is None or topic.closed == closing:
            return 0
        staff = self.config.staff_chat
        assert staff is not None
        self._room(now, 1)
        try:
            if closing:
                await self.application.bot.close_forum_topic(staff, topic.thread_id)
            else:
                await self.application.bot.reopen_forum_topic(staff, topic.thread_id)
        except BadRequest as exc:
            text = exc.message.lower()
            if "not_modified" not in text:
                if _is_lost(exc):
                    await requests.lose_topic(topic.thread_id)
                    return 1
                raise
        finally:
            self._spend(now)
        await requests.set_topic_closed(topic.thread_id, closing)
        return 1


def _dump_markup(markup: InlineKeyboardMarkup | ForceReply | None) -> str | None:
    if markup is None:
        return None
    kind = "force_reply" if isinstance(markup, ForceReply) else "inline"
    return json.dumps({"kind": kind, "markup": markup.to_dict()})


def _load_markup(raw: str | None, bot: Any) -> InlineKeyboardMarkup | ForceReply | None:
    if not raw:
        return None
    stored = json.loads(raw)
    if stored["kind"] == "force_reply":
        return ForceReply.de_json(stored["markup"], bot)
    return InlineKeyboardMarkup.de_json(stored["markup"], bot)


class _LostTopic(Exception):
    def __init__(self, thread_id: int) -> None:
        super().__init__(thread_id)
        self.thread_id = thread_id


def _is_lost(exc: BadRequest) -> bool:
    text = exc.message.lower()
    return any(m in text for m in _LOST_TOPIC)


async def _wake(context: BotContext, data: Any) -> None:
    context.services.staffpost.wake()


async def _purge(context: BotContext, data: Any) -> None:
    """Sent rows only matter for the pacing window; failed ones for a day of diagnosis."""
    await context.storage.outbox.purge(context.clock.now() - KEEP_SENT)
