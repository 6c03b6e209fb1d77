"""The requests and privacy services on their own: a real database, a fake clock, and a
staff lane that only records. No Telegram."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.directory import load_directory
from bot.services.appointments import AppointmentsService
from bot.services.privacy import PrivacyService, StaffCleanup
from bot.services.requests import KEEP_MAP, RequestsService, Target
from bot.services.topics import Topics
from storage import Storage
from storage.requests import Request
from tests.conftest import BERLIN, START
from tests.test_appointments_service import Jobs
from tests.test_booking import SMALL

AYLIN, BEN = 101, 102
JANA = 9001
THREAD = 77


@dataclass
class Lane:
    """Records what the service asks of the staff lane, in order."""

    log: list[str] = field(default_factory=list)

    async def close_topic(self, resident_id: int) -> int:
        self.log.append(f"close topic {resident_id}")
        return 0

    async def reopen_topic(self, resident_id: int) -> int:
        self.log.append(f"reopen topic {resident_id}")
        return 0

    async def retitle_topic(self, resident_id: int) -> int:
        self.log.append(f"retitle topic {resident_id}")
        return 0

    # -- the staff group, as the privacy service sees it (StaffGroup and ErasureNotifier)
    enabled = True
    is_forum = True

    def paused(self) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    async def delete_topic(self, thread_id: int, *, if_refused: str) -> int:
        self.log.append(f"delete topic {thread_id}")
        return 0

    async def delete_copies(self, message_ids: Sequence[int]) -> list[int]:
        self.log.append(f"delete {list(message_ids)}")
        return []

    async def drop_orphan_memos(self) -> int:
        return 0

    async def redact_copies(
        self,
        copies: Sequence[tuple[int, datetime]],
        why: Literal["erased", "expired"],
        refs: Sequence[str],
    ) -> None:
        self.log.append(f"redact {[mid for mid, _ in copies]}")

    def wake(self) -> None:
        pass

    def topic_left(self, refs: Sequence[str]) -> str:
        return "left"

    async def cleaned(self, cleanup: StaffCleanup) -> None:
        self.log.append(f"{cleanup.why} {' '.join(cleanup.refs)}")


@dataclass
class World:
    service: RequestsService
    privacy: PrivacyService
    storage: Storage
    clock: FakeClock
    lane: Lane


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    path = tmp_path / "directory.yaml"
    path.write_text(SMALL, encoding="utf-8")
    directory = load_directory(path)
    storage = Storage(tmp_path / "bot.sqlite3")
    await storage.open()
    clock = FakeClock(START)
    lane = Lane()
    topics = Topics(storage)
    service = RequestsService(storage=storage, clock=clock, topics=topics, staff=lane)
    appointments = AppointmentsService(
        storage=storage,
        clock=clock,
        scheduler=Jobs(),
        config=Config(token=None, tz=BERLIN),
        directory=lambda: directory,
    )
    privacy = PrivacyService(
        storage=storage,
        clock=clock,
        appointments=appointments,
        topics=topics,
        retention=timedelta(days=30),
        staff_group=lane,
    )
    privacy.staff = lane
    for user_id, name in ((AYLIN, "Aylin"), (BEN, "Ben")):
        await storage.residents.give_consent(user_id, "en", name, clock.now())
    try:
        yield World(service, privacy, storage, clock, lane)
    finally:
        await storage.close()


async def asks(world: World, user_id: int = AYLIN) -> Request:
    request, _ = await world.storage.requests.on_resident_message(user_id, world.clock.now())
    return request


async def actions(world: World) -> list[tuple[str, int | None, str]]:
    entries = await world.storage.audit.recent(30)
    return [(e.action, e.resident_id, e.detail) for e in reversed(entries)]


async def test_claim_close_and_reopen_are_audited_and_the_topic_follows(world: World) -> None:
    request = await asks(world)
    target = await world.service.by_ref("#" + request.ref)
    assert target == Target(AYLIN, request)

    claimed = await world.service.claim(target, JANA, "Jana")
    assert claimed is not None and claimed.claimed_name == "Jana" and claimed.state == "claimed"

    async def confirm(closed: Request) -> None:
        world.lane.log.append(f"confirm #{closed.ref}")

    target = Target(AYLIN, claimed)
    closed = await world.service.close(target, JANA, before_topic_closes=confirm)
    assert closed is not None and closed.state == "closed"
    # The confirmation goes into the topic while it is still open.
    assert world.lane.log == [f"confirm #{request.ref}", f"close topic {AYLIN}"]
    assert await world.service.close(Target(AYLIN, closed), JANA) is None

    reopened = await world.service.reopen(Target(AYLIN, closed), JANA)
    assert reopened is not None and reopened.state == "claimed"
    assert world.lane.log[-1] == f"reopen topic {AYLIN}"
    assert await world.service.reopen(Target(AYLIN, reopened), JANA) is None  # still open

    ref = request.ref
    assert await actions(world) == [
        ("claim", AYLIN, ref),
        ("close", AYLIN, ref),
        ("reopen", AYLIN, ref),
    ]
    assert await world.service.claim(Target(BEN, None), JANA, "Jana") is None


async def test_a_ban_closes_the_request_and_unban_says_whether_there_was_one(
    world: World,
) -> None:
    request = await asks(world)
    await world.service.ban(Target(AYLIN, request), "insults", JANA)
    ban = await world.storage.requests.ban_of(AYLIN)
    assert ban is not None and ban.reason == "insults" and ban.banned_by == JANA
    latest = await world.storage.requests.latest(AYLIN)
    assert latest is not None and latest.state == "closed"
    assert world.lane.log == []  # the topic stays as it is
    assert await world.service.unban(AYLIN, JANA)
    assert not await world.service.unban(AYLIN, JANA)
    assert await actions(world) == [("ban", AYLIN, "insults"), ("unban", AYLIN, "")]


async def test_whom_a_staff_message_is_about_and_answers(world: World) -> None:
    await asks(world)
    now = world.clock.now()
    await world.storage.requests.add_topic(AYLIN, THREAD, "Aylin · EN · #?", now)
    await world.storage.requests.map_message(500, BEN, 12, now)
    assert await world.service.resident_of(THREAD, None) == AYLIN
    assert await world.service.resident_of(None, 500) == BEN
    assert await world.service.resident_of(THREAD + 1, 500) == BEN  # not a resident's topic
    assert await world.service.resident_of(None, None) is None
    target = await world.service.of_message(THREAD, None)
    assert target is not None and target.user_id == AYLIN and target.request is not None

    assert await world.service.accepts_answers(AYLIN)
    assert not await world.service.accepts_answers(4242)
    await world.service.answered(AYLIN, JANA, "Jana")
    # Answered: nobody on our side waits, but the request stays open (listed) until closed,
    # and answering does not claim it.
    [entry] = await world.service.queue()
    assert entry.request.state == "answered" and entry.request.answered_name == "Jana"
    assert entry.request.claimed_name is None

    world.clock.advance(KEEP_MAP + timedelta(minutes=1))
    assert await world.service.purge_map() == 1
    assert await world.service.resident_of(None, 500) is None


async def test_a_topic_closed_by_hand_closes_the_request(world: World) -> None:
    await asks(world)
    await world.storage.requests.add_topic(AYLIN, THREAD, "Aylin", world.clock.now())
    await world.service.topic_closed_by_hand(THREAD, closed=True)
    topic = await world.storage.requests.current_topic(AYLIN)
    assert topic is not None and topic.closed
    latest = await world.storage.requests.latest(AYLIN)
    assert latest is not None and latest.state == "closed"
    await world.service.topic_closed_by_hand(THREAD, closed=False)
    topic = await world.storage.requests.current_topic(AYLIN)
    assert topic is not None and not topic.closed
    await world.service.topic_closed_by_hand(THREAD + 1, closed=True)  # not ours: nothing


async def test_the_card_facts(world: World) -> None:
    first = await asks(world)
    await world.storage.requests.close(first.id, world.clock.now())
    second = await asks(world)
    facts = await world.service.card(AYLIN)
    assert facts.resident is not None and facts.resident.first_name == "Aylin"
    assert facts.request == second
    assert [r.id for r in facts.previous] == [first.id]
    assert facts.appointments == []


async def test_erasure_deletes_the_topic_and_erases_every_row(world: World) -> None:
    request = await asks(world)
    await world.storage.requests.add_topic(AYLIN, THREAD, "Aylin", world.clock.now())
    assert await world.privacy.stores_anything(AYLIN)
    exported = await world.privacy.export(AYLIN)
    assert exported is not None and exported["profile"]["first_name"] == "Aylin"

    erased = await world.privacy.erase(AYLIN)
    assert (erased.appointments, erased.requests, erased.subscriptions) == (0, 1, 0)
    done = [f"delete topic {THREAD}", f"erased {request.ref}"]
    assert world.lane.log == done
    assert await world.storage.privacy.rows_mentioning(AYLIN) == {}
    assert not await world.privacy.stores_anything(AYLIN)
    assert await world.privacy.export(AYLIN) is None
    # Ben never wrote to the counsellors: nothing to delete, nobody is told.
    await world.privacy.erase(BEN)
    assert world.lane.log == done
