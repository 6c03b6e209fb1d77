"""Data rights: what is stored about a resident (their export), erasing it on request, and
the daily retention purge.

Erasing is a cascade: appointments still ahead are cancelled through the appointments
service (staff are told, seats go to the waiting list), the resident's staff topic gets a
note through a :class:`ErasureNotifier` (installed by the privacy capability, which renders
it), and then every row about them goes in one transaction (``storage.privacy``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.services.appointments import AppointmentsService
from bot.services.topics import Topics
from storage import Storage
from storage.db import to_db

log = logging.getLogger(__name__)


class ErasureNotifier(Protocol):
    async def resident_erased(self, thread_id: int) -> None:
        """Leave a note in the erased resident's topic (it is linked to nobody any more)."""
        ...


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
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.appointments = appointments
        self.topics = topics
        self.retention = retention
        self.staff: ErasureNotifier | None = None

    async def stores_anything(self, user_id: int) -> bool:
        return await self.storage.residents.get(user_id) is not None

    async def export(self, user_id: int) -> dict[str, Any] | None:
        """Everything stored about the resident, as JSON-ready data; None if nothing is."""
        data = await self.storage.privacy.export(user_id)
        return data if data["profile"] is not None else None

    async def erase(self, user_id: int) -> Erased:
        """Cancel what is still ahead (staff are told, seats freed), leave a note in the
        resident's staff topic, then erase every row about them in one transaction."""
        appointments = await self.appointments.erase_resident(user_id)
        topic = await self.topics.current(user_id)
        if topic is not None and self.staff is not None:
            await self.staff.resident_erased(topic.thread_id)
        erased = await self.storage.privacy.erase(user_id)
        log.info("resident data erased on request")
        return Erased(
            appointments=max(len(appointments.cancelled), erased.appointments),
            requests=erased.requests,
            subscriptions=erased.subscriptions,
        )

    async def purge(self) -> dict[str, int]:
        """Retention: what is older than the period loses whom it was about."""
        cutoff = self.clock.now() - self.retention
        counts = await self.storage.privacy.purge(cutoff)
        log.info("retention purge before %s: %s", to_db(cutoff), counts)
        return counts
