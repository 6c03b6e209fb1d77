"""Data rights: what is stored about a resident (their export), erasing it on request, and
the daily retention purge.

Erasing is a cascade: appointments still ahead are cancelled through the appointments
service (staff are told, seats go to the waiting list), every row about them goes in one
transaction (``storage.privacy``), and what the bot posted about them in the staff group
goes too: their forum topics (``deleteForumTopic``), or, in a group without topics, the
copies it posted (``deleteMessages``; Telegram deletes only messages younger than 48 hours,
so staff are told by reference which older ones to remove by hand). The bot's own posts
that name them outside their topic (booking notices, reason pickers, agendas; recorded in
``storage.mentions``) are deleted by the staff lane, or, older than 48 hours, edited down
to the appointment's reference (or, listing others too, rendered again without them); that
plan is written with the erasure, so a crash resumes it. Staff read in the
general chat, by reference only, that the request was deleted; a :class:`ErasureNotifier`
(installed by the privacy capability) renders those notices. The retention purge does the
same for the requests it anonymises.

While the rows go, the staff lane is paused (:meth:`StaffGroup.paused`): a post of the
resident's that is half-sent cannot open a topic for somebody who no longer exists, and the
posts still queued for them are erased with their rows.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from bot.clock import Clock
from bot.services.appointments import AppointmentsService
from bot.services.topics import Topics
from storage import Storage
from storage.db import to_db
from storage.privacy import StaffTraces

log = logging.getLogger(__name__)

DELETABLE = timedelta(hours=47)
"""Telegram deletes a message only if it was sent less than 48 hours ago (deleteMessage);
an hour of margin for the queue."""


@dataclass(frozen=True)
class StaffCleanup:
    """What became of the bot's posts about erased (or expired) requests in the staff group,
    for the notice staff read. Never a name or a Telegram id of the resident."""

    why: Literal["erased", "expired"]
    refs: tuple[str, ...]
    forum: bool
    by_hand: tuple[int, ...] = ()
    """Copies the bot knows of but cannot delete (older than 48 hours)."""
    older: bool = False
    """There may be older copies: staff must look for the references by hand."""


class ErasureNotifier(Protocol):
    def topic_left(self, refs: Sequence[str]) -> str:
        """The notice if Telegram refuses to delete a topic (the bot lacks the right)."""
        ...

    async def cleaned(self, cleanup: StaffCleanup) -> None:
        """Tell staff in the general chat, by reference only."""
        ...


class StaffGroup(Protocol):
    """What the service needs of the staff lane (``bot.delivery.staff_lane.StaffLane``)."""

    @property
    def enabled(self) -> bool: ...

    @property
    def is_forum(self) -> bool: ...

    def paused(self) -> AbstractAsyncContextManager[None]: ...

    async def delete_topic(self, thread_id: int, *, if_refused: str) -> int: ...

    async def delete_copies(self, message_ids: Sequence[int]) -> list[int]: ...

    async def drop_orphan_memos(self) -> int: ...

    async def redact_copies(
        self,
        copies: Sequence[tuple[int, datetime]],
        why: Literal["erased", "expired"],
        refs: Sequence[str],
    ) -> None:
        """Edit old copies and header lines (group without topics) down to the references."""
        ...

    def wake(self) -> None:
        """Redactions were planned (``storage.mentions``): do them."""
        ...


class Forgetful(Protocol):
    """Something holding in-memory traces of a resident (``Interpreter``: note marks and
    the translation cache), told on erasure."""

    def forget(self, user_id: int) -> None: ...


class _NoStaffGroup:
    """Without a staff group there is nothing to delete there."""

    enabled = False
    is_forum = False

    def paused(self) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    async def delete_topic(self, thread_id: int, *, if_refused: str) -> int:
        return 0

    async def delete_copies(self, message_ids: Sequence[int]) -> list[int]:
        return []

    async def drop_orphan_memos(self) -> int:
        return 0

    async def redact_copies(
        self,
        copies: Sequence[tuple[int, datetime]],
        why: Literal["erased", "expired"],
        refs: Sequence[str],
    ) -> None:
        pass

    def wake(self) -> None:
        pass


@dataclass(frozen=True)
class Erased:
    """What the resident is told was deleted."""

    appointments: int
    """Appointments erased (those still ahead were cancelled first)."""
    requests: int
    subscriptions: int


class PrivacyService:
    def __init__(
        self,
        *,
        storage: Storage,
        clock: Clock,
        appointments: AppointmentsService,
        topics: Topics,
        retention: timedelta,
        staff_group: StaffGroup | None = None,
        memory: Sequence[Forgetful] = (),
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.appointments = appointments
        self.topics = topics
        self.retention = retention
        self.staff_group: StaffGroup = staff_group or _NoStaffGroup()
        self.staff: ErasureNotifier | None = None
        self.memory = tuple(memory)

    def holds_memory(self, holder: Forgetful) -> None:
        """A capability that keeps a resident's texts in memory (at build time) hears of
        their erasure too."""
        self.memory = (*self.memory, holder)

    async def stores_anything(self, user_id: int) -> bool:
        return await self.storage.residents.get(user_id) is not None

    async def export(self, user_id: int) -> dict[str, Any] | None:
        """Everything stored about the resident, as JSON-ready data; None if nothing is."""
        data = await self.storage.privacy.export(user_id)
        return data if data["profile"] is not None else None

    async def erase(self, user_id: int) -> Erased:
        """Cancel what is still ahead (staff are told, seats freed), erase every row about
        the resident in one transaction, and delete what the bot posted about them in the
        staff group."""
        appointments = await self.appointments.erase_resident(user_id)
        async with self.staff_group.paused():
            traces = await self.storage.privacy.staff_traces(user_id)
            erased = await self.storage.privacy.erase(user_id)
            # Booking notices, pickers and agendas naming them (planned with the erasure).
            self.staff_group.wake()
            await self._clean_staff_group("erased", traces)
            # Texts held in memory only (translations waiting in the staff lane, the
            # engine's cache) and the once-per-cause marks go with the rows.
            await self.staff_group.drop_orphan_memos()
            for holder in self.memory:
                holder.forget(user_id)
        log.info("resident data erased on request")
        return Erased(
            appointments=max(len(appointments.cancelled), erased.appointments),
            requests=erased.requests,
            subscriptions=erased.subscriptions,
        )

    async def purge(self) -> dict[str, int]:
        """Retention: what is older than the period loses whom it was about."""
        cutoff = self.clock.now() - self.retention
        async with self.staff_group.paused():
            traces = await self.storage.privacy.expiring(cutoff)
            counts = await self.storage.privacy.purge(cutoff)
            self.staff_group.wake()
            await self._clean_staff_group("expired", traces)
        log.info("retention purge before %s: %s", to_db(cutoff), counts)
        return counts

    async def _clean_staff_group(
        self, why: Literal["erased", "expired"], traces: StaffTraces
    ) -> None:
        """Delete the topics (or, without topics, the copies younger than 48 hours) and
        tell staff what is gone and what they must remove by hand."""
        group = self.staff_group
        if not group.enabled or self.staff is None or traces.empty:
            return
        now = self.clock.now()
        if group.is_forum:
            for thread_id in traces.topics:
                await group.delete_topic(thread_id, if_refused=self.staff.topic_left(traces.refs))
            await self.staff.cleaned(StaffCleanup(why, traces.refs, forum=True))
            return
        recent = [mid for mid, at in traces.copies if now - at < DELETABLE]
        old = tuple(mid for mid, at in traces.copies if now - at >= DELETABLE)
        if recent:
            await group.delete_copies(recent)
        if old:  # edited down to the references; a photo keeps its image: listed for staff
            await group.redact_copies(
                [(mid, at) for mid, at in traces.copies if mid in old], why, traces.refs
            )
        await self.staff.cleaned(
            StaffCleanup(
                why,
                traces.refs,
                forum=False,
                by_hand=old,
                older=bool(old) or _older(traces.first_opened, now),
            )
        )


def _older(first: datetime | None, now: datetime) -> bool:
    return first is not None and now - first >= DELETABLE
