"""Conversations that wait for typed input: one way for every capability.

Where someone is in a conversation is a draft row in that capability's table
(``booking_drafts``, ``broadcast_drafts``), and every button carries enough to be judged
against it, statelessly: an old button can be tapped at any time and is answered from the
row. The one thing a button cannot carry is "the next message this person types *here* is
the answer". PTB decides synchronously which handler takes a message, before any database
query could run; so :class:`Flows` keeps exactly that fact for every :class:`Flow` — who
awaits input, in which chat and forum topic, since when — filled from the drafts tables at
start-up and told of each change as a draft is written. :class:`AwaitingInput` is the one
filter that asks it, so other messages go on to the modules meant for them.

Why not PTB's ``ConversationHandler``: its state is per (chat, user) and moves only through
its own handlers, while our buttons are stateless and versioned and may be tapped in any
state; its timeouts run on PTB's job queue in real time, not on our clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from telegram import Message
from telegram.ext import filters

from bot.clock import Clock
from storage import Storage

D = TypeVar("D")


@dataclass(frozen=True)
class Awaiting:
    """Someone whose draft waits for them to type something in one chat (and topic)."""

    user_id: int
    chat_id: int
    thread_id: int | None
    since: datetime


@dataclass(frozen=True)
class Flow(Generic[D]):
    """A kind of conversation, declared once by its capability (like a callback kind): how
    to read its drafts, and which draft waits for input where."""

    name: str
    awaiting: Callable[[D], Awaiting | None]
    """The draft's wait for typed input, or None if it waits for a button (or is done)."""
    drafts: Callable[[Storage], Awaitable[Iterable[D]]]
    """The open drafts, read at start-up."""
    window: timedelta | None = None
    """Typed input later than this after the question is not taken as an answer."""


def where(message: Message) -> tuple[int, int | None]:
    """The chat and forum topic a message was written in."""
    return message.chat.id, (message.message_thread_id if message.is_topic_message else None)


class Flows:
    """Who awaits typed input for which flow; one per bot, in ``Services``."""

    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock
        self._flows: dict[str, Flow[Any]] = {}
        self._waiting: dict[str, dict[int, Awaiting]] = {}

    def _add(self, flow: Flow[D]) -> dict[int, Awaiting]:
        known = self._flows.setdefault(flow.name, flow)
        if known is not flow:
            raise ValueError(f"two flows are called {flow.name!r}")
        return self._waiting.setdefault(flow.name, {})

    def track(self, flow: Flow[D], user_id: int, draft: D | None) -> None:
        """Call after every write of a draft (None: the draft ended or was replaced)."""
        waiting = self._add(flow)
        awaiting = flow.awaiting(draft) if draft is not None else None
        if awaiting is None:
            waiting.pop(user_id, None)
        else:
            waiting[user_id] = awaiting

    def awaits(self, flow: Flow[D], user_id: int, chat_id: int, thread_id: int | None) -> bool:
        awaiting = self._waiting.get(flow.name, {}).get(user_id)
        if awaiting is None or (awaiting.chat_id, awaiting.thread_id) != (chat_id, thread_id):
            return False
        return flow.window is None or self.clock.now() - awaiting.since <= flow.window

    def input_filter(self, flow: Flow[D]) -> AwaitingInput:
        """For the flow's ``MessageHandler``; declares the flow to :meth:`restore`."""
        self._add(flow)
        return AwaitingInput(self, flow)

    async def restore(self) -> None:
        """After a restart: read who awaits input from the drafts tables again."""
        for name, flow in self._flows.items():
            self._waiting[name] = {}
            for draft in await flow.drafts(self.storage):
                awaiting = flow.awaiting(draft)
                if awaiting is not None:
                    self._waiting[name][awaiting.user_id] = awaiting


class AwaitingInput(filters.MessageFilter):
    """Lets a message through only if its sender's flow awaits input in that chat and topic."""

    __slots__ = ("flow", "flows")

    def __init__(self, flows: Flows, flow: Flow[D]) -> None:
        super().__init__(name=f"AwaitingInput({flow.name})")
        self.flows = flows
        self.flow: Flow[Any] = flow

    def filter(self, message: Message) -> bool:
        if message.from_user is None:
            return False
        chat_id, thread_id = where(message)
        return self.flows.awaits(self.flow, message.from_user.id, chat_id, thread_id)
