"""The local demonstration: the sandbox, a staff group with its people, and the real bot
wired to it (``make run`` without a token, ``python -m bot sandbox``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.app import build_application, run
from bot.clock import FakeClock
from bot.config import Config
from sandbox.libretranslate import PHRASES, FakeLibreTranslate
from sandbox.server import Sandbox

log = logging.getLogger(__name__)
JSON = dict[str, Any]

SANDBOX_TOKEN = "123456:SANDBOX-local-demo"
SANDBOX_STAFF_CHAT = -1001000000001
SANDBOX_ADMIN = 900001
SANDBOX_COUNSELLOR = 900002
LOOPBACK = ("127.0.0.1", "localhost", "::1")


async def run_sandbox(config: Config, *, explain: bool) -> None:
    clock = FakeClock(ticking=True)
    sandbox = Sandbox(SANDBOX_TOKEN, clock=clock, strict=False)
    sandbox.timezone = str(config.tz)
    await sandbox.start(host=config.sandbox_host, port=config.sandbox_port)
    admins = config.admins or frozenset({SANDBOX_ADMIN})
    # The staff group's people, so the chat page can write as staff: the coordinators
    # (config.admins) and one counsellor, all administrators of the group.
    staff_members = [
        sandbox.add_user(
            "Jonas (Koordination)" if uid == SANDBOX_ADMIN else f"Coordinator {uid}",
            language_code="de",
            user_id=uid,
        )
        for uid in sorted(admins)
    ]
    staff_members.append(
        sandbox.add_user("Aylin (Beratung)", language_code="de", user_id=SANDBOX_COUNSELLOR)
    )
    staff = sandbox.add_group(
        "Kom.ZFB Team",
        is_forum=True,
        chat_id=config.staff_chat or SANDBOX_STAFF_CHAT,
        admins=staff_members,
    )
    # Made-up people never go into the real database: the demo keeps its own, and it is
    # gone when the demo stops.
    scratch = tempfile.TemporaryDirectory(prefix="quartierbot-sandbox-")
    sandbox_config = replace(
        config,
        token=SANDBOX_TOKEN,
        api_url=sandbox.url,
        staff_chat=staff["id"],
        admins=admins,
        db_path=Path(scratch.name) / "sandbox.sqlite3",
        # The demo always polls its own sandbox, whatever the operator's webhook settings.
        webhook_url=None,
        health_listen=None,
    )
    if explain:
        print("No QUARTIERBOT_TOKEN is set, so Quartierbot runs against its local sandbox.")
        print("To connect a real bot, create one with @BotFather and set QUARTIERBOT_TOKEN.")
    print(f"Try it in the browser: {sandbox.url}/sandbox/")
    print("  A local demonstration, not Telegram: people and messages are made up, nothing is")
    print("  sent anywhere, and everything is gone when you stop it (Ctrl+C).")
    if config.sandbox_host not in LOOPBACK:
        print(
            f"  Warning: listening on {config.sandbox_host}; anyone who can reach this port "
            "can use the demo. Keep QUARTIERBOT_SANDBOX_HOST=127.0.0.1 unless you mean it."
        )
    # Machine translation: the operator's server when one is configured; otherwise the
    # LibreTranslate stand-in the tests use, so the demo always shows a translated
    # exchange, and the page says plainly that it is a demonstration engine.
    stand_in: FakeLibreTranslate | None = None
    if config.translate_url:
        sandbox.world.engines["translation"] = (
            f"Machine translation: the translation server at {config.translate_url}."
        )
    else:
        stand_in = FakeLibreTranslate()
        await stand_in.start()
        sandbox_config = replace(sandbox_config, translate_url=stand_in.url)
        sandbox.world.engines["translation"] = (
            "Machine translation: a demonstration engine, not a real translation: it only knows"
            " a few sentences and marks everything else as “[de] …” (no translation server is"
            " configured, QUARTIERBOT_TRANSLATE_URL)."
        )
    sandbox.world.engines["voice"] = (
        f"Voice transcription: model {config.voice_model}."
        if config.voice_model
        else "Voice transcription: off (QUARTIERBOT_VOICE_MODEL is not set)."
    )
    print(f"  {sandbox.world.engines['translation']}")
    exchange = asyncio.create_task(translated_exchange(sandbox, staff["id"], staff_members[-1]))
    try:
        await run(build_application(sandbox_config, clock=clock))
    finally:
        exchange.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await exchange
        if stand_in is not None:
            await stand_in.stop()
        await sandbox.stop()
        scratch.cleanup()


QUESTION = next(text for (source, target, text) in PHRASES if (source, target) == ("ar", "de"))
ANSWER_DE = next(text for (source, target, text) in PHRASES if (source, target) == ("de", "ar"))


async def translated_exchange(sandbox: Sandbox, staff_chat: int, counsellor: JSON) -> None:
    """One conversation across the language line, played when the demo starts: an Arabic
    resident asks, the counsellor answers in German, each reads the other translated."""
    try:
        omar = sandbox.add_user("Omar", language_code="ar")
        sandbox.send_text(omar, "/start")
        [welcome] = await sandbox.wait_bot_messages(omar["id"], 1, timeout=30)
        sandbox.tap(omar, welcome, data="1:consent:yes")
        await sandbox.wait_for(
            lambda: _has_button(sandbox, omar["id"], welcome["message_id"], "1:lang:ar"),
            timeout=10,
        )
        sandbox.tap(omar, _current(sandbox, omar["id"], welcome["message_id"]), data="1:lang:ar")
        await asyncio.sleep(1)
        sandbox.send_text(omar, QUESTION)
        topic = await sandbox.wait_for(
            lambda: next((t for t in sandbox.topics(staff_chat) if "Omar" in t["name"]), None),
            timeout=30,
        )
        thread = topic["message_thread_id"]
        await sandbox.wait_for(
            lambda: any(
                "🌐" in (m.get("text") or "") for m in sandbox.messages(staff_chat, thread)
            ),
            timeout=30,
        )
        sandbox.send_text(counsellor, ANSWER_DE, chat_id=staff_chat, thread_id=thread)
    except (TimeoutError, LookupError) as problem:
        log.warning("the demonstration exchange did not play through: %s", problem)


def _current(sandbox: Sandbox, chat_id: int, message_id: int) -> JSON:
    return next(m for m in sandbox.messages(chat_id) if m["message_id"] == message_id)


def _has_button(sandbox: Sandbox, chat_id: int, message_id: int, data: str) -> bool:
    markup = _current(sandbox, chat_id, message_id).get("reply_markup") or {}
    return any(
        button.get("callback_data") == data
        for row in markup.get("inline_keyboard", [])
        for button in row
    )
