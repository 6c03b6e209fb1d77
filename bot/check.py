"""``python -m bot check``: what an office runs before going live (and after each change).

Checks the configuration, the directory file, the database (opens, migrations current,
writable) and the staff group (the bot is an administrator there, with the right to manage
topics in a forum), and reports one line per problem. Nothing is changed: a write is tried
inside a transaction that is rolled back.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from telegram import Bot, ChatMemberAdministrator, ChatMemberOwner
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.config import Config
from bot.directory import DEFAULT_PATH as DEFAULT_DIRECTORY, DirectoryError, load_directory
from bot.engines.ocr import TesseractOCR, resolve_languages, tesseract_binary
from storage.health import known_migrations


async def check(config: Config) -> list[str]:
    problems = check_settings(config)
    problems += check_directory(config.directory or DEFAULT_DIRECTORY)
    problems += check_database(config.db_path)
    problems += check_ocr(config)
    problems += await check_telegram(config)
    return problems


def check_settings(config: Config) -> list[str]:
    problems = []
    if config.token is None:
        problems.append("QUARTIERBOT_TOKEN: not set (without it the bot runs the local demo)")
    if config.staff_chat is None:
        problems.append("QUARTIERBOT_STAFF_CHAT: not set (questions would reach nobody)")
    if not config.admins:
        problems.append("QUARTIERBOT_ADMINS: not set (nobody could broadcast or see /stats)")
    return problems


def check_ocr(config: Config) -> list[str]:
    """Letters are read only where Tesseract and its language data are installed."""
    languages = resolve_languages(config.ocr)
    if languages is None:
        return []
    engine = TesseractOCR(languages)
    if engine.available or (config.ocr is None and tesseract_binary() is None):
        return []  # unset and no Tesseract: letters are simply not read (said at start)
    return [
        f"letter reading (QUARTIERBOT_OCR={languages}): {engine.reason}; letters are "
        "passed on unread (QUARTIERBOT_OCR=off says that is intended)"
    ]


def check_directory(path: Path) -> list[str]:
    try:
        load_directory(path)
    except DirectoryError as exc:
        return [f"directory {path}: {problem}" for problem in exc.problems]
    except OSError as exc:
        return [f"directory {path}: cannot be read ({exc.strerror or exc})"]
    return []


def check_database(path: Path) -> list[str]:
    """Read-only unless the file does not exist yet; then only the folder is tried."""
    folder = path.parent
    if not folder.exists():
        # The bot creates the folder at its first start: its parent must take it.
        parent = next((p for p in folder.parents if p.exists()), Path("/"))
        return _writable_folder(parent, f"database folder {folder} does not exist and")
    problems = _writable_folder(folder, f"database folder {folder}")
    if not path.exists():
        return problems  # a fresh start: the bot creates the file with every migration
    if path.stat().st_mode & 0o077:
        problems.append(
            f"database {path}: other users may read residents' data (chmod 600 {path.name})"
        )
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5, isolation_level=None)
    except sqlite3.Error as exc:
        return [*problems, f"database {path}: cannot be opened ({exc})"]
    try:
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        except sqlite3.Error as exc:
            return [*problems, f"database {path}: cannot be read ({exc})"]
        if "schema_migrations" in tables:
            applied = {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}
            known = {int(name[:4]) for name in known_migrations()}
            if applied - known:
                problems.append(
                    f"database {path}: written by a newer version of the bot (migrations "
                    f"{', '.join(str(v) for v in sorted(applied - known))}); update the bot"
                )
            # Migrations this version brings are applied at its start: not a problem.
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE quartierbot_check_probe (x INTEGER)")
            conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            problems.append(f"database {path}: cannot be written ({exc})")
    finally:
        conn.close()
    return problems


def _writable_folder(folder: Path, what: str) -> list[str]:
    """SQLite keeps its journal next to the file, so the folder itself must take writes."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".quartierbot-check-"):
            pass
    except OSError as exc:
        return [f"{what} is not writable ({exc.strerror or exc})"]
    return []


async def check_telegram(config: Config) -> list[str]:
    if config.token is None:
        return []
    bot = Bot(config.token, base_url=config.base_url, base_file_url=config.base_file_url)
    try:
        async with bot:
            me = bot.bot
            problems = await check_webhook(bot, config)
            if config.staff_chat is not None:
                problems += await check_staff_group(bot, config.staff_chat, me.id)
            return problems
    except InvalidToken:
        return ["QUARTIERBOT_TOKEN: Telegram does not know this token (ask @BotFather)"]
    except NetworkError as exc:  # BadRequest is a NetworkError too: only reached from getMe
        return [f"Telegram at {config.api_url} cannot be reached ({exc.message})"]
    except TelegramError as exc:
        return [f"Telegram refused a check: {exc.message}"]


async def check_webhook(bot: Bot, config: Config) -> list[str]:
    """What Telegram says about the webhook: its last failed delivery (a reverse proxy that
    answers 502, a wrong path) is the first thing to look at when residents get no answer."""
    info = await bot.get_webhook_info()
    if config.webhook_url is None or not info.url:
        return []  # polling (the next start deletes any webhook), or not started yet
    problems = []
    if info.url != config.webhook_url:
        problems.append(
            f"webhook: Telegram posts to {info.url}, not to QUARTIERBOT_WEBHOOK_URL "
            "(the next start sets it)"
        )
    if info.last_error_message and info.pending_update_count:
        problems.append(
            f"webhook: {info.pending_update_count} update(s) waiting; Telegram's last "
            f"delivery failed: {info.last_error_message}"
        )
    return problems


async def check_staff_group(bot: Bot, chat_id: int, bot_id: int) -> list[str]:
    try:
        chat = await bot.get_chat(chat_id)
    except TelegramError as exc:
        return [
            f"staff group {chat_id}: the bot cannot see it ({exc.message}); add the bot to "
            "the group and check QUARTIERBOT_STAFF_CHAT"
        ]
    problems = []
    if chat.type != chat.SUPERGROUP or not chat.is_forum:
        problems.append(
            f"staff group {chat_id}: topics are off (group settings: turn on Topics), the bot "
            "keeps one topic per resident"
        )
    try:
        member = await bot.get_chat_member(chat_id, bot_id)
    except TelegramError as exc:
        return [*problems, f"staff group {chat_id}: cannot read the bot's rights ({exc.message})"]
    if isinstance(member, ChatMemberOwner):
        return problems
    if not isinstance(member, ChatMemberAdministrator):
        problems.append(f"staff group {chat_id}: the bot is not an administrator there")
    elif chat.is_forum and not member.can_manage_topics:
        problems.append(f"staff group {chat_id}: the bot may not manage topics (admin rights)")
    return problems
