"""Pure logic: configuration, callback data, formatting and text direction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import callbacks
from bot.clock import FakeClock
from bot.config import ConfigError, load_config, parse_duration
from bot.i18n import FSI, LRI, PDI, I18n, resolve_language

BERLIN = ZoneInfo("Europe/Berlin")


def test_config_defaults(tmp_path: Path) -> None:
    config = load_config({}, env_file=None)
    assert config.token is None
    assert config.api_url == "https://api.telegram.org"
    assert config.base_url == "https://api.telegram.org/bot"
    assert config.base_file_url == "https://api.telegram.org/file/bot"
    assert str(config.db_path) == "data/quartierbot.sqlite3"
    assert config.tz == BERLIN


def test_config_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(
            {
                "QUARTIERBOT_TOKEN": "nonsense",
                "QUARTIERBOT_STAFF_CHAT": "staff",
                "QUARTIERBOT_ADMINS": "1, two",
                "QUARTIERBOT_TZ": "Mars/Olympus",
                "QUARTIERBOT_API_URL": "ftp://x",
            },
            env_file=None,
        )
    problems = info.value.problems
    assert len(problems) == 5
    assert all(p.startswith("QUARTIERBOT_") for p in problems)


def test_config_env_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("QUARTIERBOT_TOKEN=1:abc\nQUARTIERBOT_ADMINS=5,6\n")
    config = load_config({"QUARTIERBOT_ADMINS": "7"}, env_file=env)
    assert config.token == "1:abc"
    assert config.admins == {7}  # the real environment wins over .env


def test_parse_duration() -> None:
    assert parse_duration("24h") == timedelta(hours=24)
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("2d") == timedelta(days=2)
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_callbacks_round_trip_and_reject_forgeries() -> None:
    kind = callbacks.kind("test", 1, 2)
    data = callbacks.make(kind, "a", 12)
    parsed = callbacks.parse(data)
    assert parsed == callbacks.Callback("test", ("a", "12"))
    assert parsed.int_arg(1) == 12
    assert parsed is not None and parsed.kind == kind
    for forged in [
        "",
        "x" * 65,
        "0:test:a",
        "1:test",
        "1:nope:a",
        "1:test:a:b:c",
        "1:test:a b",
        None,
        5,
    ]:
        assert callbacks.parse(forged) is None
    with pytest.raises(ValueError):
        callbacks.make(kind, "x" * 41)


def test_resolve_language() -> None:
    assert resolve_language("ar") == "ar"
    assert resolve_language("uk-UA") == "uk"
    assert resolve_language("pt-br") is None
    assert resolve_language("kmr") == "ku"
    assert resolve_language("xx-nonsense") is None
    assert resolve_language(None) is None


def test_times_in_berlin_across_dst() -> None:
    i18n = I18n(BERLIN)
    de = i18n.get("de")
    summer = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # 09:00 CEST
    winter = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert de.time(summer) == de.time(winter) == "09:00"
    assert "Dez" in de.date(winter)


def test_rtl_isolates_inserted_values() -> None:
    i18n = I18n(BERLIN)
    ar = i18n.get("ar")
    assert ar.isolate("09:00") == f"{FSI}09:00{PDI}"
    assert ar.ltr("02151 86 34 63") == f"{LRI}02151 86 34 63{PDI}"
    assert i18n.get("de").isolate("09:00") == "09:00"
    assert ar.time(datetime(2026, 7, 1, 7, 0, tzinfo=UTC)).startswith(FSI)


def test_fake_clock_moves_and_notifies() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    jumps = []
    clock.on_jump(lambda: jumps.append(clock.now()))
    clock.advance(hours=2)
    assert clock.now() == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert jumps == [clock.now()]
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))


def test_rtl_messages_start_right_to_left() -> None:
    i18n = I18n(BERLIN)
    ar, de = i18n.get("ar"), i18n.get("de")
    assert ar.paragraph("📍 Fabrik Heeder في كريفلد") == "\u200f📍 Fabrik Heeder في كريفلد"
    assert ar.paragraph("📍 مركز الأسرة") == "📍 مركز الأسرة"
    assert de.paragraph("📍 Fabrik Heeder") == "📍 Fabrik Heeder"


def test_datetime_joins_date_and_time_in_the_locale() -> None:
    i18n = I18n(BERLIN)
    moment = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert i18n.get("de").datetime(moment) == "Do., 26. Nov., 09:00"
    assert "09:00" in i18n.get("tr").datetime(moment)
    assert i18n.get("ar").datetime(moment).startswith(FSI)
