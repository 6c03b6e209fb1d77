"""Command line: ``python -m bot`` (or ``quartierbot``).

With a token the bot polls Telegram (or ``QUARTIERBOT_API_URL``). Without one, or with
``sandbox``, it starts the local Bot API sandbox and the real bot wired to it, so anyone can
try it without creating a Telegram bot.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bot.app import build_application, run
from bot.clock import FakeClock, SystemClock
from bot.config import Config, ConfigError, load_config
from bot.directory import DirectoryError, load_directory
from storage.db import backup

SANDBOX_TOKEN = "123456:SANDBOX-local-demo"
SANDBOX_STAFF_CHAT = -1001000000001
SANDBOX_ADMIN = 900001
SANDBOX_COUNSELLOR = 900002
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="quartierbot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("sandbox", help="run the local Bot API sandbox and the bot wired to it")
    check = sub.add_parser(
        "check-directory", help="validate a directory file and list every problem"
    )
    check.add_argument("file", type=Path)
    backup_cmd = sub.add_parser(
        "backup", help="copy the live database consistently (online backup)"
    )
    backup_cmd.add_argument(
        "target", type=Path, nargs="?", help="default: data/backups/<time>.sqlite3"
    )
    args = parser.parse_args(argv)
    if args.command == "check-directory":
        return check_directory(args.file)

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        config = load_config()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return 2

    if args.command == "backup":
        return run_backup(config, args.target)
    if args.command == "sandbox" or config.token is None:
        asyncio.run(run_sandbox(config, explain=config.token is None and args.command != "sandbox"))
    else:
        asyncio.run(run(build_application(config)))
    return 0


def run_backup(config: Config, target: Path | None) -> int:
    """Safe while the bot runs: SQLite's online backup API, then an integrity check."""
    if not config.db_path.is_file():
        print(f"no database at {config.db_path}", file=sys.stderr)
        return 1
    if target is None:
        stamp = SystemClock().now().strftime("%Y%m%d-%H%M%S")
        target = config.db_path.parent / "backups" / f"quartierbot-{stamp}.sqlite3"
    result = backup(config.db_path, target)
    if result != "ok":
        print(f"backup {target} failed its integrity check: {result}", file=sys.stderr)
        return 1
    print(f"backup written to {target}")
    return 0


def check_directory(path: Path) -> int:
    """What a coordinator runs before ``/reload``: every problem, with its line."""
    try:
        directory = load_directory(path)
    except DirectoryError as exc:
        print(f"{path}: {len(exc.problems)} problem(s)")
        for problem in exc.problems:
            print(f"  {problem}")
        return 1
    print(
        f"{path}: OK ({len(directory.topics)} topics, {len(directory.offers)} offers, "
        f"{len(directory.places)} places)"
    )
    return 0


async def run_sandbox(config: Config, *, explain: bool) -> None:
    from bot.sandbox.server import Sandbox

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


if __name__ == "__main__":
    raise SystemExit(main())
