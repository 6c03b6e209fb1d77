"""Capabilities working together: what one module records, another shows."""

from __future__ import annotations

from tests.conftest import Harness
from tests.test_booking import book, resident
from tests.test_questions import staff_posts, topic_of


async def test_topic_card_lists_open_appointments(bot: Harness) -> None:
    user = await resident(bot, "Aylin", "en")
    await book(bot, user)
    [booking] = await bot.storage.bookings.upcoming(user["id"], bot.clock.now())
    await bot.send(user, "I have a question about my appointment")
    thread = await topic_of(bot, user)
    [card, *_] = await staff_posts(bot, thread, 2)
    # The staff group reads German: the card lists the appointment, not "none".
    assert "🗓 Offene Termine:\n" in card["text"]
    assert f"#{booking.id} " in card["text"]
    assert "Offene Termine: keine" not in card["text"]
