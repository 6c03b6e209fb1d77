"""The one configuration loader: environment variables with the ``QUARTIERBOT_`` prefix.

All problems are collected and reported together, one line each, so an operator fixes
their ``.env`` in one go instead of restarting once per typo.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_DB = Path("data/quartierbot.sqlite3")
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
DURATION_RE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ConfigError(Exception):
    """Raised with every problem found, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Config:
    token: str | None
    api_url: str = DEFAULT_API_URL
    db_path: Path = DEFAULT_DB
    staff_chat: int | None = None
    admins: frozenset[int] = field(default_factory=frozenset)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    directory: Path | None = None
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8080

    @property
    def base_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/file/bot"


def parse_duration(text: str) -> timedelta:
    match = DURATION_RE.match(text.strip())
    if not match:
        raise ValueError(text)
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def load_config(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> Config:
    """Read the configuration; ``.env`` fills in what the real environment leaves unset."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        raw = values.get(f"QUARTIERBOT_{name}")
        return raw.strip() if raw is not None and raw.strip() else None

    problems: list[str] = []
    token = get("TOKEN")
    if token is not None and not TOKEN_RE.match(token):
        problems.append(
            "QUARTIERBOT_TOKEN: not a bot token (expected digits:letters from @BotFather)"
        )

    api_url = get("API_URL") or DEFAULT_API_URL
    if not re.match(r"^https?://[^/\s]+", api_url):
        problems.append(f"QUARTIERBOT_API_URL: {api_url!r} is not an http(s) URL")

    staff_chat: int | None = None
    if (raw := get("STAFF_CHAT")) is not None:
        try:
            staff_chat = int(raw)
        except ValueError:
            problems.append(
                f"QUARTIERBOT_STAFF_CHAT: {raw!r} is not a chat id (e.g. -1001234567890)"
            )

    admins: set[int] = set()
    for part in (get("ADMINS") or "").split(","):
        if part.strip():
            try:
                admins.add(int(part))
            except ValueError:
                problems.append(f"QUARTIERBOT_ADMINS: {part.strip()!r} is not a Telegram user id")

    tz = ZoneInfo("Europe/Berlin")
    if (raw := get("TZ")) is not None:
        try:
            tz = ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"QUARTIERBOT_TZ: unknown time zone {raw!r}")

    directory: Path | None = None
    if (raw := get("DIRECTORY")) is not None:
        directory = Path(raw)
        if not directory.is_file():
            problems.append(f"QUARTIERBOT_DIRECTORY: file {raw!r} does not exist")

    sandbox_port = 8080
    if (raw := get("SANDBOX_PORT")) is not None:
        if raw.isdigit() and 0 <= int(raw) < 65536:
            sandbox_port = int(raw)
        else:
            problems.append(f"QUARTIERBOT_SANDBOX_PORT: {raw!r} is not a port number")

    if problems:
        raise ConfigError(problems)
    return Config(
        token=token,
        api_url=api_url,
        db_path=Path(get("DB") or DEFAULT_DB),
        staff_chat=staff_chat,
        admins=frozenset(admins),
        tz=tz,
        directory=directory,
        sandbox_host=get("SANDBOX_HOST") or "127.0.0.1",
        sandbox_port=sandbox_port,
    )
