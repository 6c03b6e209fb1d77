"""The delivery layer's parts on their own: the Telegram-error taxonomy (every kind from a
real PTB exception, raised by PTB's own request code against the sandbox where Telegram
can produce it), the pacing primitives every lane is built from, and a lane's wake-ups."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from telegram import Bot
from telegram.error import TelegramError, TimedOut

from bot.clock import FakeClock
from bot.delivery.errors import Failure, Kind, classify
from bot.delivery.lane import Lane
from bot.delivery.pacing import GroupWindow, SlidingWindow, Spacing, window_wait
from sandbox import Sandbox

TOKEN = "123456:DELIVERY"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(TOKEN) as sb:
        yield sb


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    async with Bot(
        TOKEN, base_url=f"{sandbox.url}/bot", base_file_url=f"{sandbox.url}/file/bot"
    ) as b:
        yield b


async def failure_of(bot: Bot, chat_id: int, **kwargs: object) -> Failure:
    with pytest.raises(TelegramError) as err:
        await bot.send_message(chat_id, "hallo", **kwargs)  # type: ignore[arg-type]
    return classify(err.value)


# -- the taxonomy, from what the sandbox answers on its own ------------------------------------
async def test_errors_telegram_produces_are_sorted(sandbox: Sandbox, bot: Bot) -> None:
    user = sandbox.add_user("Anna")
    sandbox.block(user)
    assert (await failure_of(bot, user["id"])).kind is Kind.BLOCKED
    assert (await failure_of(bot, 424242)).kind is Kind.CHAT_GONE

    group = sandbox.add_group("Team", is_forum=True)
    topic = await bot.create_forum_topic(group["id"], "Anna")
    sandbox.close_topic(group["id"], topic.message_thread_id)
    closed = await failure_of(bot, group["id"], message_thread_id=topic.message_thread_id)
    assert closed.kind is Kind.LOST_TOPIC and closed.refused and not closed.transient
    sandbox.delete_topic(group["id"], topic.message_thread_id)
    deleted = await failure_of(bot, group["id"], message_thread_id=topic.message_thread_id)
    assert deleted.kind is Kind.LOST_TOPIC

    sandbox.unblock(user)
    sent = await bot.send_message(user["id"], "same")
    with pytest.raises(TelegramError) as err:
        await bot.edit_message_text("same", chat_id=user["id"], message_id=sent.message_id)
    assert classify(err.value).kind is Kind.NOT_MODIFIED


# -- the taxonomy, from faults the sandbox injects as Telegram would answer ----------------------
@pytest.mark.parametrize(
    ("code", "description", "kind"),
    [
        (429, "Too Many Requests: retry after 7", Kind.RETRY_AFTER),
        (403, "Forbidden: bot was blocked by the user", Kind.BLOCKED),
        (403, "Forbidden: bot was kicked from the supergroup chat", Kind.FORBIDDEN),
        (403, "Forbidden: user is deactivated", Kind.FORBIDDEN),
        (400, "Bad Request: chat not found", Kind.CHAT_GONE),
        (400, "Bad Request: user not found", Kind.CHAT_GONE),
        (400, "Bad Request: message thread not found", Kind.LOST_TOPIC),
        (400, "Bad Request: TOPIC_DELETED", Kind.LOST_TOPIC),
        (400, "Bad Request: TOPIC_ID_INVALID", Kind.LOST_TOPIC),
        (400, "Bad Request: TOPIC_CLOSED", Kind.LOST_TOPIC),
        (400, "Bad Request: TOPIC_NOT_MODIFIED", Kind.NOT_MODIFIED),
        (400, "Bad Request: the chat is not a forum", Kind.NOT_A_FORUM),
        (400, "Bad Request: message to copy not found", Kind.SOURCE_GONE),
        (400, "Bad Request: MESSAGE_ID_INVALID", Kind.SOURCE_GONE),
        (400, "Bad Request: message can't be copied", Kind.UNCOPYABLE),
        (400, "Bad Request: message is not modified: specified new message content and"
              " reply markup are exactly the same", Kind.NOT_MODIFIED),
        (400, "Bad Request: message to edit not found", Kind.MESSAGE_GONE),
        (400, "Bad Request: message to delete not found", Kind.MESSAGE_GONE),
        (400, "Bad Request: message can't be deleted", Kind.UNDELETABLE),
        (400, "Bad Request: there is no text in the message to edit", Kind.NO_TEXT),
        (400, "Bad Request: message text is empty", Kind.BAD_REQUEST),
        (409, "Conflict: terminated by other getUpdates request", Kind.TELEGRAM),
        (502, "Bad Gateway", Kind.NETWORK),
        (500, "Internal Server Error", Kind.NETWORK),
    ],
)  # fmt: skip
async def test_every_kind_from_a_real_ptb_exception(
    sandbox: Sandbox, bot: Bot, code: int, description: str, kind: Kind
) -> None:
    user = sandbox.add_user("Anna")
    sandbox.fail_next("sendMessage", code, description, retry_after=7 if code == 429 else None)
    failure = await failure_of(bot, user["id"])
    assert failure.kind is kind
    assert failure.refused == (code == 400)
    assert failure.unreachable == (kind in (Kind.BLOCKED, Kind.FORBIDDEN, Kind.CHAT_GONE))
    assert failure.transient == (kind in (Kind.RETRY_AFTER, Kind.NETWORK))
    assert failure.retry_after == (7.0 if kind is Kind.RETRY_AFTER else 0.0)
    assert failure.from_telegram


def test_timeouts_and_bugs() -> None:
    timed_out = classify(TimedOut())
    assert timed_out.kind is Kind.TIMED_OUT and timed_out.transient
    bug = classify(ValueError("oops"))
    assert bug.kind is Kind.UNEXPECTED and not bug.from_telegram and not bug.transient


# -- the pacing primitives ---------------------------------------------------------------------
def test_sliding_window_says_exactly_when_there_is_room() -> None:
    window = SlidingWindow(limit=3, span=10)
    for at in (0, 1, 2):
        assert window.wait(at) == 0
        window.spend(at)
    assert window.wait(2) == 8  # the first one leaves the window at 10
    assert window.wait(2, needed=2) == 9
    assert window.wait(2, needed=5) == 10  # more than fits at all: until all are gone
    assert window.wait(10) == 0 and window.used(10) == 2
    window.spend(10, cost=2)  # a weighted entry
    assert window.used(10) == 4 > window.limit
    assert window.wait(10) == 2  # 1 leaves at 11 (3 left), 2 at 12 (2 left)
    assert window_wait([(0, 1)], limit=1, span=5, now=0, needed=1) == 5


def test_spacing_is_a_token_bucket() -> None:
    """Same decisions as a textbook token bucket (burst 4, one token per 3 units), for
    random arrivals in integer time (exact fractions: no rounding in the reference)."""
    rng = random.Random(13)
    spacing = Spacing(3, burst=4)
    tokens, last = Fraction(4), 0
    now = 0
    for _ in range(2000):
        now += rng.choice((0, 0, 1, 2, 5, 11))
        tokens = min(Fraction(4), tokens + Fraction(now - last, 3))
        last = now
        expected = tokens >= 1
        if expected:
            tokens -= 1
        assert spacing.try_take(now) is expected, f"at {now}"


def test_spacing_with_slack_stays_on_its_grid() -> None:
    spacing = Spacing(10, burst=1.25)
    times = []
    now = 0.0
    while now < 1000:
        wait = spacing.wait(now)
        if wait > 0:
            now += wait + 1  # every wake-up is late by one unit
            continue
        spacing.take(now)
        times.append(now)
    assert 99 <= len(times) <= 101  # late wake-ups do not add up
    assert min(b - a for a, b in itertools.pairwise(times)) >= 7.5


def test_group_window_in_clock_time() -> None:
    start = datetime(2026, 11, 25, 9, 0, 0, 123456, tzinfo=UTC)
    window = GroupWindow(per_minute=20)
    window.restore([(start, 19)])
    assert window.room_at(start) is None
    window.spend(start)
    assert window.room_at(start) == start + timedelta(minutes=1)
    assert window.room_at(start + timedelta(seconds=59, microseconds=999999)) is not None
    assert window.room_at(start + timedelta(seconds=30), needed=21) == start + timedelta(minutes=1)
    assert window.room_at(start + timedelta(minutes=1)) is None  # exactly a minute frees it
    # More than a minute's worth goes as soon as nothing else counts.
    assert window.room_at(start + timedelta(minutes=1), needed=21) is None


# -- a lane's wake-ups -------------------------------------------------------------------------
class CountingLane(Lane):
    name = "counting"

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(None, clock)  # type: ignore[arg-type]
        self.drains = 0

    async def drain(self) -> None:
        self.drains += 1


async def eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(2.0):
        while not condition():  # noqa: ASYNC110 (polling a counter is the point)
            await asyncio.sleep(0.005)


async def test_lane_wakes_when_told_at_a_clock_moment_and_when_the_clock_jumps() -> None:
    clock = FakeClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    lane = CountingLane(clock)
    await lane.start()
    await eventually(lambda: lane.drains == 1)
    lane.wake_at(clock.now() + timedelta(hours=1))
    lane.wake_at(clock.now() + timedelta(milliseconds=30))  # the earliest moment wins
    await eventually(lambda: lane.drains == 2)
    lane.wake_at(clock.now() + timedelta(hours=1))
    await asyncio.sleep(0.05)
    assert lane.drains == 2
    clock.advance(hours=1)
    await eventually(lambda: lane.drains >= 3)
    await lane.stop()
    drains = lane.drains
    lane.wake()
    await asyncio.sleep(0.02)
    assert lane.drains == drains
