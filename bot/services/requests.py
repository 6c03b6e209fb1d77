"""Requests to the counsellors, as staff handle them: which resident a staff message or
command is about, claiming, closing and reopening a request (and its forum topic with it),
bans, who answered, the audit trail of those actions, and the open queue as data.

The resident's side (a question arriving, the receipt) is in ``handlers.questions``; where a
resident's post lands in the staff group is :mod:`bot.services.topics`. Nothing here builds
a text: the staff capability renders what these methods return.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, Protocol

from bot.clock import Clock
from bot.services.topics import Topics
from storage import Resident, Storage
from storage.bookings import Booking
from storage.requests import QueueEntry, Request

KEEP_MAP = timedelta(days=60)
"""How long staff can still answer by replying to an old copied message."""

AuditAction = Literal["claim", "close", "reopen", "ban", "unban"]


class TopicStates(Protocol):
    """What the service needs of the staff lane (``bot.delivery.staff_lane.StaffLane``):
    the resident's topic follows their request, closed and reopened in posting order."""

    async def close_topic(self, resident_id: int) -> int: ...

    async def reopen_topic(self, resident_id: int) -> int: ...

    async def retitle_topic(self, resident_id: int) -> int: ...


@dataclass(frozen=True)
class Target:
    """The resident a staff command is about, and their latest request (if any)."""

    user_id: int
    request: Request | None


@dataclass(frozen=True)
class CardFacts:
    """What the card opening a resident's topic shows (rendered by the staff capability)."""

    resident: Resident | None
    request: Request | None
    """The latest request: its reference names the topic."""
    previous: list[Request]
    """Closed requests before it, newest first."""
    appointments: list[Booking]
    """Appointments still ahead."""


class RequestsService:
    def __init__(
        self, *, storage: Storage, clock: Clock, topics: Topics, staff: TopicStates
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.topics = topics
        self.staff = staff

    async def language_changed(self, user_id: int) -> None:
        """The resident chose another language: their topic's name and card follow, so
        staff read the same language in the topic as in /queue."""
        if await self.topics.current(user_id) is not None:
            await self.staff.retitle_topic(user_id)

    # -- whom a staff message is about ---------------------------------------------------------
    async def resident_of(self, thread_id: int | None, replied_to: int | None) -> int | None:
        """The resident of the topic a staff message is written in (``thread_id``, for a
        topic message), or of the copied message it replies to (groups without topics)."""
        return await self.topics.resident_of(thread_id, replied_to)

    async def by_ref(self, ref: str) -> Target | None:
        """What staff type ("#A1B2"): the resident of that request, with their latest one."""
        request = await self.storage.requests.by_ref(ref)
        if request is None:
            return None
        return Target(request.user_id, await self.storage.requests.latest(request.user_id))

    async def of_message(self, thread_id: int | None, replied_to: int | None) -> Target | None:
        """The resident and latest request a command written in a topic (or as a reply)
        is about."""
        user_id = await self.resident_of(thread_id, replied_to)
        if user_id is None:
            return None
        return Target(user_id, await self.storage.requests.latest(user_id))

    # -- what staff do -------------------------------------------------------------------------
    async def claim(self, target: Target, staff_id: int, staff_name: str) -> Request | None:
        """``staff_name`` takes care of the latest request; None if there is none open."""
        if target.request is None:
            return None
        claimed = await self.storage.requests.claim(target.request.id, staff_id, staff_name)
        if claimed is not None:
            await self._audit(staff_id, "claim", target.user_id, claimed.ref)
        return claimed

    async def close(
        self,
        target: Target,
        staff_id: int,
        *,
        before_topic_closes: Callable[[Request], Awaitable[None]] | None = None,
    ) -> Request | None:
        """Close the latest request and then the resident's topic; their next message opens
        a new request. ``before_topic_closes`` posts the confirmation while the topic is
        still open. None if it was closed already."""
        if target.request is None:
            return None
        closed = await self.storage.requests.close(target.request.id, self.clock.now())
        if closed is None:
            return None
        await self._audit(staff_id, "close", target.user_id, closed.ref)
        if before_topic_closes is not None:
            await before_topic_closes(closed)
        await self.staff.close_topic(target.user_id)
        return closed

    async def close_quiet(
        self, quiet: timedelta, note: Callable[[Request], Awaitable[None]]
    ) -> list[Request]:
        """Close every request with no message from either side for ``quiet``: ``note``
        posts into the topic while it is still open, then the topic closes. The resident's
        next message opens a new request (and reopens the topic), as after /close."""
        now = self.clock.now()
        done = []
        for request in await self.storage.requests.quiet_since(now - quiet):
            closed = await self.storage.requests.close(request.id, now)
            if closed is None:
                continue
            await note(closed)
            await self.staff.close_topic(closed.user_id)
            done.append(closed)
        return done

    async def reopen(self, target: Target, staff_id: int) -> Request | None:
        """Reopen the latest request (closed or answered) and the resident's topic; None if
        it is still waiting."""
        if target.request is None:
            return None
        reopened = await self.storage.requests.reopen(target.request.id, self.clock.now())
        if reopened is None:
            return None
        await self._audit(staff_id, "reopen", target.user_id, reopened.ref)
        await self.staff.reopen_topic(target.user_id)
        return reopened

    async def topic_closed_by_hand(self, thread_id: int, closed: bool) -> None:
        """Staff closed or reopened a topic in Telegram: a closed topic closes the request,
        so the resident's next message reopens the topic instead of getting lost."""
        topic = await self.topics.by_thread(thread_id)
        if topic is None:
            return
        await self.topics.set_closed(thread_id, closed)
        if closed:
            latest = await self.storage.requests.latest(topic.user_id)
            if latest is not None:
                await self.storage.requests.close(latest.id, self.clock.now())

    async def ban(self, target: Target, reason: str, staff_id: int) -> None:
        """Stop passing on the resident's messages (they are told once a day), and close
        their latest request."""
        now = self.clock.now()
        await self.storage.requests.ban(target.user_id, reason, staff_id, now)
        await self._audit(staff_id, "ban", target.user_id, reason)
        if target.request is not None:
            await self.storage.requests.close(target.request.id, now)

    async def unban(self, user_id: int, staff_id: int) -> bool:
        """False if the resident was not banned."""
        if not await self.storage.requests.unban(user_id):
            return False
        await self._audit(staff_id, "unban", user_id)
        return True

    # -- answers -------------------------------------------------------------------------------
    async def accepts_answers(self, user_id: int) -> bool:
        """Staff answers reach only a resident who (still) agreed to the exchange."""
        resident = await self.storage.residents.get(user_id)
        return resident is not None and resident.consented

    async def language_of(self, user_id: int) -> str | None:
        resident = await self.storage.residents.get(user_id)
        return resident.language if resident is not None else None

    async def answered(self, user_id: int, staff_id: int, staff_name: str) -> None:
        """An answer reached the resident: nobody waits any more, and whoever answers first
        has claimed the request."""
        await self.storage.requests.mark_answered(user_id, staff_id, staff_name, self.clock.now())

    # -- data for views ------------------------------------------------------------------------
    async def queue(self, due_by: date | None = None) -> list[QueueEntry]:
        """Requests somebody is waiting on: with a deadline up to ``due_by`` first, then
        the rest oldest first."""
        return await self.storage.requests.queue(due_by)

    async def card(self, user_id: int) -> CardFacts:
        requests = self.storage.requests
        request = await requests.latest(user_id)
        return CardFacts(
            resident=await self.storage.residents.get(user_id),
            request=request,
            previous=await requests.previous(user_id, request.id if request is not None else None),
            appointments=await self.storage.bookings.upcoming(user_id, self.clock.now()),
        )

    # -- housekeeping --------------------------------------------------------------------------
    async def purge_map(self) -> int:
        """Forget which staff message stood for whom after :data:`KEEP_MAP`."""
        return await self.topics.forget_before(self.clock.now() - KEEP_MAP)

    async def _audit(
        self, staff_id: int, action: AuditAction, user_id: int, detail: str = ""
    ) -> None:
        await self.storage.audit.record(staff_id, action, user_id, self.clock.now(), detail)
