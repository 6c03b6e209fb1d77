"""Slot computation (pure): opening periods split into appointments inside the window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.config import ConfigError, load_config
from bot.directory import Closure, load_directory
from bot.slots import INSTANT, STAFF, Rules, bookable_offers, days, free, on_day, slots, split
from tests.conftest import BERLIN, START

DIRECTORY = load_directory()


def test_rules_from_the_directory() -> None:
    rules = Rules.of(DIRECTORY.offer("job-counselling"))
    assert rules is not None
    assert rules.slot == timedelta(minutes=30)
    assert rules.seats == 1 and rules.max_per_resident == 1
    assert rules.min_notice == timedelta(hours=24) and rules.max_ahead == timedelta(days=28)
    assert rules.confirm == INSTANT
    assert rules.bring[0].get("en")[0] == "ID card or passport"
    staff_rules = Rules.of(DIRECTORY.offer("single-parents"))
    assert staff_rules is not None and staff_rules.confirm == STAFF
    assert Rules.of(DIRECTORY.offer("creative-lab")) is None
    ids = {o.id for o in bookable_offers(DIRECTORY)}
    assert {"job-counselling", "single-parents", "business-support"} <= ids
    assert "creative-lab" not in ids


def test_slots_respect_notice_and_horizon() -> None:
    found = slots(DIRECTORY, "job-counselling", "fabrik-heeder", START, tz=BERLIN)
    # Wed 10:00 + 24 h notice: Thursday 14:00–17:00 is the first period, in 30-minute slots.
    first_day = [s for s in found if s.start.date() == date(2026, 11, 26)]
    assert [s.start.strftime("%H:%M") for s in first_day] == [
        "14:00",
        "14:30",
        "15:00",
        "15:30",
        "16:00",
        "16:30",
    ]
    assert all(s.end - s.start == timedelta(minutes=30) for s in found)
    assert all(s.start >= START + timedelta(hours=24) for s in found)
    assert max(s.start for s in found) <= START + timedelta(days=28)
    # At Wed 14:01 the Thursday 14:00 slot is less than 24 hours ahead.
    later = slots(
        DIRECTORY,
        "job-counselling",
        "fabrik-heeder",
        START + timedelta(hours=4, minutes=1),
        tz=BERLIN,
    )
    assert later[0].start == datetime(2026, 11, 26, 14, 30, tzinfo=BERLIN)


def test_all_places_and_holidays() -> None:
    now = datetime(2026, 12, 20, 9, 0, tzinfo=BERLIN)
    found = slots(DIRECTORY, "job-counselling", None, now, tz=BERLIN)
    assert {s.place_id for s in found} == {
        "fabrik-heeder",
        "familienzentrum-diessem",
        "familienzentrum-lehmheide",
    }
    # Christmas (Thu 24 is no holiday, Fri 25 and Sat 26 are): nothing on 25 December.
    assert not [s for s in found if s.start.date() == date(2026, 12, 25)]
    assert [s for s in found if s.start.date() == date(2026, 12, 24)]
    assert found == sorted(found, key=lambda s: (s.start, s.place_id))


def test_closures_remove_slots() -> None:
    closure = Closure("fabrik-heeder", date(2026, 11, 26), date(2026, 11, 26), "Krank")
    found = slots(DIRECTORY, "job-counselling", "fabrik-heeder", START, [closure], tz=BERLIN)
    assert not [s for s in found if s.start.date() == date(2026, 11, 26)]
    everywhere = Closure(None, date(2026, 11, 1), date(2026, 12, 31), "Umbau")
    assert slots(DIRECTORY, "job-counselling", None, START, [everywhere], tz=BERLIN) == []


def test_free_seats_days_and_times() -> None:
    found = slots(DIRECTORY, "job-counselling", "fabrik-heeder", START, tz=BERLIN)
    thursday = [s for s in found if s.start.date() == date(2026, 11, 26)]
    taken = {s.key: 1 for s in thursday}
    left = free(found, taken, seats=1)
    assert date(2026, 11, 26) not in days(left, BERLIN)
    assert days(left, BERLIN)[0] == date(2026, 12, 1)
    two_seats = free(found, taken, seats=2)
    assert on_day(two_seats, date(2026, 11, 26), BERLIN)[0][1] == 1
    # Keys compare by instant, whatever the zone the database hands back.
    assert thursday[0].key == ("fabrik-heeder", thursday[0].start.astimezone(UTC))


def test_split_counts_real_time_across_dst() -> None:
    # 25 October 2026: clocks go back at 03:00 CEST; 01:00–04:00 local is four real hours.
    start = datetime(2026, 10, 25, 1, 0, tzinfo=BERLIN)
    end = datetime(2026, 10, 25, 4, 0, tzinfo=BERLIN)
    pieces = split(start, end, timedelta(hours=1))
    assert len(pieces) == 4
    assert all(
        b - a == timedelta(hours=1)
        for a, b in ((p[0].astimezone(UTC), p[1].astimezone(UTC)) for p in pieces)
    )
    # A remainder shorter than a slot is dropped.
    assert len(split(start, start + timedelta(minutes=50), timedelta(minutes=30))) == 1


def test_reminder_offsets_config() -> None:
    default = load_config({}, env_file=None)
    assert default.reminders == (timedelta(hours=24), timedelta(hours=2))
    custom = load_config({"QUARTIERBOT_REMINDERS": "30m, 2d,1h"}, env_file=None)
    assert custom.reminders == (timedelta(days=2), timedelta(hours=1), timedelta(minutes=30))
    with pytest.raises(ConfigError) as err:
        load_config({"QUARTIERBOT_REMINDERS": "24h,soon,0m"}, env_file=None)
    assert len(err.value.problems) == 2
    assert all(p.startswith("QUARTIERBOT_REMINDERS") for p in err.value.problems)
