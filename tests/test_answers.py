"""Prepared answers end to end over the sandbox: the library staff keep from the group
(commands, export and import, restarts), the suggestion in the topic with its button, the
offer to the resident with ✅ / 💬, QUARTIERBOT_SELF_HELP, and erasure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from bot.services.answers import parse_library
from sandbox.libretranslate import FakeLibreTranslate
from sandbox.server import Sandbox
from tests.conftest import ADMIN_ID, STAFF_CHAT, Harness, buttons, known, running, with_config
from tests.test_questions import posted, staff_posts, topic_of
from tests.test_staff import new_for, staff_says

JSON = dict[str, Any]

KITA = (
    "Einen Platz in einer Kita melden Sie im Kita-Navigator der Stadt an. Wir helfen Ihnen"
    " gerne bei der Anmeldung."
)
KITA_TR = "Kita yeri için şehrin Kita-Navigator sistemine kayıt olursunuz. Size yardımcı oluruz."
KITA_QUESTION_DE = "hallo ich suche einen kitaplatz für meine tochter sie ist 2"
KITA_QUESTION_TR = "merhaba kızım için kita yeri arıyorum kita platz"


async def add_kita(bot: Harness, *, turkish: bool = True) -> None:
    service = bot.services.answers
    await service.put("kita", KITA, ["Kita Platz", "Kitaplatz finden"], staff_id=1)
    if turkish:
        await service.translate("kita", "tr", KITA_TR, staff_id=1)


def staff(bot: Harness) -> JSON:
    return bot.sandbox.add_user("Jana", language_code="de")


async def opened(bot: Harness, name: str, lang: str, text: str) -> tuple[JSON, int]:
    user = await bot.onboard(name, lang)
    bot.sandbox.send_text(user, text)
    await bot.idle()
    return user, await topic_of(bot, user)


def suggestions(bot: Harness, thread: int) -> list[JSON]:
    return [m for m in posted(bot, thread) if m.get("text", "").startswith("💡")]


# -- the library -------------------------------------------------------------------------------
async def test_the_seven_shipped_answers_are_the_library_and_survive_a_restart(
    bot: Harness,
) -> None:
    jana = staff(bot)
    [listing] = await staff_says(bot, jana, "/answers", None)
    for key in ("id", "docs", "call", "visit", "received", "book", "wait"):
        assert f"• {key}: " in listing["text"]
    assert "[ar, bg, de_easy, en, fa, ku, pl, ro, ru, tr, uk]" in listing["text"]
    await staff_says(bot, jana, "/answer del wait", None)
    await bot.restart()
    # Seeded once: a deleted entry stays deleted.
    [listing] = await staff_says(bot, jana, "/answers", None)
    assert "• wait:" not in listing["text"] and "• id:" in listing["text"]


async def test_staff_add_translate_show_and_delete_entries(bot: Harness) -> None:
    jana = staff(bot)
    box = bot.sandbox
    answer = box.send_text(jana, KITA, chat_id=STAFF_CHAT)
    box.send_text(
        jana, "/answer add kita\nKita Platz\nKitaplatz finden", chat_id=STAFF_CHAT, reply_to=answer
    )
    await bot.idle()
    [saved] = await staff_says(bot, jana, "/answer kita", None)
    assert saved["text"].startswith("📚 kita") and "• Kitaplatz finden" in saved["text"]
    turkish = box.send_text(jana, KITA_TR, chat_id=STAFF_CHAT)
    box.send_text(jana, "/answer translate kita tr", chat_id=STAFF_CHAT, reply_to=turkish)
    await bot.idle()
    [listing] = await staff_says(bot, jana, "/answers", None)
    assert "• kita: Einen Platz in einer Kita" in listing["text"] and "[tr]" in listing["text"]
    # Bad input: a clear answer, nothing changed.
    [no_reply] = await staff_says(bot, jana, "/answer add neu", None)
    assert "/answer add <key>" in no_reply["text"]
    [bad] = await staff_says(bot, jana, "/answer translate kita xx", None)
    assert "xx" in bad["text"]
    [unknown] = await staff_says(bot, jana, "/answer nix", None)
    assert "nix" in unknown["text"]
    [deleted] = await staff_says(bot, jana, "/answer del kita", None)
    assert "kita" in deleted["text"]
    assert await bot.services.answers.entry("kita") is None
    actions = [e.action for e in await bot.storage.audit.recent()]
    assert {"answer_add", "answer_translate", "answer_delete"} <= set(actions)


async def test_export_and_import_restore_the_library(bot: Harness) -> None:
    await add_kita(bot)
    jana = staff(bot)
    bot.sandbox.send_text(jana, "/answers export", chat_id=STAFF_CHAT)
    await bot.idle()
    [document] = [m for m in bot.sandbox.bot_messages(STAFF_CHAT) if "document" in m]
    data = bot.sandbox.file_bytes(document["document"]["file_id"])
    assert {e.key for e in parse_library(data)} >= {"kita", "id", "wait"}
    await staff_says(bot, jana, "/answer del kita", None)
    await staff_says(bot, jana, "/answer del id", None)
    # A broken file is refused and changes nothing.
    bot.sandbox.send_document(
        jana, b"answers: [1, 2", "x.yaml", "text/yaml", "/answers import", chat_id=STAFF_CHAT
    )
    await bot.idle()
    assert (
        "cannot be imported" in posted(bot, None)[-1]["text"]
        or "nicht" in (posted(bot, None)[-1]["text"])
    )
    assert await bot.services.answers.entry("id") is None
    # The exported file, sent back with the caption: everything is back, translations too.
    bot.sandbox.send_document(
        jana, data, "answers.yaml", "text/yaml", "/answers import", chat_id=STAFF_CHAT
    )
    await bot.idle()
    await staff_posts(bot, None, 1)
    kita = known(await bot.services.answers.entry("kita"))
    assert kita.translations["tr"] == KITA_TR and kita.phrases == ("Kita Platz", "Kitaplatz finden")
    assert await bot.services.answers.entry("id") is not None
    # As a reply to such a file, too.
    await staff_says(bot, jana, "/answer del kita", None)
    sent = bot.sandbox.send_document(jana, data, "answers.yaml", "text/yaml", chat_id=STAFF_CHAT)
    bot.sandbox.send_text(jana, "/answers import", chat_id=STAFF_CHAT, reply_to=sent)
    await bot.idle()
    await bot.restart()
    assert await bot.services.answers.entry("kita") is not None
    assert yaml.safe_load(data)["version"] == 1


# -- a new request ---------------------------------------------------------------------------
async def test_staff_see_a_suggestion_and_send_it_with_one_tap(bot: Harness) -> None:
    await add_kita(bot)
    user, thread = await opened(bot, "Emre", "tr", KITA_QUESTION_TR)
    [hint] = await bot.sandbox.wait_for(lambda: suggestions(bot, thread))
    assert hint["text"].startswith("💡 Vorbereitete Antwort passt vielleicht: kita — Einen Platz")
    copy = next(
        m for m in bot.sandbox.messages(STAFF_CHAT, thread) if m.get("text") == KITA_QUESTION_TR
    )
    assert hint["reply_to_message"]["message_id"] == copy["message_id"]
    [button] = buttons(hint)
    assert button["callback_data"] == "1:ans:kita"
    before = len(bot.sandbox.bot_messages(user["id"]))
    bot.sandbox.tap(staff(bot), hint, data=button["callback_data"])
    await bot.idle()
    [sent] = await new_for(bot, user, before)
    assert sent["text"] == KITA_TR
    assert known(await bot.storage.requests.latest(user["id"])).state == "answered"
    # A second message in the same request: no new suggestion.
    bot.sandbox.send_text(user, "kita platz bitte")
    await bot.idle()
    assert len(suggestions(bot, thread)) == 1


async def test_the_resident_is_offered_the_answer_and_it_helped(bot: Harness) -> None:
    await add_kita(bot)
    user = await bot.onboard("Emre", "tr")
    receipt, offer = await bot.send(user, KITA_QUESTION_TR, count=2)
    assert receipt["text"].startswith("✅")
    assert KITA_TR in offer["text"]
    assert [b["text"] for b in buttons(offer)] == [
        "✅ " + bot.i18n.get("tr")._("That answers my question"),
        "💬 " + bot.i18n.get("tr")._("I still want to talk to a counsellor"),
    ]
    data = buttons(offer)[0]["callback_data"]
    assert str(user["id"]) not in data
    thread = await topic_of(bot, user)
    after = await bot.tap(user, offer, data=data)
    assert not buttons(after)
    assert known(await bot.storage.requests.latest(user["id"])).state == "closed"
    await bot.sandbox.wait_for(
        lambda: [m for m in posted(bot, thread) if "‚kita' hat geholfen" in m.get("text", "")]
    )
    # A second tap counts nothing.
    bot.sandbox.tap_raw(user, offer, data)
    await bot.idle()
    counts = await bot.storage.answers.counts("2000-01", "2999-12")
    assert counts[("tr", "helped")] == 1 and counts[("tr", "offered")] == 1
    assert await bot.storage.db.fetchall("SELECT * FROM answer_offers") == []
    # The funders' figures: per language, as counts (small ones shown as "<3").
    admin = bot.sandbox.add_user("Kora", language_code="de", user_id=ADMIN_ID)
    bot.sandbox.send_text(admin, "/export")
    await bot.idle(timeout=30)  # a spreadsheet too: a slow machine takes its time
    sent = bot.sandbox.bot_messages(admin["id"])
    [csv_file] = [m for m in sent if m.get("document", {}).get("file_name", "").endswith(".csv")]
    exported = bot.sandbox.file_bytes(csv_file["document"]["file_id"]).decode("utf-8-sig")
    assert "prepared_answers,prepared_helped," in exported and ",tr,,,<3" in exported


async def test_the_resident_still_wants_to_talk(bot: Harness) -> None:
    await add_kita(bot, turkish=False)
    user = await bot.onboard("Jonas", "de")
    _, offer = await bot.send(user, KITA_QUESTION_DE, count=2)
    assert KITA in offer["text"]
    thread = await topic_of(bot, user)
    await bot.tap(user, offer, data=buttons(offer)[1]["callback_data"])
    assert known(await bot.storage.requests.latest(user["id"])).state == "open"
    await bot.sandbox.wait_for(
        lambda: [m for m in posted(bot, thread) if m.get("text", "").startswith("💬")]
    )
    counts = await bot.storage.answers.counts("2000-01", "2999-12")
    assert counts[("de", "talk")] == 1


async def test_no_human_translation_and_no_translator_german_only_from_staff(
    bot: Harness,
) -> None:
    """Offered only in the resident's language; /reply sends the German with the note."""
    await add_kita(bot, turkish=False)
    user = await bot.onboard("Emre", "tr")
    [receipt] = await bot.send(user, KITA_QUESTION_TR)
    await bot.idle()
    assert bot.sandbox.bot_messages(user["id"])[-1] == receipt  # no offer
    thread = await topic_of(bot, user)
    await bot.sandbox.wait_for(lambda: suggestions(bot, thread))
    before = len(bot.sandbox.bot_messages(user["id"]))
    await staff_says(bot, staff(bot), "/reply kita", thread)
    [sent] = await new_for(bot, user, before)
    assert KITA in sent["text"]
    assert bot.i18n.get("tr")._("This message is only available in German.") in sent["text"]


async def test_an_unrelated_question_gets_no_suggestion(bot: Harness) -> None:
    await add_kita(bot)
    user = await bot.onboard("Jonas", "de")
    [receipt] = await bot.send(user, "Mein Mann ist seit gestern im Krankenhaus")
    await bot.idle()
    thread = await topic_of(bot, user)
    assert suggestions(bot, thread) == []
    assert len(bot.sandbox.bot_messages(user["id"])) == len(
        [
            m
            for m in bot.sandbox.bot_messages(user["id"])
            if m["message_id"] <= receipt["message_id"]
        ]
    )


async def test_erasure_removes_the_residents_link_to_an_offer(bot: Harness) -> None:
    await add_kita(bot)
    user = await bot.onboard("Emre", "tr")
    await bot.send(user, KITA_QUESTION_TR, count=2)
    assert await bot.storage.answers.offers_of(user["id"]) == 1
    [question] = await bot.send(user, "/delete")
    await bot.tap(user, question, data="1:del:yes")
    await bot.idle()
    assert await bot.storage.answers.offers_of(user["id"]) == 0
    assert await bot.storage.privacy.rows_mentioning(user["id"]) == {}


# -- QUARTIERBOT_SELF_HELP -------------------------------------------------------------------
@pytest.fixture(params=["staff", "off"])
async def limited(
    request: pytest.FixtureRequest, sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    changed = with_config(config, self_help=request.param)
    async for harness in running(Harness(sandbox, changed, clock, i18n)):
        yield harness


async def test_self_help_staff_suggests_only_and_off_does_nothing(limited: Harness) -> None:
    bot = limited
    await add_kita(bot)
    user = await bot.onboard("Jonas", "de")
    [receipt] = await bot.send(user, KITA_QUESTION_DE)
    assert receipt["text"].startswith("✅")
    await bot.idle()
    thread = await topic_of(bot, user)
    assert len(bot.sandbox.bot_messages(user["id"])) == len(
        [
            m
            for m in bot.sandbox.bot_messages(user["id"])
            if m["message_id"] <= receipt["message_id"]
        ]
    )
    expected = 1 if bot.config.self_help == "staff" else 0
    assert len(suggestions(bot, thread)) == expected


async def test_a_request_opened_by_voice_is_matched_on_its_transcript(bot: Harness) -> None:
    """The transcript comes from the interpreter (``Interpreter.heard``); here it is handed
    over as the interpreter would, since the default test bot has no Whisper model."""
    await add_kita(bot, turkish=False)
    user = await bot.onboard("Jonas", "de")
    voice = bot.sandbox.send_voice(user)
    await bot.idle()
    thread = await topic_of(bot, user)
    assert suggestions(bot, thread) == []
    before = len(bot.sandbox.bot_messages(user["id"]))
    await bot.services.answers.heard(user["id"], voice["message_id"], "de", KITA_QUESTION_DE)
    await bot.idle()
    [hint] = await bot.sandbox.wait_for(lambda: suggestions(bot, thread))
    assert "kita" in hint["text"]
    [offer] = await new_for(bot, user, before)
    assert KITA in offer["text"]
    # Heard once: a second transcript of the same message changes nothing.
    await bot.services.answers.heard(user["id"], voice["message_id"], "de", KITA_QUESTION_DE)
    await bot.idle()
    assert len(suggestions(bot, thread)) == 1


# -- with machine translation ----------------------------------------------------------------
QUESTION_TR = "merhaba kızım için kreş yeri arıyorum nasıl başvururum"
KITA_MACHINE_TR = "Şehrin Kita-Navigator sisteminden bir kreş yeri için kayıt olursunuz."


@pytest.fixture
async def translating(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[Harness]:
    phrases = {
        ("tr", "de", QUESTION_TR): "Hallo, ich suche einen Kita Platz für meine Tochter",
        ("de", "tr", KITA): KITA_MACHINE_TR,
    }
    async with FakeLibreTranslate(phrases=phrases) as engine:
        changed = with_config(config, translate_url=engine.url)
        async for harness in running(Harness(sandbox, changed, clock, i18n)):
            yield harness


async def test_a_question_in_another_language_is_found_through_its_translation(
    translating: Harness,
) -> None:
    bot = translating
    # Written by staff in the group (as an office does): the German original that the
    # resident can unfold under a machine translation is their text, as for their answers.
    jana = staff(bot)
    answer = bot.sandbox.send_text(jana, KITA, chat_id=STAFF_CHAT)
    bot.sandbox.send_text(jana, "/answer add kita\nKita Platz", chat_id=STAFF_CHAT, reply_to=answer)
    await bot.idle()
    user = await bot.onboard("Emre", "tr")
    bot.sandbox.send_text(user, QUESTION_TR)
    await bot.idle()
    thread = await topic_of(bot, user)
    [hint] = await bot.sandbox.wait_for(lambda: suggestions(bot, thread))
    assert "kita" in hint["text"]
    # The resident reads the machine translation, marked as such (and never stored).
    _, offer = await bot.sandbox.wait_bot_messages(user["id"], 2)
    assert KITA_MACHINE_TR in offer["text"]
    assert bot.i18n.get("tr")._("This answer was translated by a machine.") in offer["text"]
    stored = await bot.storage.db.fetchall("SELECT text FROM replies")
    assert all(KITA_MACHINE_TR not in (row[0] or "") for row in stored)
    # /reply sends it the same way, and staff see what went out.
    before = len(bot.sandbox.bot_messages(user["id"]))
    await staff_says(bot, jana, "/reply kita", thread)
    [sent] = await new_for(bot, user, before)
    assert sent["text"].startswith(KITA_MACHINE_TR)
    assert bot.i18n.get("tr")._("This answer was translated by a machine.") in sent["text"]


async def test_an_untapped_offer_expires_after_thirty_days(bot: Harness) -> None:
    await add_kita(bot)
    user = await bot.onboard("Emre", "tr")
    _, offer = await bot.send(user, KITA_QUESTION_TR, count=2)
    bot.clock.advance(timedelta(days=29))
    assert await bot.services.answers.expire() == 0
    bot.clock.advance(timedelta(days=2))
    assert await bot.services.answers.expire() == 1
    assert await bot.storage.answers.offers_of(user["id"]) == 0
    await bot.tap(user, offer, data=buttons(offer)[0]["callback_data"])
    said = bot.i18n.get("tr")._("Thank you, we already have your answer.")
    assert bot.sandbox.callback_answers[-1]["text"] == said
    # (The request itself went quiet and was closed by the idle rule, not by the tap.)
    assert not [m for m in posted(bot, None) if "hat geholfen" in m.get("text", "")]
    assert (await bot.storage.answers.counts("2000-01", "2999-12")).get(("tr", "helped")) is None


async def test_every_wrong_library_command_is_answered_and_changes_nothing(bot: Harness) -> None:
    jana = staff(bot)
    before = await bot.services.answers.entries()
    text = bot.sandbox.send_text(jana, "Ein Text", chat_id=STAFF_CHAT)
    cases = {
        "/answer": "/answer add <key>",
        "/answers nonsense": "/answers export",
        "/answers import": "/answers import",  # no file
        "/answer del nix": "„nix“",
        "/answer add Kita!": "Kleinbuchstaben",
        "/answer add": "Kleinbuchstaben",
    }
    for command, expected in cases.items():
        [said] = await staff_says(bot, jana, command, None)
        assert expected in said["text"], (command, said["text"])
    bot.sandbox.send_text(jana, "/answer translate nix tr", chat_id=STAFF_CHAT, reply_to=text)
    await bot.idle()
    assert "„nix“" in posted(bot, None)[-1]["text"]
    assert await bot.services.answers.entries() == before


async def test_residents_cannot_use_the_library_commands_or_the_send_button(bot: Harness) -> None:
    mallory = await bot.onboard("Mallory", "en")
    for command in ("/answers", "/answers export", "/answer add x", "/answer id"):
        [answer] = await bot.send(mallory, command)
        assert "only for the project's staff" in answer["text"]
    [menu] = await bot.send(mallory, "/help")
    bot.sandbox.tap_raw(mallory, menu, "1:ans:id")
    await bot.idle()
    assert (
        await bot.storage.db.fetchall("SELECT * FROM replies WHERE chat_id = ?", (mallory["id"],))
        == []
    )


@pytest.fixture
async def flat(
    sandbox: Sandbox, config: Config, clock: FakeClock, i18n: I18n, tmp_path: Path
) -> AsyncIterator[Harness]:
    group = sandbox.add_group("Team ohne Themen", is_forum=False)
    changed = with_config(config, staff_chat=group["id"], db_path=tmp_path / "flat.sqlite3")
    async for harness in running(Harness(sandbox, changed, clock, i18n)):
        yield harness


async def test_the_send_button_works_in_a_group_without_topics(flat: Harness) -> None:
    bot = flat
    group = bot.config.staff_chat
    assert group is not None
    await add_kita(bot)
    user = await bot.onboard("Emre", "tr")
    await bot.send(user, KITA_QUESTION_TR, count=2)
    [hint] = await bot.sandbox.wait_for(
        lambda: [m for m in bot.sandbox.bot_messages(group) if m.get("text", "").startswith("💡")]
    )
    assert hint["reply_to_message"]["text"] == KITA_QUESTION_TR  # the copy of the question
    before = len(bot.sandbox.bot_messages(user["id"]))
    bot.sandbox.tap(staff(bot), hint, data=buttons(hint)[0]["callback_data"])
    await bot.idle()
    [sent] = await new_for(bot, user, before)
    assert sent["text"] == KITA_TR
