"""The one configuration loader: environment variables with the ``QUARTIERBOT_`` prefix.

All problems are collected and reported together, one line each, so an operator fixes
their ``.env`` in one go instead of restarting once per typo.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.i18n import LANGUAGES

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_DB = Path("data/quartierbot.sqlite3")
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
DURATION_RE = re.compile(r"^(\d+)\s*([smhd])$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
"""What Telegram accepts as a webhook's ``secret_token``."""
HTTPS_URL_RE = re.compile(r"^https://[^/\s?#]+(/[^\s?#]*)?$")
DEFAULT_WEBHOOK_LISTEN = ("127.0.0.1", 8443)
SELF_HELP_MODES = ("residents", "staff", "off")
"""QUARTIERBOT_SELF_HELP: prepared answers offered to residents and suggested to staff, only
suggested to staff, or neither."""
WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
HEALTH_PATH = "/healthz"
LOG_FORMATS = ("text", "json")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# faster-whisper's own model names (it downloads them once); anything else must be a folder
# holding a CTranslate2 Whisper model, or a Hugging Face repository id ("owner/name").
WHISPER_SIZES = frozenset(
    {
        "tiny",
        "tiny.en",
        "base",
        "base.en",
        "small",
        "small.en",
        "medium",
        "medium.en",
        "large-v1",
        "large-v2",
        "large-v3",
        "large",
        "large-v3-turbo",
        "turbo",
        "distil-small.en",
        "distil-medium.en",
        "distil-large-v2",
        "distil-large-v3",
    }
)
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


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
    retention_days: int = 90
    idle_close_days: int = 14
    """A request with no message from either side for this long is closed."""
    feedback: bool = True
    """Ask the resident "Did we help you?" when staff close their request."""
    self_help: str = "residents"
    """Prepared answers for a new request (QUARTIERBOT_SELF_HELP): ``residents`` (suggested
    to staff and offered to the resident), ``staff`` (suggested only), ``off``."""
    staff_per_minute: int = 20
    """Messages per minute the bot posts into the staff group (Telegram allows ~20)."""
    show_staff_names: bool = False
    """Whether residents see the first name of the counsellor who answers."""
    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    """How long before an appointment residents are reminded (QUARTIERBOT_REMINDERS)."""
    min_cell: int = 3
    """Figures below this count are shown as "<3" in /stats and /export (QUARTIERBOT_MIN_CELL)."""
    funding_start: date = date(2023, 1, 1)
    """First day of the funding period, for ``/stats all`` (QUARTIERBOT_FUNDING_START)."""
    webhook_url: str | None = None
    """Public https URL Telegram posts updates to; unset = long polling."""
    webhook_listen: tuple[str, int] = DEFAULT_WEBHOOK_LISTEN
    """Where the webhook listener (and /healthz) binds, behind the reverse proxy."""
    webhook_secret: str | None = None
    """Given secret_token; unset = generated once and kept next to the database."""
    health_listen: tuple[str, int] | None = None
    """Where /healthz listens in polling mode (QUARTIERBOT_HEALTH_PORT); None = nowhere."""
    log_format: str = "text"
    """``text`` for people, ``json`` (one object per line) for log collectors."""
    translate_url: str | None = None
    """Root of a LibreTranslate server (QUARTIERBOT_TRANSLATE_URL); None: no machine translation."""
    translate_key: str | None = None
    """API key for that server, if it asks for one (QUARTIERBOT_TRANSLATE_KEY)."""
    staff_language: str = "de"
    """The language the office reads and writes in (QUARTIERBOT_STAFF_LANGUAGE)."""
    voice_model: str | None = None
    """faster-whisper model name or folder (QUARTIERBOT_VOICE_MODEL); None: no transcription."""
    letter_help: bool = True
    """A read letter's machine translation and deadline go to the resident too
    (QUARTIERBOT_LETTER_HELP; no: only staff get them)."""
    ocr: str | None = None
    """Tesseract language(s) letters are read in (QUARTIERBOT_OCR, e.g. ``deu+eng``), or
    ``off``; None (unset): ``deu`` whenever Tesseract is installed."""
    agenda_at: time | None = time(7, 30)
    """When the day's agenda goes into the staff group, in ``tz`` (QUARTIERBOT_AGENDA_AT,
    e.g. 07:30; set but empty: no daily agenda)."""

    @property
    def base_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/file/bot"


def parse_listen(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``host:port``, ``[::1]:port`` or a bare ``port`` (on ``default_host``)."""
    text = text.strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = default_host, text
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(text)
    return host, int(port)


def _url_port(url: str) -> int | None:
    try:
        return urlsplit(url).port or 443
    except ValueError:
        return None


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

    retention_days = 90
    if (raw := get("RETENTION_DAYS")) is not None:
        if raw.isdigit() and int(raw) > 0:
            retention_days = int(raw)
        else:
            problems.append(f"QUARTIERBOT_RETENTION_DAYS: {raw!r} is not a positive number of days")

    idle_close_days = 14
    if (raw := get("IDLE_CLOSE_DAYS")) is not None:
        if raw.isdigit() and int(raw) > 0:
            idle_close_days = int(raw)
        else:
            problems.append(
                f"QUARTIERBOT_IDLE_CLOSE_DAYS: {raw!r} is not a positive number of days"
            )

    feedback = True
    if (raw := get("FEEDBACK")) is not None:
        if raw.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            feedback = raw.lower() in ("1", "true", "yes", "on")
        else:
            problems.append(f"QUARTIERBOT_FEEDBACK: {raw!r} is not yes or no")

    letter_help = True
    if (raw := get("LETTER_HELP")) is not None:
        if raw.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            letter_help = raw.lower() in ("1", "true", "yes", "on")
        else:
            problems.append(f"QUARTIERBOT_LETTER_HELP: {raw!r} is not yes or no")
    self_help = (get("SELF_HELP") or "residents").strip().lower()
    if self_help not in SELF_HELP_MODES:
        problems.append(
            f"QUARTIERBOT_SELF_HELP: {self_help!r} is not one of {', '.join(SELF_HELP_MODES)}"
        )

    sandbox_port = 8080
    if (raw := get("SANDBOX_PORT")) is not None:
        if raw.isdigit() and 0 <= int(raw) < 65536:
            sandbox_port = int(raw)
        else:
            problems.append(f"QUARTIERBOT_SANDBOX_PORT: {raw!r} is not a port number")

    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    if (raw := get("REMINDERS")) is not None:
        parsed: set[timedelta] = set()
        for part in raw.split(","):
            try:
                offset = parse_duration(part)
            except ValueError:
                problems.append(
                    f"QUARTIERBOT_REMINDERS: {part.strip()!r} is not a duration (e.g. 24h,2h;"
                    " units s, m, h, d)"
                )
                continue
            if offset <= timedelta(0):
                problems.append(f"QUARTIERBOT_REMINDERS: {part.strip()!r} must be more than 0")
            parsed.add(offset)
        reminders = tuple(sorted(parsed, reverse=True))

    staff_per_minute = 20
    if (raw := get("STAFF_PER_MINUTE")) is not None:
        if raw.isdigit() and 1 <= int(raw) <= 30:
            staff_per_minute = int(raw)
        else:
            problems.append(f"QUARTIERBOT_STAFF_PER_MINUTE: {raw!r} is not a number from 1 to 30")

    show_staff_names = False
    if (raw := get("SHOW_STAFF_NAMES")) is not None:
        if raw.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            show_staff_names = raw.lower() in ("1", "true", "yes", "on")
        else:
            problems.append(f"QUARTIERBOT_SHOW_STAFF_NAMES: {raw!r} is not yes or no")

    min_cell = 3
    if (raw := get("MIN_CELL")) is not None:
        if raw.isdigit() and 1 <= int(raw) <= 100:
            min_cell = int(raw)
        else:
            problems.append(f"QUARTIERBOT_MIN_CELL: {raw!r} is not a number from 1 to 100")

    funding_start = date(2023, 1, 1)
    if (raw := get("FUNDING_START")) is not None:
        try:
            funding_start = date.fromisoformat(raw)
        except ValueError:
            problems.append(f"QUARTIERBOT_FUNDING_START: {raw!r} is not a date (YYYY-MM-DD)")

    webhook_url = get("WEBHOOK_URL")
    if webhook_url is not None:
        match = HTTPS_URL_RE.match(webhook_url)
        if match is None:
            problems.append(
                f"QUARTIERBOT_WEBHOOK_URL: {webhook_url!r} is not an https URL (Telegram only "
                "posts to https, e.g. https://bot.example.org/telegram)"
            )
        elif (match.group(1) or "/").rstrip("/") == HEALTH_PATH:
            problems.append(
                f"QUARTIERBOT_WEBHOOK_URL: the path {HEALTH_PATH} is the health check's"
            )
        elif _url_port(webhook_url) not in WEBHOOK_PORTS:
            problems.append(
                "QUARTIERBOT_WEBHOOK_URL: Telegram only posts to the ports 443, 80, 88 or 8443"
            )

    webhook_listen = DEFAULT_WEBHOOK_LISTEN
    if (raw := get("WEBHOOK_LISTEN")) is not None:
        try:
            webhook_listen = parse_listen(raw)
        except ValueError:
            problems.append(
                f"QUARTIERBOT_WEBHOOK_LISTEN: {raw!r} is not host:port (e.g. 127.0.0.1:8443)"
            )

    webhook_secret = get("WEBHOOK_SECRET")
    if webhook_secret is not None and not SECRET_RE.match(webhook_secret):
        problems.append(
            "QUARTIERBOT_WEBHOOK_SECRET: use 1 to 256 letters, digits, _ or - (Telegram's rule)"
        )

    health_listen: tuple[str, int] | None = None
    if (raw := get("HEALTH_PORT")) is not None:
        try:
            health_listen = parse_listen(raw)
        except ValueError:
            problems.append(
                f"QUARTIERBOT_HEALTH_PORT: {raw!r} is not a port (e.g. 8081 or 127.0.0.1:8081)"
            )

    log_format = (get("LOG_FORMAT") or "text").lower()
    if log_format not in LOG_FORMATS:
        problems.append(f"QUARTIERBOT_LOG_FORMAT: {log_format!r} is not text or json")

    translate_url = get("TRANSLATE_URL")
    if translate_url is not None and not re.match(r"^https?://[^/\s]+", translate_url):
        problems.append(f"QUARTIERBOT_TRANSLATE_URL: {translate_url!r} is not an http(s) URL")

    staff_language = get("STAFF_LANGUAGE") or "de"
    if staff_language not in LANGUAGES:
        problems.append(
            f"QUARTIERBOT_STAFF_LANGUAGE: {staff_language!r} is not one of our languages"
            f" ({', '.join(LANGUAGES)})"
        )

    voice_model = get("VOICE_MODEL")
    if voice_model is not None and not (
        voice_model in WHISPER_SIZES
        or Path(voice_model).expanduser().is_dir()
        or (_REPO_ID_RE.match(voice_model) and not voice_model.startswith((".", "/", "~")))
    ):
        problems.append(
            f"QUARTIERBOT_VOICE_MODEL: {voice_model!r} is neither a Whisper model name"
            " (tiny, base, small, ...) nor an existing folder"
        )

    def given(name: str) -> str | None:
        """Set at all: for some settings an empty value means "off"."""
        return values.get(f"QUARTIERBOT_{name}")

    agenda_at: time | None = time(7, 30)
    if (raw_agenda := given("AGENDA_AT")) is not None:
        if not raw_agenda.strip():
            agenda_at = None
        else:
            try:
                agenda_at = time.fromisoformat(raw_agenda.strip())
            except ValueError:
                problems.append(
                    f"QUARTIERBOT_AGENDA_AT: {raw_agenda.strip()!r} is not a time of day"
                    " (e.g. 07:30; empty: no daily agenda)"
                )

    ocr = get("OCR")
    if ocr is not None:
        if ocr.lower() in ("off", "no", "false", "0"):
            ocr = "off"
        elif not re.fullmatch(r"[a-z][a-z_]{1,30}(\+[a-z][a-z_]{1,30})*", ocr):
            problems.append(
                f"QUARTIERBOT_OCR: {ocr!r} is not a Tesseract language (deu, deu+eng) or off"
            )

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
        retention_days=retention_days,
        idle_close_days=idle_close_days,
        feedback=feedback,
        self_help=self_help,
        reminders=reminders,
        staff_per_minute=staff_per_minute,
        show_staff_names=show_staff_names,
        min_cell=min_cell,
        funding_start=funding_start,
        webhook_url=webhook_url,
        webhook_listen=webhook_listen,
        webhook_secret=webhook_secret,
        health_listen=health_listen,
        log_format=log_format,
        translate_url=translate_url.rstrip("/") if translate_url else None,
        translate_key=get("TRANSLATE_KEY"),
        staff_language=staff_language,
        voice_model=voice_model,
        ocr=ocr,
        agenda_at=agenda_at,
        letter_help=letter_help,
    )
