"""Tests of the sandbox itself: if it lies about Telegram, every bot test built on it lies."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

import sandbox as sandbox_package
from bot.clock import FakeClock
from sandbox import ApiSchema, Sandbox, SandboxError, find_schema
from sandbox.formatting import parse_html, parse_markdown_v2

TOKEN = "123456:SANDBOX"


@pytest.fixture(scope="module")
def schema() -> ApiSchema:
    return ApiSchema.load()


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


async def raw(sandbox: Sandbox, method: str, token: str = TOKEN, **params: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sandbox.url}/bot{token}/{method}", json=params) as resp,
    ):
        return resp.status, await resp.json()


def seconds(value: Any) -> float:
    """PTB 22 returns int or timedelta depending on PTB_TIMEDELTA."""
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


def retry_seconds(err: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns about the int/timedelta switch
        warnings.simplefilter("ignore")
        return seconds(err.retry_after)


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in buttons])


# ------------------------------------------------------------------ schema


def test_find_schema_bundled_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("QUARTIERBOT_API_SCHEMA", raising=False)
    found = find_schema()
    # The copy inside the checkout, never a folder beside it.
    assert found == Path(sandbox_package.__file__).resolve().parent / "data" / "api.json"
    meta = json.loads(found.read_text(encoding="utf-8"))
    assert meta["version"].startswith("Bot API ") and meta["release_date"]
    custom = tmp_path / "api.json"
    custom.write_text(found.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("QUARTIERBOT_API_SCHEMA", str(custom))
    assert find_schema() == custom


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"chat_id": 1, "text": "hi", "colour": "red"}, "colour: unknown parameter"),
        ({"text": "hi"}, "chat_id: missing required parameter"),
        ({"chat_id": 1, "text": "x" * 4097}, "must be 1-4096 characters, got 4097"),
        ({"chat_id": 1, "text": " \n "}, "must be 1-4096 characters, got 0"),
        (
            {"chat_id": "1", "text": "<b>hi", "parse_mode": "HTML"},
            "can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        ({"chat_id": 1, "text": "<p>hi</p>", "parse_mode": "HTML"}, 'Unsupported start tag "p"'),
        (
            {"chat_id": 1, "text": "<b><i>x</b></i>", "parse_mode": "HTML"},
            'expected "</i>", found "</b>"',
        ),
        (
            {"chat_id": 1, "text": "3.50 Euro", "parse_mode": "MarkdownV2"},
            "Character '.' is reserved",
        ),
        ({"chat_id": [1], "text": "hi"}, "chat_id: expected Integer or String, got array"),
        ({"chat_id": 1, "text": "hi", "disable_notification": "maybe"}, "expected Boolean"),
    ],
)
def test_schema_rejects(schema: ApiSchema, params: dict[str, Any], expected: str) -> None:
    problems = schema.validate("sendMessage", params)
    assert any(expected in p for p in problems), problems


def test_schema_counts_text_after_parsing(schema: ApiSchema) -> None:
    text = "<b>" + "&lt;" * 4096 + "</b>"
    assert schema.validate("sendMessage", {"chat_id": 1, "text": text, "parse_mode": "HTML"}) == []
    too_long = "<b>" + "x" * 4097 + "</b>"
    assert schema.validate("sendMessage", {"chat_id": 1, "text": too_long, "parse_mode": "HTML"})
    caption = {"chat_id": 1, "photo": "x", "caption": "y" * 1025}
    assert any("1024" in p for p in schema.validate("sendPhoto", caption))


def test_schema_keyboards(schema: ApiSchema) -> None:
    def check(markup: Any) -> list[str]:
        return schema.validate(
            "sendMessage", {"chat_id": 1, "text": "t", "reply_markup": json.dumps(markup)}
        )

    ok = {"inline_keyboard": [[{"text": "a", "callback_data": "x" * 64}]]}
    assert check(ok) == []
    # 33 characters but 66 bytes: the limit is in bytes.
    umlauts = {"inline_keyboard": [[{"text": "a", "callback_data": "ä" * 33}]]}
    assert any("64 bytes" in p for p in check(umlauts))
    assert any("exactly one action" in p for p in check({"inline_keyboard": [[{"text": "a"}]]}))
    two = {"inline_keyboard": [[{"text": "a", "callback_data": "x", "url": "https://x.de"}]]}
    assert any("exactly one action" in p for p in check(two))
    assert check({"keyboard": [[{"text": "Hilfe"}]], "resize_keyboard": True}) == []
    assert check({"remove_keyboard": True}) == []
    assert check({"force_reply": True}) == []
    assert any("unknown field" in p for p in check({"keyboard": [[{"text": "a"}]], "size": 1}))
    assert any(
        "can't parse" in p
        for p in schema.validate(
            "sendMessage", {"chat_id": 1, "text": "t", "reply_markup": "{broken"}
        )
    )


def test_schema_commands_topics_callbacks(schema: ApiSchema) -> None:
    bad = schema.validate(
        "setMyCommands",
        {
            "commands": [
                {"command": "Start", "description": "x"},
                {"command": "a" * 33, "description": "x"},
                {"command": "ok", "description": ""},
                {"command": "ok2", "description": "d" * 257},
            ]
        },
    )
    assert len(bad) == 4, bad
    assert (
        schema.validate(
            "setMyCommands",
            {
                "commands": [{"command": "hilfe_1", "description": "Hilfe"}],
                "scope": {"type": "all_private_chats"},
            },
        )
        == []
    )
    assert schema.validate("setMyCommands", {"commands": [], "scope": {"type": "nonsense"}})
    assert schema.validate("createForumTopic", {"chat_id": -100, "name": ""})
    assert schema.validate("createForumTopic", {"chat_id": -100, "name": "n" * 129})
    assert schema.validate("answerCallbackQuery", {"callback_query_id": "1", "text": "x" * 201})
    assert (
        schema.validate("answerCallbackQuery", {"callback_query_id": "1", "text": "x" * 200}) == []
    )
    assert schema.validate("sendFoo", {}) == ["unknown method 'sendFoo'"]


def test_entity_parsing_offsets_are_utf16() -> None:
    text, ents = parse_html('😀 <b>fett</b> <a href="https://x.de/?a=1&amp;b=2">Link</a>')
    assert text == "😀 fett Link"
    assert ents == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 8, "length": 4, "url": "https://x.de/?a=1&b=2"},
    ]
    text, ents = parse_markdown_v2(r"*fett* und 3\.50 \- ok")
    assert text == "fett und 3.50 - ok"
    assert ents == [{"type": "bold", "offset": 0, "length": 4}]


# ------------------------------------------------------------------ HTTP


async def test_http_basics(sandbox: Sandbox) -> None:
    status, body = await raw(sandbox, "getMe", token="654321:WRONG")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await raw(sandbox, "getCheese")
    assert (status, body["description"]) == (404, "Not Found")
    status, body = await raw(sandbox, "GETME")
    assert status == 200 and body["result"]["id"] == 123456 and body["result"]["is_bot"]
    user = sandbox.add_user("Anna")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{sandbox.url}/bot{TOKEN}/sendMessage",
            data={"chat_id": str(user["id"]), "text": "form"},
        ) as resp:
            assert resp.status == 200
        async with session.get(
            f"{sandbox.url}/bot{TOKEN}/sendMessage",
            params={"chat_id": str(user["id"]), "text": "query"},
        ) as resp:
            assert resp.status == 200
    assert [m["text"] for m in sandbox.bot_messages(user["id"])] == ["form", "query"]
    assert sandbox.calls("sendmessage", chat_id=user["id"])[0].params["chat_id"] == user["id"]


async def test_strict_and_lenient_violations() -> None:
    async with Sandbox(TOKEN) as strict:
        user = strict.add_user("Anna")
        status, body = await raw(
            strict, "sendMessage", chat_id=user["id"], text="hi", reply_to_message_id=5
        )
        assert status == 400 and body["description"].startswith("Bad Request: ")
        assert strict.violations == [
            "sendMessage: reply_to_message_id: unknown parameter for sendMessage"
        ]
        assert strict.bot_messages(user["id"]) == []
        status, body = await raw(
            strict, "sendMessage", chat_id=user["id"], text="<x>", parse_mode="HTML"
        )
        assert body["description"] == (
            'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
        )
    async with Sandbox(TOKEN, strict=False) as lenient:
        user = lenient.add_user("Anna")
        status, _ = await raw(lenient, "sendMessage", chat_id=user["id"], text="hi", colour=1)
        assert status == 200 and len(lenient.violations) == 1
        # Errors Telegram itself raises still happen without strict mode.
        status, body = await raw(lenient, "sendMessage", chat_id=user["id"], text="x" * 5000)
        assert (status, body["description"]) == (400, "Bad Request: message is too long")


async def test_without_schema(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QUARTIERBOT_API_SCHEMA", str(tmp_path / "missing.json"))
    with pytest.raises(FileNotFoundError):
        Sandbox(TOKEN)
    async with Sandbox(TOKEN, strict=False) as sb:
        assert sb.schema is None
        user = sb.add_user("Anna")
        status, body = await raw(sb, "sendMessage", chat_id=str(user["id"]), text="hi")
        assert status == 200 and body["result"]["text"] == "hi"
        assert sb.calls("sendMessage")[0].params["chat_id"] == user["id"]


async def test_get_updates_long_poll_wakes_up(sandbox: Sandbox) -> None:
    user = sandbox.add_user("Anna")
    poll = asyncio.create_task(raw(sandbox, "getUpdates", timeout=120))
    await sandbox.wait_for(lambda: sandbox.calls("getUpdates"), message="the long poll to wait")
    sent = sandbox.send_text(user, "/start hallo")
    # Woken by the update: without the wake-up it would answer after its 120 s.
    _, body = await asyncio.wait_for(poll, 60)
    [update] = body["result"]
    assert update["message"] == sent
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    # Not confirmed yet: delivered again; confirmed by offset: gone.
    _, again = await raw(sandbox, "getUpdates")
    assert [u["update_id"] for u in again["result"]] == [update["update_id"]]
    _, confirmed = await raw(sandbox, "getUpdates", offset=update["update_id"] + 1)
    assert confirmed["result"] == [] and sandbox.world.updates == []
    # allowed_updates filters and persists.
    sandbox.send_text(user, "nur Text")
    _, body = await raw(sandbox, "getUpdates", allowed_updates=["callback_query"])
    assert body["result"] == []


async def test_concurrent_get_updates_conflict(sandbox: Sandbox) -> None:
    first = asyncio.create_task(raw(sandbox, "getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(raw(sandbox, "getUpdates", timeout=0))
    status, body = await first
    assert status == 409 and body["description"].startswith("Conflict")
    assert (await second)[0] == 200


# ------------------------------------------------------------------ with PTB


async def test_ptb_message_keyboard_and_callback(sandbox: Sandbox, bot: Bot) -> None:
    user = sandbox.add_user("Anna", username="anna")
    sent = await bot.send_message(
        user["id"],
        "Wähle <b>bitte</b>:",
        parse_mode="HTML",
        reply_markup=keyboard(("Ja", "yes"), ("Nein", "no")),
    )
    assert sent.text == "Wähle bitte:" and sent.entities[0].type == "bold"
    stored = sandbox.last_bot_message(user["id"])
    assert stored is not None and stored["reply_markup"]["inline_keyboard"][1][0]["text"] == "Nein"
    query = sandbox.tap(user, stored, text="Nein")
    assert query["data"] == "no" and query["from"]["id"] == user["id"]
    [update] = await bot.get_updates()
    assert update.callback_query is not None and update.callback_query.data == "no"
    assert await update.callback_query.answer("Gespeichert")
    assert sandbox.callback_answers[-1]["text"] == "Gespeichert"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await update.callback_query.answer()  # twice
    stale = sandbox.tap_raw(user, stored, "forged")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")
    assert stale["data"] == "forged"
    with pytest.raises(SandboxError, match="buttons: 'Ja'->yes"):
        sandbox.tap(user, stored, data="maybe")
    assert sandbox.violations == []


async def test_ptb_editing_rules(sandbox: Sandbox, bot: Bot) -> None:
    user = sandbox.add_user("Anna")
    msg = await bot.send_message(user["id"], "eins", reply_markup=keyboard(("A", "a")))
    edited = await bot.edit_message_text(
        "zwei", user["id"], msg.message_id, reply_markup=keyboard(("A", "a"))
    )
    assert isinstance(edited, Message)  # (True is the answer for inline messages)
    assert edited.text == "zwei" and edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "zwei", user["id"], msg.message_id, reply_markup=keyboard(("A", "a"))
        )
    # Editing without reply_markup drops the keyboard, as on Telegram.
    await bot.edit_message_text("drei", user["id"], msg.message_id)
    assert "reply_markup" not in sandbox.messages(user["id"])[-1]
    theirs = sandbox.send_text(user, "von Anna")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", user["id"], theirs["message_id"])
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", user["id"], 999)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(42, "niemand")
    assert await bot.delete_message(user["id"], msg.message_id)
    assert [m["text"] for m in sandbox.messages(user["id"])] == ["von Anna"]
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(user["id"], msg.message_id)


async def test_upload_document_and_download(sandbox: Sandbox, bot: Bot) -> None:
    user = sandbox.add_user("Anna")
    payload = b"%PDF-1.4 Hausordnung"
    msg = await bot.send_document(
        user["id"],
        payload,
        filename="hausordnung.pdf",
        caption="<i>Bitte lesen</i>",
        parse_mode="HTML",
    )
    assert msg.document is not None and msg.document.file_name == "hausordnung.pdf"
    assert msg.caption == "Bitte lesen"
    file = await bot.get_file(msg.document.file_id)
    assert file.file_path is not None and file.file_path.endswith(".pdf")
    assert bytes(await file.download_as_bytearray()) == payload
    # Re-sending by file_id reuses the stored file.
    again = await bot.send_document(user["id"], msg.document.file_id)
    assert again.document is not None and again.document.file_id == msg.document.file_id
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(user["id"], "nonsense-file-id")
    assert sandbox.violations == []


async def test_media_group_upload(sandbox: Sandbox, bot: Bot) -> None:
    user = sandbox.add_user("Anna")
    sent = await bot.send_media_group(
        user["id"],
        [
            InputMediaPhoto(b"\x89PNG one", caption="eins"),
            InputMediaPhoto(b"\x89PNG two"),
        ],
    )
    assert len(sent) == 2 and sent[0].media_group_id == sent[1].media_group_id
    assert sent[0].caption == "eins" and sandbox.violations == []
    file = await bot.get_file(sent[1].photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == b"\x89PNG two"


async def test_fail_next_429_gives_retry_after(sandbox: Sandbox, bot: Bot) -> None:
    user = sandbox.add_user("Anna")
    sandbox.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(user["id"], "hi")
    assert retry_seconds(err.value) == 7
    assert sandbox.stats["429"] == 1
    await bot.send_message(user["id"], "hi")  # only the next call failed
    sandbox.fail_next("sendMessage", 400, "Bad Request: nope", times=2, chat_id=-5)
    await bot.send_message(user["id"], "other chat unaffected")


async def test_blocked_user(sandbox: Sandbox, bot: Bot) -> None:
    user = sandbox.add_user("Anna")
    sandbox.block(user)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(user["id"], "hallo?")
    [update] = await bot.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    sandbox.unblock(user)
    await bot.send_message(user["id"], "wieder da")


async def test_topics_and_copy_photo(sandbox: Sandbox, bot: Bot) -> None:
    staff = sandbox.add_user("Sabine")
    group = sandbox.add_group("Quartier Team", admins=[staff])
    user = sandbox.add_user("Anna")
    topic = await bot.create_forum_topic(group["id"], "Anna")
    assert topic.message_thread_id > 1
    photo = sandbox.send_photo(user, caption="Schimmel im Bad")
    copied = await bot.copy_message(
        group["id"], user["id"], photo["message_id"], message_thread_id=topic.message_thread_id
    )
    [msg] = sandbox.bot_messages(group["id"], thread_id=topic.message_thread_id)
    assert msg["message_id"] == copied.message_id
    assert msg["photo"] == photo["photo"] and msg["caption"] == "Schimmel im Bad"
    assert msg["is_topic_message"] and msg["message_thread_id"] == topic.message_thread_id
    assert sandbox.topics(group["id"])[0]["name"] == "Anna"

    sandbox.close_topic(group["id"], topic.message_thread_id, by=staff)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_CLOSED"):
        await bot.send_message(group["id"], "x", message_thread_id=topic.message_thread_id)
    sandbox.delete_topic(group["id"], topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(group["id"], "x", message_thread_id=topic.message_thread_id)
    assert sandbox.messages(group["id"], thread_id=topic.message_thread_id) == []

    member = await bot.get_chat_member(group["id"], bot.id)
    assert member.status == "administrator"
    assert (await bot.get_chat_member(group["id"], staff["id"])).status == "creator"
    assert (await bot.get_chat_member(group["id"], user["id"])).status == "left"
    admins = await bot.get_chat_administrators(group["id"])
    assert {a.user.id for a in admins} == {bot.id, staff["id"]}


async def test_rate_limits() -> None:
    async with (
        Sandbox(TOKEN, max_per_second=3) as sb,
        Bot(TOKEN, base_url=f"{sb.url}/bot", base_file_url=f"{sb.url}/file/bot") as bot,
    ):  # initialize() used one call
        user = sb.add_user("Anna")
        await bot.send_message(user["id"], "1")
        await bot.send_message(user["id"], "2")
        with pytest.raises(RetryAfter) as err:
            await bot.send_message(user["id"], "3")
        assert retry_seconds(err.value) >= 1
        assert sb.stats["429"] == 1
    async with Sandbox(TOKEN, group_per_minute=2) as sb:
        group = sb.add_group("G", is_forum=False)
        for _ in range(2):
            assert (await raw(sb, "sendMessage", chat_id=group["id"], text="x"))[0] == 200
        status, body = await raw(sb, "sendMessage", chat_id=group["id"], text="x")
        assert status == 429 and body["parameters"]["retry_after"] >= 1
        user = sb.add_user("Anna")  # private chats are not limited per minute
        assert (await raw(sb, "sendMessage", chat_id=user["id"], text="x"))[0] == 200


async def test_results_match_schema(sandbox: Sandbox, bot: Bot, schema: ApiSchema) -> None:
    """What the sandbox returns must itself be valid Bot API objects."""
    user = sandbox.add_user("Anna", last_name="B", username="anna_b")
    group = sandbox.add_group("Team")
    topic = sandbox.create_topic(group["id"], "Hilfe", by=user)
    sandbox.send_text(user, "hallo", chat_id=group["id"], thread_id=topic["message_thread_id"])
    sandbox.send_voice(user)
    sandbox.send_document(user, b"abc", "a.txt", "text/plain")
    sandbox.send_media_group(user, [("photo", b"\x89PNG", "a"), ("video", b"mp4", None)])
    sandbox.send_location(user, 51.3, 6.5)
    sandbox.send_contact(user, "+49 2151 1", "Anna", contact_user_id=user["id"])
    sandbox.send_sticker(user)
    sandbox.send_video_note(user)
    sandbox.send_audio(user, title="Lied")
    await bot.send_venue(user["id"], 51.3, 6.5, "Quartiersbüro", "Hauptstr. 1")
    await bot.forward_message(group["id"], user["id"], 1)
    await bot.set_my_commands([("start", "Start")], language_code="de")
    assert sandbox.commands("de") == [{"command": "start", "description": "Start"}]
    checks: list[tuple[str, Any]] = [
        ("Message", m) for chat in (user["id"], group["id"]) for m in sandbox.messages(chat)
    ]
    checks += [("Update", u) for u in sandbox.world.updates]
    for method, type_name in (
        ("getMe", "User"),
        ("getChat", "ChatFullInfo"),
        ("getWebhookInfo", "WebhookInfo"),
    ):
        params = {"chat_id": group["id"]} if method == "getChat" else {}
        checks.append((type_name, (await raw(sandbox, method, **params))[1]["result"]))
    member = await raw(sandbox, "getChatMember", chat_id=group["id"], user_id=123456)
    checks.append(("ChatMember", member[1]["result"]))
    problems = [f"{t}: {p}" for t, value in checks for p in schema.validate_object(t, value)]
    assert problems == []
    assert sandbox.violations == []


async def test_application_end_to_end() -> None:
    """The real Application polling the sandbox; the way the project's bot tests run."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "Willkommen!", reply_markup=keyboard(("Deutsch", "lang:de"), ("Türkçe", "lang:tr"))
        )
        await update.effective_message.reply_text(
            "Menü", reply_markup=ReplyKeyboardMarkup([["Hilfe"]], resize_keyboard=True)
        )

    async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        await query.answer()
        await query.edit_message_text(f"Sprache: {query.data.split(':')[1]}")

    clock = FakeClock()
    async with Sandbox(TOKEN, clock=clock) as sb:
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(f"{sb.url}/bot")
            .base_file_url(f"{sb.url}/file/bot")
            .build()
        )
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(choose))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=5)
            user = sb.add_user("Ayşe", language_code="tr")
            sb.send_text(user, "/start")
            welcome, menu = await sb.wait_bot_messages(user["id"], 2)
            assert welcome["date"] == int(clock.now().timestamp())
            assert sb.reply_keyboard(user["id"]) is not None and "reply_markup" not in menu
            sb.tap(user, welcome, text="Türkçe")
            await sb.wait_for(lambda: sb.messages(user["id"])[1]["text"] == "Sprache: tr")
            await sb.settle()
            assert len(sb.callback_answers) == 1 and sb.violations == []
            with pytest.raises(TimeoutError, match="last calls"):
                await sb.wait_bot_messages(user["id"], 1, timeout=0.1)
            await app.updater.stop()
            await app.stop()


async def test_control_api(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as session:

        async def act(**body: Any) -> Any:
            async with session.post(f"{sandbox.url}/sandbox/api/action", json=body) as resp:
                return resp.status, await resp.json()

        _, added = await act(action="add_user", first_name="Anna")
        uid = added["result"]["id"]
        status, sent = await act(action="send_text", user_id=uid, text="Hallo")
        assert status == 200 and sent["result"]["text"] == "Hallo"
        status, err = await act(action="tap", user_id=uid, chat_id=uid, message_id=1, data="x")
        assert status == 400 and "no inline keyboard" in err["error"]
        async with session.get(f"{sandbox.url}/sandbox/api/state") as resp:
            state = await resp.json()
        [chat] = state["chats"]
        assert chat["messages"][0]["text"] == "Hallo" and state["users"][0]["id"] == uid
