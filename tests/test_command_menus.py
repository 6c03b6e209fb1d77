"""The "/" command list follows the language a resident chose in the bot, not the phone's."""

from __future__ import annotations

from tests.conftest import STAFF_CHAT, Harness


def descriptions(bot: Harness, user_id: int, phone: str | None) -> dict[str, str]:
    return {c["command"]: c["description"] for c in bot.sandbox.shown_commands(user_id, phone)}


def expected(bot: Harness, language: str) -> dict[str, str]:
    t = bot.services.i18n.get(language)
    return {c.name: t._(c.description) for c in bot.services.commands_for("private")}


async def test_kurmanji_and_leichte_sprache_see_their_own_list(bot: Harness) -> None:
    kurmanji = await bot.onboard("Rojda", "de", language="ku")
    easy = await bot.onboard("Maria", "de", language="de_easy")
    # Without a list for the chat, a German phone shows the German one.
    assert expected(bot, "ku") != expected(bot, "de") != expected(bot, "de_easy")
    assert descriptions(bot, kurmanji["id"], "de") == expected(bot, "ku")
    assert descriptions(bot, easy["id"], "de") == expected(bot, "de_easy")


async def test_the_list_follows_language_and_goes_with_erasure(bot: Harness) -> None:
    user = await bot.onboard("Ayşe", "de", language="tr")
    assert descriptions(bot, user["id"], "de") == expected(bot, "tr")
    [picker] = await bot.send(user, "/language")
    await bot.tap(user, picker, text="العربية")
    assert descriptions(bot, user["id"], "de") == expected(bot, "ar")

    [ask] = await bot.send(user, "/delete")
    await bot.tap(user, ask, data="1:del:yes")
    # Nothing in the chat recalls the chosen language: the phone's list again.
    assert descriptions(bot, user["id"], "de") == expected(bot, "de")


async def test_nothing_is_published_for_a_chat_before_consent(bot: Harness) -> None:
    user = bot.user("Olena", "de")
    [welcome] = await bot.send(user, "/start")
    await bot.tap(user, welcome, text="Українська")
    assert bot.sandbox.commands(None, {"type": "chat", "chat_id": user["id"]}) == []
    assert descriptions(bot, user["id"], "de") == expected(bot, "de")


async def test_a_start_brings_every_chat_up_to_date(bot: Harness) -> None:
    """Residents from before this version, or whose list changed, are caught up at start;
    one who blocked the bot does not stop the others."""
    first = await bot.onboard("Rojda", "de", language="ku")
    second = await bot.onboard("Omar", "ar", language="ar")
    third = await bot.onboard("Jan", "pl", language="pl")
    for user in (first, second, third):
        await bot.storage.residents.set_commands(user["id"], None)
        bot.sandbox.world.bot_commands.pop((f"chat:{user['id']}", ""), None)
    bot.sandbox.fail_next("setMyCommands", 400, "Bad Request: chat not found", chat_id=first["id"])
    await bot.restart()
    await bot.idle()
    # The first one was refused; the other two have their lists.
    assert descriptions(bot, first["id"], "de") == expected(bot, "de")
    assert descriptions(bot, second["id"], "de") == expected(bot, "ar")
    assert descriptions(bot, third["id"], "de") == expected(bot, "pl")
    before = len(bot.sandbox.calls("setMyCommands"))
    await bot.restart()
    await bot.idle()
    # Up to date: only the refused one is tried again (plus the lists for everybody).
    chat_calls = [
        c
        for c in bot.sandbox.calls("setMyCommands")[before:]
        if (c.params.get("scope") or {}).get("type") == "chat"
        and (c.params.get("scope") or {}).get("chat_id") != bot.staff_chat
    ]
    assert len(chat_calls) == 1


async def test_topic_name_and_card_follow_a_new_language(bot: Harness) -> None:
    from tests.test_questions import posted, staff_posts, topic_of

    user = await bot.onboard("Olena", "uk")
    await bot.send(user, "Добрий день, у мене питання")
    thread = await topic_of(bot, user)
    card, _copy = await staff_posts(bot, thread, 2)
    assert "Ukrainisch" in card["text"]
    [topic] = bot.sandbox.topics(STAFF_CHAT)
    assert "Ukrainisch" in topic["name"]

    [picker] = await bot.send(user, "/language")
    await bot.tap(user, picker, text="Türkçe")
    await bot.idle()
    [topic] = bot.sandbox.topics(STAFF_CHAT)
    assert "Türkisch" in topic["name"] and "Ukrainisch" not in topic["name"]
    card = bot.current(STAFF_CHAT, card["message_id"])
    assert "Sprache: Türkisch" in card["text"] and "Ukrainisch" not in card["text"]
    stored = await bot.storage.requests.current_topic(user["id"])
    assert stored is not None and stored.name == topic["name"]
    assert len(posted(bot, thread)) == 2  # edited in place, nothing new posted

    # Choosing the same language again changes nothing in the staff group.
    edits = len(bot.sandbox.calls("editForumTopic"))
    [picker] = await bot.send(user, "/language")
    await bot.tap(user, picker, data="1:lang:de")
    [picker] = await bot.send(user, "/language")
    await bot.tap(user, picker, data="1:lang:de")
    await bot.idle()
    assert len(bot.sandbox.calls("editForumTopic")) == edits + 1
