"""Command line: ``python -m bot`` (or ``quartierbot``).

With a token the bot polls Telegram (or ``QUARTIERBOT_API_URL``). Without one, or with
``sandbox``, it starts the local Bot API sandbox and the real bot wired to it, so anyone can
try it without creating a Telegram bot.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from pathlib import Path

from bot.app import build_application, run
from bot.check import check
from bot.clock import SystemClock
from bot.config import Config, ConfigError, load_config
from bot.directory import DirectoryError, load_directory
from bot.logs import configure_logging
from storage.db import backup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="quartierbot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("sandbox", help="run the local Bot API sandbox and the bot wired to it")
    check_dir = sub.add_parser(
        "check-directory", help="validate a directory file and list every problem"
    )
    check_dir.add_argument("file", type=Path)
    sub.add_parser(
        "check",
        help="before going live: configuration, directory, database and staff group, "
        "one line per problem",
    )
    backup_cmd = sub.add_parser(
        "backup", help="copy the live database consistently (online backup)"
    )
    backup_cmd.add_argument(
        "target", type=Path, nargs="?", help="default: data/backups/<time>.sqlite3"
    )
    args = parser.parse_args(argv)
    if args.command == "check-directory":
        return check_directory(args.file)

    try:
        config = load_config()
    except ConfigError as exc:
        configure_logging()
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return 2
    configure_logging(config.log_format)

    if args.command == "check":
        return run_check(config)
    if args.command == "backup":
        return run_backup(config, args.target)
    if args.command == "sandbox" or config.token is None:
        return run_demo(config, explain=config.token is None and args.command != "sandbox")
    else:
        asyncio.run(run(build_application(config)))
    return 0


def run_demo(config: Config, *, explain: bool) -> int:
    """Hand over to the sandbox demo, a development tool that lives outside the production
    packages (``sandbox/``): looked up by name at run time, so that nothing in ``bot``,
    ``handlers`` or ``storage`` imports it, and an installation without it says so."""
    try:
        demo = importlib.import_module("sandbox.demo")
    except ModuleNotFoundError:
        print(
            "QUARTIERBOT_TOKEN is not set, and the local sandbox (sandbox/) is not installed "
            "here: set the token from @BotFather.",
            file=sys.stderr,
        )
        return 2
    asyncio.run(demo.run_sandbox(config, explain=explain))
    return 0


def run_check(config: Config) -> int:
    problems = asyncio.run(check(config))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print("everything checked: ready to go live")
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


if __name__ == "__main__":
    raise SystemExit(main())
