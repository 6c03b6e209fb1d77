"""The local demonstration: the sandbox, a staff group with its people, and the real bot
wired to it (``make run`` without a token, ``python -m bot sandbox``)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from bot.app import build_application, run
from bot.clock import FakeClock
from bot.config import Config
from sandbox.server import Sandbox

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
    try:
        await run(build_application(sandbox_config, clock=clock))
    finally:
        await sandbox.stop()
        scratch.cleanup()
