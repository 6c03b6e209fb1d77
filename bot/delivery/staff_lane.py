"""The staff lane: everything the bot posts into the staff group, durable and paced.

Telegram allows about 20 messages a minute into one group and answers more with 429. A
resident's burst (an album, a flood of voice messages, many residents at once) must reach
staff late rather than never, and a restart must not lose what was still waiting. So every
post into the staff group is a row in SQLite first; the lane sends the rows in order, at
most ``per_minute`` per minute of *clock* time (the injected clock, so tests move time
instead of sleeping), and marks them sent. Resident messages are stored as references
(chat id + message ids, copied by Telegram), never their content.

Posts for a resident go to their forum topic, which the lane's :class:`TopicBook` decides
on (their open topic, the closed one reopened, or a new one with a card; implemented by
``bot.services.topics``, above this layer); the lane makes the Telegram calls and reports
back. In a group without topics, each resident post
is preceded by a header line that staff reply to.

Usage from any handler::

    await context.services.staffpost.send_text(text, thread_id=None, markup=None)
    await context.services.staffpost.copy(from_chat_id, [message_id], resident_id=user_id)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from telegram import Bot, ForceReply, InlineKeyboardMarkup, MessageId, ReplyParameters
from telegram.error import TelegramError

from bot.clock import Clock
from bot.config import Config
from bot.delivery.errors import Kind, classify
from bot.delivery.lane import Lane
from bot.delivery.pacing import GroupWindow
from storage import Storage
from storage.mentions import Mention, Redaction
from storage.requests import OutboxItem, StaffTopic

log = logging.getLogger(__name__)

WINDOW = GroupWindow.SPAN
KEEP_SENT = timedelta(days=1)
FIRST_PURGE = timedelta(hours=1)
MAX_ATTEMPTS = 8
# Album parts arrive as separate updates within moments; wait this long (real seconds)
# after the last part so the album is copied as one.
ALBUM_GRACE = 1.0
DELETE_BATCH = 100
"""deleteMessages takes 1-100 message ids."""
MEMORY_SIZE = 1000
"""Texts held in memory for posts that must not be stored (translations, transcripts)."""
DELETABLE = timedelta(hours=47)
"""deleteMessage: "A message can only be deleted if it was sent less than 48 hours ago";
an hour of margin. Older posts are edited instead (a bot may edit its own at any age)."""


# -- what the lane needs to know about topics ---------------------------------------------------
@dataclass(frozen=True)
class UseTopic:
    thread_id: int


@dataclass(frozen=True)
class ReopenTopic:
    thread_id: int


@dataclass(frozen=True)
class OpenTopic:
    name: str
    card: str | None


TopicPlan = UseTopic | ReopenTopic | OpenTopic


@dataclass(frozen=True)
class TopicInfo:
    """What staff see of a resident: the topic (or header) name and the card that opens a
    new topic. Never a phone number or a Telegram id."""

    name: str
    card: str | None = None


NAME_LIMIT = 128
CARD_LIMIT = 4096


class TopicBook(Protocol):
    """Decisions and bookkeeping about residents' topics (``bot.services.topics``)."""

    async def plan(self, user_id: int) -> TopicPlan:
        """Where the resident's next post goes."""
        ...

    async def header(self, user_id: int) -> str:
        """The line that stands for the resident in a group without topics."""
        ...

    async def current(self, user_id: int) -> StaffTopic | None: ...

    async def opened(self, user_id: int, thread_id: int, name: str, now: datetime) -> None: ...

    async def card_posted(self, thread_id: int, message_id: int) -> None: ...

    async def renamed(self, thread_id: int, name: str) -> None: ...

    async def info(self, user_id: int) -> TopicInfo:
        """The resident's topic name and card as they read now."""
        ...

    async def set_closed(self, thread_id: int, closed: bool) -> None: ...

    async def lost(self, thread_id: int) -> None: ...

    async def posted(
        self, staff_message_id: int, user_id: int, resident_message_id: int | None, now: datetime
    ) -> None: ...

    async def staff_copy_of(self, user_id: int, resident_message_id: int) -> int | None: ...


class Redactor(Protocol):
    """What a post naming an erased (or expired) resident says once edited down; each
    capability renders its own kinds of post (:meth:`StaffLane.redacts`, at build time)."""

    async def render(self, redaction: Redaction) -> tuple[str, InlineKeyboardMarkup | None]:
        """The appointments' references only; or, for a post listing several residents,
        the others' lines with references in place of the ones gone."""
        ...


class _References:
    """Without a renderer installed: the bare appointment numbers."""

    async def render(self, redaction: Redaction) -> tuple[str, InlineKeyboardMarkup | None]:
        return " · ".join(f"#{b.booking_id}" for b in redaction.bookings), None


class _Wait(Exception):
    """The pacing window is full (or Telegram asks to wait): stop here; the lane is woken
    when there is room."""


class _LostTopic(Exception):
    def __init__(self, thread_id: int) -> None:
        super().__init__(thread_id)
        self.thread_id = thread_id


class StaffLane(Lane):
    name = "staff-lane"

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        clock: Clock,
        config: Config,
        topics: TopicBook,
        *,
        per_minute: int | None = None,
    ) -> None:
        super().__init__(bot, clock)
        self.storage = storage
        self.config = config
        self.topics = topics
        self.window = GroupWindow(per_minute or config.staff_per_minute)
        self.album_grace = ALBUM_GRACE
        self._forum: bool | None = None
        self._albums: dict[str, float] = {}
        self._next_purge: datetime | None = None
        # Held while one item is being sent (see :meth:`paused`).
        self._sending = asyncio.Lock()
        # key -> text of a post whose text must never reach SQLite; bounded, and lost
        # (with the post) in a restart.
        self._memory: OrderedDict[str, str] = OrderedDict()
        self._adding: set[str] = set()
        """Memo keys whose outbox row is being written (not yet in the outbox)."""
        self._html: set[str] = set()
        """Memo keys whose text is HTML (a letter's text in an expandable block quote)."""
        self._blocked_until: datetime | None = None
        """The first row waits for room in the window until then; rows added behind it
        (not priority) cannot go first, so waking for them need not look at the rows."""
        self._redactors: dict[str, Redactor] = {}

    # -- the API for handlers -----------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.config.staff_chat is not None

    @property
    def idle(self) -> bool:
        """Also not idle while an album may still get parts (it is sent after the grace)."""
        now = self.clock.monotonic()
        return super().idle and all(now - t >= self.album_grace for t in self._albums.values())

    @property
    def chat_id(self) -> int | None:
        return self.config.staff_chat

    @property
    def per_minute(self) -> int:
        return self.window.per_minute

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
        reply_to_resident_message: int | None = None,
        priority: bool = False,
        mentions: Sequence[Mention] = (),
    ) -> int:
        """Post the bot's own text: into ``thread_id``, or into the topic of
        ``resident_id`` (as a reply to the copy of ``reply_to_resident_message``, if given).
        ``priority`` is for answers to staff commands (still paced). ``mentions``: the
        residents the text names outside their topic (recorded once it is posted, so that
        their erasure deletes it or edits it down); a notice of an appointment takes the
        buttons off its earlier notices (see :meth:`_clear_buttons`)."""
        return await self._add(
            "text",
            text=text[:4096],
            markup=_dump_markup(markup),
            thread_id=thread_id,
            user_id=resident_id,
            reply_to=reply_to,
            reply_to_resident_message=reply_to_resident_message,
            priority=priority,
            mentions=mentions,
        )

    async def send_from_memory(
        self,
        text: str,
        *,
        thread_id: int | None = None,
        resident_id: int | None = None,
        reply_to: int | None = None,
        reply_to_resident_message: int | None = None,
        markup: InlineKeyboardMarkup | ForceReply | None = None,
        priority: bool = False,
        mentions: Sequence[Mention] = (),
        html: bool = False,
    ) -> int:
        """Post a text that must not be stored (a machine translation, a transcript of what
        a resident said): the row in the outbox carries only a random key, the text stays
        in this process. A restart before it is sent loses it, and it is then not posted.
        ``html``: the text is Telegram HTML, and the caller keeps it within 4096 characters."""
        key = uuid.uuid4().hex
        self._memory[key] = text if html else text[:4096]
        if html:
            self._html.add(key)
        while len(self._memory) > MEMORY_SIZE:
            self._html.discard(self._memory.popitem(last=False)[0])
        self._adding.add(key)
        try:
            return await self._add(
                "text",
                memo=key,
                thread_id=thread_id,
                user_id=resident_id,
                reply_to=reply_to,
                reply_to_resident_message=reply_to_resident_message,
                markup=_dump_markup(markup),
                priority=priority,
                mentions=mentions,
            )
        finally:
            self._adding.discard(key)

    async def drop_orphan_memos(self) -> int:
        """Erasure: the texts held in memory for outbox rows that are gone (deleted with
        the resident's rows, or already settled) go too. The memo keys carry no resident,
        so the outbox decides which texts are still waited for. Run while :meth:`paused`,
        so no item is being sent meanwhile."""
        waiting = await self.storage.outbox.pending_memos()
        gone = [k for k in self._memory if k not in waiting and k not in self._adding]
        for key in gone:
            del self._memory[key]
            self._html.discard(key)
        return len(gone)

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
            self._albums[group_key] = self.clock.monotonic()
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

    async def retitle_topic(self, resident_id: int) -> int:
        """The resident's topic name and card are rendered again (their language changed)."""
        return await self._add("retitle_topic", user_id=resident_id, priority=True)

    async def delete_topic(self, thread_id: int, *, if_refused: str) -> int:
        """Delete a forum topic with all its messages; if Telegram refuses (the bot lacks
        the right to delete messages), ``if_refused`` is posted into the general chat."""
        return await self._add("delete_topic", thread_id=thread_id, text=if_refused, priority=True)

    async def delete_copies(self, message_ids: Sequence[int]) -> list[int]:
        """Delete messages the bot posted (deleteMessages, at most 100 per call; Telegram
        skips what it cannot delete, e.g. messages older than 48 hours)."""
        ids = sorted(set(message_ids))
        return [
            await self._add("delete_messages", message_ids=ids[i : i + DELETE_BATCH], priority=True)
            for i in range(0, len(ids), DELETE_BATCH)
        ]

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """No post is half-sent while this is held: erasing a resident's rows in here means
        no post of theirs opens a topic (or maps a copy) after they are gone."""
        async with self._sending:
            yield

    async def redact_copies(
        self,
        copies: Sequence[tuple[int, datetime]],
        why: Literal["erased", "expired"],
        refs: Sequence[str],
    ) -> None:
        """Edit copies and header lines (group without topics) down to the requests'
        references: Telegram no longer lets the bot delete them (48 hours)."""
        await self.storage.mentions.plan_copies(copies, why, refs, self.clock.now())
        self.wake()

    def redacts(self, kinds: Sequence[str], redactor: Redactor) -> None:
        """At build time: a capability renders the edited-down form of its kinds of post."""
        for kind in kinds:
            self._redactors[kind] = redactor

    async def pending(self) -> int:
        return await self.storage.outbox.pending_count() + await self.storage.mentions.pending()

    async def _add(self, kind: str, **fields: Any) -> int:
        if not self.enabled:
            raise RuntimeError("QUARTIERBOT_STAFF_CHAT is not set")
        item_id = await self.storage.outbox.add(kind, self.clock.now(), **fields)
        if fields.get("priority") or kind not in _QUEUED_BEHIND:
            self._blocked_until = None  # it may go before the waiting row
        self.wake()
        return item_id

    # -- the lane -------------------------------------------------------------------------------
    async def recover(self) -> None:
        """Learn whether the group has topics, and restore the pacing window from what was
        sent in the last minute (stored to the second; in the rare case that frees a slot a
        fraction of a second early, Telegram's 429 is waited out by the rate limiter)."""
        now = self.clock.now()
        self.window.restore(await self.storage.outbox.sent_since(now - WINDOW))
        assert self.config.staff_chat is not None
        try:
            chat = await self.bot.get_chat(self.config.staff_chat)
            self._forum = bool(chat.is_forum)
        except TelegramError as exc:
            log.warning("cannot read the staff group %s: %s", self.config.staff_chat, exc)
        self._next_purge = now + FIRST_PURGE
        self._blocked_until = None

    async def after_crash(self) -> None:
        self.wake_at(self.clock.now() + WINDOW)

    async def drain(self) -> None:
        await self._purge()
        if self._blocked_until is not None:
            if self.clock.now() < self._blocked_until:
                return  # its alarm is set (``_room``)
            self._blocked_until = None
        try:
            await self._redactions()
        except _Wait:
            return
        outbox = self.storage.outbox
        while not self.stopping:
            now = self.clock.now()
            item = await outbox.next_due(now)
            if item is None:
                due = await outbox.next_due_at()
                if due is not None:
                    self.wake_at(due)
                return
            parts = [item]
            if item.group_key is not None:
                seen = self._albums.get(item.group_key)
                if seen is not None:
                    remaining = self.album_grace - (self.clock.monotonic() - seen)
                    if remaining > 0:
                        self.wake_in(remaining)
                        return
                    del self._albums[item.group_key]
                parts = await outbox.album(item) or [item]
            if item.memo is not None and item.memo not in self._memory:
                # Its text lived in memory only and did not survive a restart.
                log.info("staff outbox: item %s was held in memory only; not posted", item.id)
                await outbox.done([item.id], now, 0)
                continue
            try:
                async with self._sending:
                    if await outbox.still_pending(item.id):  # not erased meanwhile
                        await self._send(parts, now)
            except _Wait:
                return
            if item.memo is not None and (await outbox.is_settled(item.id)):
                self._memory.pop(item.memo, None)
                self._html.discard(item.memo)

    async def _purge(self) -> None:
        """Sent rows only matter for the pacing window; failed ones for a day of diagnosis."""
        now = self.clock.now()
        if self._next_purge is None or now < self._next_purge:
            if self._next_purge is not None:
                self.wake_at(self._next_purge)
            return
        await self.storage.outbox.purge(now - KEEP_SENT)
        self._next_purge = now + timedelta(days=1)
        self.wake_at(self._next_purge)

    # -- pacing ---------------------------------------------------------------------------------
    def _room(self, now: datetime, needed: int) -> None:
        at = self.window.room_at(now, needed)
        if at is not None:
            self.wake_at(at)
            self._blocked_until = at
            raise _Wait

    def _spend(self, now: datetime, n: int = 1) -> None:
        self.window.spend(now, n)

    # -- one item -------------------------------------------------------------------------------
    async def _send(self, parts: list[OutboxItem], now: datetime) -> None:
        item = parts[0]
        ids = [p.id for p in parts]
        outbox = self.storage.outbox
        try:
            cost = await self._deliver(item, parts, now)
        except _Wait:
            raise
        except _LostTopic as exc:
            await self.topics.lost(exc.thread_id)
            if item.attempts + 1 >= MAX_ATTEMPTS:
                await outbox.fail(ids, "topic lost again and again")
                log.warning("staff outbox: item %s failed: topics keep disappearing", item.id)
            else:
                await outbox.retry(item.id, now)  # a new topic is opened at once
            return
        except Exception as exc:
            failure = classify(exc)
            if failure.kind is Kind.RETRY_AFTER:
                delay = timedelta(seconds=failure.retry_after)
                self.errors.warning("429", "staff group: Telegram asks to wait %s", delay)
                await outbox.retry(item.id, now + delay)
                self.wake_at(now + delay)
                raise _Wait from exc
            if failure.refused:
                lost = failure.kind is Kind.LOST_TOPIC
                if lost and item.user_id is None and item.thread_id is not None:
                    # e.g. the answer to a command typed in a topic closed meanwhile
                    await outbox.retarget(item.id)
                    return
                if failure.kind is Kind.NOT_A_FORUM and self._forum is not False:
                    self._forum = False
                    await outbox.retry(item.id, now)
                    return
                if failure.kind in (Kind.SOURCE_GONE, Kind.UNCOPYABLE):
                    log.info("staff outbox: item %s can no longer be sent: %s", item.id, exc)
                else:
                    log.warning("staff outbox: Telegram refused item %s: %s", item.id, exc)
                await outbox.fail(ids, failure.message)
                return
            if failure.transient or failure.unreachable:
                # Bot removed from the group, or Telegram unreachable: keep it, try later.
                delay = timedelta(minutes=min(2 ** min(item.attempts, 6), 60))
                self.errors.warning(
                    "transient", "staff outbox: cannot post (%s); retrying in %s", exc, delay
                )
                await outbox.retry(item.id, now + delay)
                self.wake_at(now + delay)
                raise _Wait from exc
            raise
        await outbox.done(ids, now, cost)

    async def _deliver(self, item: OutboxItem, parts: list[OutboxItem], now: datetime) -> int:
        """Send one item (or album); returns how many messages it took."""
        staff = self.config.staff_chat
        assert staff is not None
        cost = 0
        thread_id = item.thread_id
        reply_to = item.reply_to
        user_id = item.user_id
        if item.kind in ("close_topic", "reopen_topic"):
            return await self._topic_state(item, now)
        if item.kind == "delete_topic":
            return await self._delete_topic(item, now)
        if item.kind == "retitle_topic":
            return await self._retitle(item, now)
        if item.kind == "delete_messages":
            self._room(now, 1)
            try:
                await self.bot.delete_messages(staff, list(item.message_ids))
            finally:
                self._spend(now)
            return 1
        if user_id is not None:
            if self.is_forum:
                thread_id, cost = await self._topic_for(user_id, now)
            else:
                self._room(now, 2)
                name = await self.topics.header(user_id)
                header = await self.bot.send_message(staff, name)
                self._spend(now)
                cost += 1
                await self.topics.posted(header.message_id, user_id, None, now)
                reply_to = header.message_id
        cost += await self._clear_buttons(item, now)
        if item.reply_to_resident_message is not None and user_id is not None:
            original = await self.topics.staff_copy_of(user_id, item.reply_to_resident_message)
            reply_to = original if original is not None else reply_to
        self._room(now, 1)
        reply = (
            ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        try:
            sent = await self._post(item, parts, staff, thread_id, reply)
        except TelegramError as exc:
            lost = classify(exc).kind is Kind.LOST_TOPIC
            if thread_id is not None and user_id is not None and lost:
                raise _LostTopic(thread_id) from exc
            raise
        finally:
            # A refused request still counts for Telegram's limit as far as we know.
            self._spend(now)
        cost += 1
        if sent:  # whom it names, for their erasure (and whether it has buttons to take off)
            await self.storage.mentions.posted(
                item.id, sent[0], now, buttons=item.markup is not None
            )
        if user_id is not None:
            resident_ids: list[int | None] = [m for p in parts for m in p.message_ids]
            if item.kind == "text" or not resident_ids:
                resident_ids = [None]
            for index, message_id in enumerate(sent):
                resident_message = resident_ids[min(index, len(resident_ids) - 1)]
                await self.topics.posted(message_id, user_id, resident_message, now)
        return cost

    async def _post(
        self,
        item: OutboxItem,
        parts: list[OutboxItem],
        staff: int,
        thread_id: int | None,
        reply: ReplyParameters | None,
    ) -> list[int]:
        bot = self.bot
        if item.kind == "text":
            markup = _load_markup(item.markup, bot)
            text = self._memory.get(item.memo) if item.memo is not None else item.text
            message = await bot.send_message(
                staff,
                text or "…",
                message_thread_id=thread_id,
                reply_markup=markup,
                reply_parameters=reply,
                parse_mode="HTML" if item.memo in self._html else None,
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

    async def _clear_buttons(self, item: OutboxItem, now: datetime) -> int:
        """A later notice of an appointment (moved, cancelled, closed) takes the buttons off
        its earlier notices, one paced edit each, before it is posted. A message already
        without buttons, or gone, is simply forgotten; each done one is recorded at once, so
        a wait for room in the window resumes with the rest."""
        staff = self.config.staff_chat
        assert staff is not None
        mentions = self.storage.mentions
        edits = 0
        for message_id in await mentions.superseded(item.id):
            self._room(now, 1)
            edits += 1
            try:
                await self.bot.edit_message_reply_markup(staff, message_id, reply_markup=None)
            except TelegramError as exc:
                failure = classify(exc)
                if failure.kind is not Kind.NOT_MODIFIED and not failure.refused:
                    raise
            finally:
                self._spend(now)
            await mentions.buttons_gone(message_id)
        return edits

    async def _topic_for(self, user_id: int, now: datetime) -> tuple[int, int]:
        """The resident's current topic (thread id), creating or reopening it as the topics
        service plans; returns the thread and how many messages that took."""
        staff = self.config.staff_chat
        assert staff is not None
        plan = await self.topics.plan(user_id)
        if isinstance(plan, UseTopic):
            return plan.thread_id, 0
        if isinstance(plan, ReopenTopic):
            self._room(now, 2)
            try:
                await self.bot.reopen_forum_topic(staff, plan.thread_id)
            except TelegramError as exc:
                failure = classify(exc)
                if not failure.refused:
                    raise
                if failure.kind is not Kind.NOT_MODIFIED:
                    raise _LostTopic(plan.thread_id) from exc
            finally:
                self._spend(now)
            await self.topics.set_closed(plan.thread_id, False)
            return plan.thread_id, 1
        assert isinstance(plan, OpenTopic)
        self._room(now, 3 if plan.card else 2)
        created = await self.bot.create_forum_topic(staff, plan.name)
        self._spend(now)
        thread_id = created.message_thread_id
        await self.topics.opened(user_id, thread_id, plan.name, now)
        cost = 1
        if plan.card:
            card = await self.bot.send_message(staff, plan.card, message_thread_id=thread_id)
            self._spend(now)
            cost += 1
            await self.topics.posted(card.message_id, user_id, None, now)
            await self.topics.card_posted(thread_id, card.message_id)
        return thread_id, cost

    async def _retitle(self, item: OutboxItem, now: datetime) -> int:
        """Rename the resident's current topic and edit its card to read as now; a topic
        staff deleted is forgotten, a card staff deleted stays gone."""
        if item.user_id is None or not self.is_forum:
            return 0
        topic = await self.topics.current(item.user_id)
        if topic is None:
            return 0
        staff = self.config.staff_chat
        assert staff is not None
        info = await self.topics.info(item.user_id)
        name = info.name[:NAME_LIMIT]
        cost = 0
        if name != topic.name:
            renamed = await self._topic_call(
                topic.thread_id,
                now,
                lambda: self.bot.edit_forum_topic(staff, topic.thread_id, name=name),
            )
            if not renamed:
                return 1
            cost += 1
            await self.topics.renamed(topic.thread_id, name)
        if topic.card_message_id is not None and info.card:
            self._room(now, 1)
            try:
                await self.bot.edit_message_text(
                    info.card[:CARD_LIMIT], staff, topic.card_message_id
                )
            except TelegramError as exc:
                if not classify(exc).refused:  # not modified, or deleted by staff
                    raise
            finally:
                self._spend(now)
            cost += 1
        return cost

    async def _topic_state(self, item: OutboxItem, now: datetime) -> int:
        """Close or reopen the resident's topic along with their request."""
        if item.user_id is None or not self.is_forum:
            return 0
        topic = await self.topics.current(item.user_id)
        closing = item.kind == "close_topic"
        if topic is None or topic.closed == closing:
            return 0
        staff = self.config.staff_chat
        assert staff is not None
        change = self.bot.close_forum_topic if closing else self.bot.reopen_forum_topic
        if await self._topic_call(topic.thread_id, now, lambda: change(staff, topic.thread_id)):
            await self.topics.set_closed(topic.thread_id, closing)
        return 1

    async def _topic_call(
        self, thread_id: int, now: datetime, call: Callable[[], Awaitable[object]]
    ) -> bool:
        """One paced call about a resident's topic; "not modified" is the goal reached.
        False when the topic is gone (staff deleted it): it is forgotten, and the
        resident's next post opens a new one."""
        self._room(now, 1)
        try:
            await call()
        except TelegramError as exc:
            failure = classify(exc)
            if failure.kind is Kind.LOST_TOPIC:
                await self.topics.lost(thread_id)
                return False
            if failure.kind is not Kind.NOT_MODIFIED:
                raise
        finally:
            self._spend(now)
        return True

    async def _delete_topic(self, item: OutboxItem, now: datetime) -> int:
        staff = self.config.staff_chat
        assert staff is not None and item.thread_id is not None
        self._room(now, 1)
        try:
            await self.bot.delete_forum_topic(staff, item.thread_id)
        except TelegramError as exc:
            failure = classify(exc)
            if failure.kind is Kind.LOST_TOPIC:
                return 1  # gone already
            if not (failure.refused or failure.kind is Kind.FORBIDDEN):
                raise
            log.warning("cannot delete topic %s in the staff group: %s", item.thread_id, exc)
            if item.text:
                await self._add("text", text=item.text, priority=True)
        finally:
            self._spend(now)
        return 1

    # -- erasure: posts naming a resident are deleted or edited down ---------------------------
    async def _redactions(self) -> None:
        """Before any new post (they are what an erasure promised): each post that names an
        erased or expired resident is deleted while Telegram lets the bot (48 hours), else
        edited down to the appointments' references (a bot may edit its own posts at any
        age). The plan is in SQLite (``staff_redactions``): a restart resumes it."""
        mentions = self.storage.mentions
        while not self.stopping:
            now = self.clock.now()
            redaction = await mentions.next_redaction(now)
            if redaction is None:
                due = await mentions.next_redaction_at()
                if due is not None:
                    self.wake_at(due)
                return
            async with self._sending:
                try:
                    await self._redact(redaction, now)
                except _Wait:
                    raise
                except Exception as exc:
                    failure = classify(exc)
                    if failure.transient or failure.unreachable:
                        delay = (
                            timedelta(seconds=failure.retry_after)
                            if failure.kind is Kind.RETRY_AFTER
                            else timedelta(minutes=min(2 ** min(redaction.attempts, 6), 60))
                        )
                        self.errors.warning(
                            "redact", "staff group: cannot redact a post (%s); retrying", exc
                        )
                        await mentions.retry(redaction.id, now + delay)
                        self.wake_at(now + delay)
                        raise _Wait from exc
                    if not failure.refused:
                        raise
                    log.warning(
                        "staff group: cannot redact message %s: %s", redaction.message_id, exc
                    )
                await mentions.redacted(redaction.id)

    async def _redact(self, redaction: Redaction, now: datetime) -> None:
        staff = self.config.staff_chat
        assert staff is not None
        if redaction.whole and now - redaction.posted_at < DELETABLE:
            self._room(now, 1)
            try:  # one by one (not deleteMessages, which skips silently): a refusal is seen
                await self.bot.delete_message(staff, redaction.message_id)
                return
            except TelegramError as exc:
                kind = classify(exc).kind
                if kind is Kind.MESSAGE_GONE:
                    return  # staff deleted it already
                if kind is not Kind.UNDELETABLE:
                    raise
            finally:
                self._spend(now)
        self._room(now, 1)
        redactor = self._redactors.get(redaction.kind, _References())
        text, markup = await redactor.render(redaction)
        try:
            try:
                await self.bot.edit_message_text(
                    text[:4096], staff, redaction.message_id, reply_markup=markup
                )
            except TelegramError as exc:
                if classify(exc).kind is not Kind.NO_TEXT:
                    raise
                # A copied photo or voice message: its caption goes (the media stays; staff
                # were given its link to delete it by hand).
                await self.bot.edit_message_caption(
                    staff, redaction.message_id, caption=text[:1024], reply_markup=markup
                )
        except TelegramError as exc:
            if classify(exc).kind not in (Kind.MESSAGE_GONE, Kind.NOT_MODIFIED):
                raise
        finally:
            self._spend(now)


_QUEUED_BEHIND = frozenset({"text", "copy", "forward"})
"""Kinds that always need room in the window; not priority, they queue behind a waiting row."""


def _dump_markup(markup: InlineKeyboardMarkup | ForceReply | None) -> str | None:
    if markup is None:
        return None
    kind = "force_reply" if isinstance(markup, ForceReply) else "inline"
    return json.dumps({"kind": kind, "markup": markup.to_dict()})


def _load_markup(raw: str | None, bot: Bot) -> InlineKeyboardMarkup | ForceReply | None:
    if not raw:
        return None
    stored = json.loads(raw)
    if stored["kind"] == "force_reply":
        return ForceReply.de_json(stored["markup"], bot)
    return InlineKeyboardMarkup.de_json(stored["markup"], bot)
