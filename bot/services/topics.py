"""The resident's forum topic in the staff group: which one is current, when to open a new
one or reopen it, its name and card, and which staff message stands for which resident.

Decisions and bookkeeping live here; the Telegram calls are the staff lane's
(``bot.delivery.staff_lane``, which defines what it needs as ``TopicBook``): it asks
:meth:`Topics.plan` where a resident's post goes and reports back what it did. The name and the card are rendered by the staff capability, which
sets a :class:`TopicRenderer` on the service at build time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.delivery.staff_lane import (
    CARD_LIMIT,
    NAME_LIMIT,
    OpenTopic,
    ReopenTopic,
    TopicInfo,
    TopicPlan,
    UseTopic,
)
from storage import Storage
from storage.requests import StaffTopic

__all__ = [
    "OpenTopic",
    "ReopenTopic",
    "TopicInfo",
    "TopicPlan",
    "TopicRenderer",
    "Topics",
    "UseTopic",
]


class TopicRenderer(Protocol):
    async def topic_info(self, user_id: int) -> TopicInfo: ...


class Topics:
    def __init__(self, storage: Storage, renderer: TopicRenderer | None = None) -> None:
        self.storage = storage
        self.renderer = renderer

    async def info(self, user_id: int) -> TopicInfo:
        if self.renderer is None:
            return TopicInfo("💬")
        return await self.renderer.topic_info(user_id)

    async def header(self, user_id: int) -> str:
        return (await self.info(user_id)).name

    async def current(self, user_id: int) -> StaffTopic | None:
        return await self.storage.requests.current_topic(user_id)

    async def plan(self, user_id: int) -> TopicPlan:
        """Where the resident's next post goes: their open topic, their closed one reopened,
        or a new one (none yet, or staff deleted it)."""
        topic = await self.current(user_id)
        if topic is not None:
            return ReopenTopic(topic.thread_id) if topic.closed else UseTopic(topic.thread_id)
        info = await self.info(user_id)
        card = info.card[:CARD_LIMIT] if info.card else None
        return OpenTopic(info.name[:NAME_LIMIT], card)

    async def opened(self, user_id: int, thread_id: int, name: str, now: datetime) -> None:
        await self.storage.requests.add_topic(user_id, thread_id, name, now)

    async def card_posted(self, thread_id: int, message_id: int) -> None:
        await self.storage.requests.set_topic_card(thread_id, message_id)

    async def renamed(self, thread_id: int, name: str) -> None:
        await self.storage.requests.rename_topic(thread_id, name)

    async def set_closed(self, thread_id: int, closed: bool) -> None:
        await self.storage.requests.set_topic_closed(thread_id, closed)

    async def lost(self, thread_id: int) -> None:
        """Deleted or unusable: the resident's next post opens a new topic."""
        await self.storage.requests.lose_topic(thread_id)

    async def posted(
        self, staff_message_id: int, user_id: int, resident_message_id: int | None, now: datetime
    ) -> None:
        """A message in the staff group stands for this resident (staff reply to it)."""
        await self.storage.requests.map_message(staff_message_id, user_id, resident_message_id, now)

    async def staff_copy_of(self, user_id: int, resident_message_id: int) -> int | None:
        return await self.storage.requests.staff_copy_of(user_id, resident_message_id)

    async def by_thread(self, thread_id: int) -> StaffTopic | None:
        return await self.storage.requests.topic_by_thread(thread_id)

    async def resident_of(self, thread_id: int | None, replied_to: int | None) -> int | None:
        """The resident a staff message is about: by the topic it is written in
        (``thread_id``, for a topic message), or by the copied message it replies to
        (``replied_to``, groups without topics)."""
        if thread_id is not None:
            topic = await self.by_thread(thread_id)
            if topic is not None:
                return topic.user_id
        if replied_to is not None:
            return await self.storage.requests.resident_of(replied_to)
        return None

    async def forget_before(self, before: datetime) -> int:
        """Forget which staff message stood for whom (staff can no longer answer by
        replying to those)."""
        return await self.storage.requests.purge_map(before)
