"""The one way conversations wait for typed input (``bot.flows``): who awaits input where,
for how long, read back after a restart, and the filter that asks it. Booking and
broadcast use it end to end (tests/test_booking.py, tests/test_broadcast.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Message, Update

from bot.clock import FakeClock
from bot.flows import Awaiting, Flow, Flows
from storage import Storage

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
GROUP = -100123


@dataclass(frozen=True)
class Draft:
    user_id: int
    chat_id: int
    thread_id: int | None
    step: str
    updated_at: datetime


STORED: list[Draft] = []


def awaiting(draft: Draft) -> Awaiting | None:
    if draft.step != "text":
        return None
    return Awaiting(draft.user_id, draft.chat_id, draft.thread_id, draft.updated_at)


async def stored(storage: Storage) -> list[Draft]:
    return list(STORED)


TEXT = Flow[Draft]("test", awaiting=awaiting, drafts=stored)
NOTE = Flow[Draft]("note", awaiting=awaiting, drafts=stored, window=timedelta(minutes=30))


def message(user_id: int, chat_id: int, thread_id: int | None = None) -> Message:
    data: dict[str, Any] = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
        "from": {"id": user_id, "is_bot": False, "first_name": "X"},
        "text": "hello",
    }
    if thread_id is not None:
        data.update(message_thread_id=thread_id, is_topic_message=True)
    update = Update.de_json({"update_id": 1, "message": data}, None)
    assert update.message is not None
    return update.message


@pytest.fixture
def flows(tmp_path: Path) -> Flows:
    return Flows(Storage(tmp_path / "unused.sqlite3"), FakeClock(START))


def test_only_the_awaited_person_in_that_chat_and_topic(flows: Flows) -> None:
    flows.track(TEXT, 7, Draft(7, GROUP, 42, "text", START))
    assert flows.awaits(TEXT, 7, GROUP, 42)
    assert not flows.awaits(TEXT, 8, GROUP, 42)  # somebody else
    assert not flows.awaits(TEXT, 7, GROUP, None)  # the General topic
    assert not flows.awaits(TEXT, 7, 7, None)  # their private chat
    assert not flows.awaits(NOTE, 7, GROUP, 42)  # another flow
    flows.track(TEXT, 7, Draft(7, GROUP, 42, "buttons", START))  # waits for a button now
    assert not flows.awaits(TEXT, 7, GROUP, 42)
    flows.track(TEXT, 7, Draft(7, GROUP, 42, "text", START))
    flows.track(TEXT, 7, None)  # ended
    assert not flows.awaits(TEXT, 7, GROUP, 42)


def test_a_window_lets_late_text_go_elsewhere(flows: Flows) -> None:
    clock = flows.clock
    assert isinstance(clock, FakeClock)
    flows.track(NOTE, 7, Draft(7, 7, None, "text", START))
    clock.advance(minutes=30)
    assert flows.awaits(NOTE, 7, 7, None)
    clock.advance(minutes=1)
    assert not flows.awaits(NOTE, 7, 7, None)


async def test_the_filter_asks_and_a_restart_reads_the_drafts_again(flows: Flows) -> None:
    awaiting_text = flows.input_filter(TEXT)
    STORED[:] = [Draft(7, GROUP, 42, "text", START), Draft(8, GROUP, None, "buttons", START)]
    try:
        await flows.restore()
    finally:
        STORED.clear()
    assert awaiting_text.filter(message(7, GROUP, 42))
    assert not awaiting_text.filter(message(7, GROUP))
    assert not awaiting_text.filter(message(8, GROUP))
    # Whatever was tracked before the restart and is no longer in the table is forgotten.
    flows.track(TEXT, 9, Draft(9, 9, None, "text", START))
    await flows.restore()
    assert not flows.awaits(TEXT, 9, 9, None) and not flows.awaits(TEXT, 7, GROUP, 42)


def test_a_flow_name_is_taken_once(flows: Flows) -> None:
    flows.input_filter(TEXT)
    with pytest.raises(ValueError):
        flows.input_filter(Flow[Draft]("test", awaiting=awaiting, drafts=stored))
