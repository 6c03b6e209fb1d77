"""While the staff group's window is full, a resident's message costs the lane no look at its
rows (they could not go before the one waiting), and nothing is lost or reordered."""

from __future__ import annotations

from datetime import datetime

from storage.requests import OutboxItem
from tests.conftest import Harness
from tests.test_questions import posted, topic_of


async def test_a_full_window_is_not_searched_again_for_every_message(bot: Harness) -> None:
    user = await bot.onboard("Lina", "en")
    thread_parts = 30  # more than one minute's worth for the staff group
    outbox = bot.storage.outbox
    looks: list[datetime] = []
    next_due = outbox.next_due

    async def counted(now: datetime) -> OutboxItem | None:
        looks.append(now)
        item: OutboxItem | None = await next_due(now)
        return item

    outbox.next_due = counted  # type: ignore[method-assign,unused-ignore]
    for i in range(thread_parts):  # one at a time, as residents write
        if i == 25:  # the window is full by now
            looks_when_full = len(looks)
        bot.sandbox.send_text(user, f"part {i}")
        await bot.idle()
    assert len(looks) == looks_when_full
    thread = await topic_of(bot, user)
    sent = len(posted(bot, thread))
    assert 0 < sent < thread_parts
    for _ in range(3):
        if sent > thread_parts:  # the card and every part
            break
        bot.clock.advance(minutes=1)

        def progress(seen: int = sent) -> bool:
            return len(posted(bot, thread)) > seen

        await bot.sandbox.wait_for(progress, message="progress")
        await bot.idle()
        sent = len(posted(bot, thread))
    texts = [m["text"] for m in posted(bot, thread)]
    assert texts[1:] == [f"part {i}" for i in range(thread_parts)]  # after the card


async def test_an_answer_to_staff_still_goes_first_when_there_is_room(bot: Harness) -> None:
    """A priority row added while the window is full goes before the waiting parts."""
    user = await bot.onboard("Omar", "en")
    for i in range(25):
        bot.sandbox.send_text(user, f"part {i}")
    await bot.idle()
    thread = await topic_of(bot, user)
    waiting_from = len(posted(bot, thread))
    assert waiting_from < 26
    assert bot.app is not None
    lane = bot.app.bot_data["services"].staffpost
    await lane.send_text("answer to a staff command", priority=True)
    await bot.idle()
    assert not [m for m in posted(bot) if m.get("text") == "answer to a staff command"]
    bot.clock.advance(minutes=1)
    await bot.sandbox.wait_for(
        lambda: len(posted(bot, thread)) > waiting_from, message="the next part"
    )
    [answer] = [m for m in posted(bot) if m.get("text") == "answer to a staff command"]
    next_part = posted(bot, thread)[waiting_from]
    assert answer["message_id"] < next_part["message_id"]
