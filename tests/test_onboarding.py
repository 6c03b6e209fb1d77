"""First contact, end to end: /start, consent, language, help, bad input, restarts."""

from __future__ import annotations

from telegram.error import Forbidden

from bot.i18n import FSI, LRI, PDI
from tests.conftest import Harness, button_texts


async def test_start_in_german_asks_for_consent_before_storing(bot: Harness) -> None:
    user = bot.user("Aylin", "de")
    [welcome] = await bot.send(user, "/start")
    assert welcome["text"].startswith("Hallo Aylin!")
    assert "Datenschutz" in welcome["text"]
    assert "02151 86 34 63" in welcome["text"]
    assert button_texts(welcome)[:2] == ["Ja, ich stimme zu", "Nein, danke"]
    assert await bot.storage.residents.get(user["id"]) is None

    after = await bot.tap(user, welcome, data="1:consent:yes")
    assert "Sprache" in after["text"]
    assert "✓ Deutsch" in button_texts(after)
    resident = await bot.storage.residents.get(user["id"])
    assert resident is not None and resident.consented and resident.language == "de"

    menu = await bot.tap(user, after, text="✓ Deutsch")
    # The menu also tells newcomers that writing reaches a counsellor.
    assert menu["text"].splitlines() == [
        "Was möchten Sie tun?",
        "💬 Sie können Ihre Frage einfach hier schreiben. Eine Beraterin oder ein Berater liest sie.",
    ]
    assert any("Sprache" in b for b in button_texts(menu))


async def test_arabic_phone_sees_arabic_with_isolates(bot: Harness) -> None:
    user = bot.user("Omar", "ar")
    [welcome] = await bot.send(user, "/start")
    text = welcome["text"]
    assert "\u0600" <= text[0] <= "\u06ff", "an RTL message must start with an RTL letter"
    assert f"{FSI}Omar{PDI}" in text
    assert f"{LRI}02151 86 34 63{PDI}" in text
    assert "Hallo" not in text and "Hello" not in text


async def test_unsupported_language_gets_german_and_english(bot: Harness) -> None:
    user = bot.user("Kenji", "ja")
    [welcome] = await bot.send(user, "/start")
    assert "Hallo Kenji!" in welcome["text"]
    assert "Hello Kenji!" in welcome["text"]
    assert "Ja, ich stimme zu / Yes, I agree" in button_texts(welcome)


async def test_declining_stores_nothing(bot: Harness) -> None:
    user = bot.user("Mia", "de")
    [welcome] = await bot.send(user, "/start")
    after = await bot.tap(user, welcome, data="1:consent:no")
    assert "nichts gespeichert" in after["text"]
    assert await bot.storage.residents.get(user["id"]) is None


async def test_text_before_consent_is_not_passed_on(bot: Harness) -> None:
    user = bot.user("Jan", "pl")
    [answer] = await bot.send(user, "Dzień dobry, mam pytanie")
    assert "zgod" in answer["text"].lower()
    assert await bot.storage.residents.get(user["id"]) is None


async def test_language_before_consent_stays_in_memory_and_is_saved_with_consent(
    bot: Harness,
) -> None:
    user = bot.user("Olena", "de")
    [welcome] = await bot.send(user, "/start")
    # The first screen offers every language by its own name, no extra step.
    notice = await bot.tap(user, welcome, text="Українська")
    assert "Olena" in notice["text"] and "Так" in " ".join(button_texts(notice))
    assert await bot.storage.residents.get(user["id"]) is None
    await bot.tap(user, notice, data="1:consent:yes")
    resident = await bot.storage.residents.get(user["id"])
    assert resident is not None and resident.language == "uk"


async def test_change_language_and_restart_keeps_it(bot: Harness) -> None:
    user = await bot.onboard("Ayşe", "de")
    [picker] = await bot.send(user, "/language")
    menu = await bot.tap(user, picker, text="Türkçe")
    assert menu["text"].splitlines()[0] == "Ne yapmak istersiniz?"
    await bot.restart()
    [again] = await bot.send(user, "/start")
    assert again["text"].startswith("Tekrar hoş geldiniz, Ayşe!")


async def test_help_lists_commands_in_the_residents_language(bot: Harness) -> None:
    user = await bot.onboard("Dan", "en")
    [help_message] = await bot.send(user, "/help")
    assert help_message["text"].startswith("This is what I can do:")
    for command in ("/start", "/language", "/privacy", "/hours"):
        assert command in help_message["text"]


async def test_unknown_command(bot: Harness) -> None:
    user = await bot.onboard("Ion", "ro")
    [answer] = await bot.send(user, "/foobar")
    assert "/help" in answer["text"]
    assert "comand" in answer["text"].lower()


async def test_stale_and_forged_buttons_get_a_clear_answer(bot: Harness) -> None:
    user = await bot.onboard("Ivan", "ru")
    [menu] = await bot.send(user, "/start")
    for data in ("0:menu", "1:lang:xx", "1:nonsense:1", "garbage"):
        before = len(bot.sandbox.callback_answers)
        bot.sandbox.tap_raw(user, menu, data)

        def answered(before: int = before) -> bool:
            return len(bot.sandbox.callback_answers) > before

        await bot.sandbox.wait_for(answered)
        answer = bot.sandbox.callback_answers[-1]
        assert answer.get("show_alert") is True
        assert "кнопка" in answer["text"].lower()
    resident = await bot.storage.residents.get(user["id"])
    assert resident is not None and resident.language == "ru"


async def test_privacy_and_withdrawal(bot: Harness) -> None:
    user = await bot.onboard("Sara", "de")
    [notice] = await bot.send(user, "/privacy")
    assert "Sie haben am" in notice["text"]
    after = await bot.tap(user, notice, text="Einwilligung widerrufen")
    assert "widerrufen" in after["text"]
    resident = await bot.storage.residents.get(user["id"])
    assert resident is not None and not resident.consented
    [answer] = await bot.send(user, "Hallo?")
    assert "nicht weitergegeben" in answer["text"]


async def test_commands_are_published_in_every_language(bot: Harness) -> None:
    commands = {c.params.get("language_code") for c in bot.sandbox.calls("setMyCommands")}
    assert {None, "de", "en", "tr", "ar", "uk", "ru", "pl", "bg", "ro", "fa", "ku"} <= commands
    arabic = bot.sandbox.commands("ar", {"type": "all_private_chats"})
    assert any(
        c["command"] == "start" and "\u0600" <= c["description"][0] <= "\u06ff" for c in arabic
    )


async def test_429_from_telegram_is_waited_out(bot: Harness) -> None:
    user = bot.user("Lena", "de")
    bot.sandbox.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    [welcome] = await bot.send(user, "/start")
    assert welcome["text"].startswith("Hallo Lena!")


async def test_blocked_bot_is_handled(bot: Harness) -> None:
    user = await bot.onboard("Kai", "de")
    bot.expect(Forbidden)
    bot.sandbox.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    bot.sandbox.send_text(user, "/help")
    await bot.idle()
    [answer] = await bot.send(user, "/help")
    assert "Das kann ich" in answer["text"]


async def test_staff_commands_are_published_in_the_staff_group(bot: Harness) -> None:
    staff = bot.sandbox.commands(None, {"type": "chat", "chat_id": bot.staff_chat})
    names = {c["command"] for c in staff}
    assert {"queue", "claim", "agenda", "broadcast", "closed", "audit"} <= names
    residents = {c["command"] for c in bot.sandbox.commands("en", {"type": "all_private_chats"})}
    assert not names & residents


async def test_first_screen_offers_languages_and_emergency_numbers(bot: Harness) -> None:
    user = bot.user("Kenji", "ja")  # a language we do not speak: German and English
    [welcome] = await bot.send(user, "/start")
    labels = button_texts(welcome)
    for name in (
        "Deutsch",
        "English",
        "Türkçe",
        "العربية",
        "Українська",
        "فارسی",
        "Kurdî (Kurmancî)",
    ):
        assert name in labels
    text = welcome["text"]
    assert "110 (Polizei)" in text and "110 (police)" in text
    assert "112 (Feuerwehr, Rettungsdienst)" in text and "112 (fire brigade, ambulance)" in text

    arabic = bot.user("Omar", "ar")
    [welcome] = await bot.send(arabic, "/start")
    assert "110 (الشرطة)" in welcome["text"] and "police" not in welcome["text"]


async def test_a_message_before_consent_gets_the_emergency_note(bot: Harness) -> None:
    unknown = bot.user("Kenji", "ja")
    [answer] = await bot.send(unknown, "Help, please")
    assert "110 (Polizei)" in answer["text"] and "110 (police)" in answer["text"]
    polish = bot.user("Jan", "pl")
    [answer] = await bot.send(polish, "Dzień dobry")
    assert "110 (policja)" in answer["text"] and "Polizei" not in answer["text"]
    assert "✓ Polski" in button_texts(answer)


async def test_tapping_the_ticked_language_answers_without_editing(bot: Harness) -> None:
    """A tap on the language that is already ticked changes nothing on screen: the bot
    answers the tap and leaves the message alone (Telegram refuses an edit to the same
    content with 400 "message is not modified", and the sandbox does too)."""
    user = bot.user("Aylin", "de")
    [welcome] = await bot.send(user, "/start")
    # Before consent: the first screen offers the languages; the chosen one gets ticked.
    first = await bot.tap(user, welcome, data="1:lang:tr")
    assert "✓ Türkçe" in button_texts(first)
    edits = len(bot.sandbox.calls("editMessageText", user["id"]))
    answers = len(bot.sandbox.callback_answers)
    again = await bot.tap(user, first, data="1:lang:tr")
    assert again["text"] == first["text"]
    assert len(bot.sandbox.calls("editMessageText", user["id"])) == edits
    assert len(bot.sandbox.callback_answers) == answers + 1
    assert [c for c in bot.sandbox.calls(chat_id=user["id"]) if not c.ok] == []
