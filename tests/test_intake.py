"""The intake service on its own: what it decides for a resident's message, in which order
it does things, and what it tells the handler. A real database, a fake clock, fakes that
record instead of Telegram (the handler side is tests/test_questions.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.engines.voice import Transcriber
from bot.letters.model import PageKind
from bot.services.intake import FLOOD_BURST, Incoming, Intake, Verdict
from bot.services.interpreting import VoiceRef
from bot.services.letters import LetterFile, LetterViews
from storage import Storage
from storage.requests import Request
from tests.conftest import START

AYLIN = 101
STAFF = 9001


@dataclass
class Recorder:
    """The staff lane, the interpreter and the letter desk in one: what was asked, in order."""

    log: list[str] = field(default_factory=list)
    enabled: bool = True
    transcriber: Transcriber | None = None
    views: LetterViews | None = None

    async def send_text(self, text: str, *, resident_id: int | None = None) -> int:
        self.log.append(f"text {text}")
        return 1

    async def copy(
        self,
        from_chat_id: int,
        message_ids: Sequence[int],
        *,
        resident_id: int | None = None,
        group_key: str | None = None,
        reply_to_resident_message: int | None = None,
    ) -> int:
        self.log.append(f"copy {list(message_ids)}")
        return 1

    async def received(
        self,
        user_id: int,
        message_id: int,
        language: str,
        *,
        text: str | None,
        voice: VoiceRef | None = None,
        count: bool = True,
    ) -> None:
        self.log.append(f"interpret {message_id}")


@dataclass
class Desk:
    log: list[str]
    views: LetterViews | None = None

    def received(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        language: str,
        file: LetterFile,
        group_key: str | None = None,
    ) -> None:
        self.log.append(f"read {message_id}")


class Views:
    def new_request(self, request: Request) -> str:
        return f"new #{request.ref}"

    def edited(self) -> str:
        return "edited"


@dataclass
class World:
    intake: Intake
    storage: Storage
    clock: FakeClock
    log: list[str]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    storage = Storage(tmp_path / "bot.sqlite3")
    await storage.open()
    clock = FakeClock(START)
    recorder = Recorder()
    intake = Intake(
        storage=storage,
        clock=clock,
        staff=recorder,
        interpreter=recorder,
        letters=Desk(recorder.log),
        views=Views(),
    )
    await storage.residents.give_consent(AYLIN, "en", "Aylin", clock.now())
    try:
        yield World(intake, storage, clock, recorder.log)
    finally:
        await storage.close()


def message(message_id: int, **fields: object) -> Incoming:
    values: dict[str, object] = {
        "user_id": AYLIN,
        "chat_id": AYLIN,
        "message_id": message_id,
        "language": "en",
        "consented": True,
        "text": "A question",
    }
    values.update(fields)
    return Incoming(**values)  # type: ignore[arg-type]


async def test_a_message_is_copied_then_interpreted_and_its_letter_read_after_the_answer(
    world: World,
) -> None:
    letter = LetterFile("file", PageKind.IMAGE, 1000)
    first = message(1, letter=letter)
    outcome = await world.intake.receive(first)
    assert outcome.verdict is Verdict.PASSED_ON and outcome.opened and outcome.receipt
    assert world.log == ["copy [1]", "interpret 1"]
    await world.intake.answered(first, outcome)
    assert world.log[-1] == "read 1"
    # Within the same conversation (the receipt was sent): no new request, no second receipt.
    assert outcome.request is not None
    await world.storage.requests.mark_receipt(outcome.request.id, world.clock.now())
    world.clock.advance(minutes=5)
    outcome = await world.intake.receive(message(2))
    assert outcome.verdict is Verdict.PASSED_ON and not outcome.opened and not outcome.receipt


async def test_what_is_not_passed_on(world: World) -> None:
    assert (await world.intake.receive(message(1, consented=False))).verdict is (
        Verdict.BEFORE_CONSENT
    )
    assert (await world.intake.receive(message(2, stray=True))).verdict is Verdict.STRAY
    assert (await world.intake.receive(message(3, supported=False))).verdict is (
        Verdict.UNSUPPORTED
    )
    assert world.log == []
    assert await world.storage.requests.latest(AYLIN) is None
    # A stray message within an open request is passed on.
    await world.intake.receive(message(4))
    assert (await world.intake.receive(message(5, stray=True))).verdict is Verdict.PASSED_ON


async def test_a_ban_is_told_once_a_day(world: World) -> None:
    await world.storage.requests.ban(AYLIN, "abuse", STAFF, world.clock.now())
    first = await world.intake.receive(message(1))
    second = await world.intake.receive(message(2))
    assert (first.verdict, first.tell) == (Verdict.BANNED, True)
    assert (second.verdict, second.tell) == (Verdict.BANNED, False)
    world.clock.advance(timedelta(days=1))
    assert (await world.intake.receive(message(3))).tell
    assert world.log == []


async def test_a_flood_is_refused_after_the_burst(world: World) -> None:
    verdicts = [(await world.intake.receive(message(i))).verdict for i in range(FLOOD_BURST + 1)]
    assert verdicts[:FLOOD_BURST] == [Verdict.PASSED_ON] * FLOOD_BURST
    assert verdicts[-1] is Verdict.FLOODED
    world.clock.advance(seconds=2)
    assert (await world.intake.receive(message(99))).verdict is Verdict.PASSED_ON


async def test_a_new_request_after_a_closed_one_is_announced_to_staff(world: World) -> None:
    await world.intake.receive(message(1))
    request = await world.storage.requests.latest(AYLIN)
    assert request is not None
    await world.storage.requests.close(request.id, world.clock.now())
    world.log.clear()
    outcome = await world.intake.receive(message(2))
    assert outcome.opened and outcome.request is not None
    assert world.log == [f"text new #{outcome.request.ref}", "copy [2]", "interpret 2"]
