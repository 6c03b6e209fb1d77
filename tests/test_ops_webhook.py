"""Webhook mode end to end: the sandbox posts updates to the bot's listener through a
modelled reverse proxy, with the secret; forged requests are refused and change nothing;
switching back to polling deletes the webhook; shutdown finishes updates in flight. And
the one ``allowed_updates`` list checked against the registered handlers."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
)

from bot.clock import FakeClock
from bot.config import Config
from bot.i18n import I18n
from bot.receiver import UPDATE_TYPES
from bot.webhook import SECRET_HEADER, webhook_secret
from sandbox.server import Sandbox
from tests.conftest import STAFF_CHAT, Harness, with_config
from tests.receiver_harness import PUBLIC, WEBHOOK_URL, ReceiverHarness, free_port, started
from tests.test_booking import book, open_bookings
from tests.test_questions import staff_posts, topic_of
from tests.test_robustness import BAD_MEMBER

JSON = dict[str, Any]


# -- the one list of update types, against the handlers -------------------------------------
_USER = {"id": 5, "is_bot": False, "first_name": "A"}
_CHATS = (
    {"id": 5, "type": "private", "first_name": "A"},
    {"id": STAFF_CHAT, "type": "supergroup", "title": "Team", "is_forum": True},
    {"id": -1009999, "type": "channel", "title": "Channel"},
)
_CONTENTS: tuple[JSON, ...] = (
    {"text": "hello"},
    {"text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]},
    {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]},
    {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 1}},
    {"document": {"file_id": "d", "file_unique_id": "d"}},
    {"location": {"latitude": 51.3, "longitude": 6.5}},
    {"forum_topic_closed": {}},
)
# Telegram sends business_* updates only to bots connected to a Telegram Business account,
# which Quartierbot never is; every other kind that carries a message is probed.
_MESSAGE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post")


def _samples(bot: Any) -> Iterable[tuple[str, Update]]:
    for kind in _MESSAGE_KINDS:
        for chat in _CHATS:
            if ("channel" in kind) != (chat["type"] == "channel"):
                continue  # channel posts come from channels, messages from everywhere else
            for content in _CONTENTS:
                message: JSON = {"message_id": 9, "date": 0, "chat": chat, **content}
                if chat["type"] != "channel":
                    message["from"] = _USER
                if chat["id"] == STAFF_CHAT:
                    message |= {"message_thread_id": 3, "is_topic_message": True}
                if kind.startswith("edited"):
                    message["edit_date"] = 1
                yield kind, Update.de_json({"update_id": 1, kind: message}, bot)


def update_types_of(handler: BaseHandler[Any, Any, Any], bot: Any) -> set[str]:
    if isinstance(handler, ConversationHandler):
        inner = [*handler.entry_points, *handler.fallbacks]
        inner += [h for hs in handler.states.values() for h in hs]
        return set().union(*(update_types_of(h, bot) for h in inner))
    if isinstance(handler, TypeHandler):
        # The resolver (and the harness's marker) run for every update and use none.
        assert handler.type is Update, f"unexpected {handler!r}"
        return set()
    if isinstance(handler, CallbackQueryHandler):
        return {Update.CALLBACK_QUERY}
    if isinstance(handler, ChatMemberHandler):
        assert handler.chat_member_types is not None
        return {
            ChatMemberHandler.MY_CHAT_MEMBER: {Update.MY_CHAT_MEMBER},
            ChatMemberHandler.CHAT_MEMBER: {Update.CHAT_MEMBER},
            ChatMemberHandler.ANY_CHAT_MEMBER: {Update.MY_CHAT_MEMBER, Update.CHAT_MEMBER},
        }[handler.chat_member_types]
    if isinstance(handler, MessageHandler | CommandHandler):
        return {kind for kind, update in _samples(bot) if handler.check_update(update)}
    raise AssertionError(
        f"{type(handler).__name__} is new here: add its update type to "
        "bot.receiver.UPDATE_TYPES and teach this test about it"
    )


async def test_allowed_updates_are_exactly_what_the_handlers_use(bot: Harness) -> None:
    assert bot.app is not None
    used: set[str] = set()
    for handlers in bot.app.handlers.values():
        for handler in handlers:
            used |= update_types_of(handler, bot.app.bot)
    assert used == set(UPDATE_TYPES)


# -- configuration ----------------------------------------------------------------------------
def test_secret_is_generated_once_next_to_the_database(tmp_path: Path) -> None:
    config = Config(token="1:a", db_path=tmp_path / "data" / "bot.sqlite3")
    secret = webhook_secret(config)
    path = tmp_path / "data" / "webhook-secret"
    assert path.read_text().strip() == secret and len(secret) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert webhook_secret(config) == secret, "kept across restarts"
    given = with_config(config, webhook_secret="given_SECRET-1")
    assert webhook_secret(given) == "given_SECRET-1"


# -- end to end -------------------------------------------------------------------------------
@pytest.fixture
def webhook_config(config: Config, sandbox: Sandbox) -> Config:
    port = free_port()
    # The office's reverse proxy: https://bot.example.org/… → http://127.0.0.1:<port>/…
    sandbox.route_webhook(PUBLIC, f"http://127.0.0.1:{port}")
    return with_config(config, webhook_url=WEBHOOK_URL, webhook_listen=("127.0.0.1", port))


@pytest.fixture
async def hooked(
    sandbox: Sandbox, webhook_config: Config, clock: FakeClock, i18n: I18n
) -> AsyncIterator[ReceiverHarness]:
    async for harness in started(ReceiverHarness(sandbox, webhook_config, clock, i18n)):
        yield harness


async def forge(url: str, update: JSON, secret: str | None) -> int:
    headers = {} if secret is None else {SECRET_HEADER: secret}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=update, headers=headers) as response,
    ):
        return response.status


async def test_booking_and_question_by_webhook_and_forged_requests_refused(
    hooked: ReceiverHarness, tmp_path: Path
) -> None:
    bot, sandbox = hooked, hooked.sandbox
    hook = sandbox.webhook
    assert hook is not None and hook.url == WEBHOOK_URL
    secret = (tmp_path / "webhook-secret").read_text().strip()
    assert hook.secret_token == secret
    assert sandbox.world.allowed_updates == frozenset(UPDATE_TYPES)
    [set_call] = sandbox.calls("setWebhook")
    assert set_call.ok

    # A booking, all the way through the webhook.
    user = await bot.onboard("Aylin", "en")
    done = await book(bot, user)
    assert done["text"].startswith("✅ Your appointment is booked.")
    [booking] = await open_bookings(bot)
    assert booking.status == "confirmed"
    # A question reaches the staff group.
    [receipt] = await bot.send(user, "A letter from the Jobcenter")
    assert "passed on" in receipt["text"]
    thread = await topic_of(bot, user)
    posts = await staff_posts(bot, thread, 2)
    assert posts[-1]["text"] == "A letter from the Jobcenter"
    assert sandbox.stats["webhook_posts"] >= 8

    # An update PTB cannot read is skipped by id, as in getUpdates' batches; the next is handled.
    sandbox.send_raw_update(BAD_MEMBER)
    [_welcome_again] = await bot.send(user, "/start")
    assert bot.app is not None and bot.app.bot.update_stats.unreadable == 1
    assert not sandbox.calls("getUpdates"), "nothing polls in webhook mode"

    # While the webhook is set, getUpdates is refused as Telegram refuses it.
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sandbox.base_url}{sandbox.token}/getUpdates") as response,
    ):
        body = await response.json()
    assert response.status == 409 and "webhook is active" in body["description"]

    # Forged requests (a stranger's /start, a second booking tap): refused, nothing handled.
    stranger = sandbox.add_user("Mallory", language_code="en")
    forged = {
        "update_id": 999_999_999,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": stranger["id"], "type": "private", "first_name": "Mallory"},
            "from": stranger,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    before = len(sandbox.world.call_log)
    url = bot.local_url + "/telegram/quartierbot"
    assert await forge(url, forged, None) == 403
    assert await forge(url, forged, "wrong-secret") == 403
    assert await forge(url, forged, secret[:-1]) == 403
    assert await forge(url, {"no": "update id"}, secret) == 400
    await bot.idle()
    assert not bot.handled(999_999_999)
    assert len(sandbox.world.call_log) == before, "the bot made no call"
    assert await bot.storage.residents.get(stranger["id"]) is None
    assert not sandbox.bot_messages(stranger["id"])

    # The health check answers on the same listener.
    async with (
        aiohttp.ClientSession() as session,
        session.get(bot.local_url + "/healthz") as response,
    ):
        report = await response.json()
    assert response.status == 200, report
    # The unreadable update, and the authentic request that was not an update at all.
    assert report["updates"]["mode"] == "webhook" and report["updates"]["unreadable"] == 2


async def test_switching_back_to_polling_deletes_the_webhook(
    sandbox: Sandbox, webhook_config: Config, clock: FakeClock, i18n: I18n
) -> None:
    hooked = ReceiverHarness(sandbox, webhook_config, clock, i18n)
    await hooked.start()
    await hooked.stop()
    assert sandbox.webhook is not None, "a stopped bot keeps its webhook: Telegram queues"
    user = sandbox.add_user("Leyla", language_code="tr")
    sandbox.send_text(user, "/start")  # waits at Telegram while the bot is down

    polling_config = with_config(webhook_config, webhook_url=None)
    async for polling in started(ReceiverHarness(sandbox, polling_config, clock, i18n)):
        [welcome] = await sandbox.wait_bot_messages(user["id"])
        assert welcome["text"].startswith("Merhaba Leyla!")
        assert sandbox.webhook is None
        [delete] = sandbox.calls("deleteWebhook")
        assert delete.ok and not delete.params.get("drop_pending_updates")
        assert polling.receiver is not None and polling.receiver.listener is None
        polls = sandbox.calls("getUpdates")
        assert polls and polls[-1].params["allowed_updates"] == list(UPDATE_TYPES)


async def test_shutdown_finishes_updates_in_flight(
    sandbox: Sandbox, webhook_config: Config, clock: FakeClock, i18n: I18n
) -> None:
    harness = ReceiverHarness(sandbox, webhook_config, clock, i18n)
    await harness.start()
    user = sandbox.add_user("Aylin", language_code="de")
    sandbox.send_text(user, "/start")
    # Delivered (answered 200 by the listener), but maybe not handled yet: stop right away.
    await sandbox.wait_for(lambda: not sandbox.world.updates and sandbox.stats["webhook_posts"])
    await harness.stop()
    assert harness.handled_up_to == sandbox.world.next_update_id - 1
    assert sandbox.bot_messages(user["id"]), "the welcome went out before the bot stopped"
    assert not harness.errors


async def test_telegram_rules_for_webhook_urls(sandbox: Sandbox) -> None:
    async def set_webhook(url: str, **params: Any) -> JSON:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{sandbox.base_url}{sandbox.token}/setWebhook", json={"url": url, **params}
            ) as response,
        ):
            body: JSON = await response.json()
            return body

    assert (
        "HTTPS URL must be provided"
        in (await set_webhook("http://127.0.0.1:8443/x"))["description"]
    )
    assert (
        "ports 80, 88, 443 or 8443"
        in (await set_webhook("https://bot.example.org:9000/x"))["description"]
    )
    bad_secret = await set_webhook("https://bot.example.org/x", secret_token="no spaces")
    assert not bad_secret["ok"]
    sandbox.allow_http_webhooks()
    assert (await set_webhook("http://127.0.0.1:8443/x"))["ok"]
    sandbox.world.violations.clear()


def test_the_demo_polls_its_sandbox_whatever_the_webhook_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTIERBOT_")}
    env |= {"QUARTIERBOT_SANDBOX_PORT": "0", "QUARTIERBOT_WEBHOOK_URL": WEBHOOK_URL}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines.append(process.stdout.readline())
        if "Quartierbot is running" in lines[-1] or process.poll() is not None:
            break
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)
    assert "Quartierbot is running" in "".join(lines), "".join(lines) + rest
    assert process.returncode == 0 and "webhook set" not in rest


async def test_python_m_bot_in_webhook_mode_as_an_operator_runs_it(tmp_path: Path) -> None:
    token = "777:OPERATOR-webhook"
    port = free_port()
    async with Sandbox(token) as sandbox:
        sandbox.route_webhook(PUBLIC, f"http://127.0.0.1:{port}")
        staff = sandbox.add_group("Team", is_forum=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTIERBOT_")}
        env |= {
            "QUARTIERBOT_TOKEN": token,
            "QUARTIERBOT_API_URL": sandbox.url,
            "QUARTIERBOT_STAFF_CHAT": str(staff["id"]),
            "QUARTIERBOT_ADMINS": "1",
            "QUARTIERBOT_DB": str(tmp_path / "state" / "bot.sqlite3"),
            "QUARTIERBOT_WEBHOOK_URL": WEBHOOK_URL,
            "QUARTIERBOT_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await sandbox.wait_for(lambda: sandbox.webhook, timeout=30, message="setWebhook")
            user = sandbox.add_user("Leyla", language_code="tr")
            sandbox.send_text(user, "/start")
            [welcome] = await sandbox.wait_bot_messages(user["id"], timeout=30)
            assert welcome["text"].startswith("Merhaba Leyla!")
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/healthz") as response,
            ):
                assert response.status == 200, await response.text()
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, output.decode()
        assert not sandbox.violations, sandbox.violations
        assert not sandbox.calls("getUpdates")
    secret = tmp_path / "state" / "webhook-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert (
        sandbox.webhook is not None and sandbox.webhook.secret_token == secret.read_text().strip()
    )
