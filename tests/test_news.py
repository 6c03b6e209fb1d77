"""Residents' news subscriptions, end to end: choosing topics, stopping them, consent, and
being unreachable after blocking the bot."""

from __future__ import annotations

from tests.conftest import Harness, button_texts, buttons, known
from tests.test_broadcast import compose, coordinator, delivered, finished, tap


def toggle_data(message: dict, topic: str) -> str:
    data = f"1:nwt:{topic}"
    assert data in [b.get("callback_data") for b in buttons(message)]
    return data


async def test_subscribe_and_unsubscribe(bot: Harness) -> None:
    user = await bot.onboard("Dan", "en")
    [menu] = await bot.send(user, "/start")
    assert "📰 News" in button_texts(menu)
    view = await bot.tap(user, menu, text="📰 News")
    assert "choose what you would like to hear about" in view["text"]
    assert "▫️ General news" in button_texts(view)
    assert any("Job" in b for b in button_texts(view))  # offers of the directory

    view = await bot.tap(user, view, data=toggle_data(view, "general"))
    assert "✅ General news" in button_texts(view)
    assert bot.sandbox.callback_answers[-1]["text"] == "On: General news"
    view = await bot.tap(user, view, data=toggle_data(view, "job-counselling"))
    assert await bot.storage.subscriptions.topics(user["id"]) == {"general", "job-counselling"}

    view = await bot.tap(user, view, data=toggle_data(view, "general"))
    assert await bot.storage.subscriptions.topics(user["id"]) == {"job-counselling"}

    [after] = await bot.send(user, "/unsubscribe")
    assert "no more news" in after["text"]
    assert await bot.storage.subscriptions.topics(user["id"]) == set()
    assert "🔕 Unsubscribe from everything" not in button_texts(after)

    [view] = await bot.send(user, "/subscribe")
    view = await bot.tap(user, view, data=toggle_data(view, "creative-lab"))
    off = await bot.tap(user, view, text="🔕 Unsubscribe from everything")
    assert "no more news" in off["text"]
    assert await bot.storage.subscriptions.topics(user["id"]) == set()


async def test_news_need_consent_and_forged_topics_are_refused(bot: Harness) -> None:
    stranger = bot.user("Mia", "en")
    [answer] = await bot.send(stranger, "/subscribe")
    assert "agree to the privacy notice first" in answer["text"]
    assert "Yes, I agree" in button_texts(answer)
    bot.sandbox.tap_raw(stranger, answer, "1:nwt:general")
    await bot.idle()
    assert await bot.storage.residents.get(stranger["id"]) is None

    user = await bot.onboard("Dan", "en")
    [view] = await bot.send(user, "/subscribe")
    bot.sandbox.tap_raw(user, view, "1:nwt:no-such-offer")
    await bot.idle()
    assert bot.sandbox.callback_answers[-1].get("show_alert") is True
    assert await bot.storage.subscriptions.topics(user["id"]) == set()

    # Withdrawing consent stops broadcasts even with the subscription still stored.
    view = await bot.tap(user, bot.last(user["id"]), data=toggle_data(view, "general"))
    [notice] = await bot.send(user, "/privacy")
    await bot.tap(user, notice, data="1:consent:withdraw")
    assert await bot.storage.subscriptions.audience("general") == 0


async def test_stop_button_under_a_broadcast(bot: Harness) -> None:
    admin = coordinator(bot)
    user = await bot.onboard("Dan", "en")
    [view] = await bot.send(user, "/subscribe")
    view = await bot.tap(user, view, data=toggle_data(view, "general"))
    summary = await compose(bot, admin, {"de": "Hallo Nachbarschaft."})
    await tap(bot, admin, summary, "1:bcok")
    await finished(bot, admin["id"])
    [news] = delivered(bot, user)
    after = await bot.tap(
        user, bot.current(user["id"], news["message_id"]), text="🔕 Stop these messages"
    )
    assert bot.sandbox.callback_answers[-1]["show_alert"] is True
    assert "no longer receive news about General news" in bot.sandbox.callback_answers[-1]["text"]
    assert after["text"] == news["text"]  # the announcement stays readable
    assert button_texts(after) == ["📰 News settings"]
    assert await bot.storage.subscriptions.topics(user["id"]) == set()

    summary = await compose(bot, admin, {"de": "Noch eine."})
    await tap(bot, admin, summary, "1:bcok")
    await finished(bot, admin["id"], 2)
    assert len(delivered(bot, user)) == 1


async def test_blocking_makes_a_resident_unreachable_until_they_come_back(bot: Harness) -> None:
    user = await bot.onboard("Dan", "en")
    [view] = await bot.send(user, "/subscribe")
    await bot.tap(user, view, data=toggle_data(view, "general"))
    bot.sandbox.block(user)
    await bot.idle()
    resident = known(await bot.storage.residents.get(user["id"]))
    assert resident.unreachable_since is not None
    assert await bot.storage.subscriptions.audience("general") == 0

    bot.sandbox.unblock(user)
    await bot.idle()
    assert known(await bot.storage.residents.get(user["id"])).unreachable_since is None
    assert await bot.storage.subscriptions.audience("general") == 1
