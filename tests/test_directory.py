"""Tests for bot/directory/ (loader and hours) – all with explicit datetimes, never the real clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.directory import (
    DEFAULT_PATH,
    LANGS,
    OFFICE_ID,
    Closure,
    Directory,
    DirectoryError,
    Occurrence,
    Text,
    load_directory,
    occurrences,
    open_between,
    public_holiday,
    status_now,
)

BERLIN = ZoneInfo("Europe/Berlin")
DATA = Path(__file__).parent / "data" / "directory"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(DATA / "good.yaml")


def wall(occ: Occurrence) -> tuple[date, time, time]:
    return occ.start.date(), occ.start.timetz().replace(tzinfo=None), occ.end.time()


# ------------------------------------------------------------------------ shipped file


def test_shipped_file_loads() -> None:
    d = load_directory(DEFAULT_PATH)
    assert d.source == DEFAULT_PATH
    assert {t.id for t in d.topics} >= {
        "work",
        "family",
        "newcomers",
        "language_health",
        "business",
        "creative",
    }
    assert {o.topic_id for o in d.offers} == {t.id for t in d.topics}
    assert d.office is not None and d.office.place_id == "fabrik-heeder"
    heeder = d.place("fabrik-heeder")
    assert heeder.address is not None
    assert heeder.address.street == "Virchowstraße 128C"
    assert heeder.phone == "02151 86 34 63"
    # Krefeld, south of the centre (Hauptbahnhof is at about 51.325, 6.567)
    assert heeder.lat is not None and heeder.lon is not None
    assert 51.30 < heeder.lat < 51.33 and 6.55 < heeder.lon < 6.60
    for offer in d.offers:
        for lang in LANGS:
            text, fell_back = offer.title.get(lang)
            assert text and not fell_back, (offer.id, lang)
    counselling = d.offer("job-counselling")
    assert counselling.booking is not None
    assert counselling.booking["slot_minutes"] == 30
    assert counselling.booking["confirm"] == "instant"
    single_parents = d.offer("single-parents").booking
    assert single_parents is not None and single_parents["confirm"] == "staff"
    assert all(b["de"] for b in counselling.booking["bring"])
    assert d.project is not None and {f.id for f in d.project.fields_of_action} == {
        "employment",
        "local_economy",
    }


def test_shipped_file_has_real_translations() -> None:
    """Not English copied into other languages."""
    d = load_directory(DEFAULT_PATH)
    for offer in d.offers:
        assert offer.description is not None
        en = offer.description.values["en"]
        for lang, value in offer.description.values.items():
            if lang != "en":
                assert value != en, (offer.id, lang)


def test_shipped_file_status_runs() -> None:
    d = load_directory(DEFAULT_PATH)
    now = local(2026, 11, 24, 10, 0)
    for offer in d.offers:
        status = status_now(d, offer.id, None, now, [])
        assert status.is_open or status.next_open is not None
    assert status_now(d, OFFICE_ID, None, now, []).is_open


# ------------------------------------------------------------------------------- Text


def test_text_fallbacks() -> None:
    t = Text({"de": "Hallo", "en": "Hello", "uk": "Привіт"})
    assert t.get("de") == ("Hallo", False)
    assert t.get("en") == ("Hello", False)
    assert t.get("uk_UA") == ("Привіт", False)
    assert t.get("tr") == ("Hallo", True)
    assert t.get("de_easy") == ("Hallo", True)
    assert Text({"de": "schwer", "de_easy": "leicht"}).get("de_easy") == ("leicht", False)
    assert str(t) == "Hallo"
    assert hash(t) == hash(Text({"uk": "Привіт", "en": "Hello", "de": "Hallo"}))
    with pytest.raises(ValueError):
        Text({"en": "no German"})


# ---------------------------------------------------------------------------- loading


def test_good_file(directory: Directory) -> None:
    assert [o.id for o in directory.offers] == ["daily", "weekly", "events", "holiday-open"]
    assert directory.place("lehmheide").name.get("en") == ("Quartiersbüro Lehmheide", True)
    weekly = directory.offer("weekly")
    assert weekly.contact is not None and weekly.contact.name == "Frau Beispiel"
    assert weekly.booking == {
        "slot_minutes": 30,
        "seats": 1,
        "min_notice": 0,
        "max_ahead": 28,
        "max_per_resident": 1,
        "confirm": "instant",
        "bring": [{"de": "Ausweis", "en": "ID card"}, {"de": "Lebenslauf"}],
    }
    # unquoted 14:00 (a YAML 1.1 sexagesimal int) still reads as a time
    thu = directory.offer("weekly").sessions[1].weekly[0]
    assert (thu.weekday, thu.start, thu.end) == (3, time(14), time(16))
    assert (thu.valid_from, thu.valid_until) == (date(2026, 1, 1), date(2026, 6, 30))
    assert directory.offer("daily").partners == ("jobcenter",)
    assert directory.place("heeder").phone == "02151 86 34 63"


def _expected(path: Path) -> set[tuple[int, str]]:
    expected = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = re.search(r"# expect: (.*)$", line)
        if m:
            expected |= {(number, p.strip()) for p in m.group(1).split(";")}
    return expected


@pytest.mark.parametrize("name", ["bad_schema.yaml", "bad_top.yaml"])
def test_bad_files_report_every_problem_with_its_line(name: str) -> None:
    path = DATA / name
    with pytest.raises(DirectoryError) as info:
        load_directory(path)
    got = {(p.line, p.path) for p in info.value.problems}
    assert got == _expected(path)
    assert len(info.value.problems) == len(got)  # no duplicates
    assert all(p.message for p in info.value.problems)
    lines = [p.line or 0 for p in info.value.problems]
    assert lines == sorted(lines)


def test_bad_schema_messages() -> None:
    with pytest.raises(DirectoryError) as info:
        load_directory(DATA / "bad_schema.yaml")
    by_path = {p.path: p for p in info.value.problems}
    assert "did you mean 'title'" in by_path["topics[0].titel"].message
    assert "did you mean 'de_easy'" in by_path["topics[2].title.de-easy"].message
    assert "wrok" in by_path["offers[0].topic"].message
    assert "first on line 22" in by_path["offers[1].id"].message
    assert "line 7: topics[0].titel" in str(info.value)


def test_syntax_error_has_line() -> None:
    with pytest.raises(DirectoryError) as info:
        load_directory(DATA / "bad_syntax.yaml")
    [problem] = info.value.problems
    assert problem.line == 4
    assert "syntax" in problem.message and "line 3" in problem.message


def test_empty_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError) as info:
        load_directory(DATA / "empty.yaml")
    assert info.value.problems[0].message == "the file is empty"
    with pytest.raises(DirectoryError) as info:
        load_directory(tmp_path / "missing.yaml")
    assert info.value.problems[0].line is None


def test_bookable_offer_needs_an_address(tmp_path: Path) -> None:
    """Issue 18: residents who booked must find the place; an example place (address not
    known yet) is the only exception."""
    text = (DATA / "good.yaml").read_text(encoding="utf-8")
    text = text.replace(
        '    address: {street: Beispielweg 1, postcode: "47809", city: Krefeld}\n', ""
    )
    path = tmp_path / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DirectoryError) as info:
        load_directory(path)
    [problem] = info.value.problems
    assert problem.line == 53 and "'lehmheide', which has no address" in problem.message
    path.write_text(
        text.replace("    name: Quartiersbüro Lehmheide", "    example: true\n    name: Q"),
        encoding="utf-8",
    )
    assert load_directory(path).place("lehmheide").address is None


# ------------------------------------------------------------------------ occurrences


@pytest.mark.parametrize(
    ("change_day", "before", "after", "holidays"),
    [
        (date(2026, 3, 29), 1, 2, [None, None, None, None]),  # last Sunday of March 2026
        (date(2026, 10, 25), 2, 1, [None, None, None, None]),  # last Sunday of October 2026
        # 2027 the spring change is on Easter Sunday (not a public holiday in NRW)
        (date(2027, 3, 28), 1, 2, ["Karfreitag", None, None, "Ostermontag"]),
        (date(2027, 10, 31), 2, 1, [None, None, None, "Allerheiligen"]),
    ],
)
def test_dst_keeps_local_wall_times(
    directory: Directory, change_day: date, before: int, after: int, holidays: list[str | None]
) -> None:
    start = datetime.combine(change_day - timedelta(days=2), time(0), tzinfo=BERLIN)
    end = datetime.combine(change_day + timedelta(days=2), time(0), tzinfo=BERLIN)
    occs = occurrences(directory, "daily", None, start, end, [])
    assert [o.start.date() for o in occs] == [
        change_day - timedelta(days=2),
        change_day - timedelta(days=1),
        change_day,
        change_day + timedelta(days=1),
    ]
    for occ in occs:
        assert (occ.start.hour, occ.start.minute, occ.end.hour, occ.end.minute) == (9, 0, 12, 0)
        assert occ.end.astimezone(UTC) - occ.start.astimezone(UTC) == timedelta(hours=3)
        assert occ.start.tzinfo is BERLIN
    assert [o.closed_reason for o in occs] == [("holiday", h) if h else None for h in holidays]
    offsets = [o.start.utcoffset() for o in occs]
    assert offsets == [timedelta(hours=h) for h in (before, before, after, after)]
    assert occs[2].start.astimezone(UTC).hour == 9 - after


def test_dst_next_opening_from_utc_now(directory: Directory) -> None:
    # Saturday evening before the spring change, "now" given in UTC
    now = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    status = status_now(directory, "daily", "heeder", now, [])
    assert not status.is_open
    assert status.next_open is not None
    assert status.next_open.start == local(2026, 3, 29, 9, 0)
    assert status.next_open.start.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    # autumn: Saturday evening, next opening on the Sunday with the change
    status = status_now(directory, "daily", "heeder", local(2026, 10, 24, 20, 0), [])
    assert status.next_open is not None
    assert status.next_open.start.astimezone(UTC) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


def test_year_end_and_new_year_holiday(directory: Directory) -> None:
    status = status_now(directory, "daily", None, local(2026, 12, 31, 13, 0), [])
    assert status.next_open is not None
    assert status.next_open.start == local(2027, 1, 2, 9, 0)
    assert [(o.start.date(), o.closed_reason) for o in status.closed] == [
        (date(2027, 1, 1), ("holiday", "Neujahr"))
    ]
    occs = occurrences(directory, "weekly", "heeder", local(2026, 12, 28), local(2027, 1, 12), [])
    assert [wall(o) for o in occs] == [
        (date(2026, 12, 29), time(9), time(12)),
        (date(2026, 12, 29), time(12), time(13)),
        (date(2027, 1, 5), time(9), time(12)),
        (date(2027, 1, 5), time(12), time(13)),
    ]


def test_christmas_closed_with_holiday_name(directory: Directory) -> None:
    occs = occurrences(directory, "daily", "heeder", local(2026, 12, 24), local(2026, 12, 28), [])
    assert [(o.start.day, o.closed_reason) for o in occs] == [
        (24, None),
        (25, ("holiday", "Erster Weihnachtstag")),
        (26, ("holiday", "Zweiter Weihnachtstag")),
        (27, None),
    ]
    status = status_now(directory, "daily", "heeder", local(2026, 12, 24, 13, 0), [])
    assert status.next_open is not None and status.next_open.start == local(2026, 12, 27, 9)
    assert [o.closed_reason for o in status.closed] == [
        ("holiday", "Erster Weihnachtstag"),
        ("holiday", "Zweiter Weihnachtstag"),
    ]
    assert public_holiday(date(2026, 12, 25), "en") == "Christmas Day"
    assert public_holiday(date(2026, 12, 25), "tr") == "Erster Weihnachtstag"


def test_corpus_christi(directory: Directory) -> None:
    day = date(2026, 6, 4)
    assert public_holiday(day) == "Fronleichnam"
    assert public_holiday(day, "en") == "Corpus Christi"
    assert public_holiday(date(2026, 6, 3)) is None
    occs = occurrences(directory, None, None, local(2026, 6, 4), local(2026, 6, 5), [])
    by_offer = {o.offer_id: o for o in occs}
    assert by_offer["daily"].closed_reason == ("holiday", "Fronleichnam")
    assert by_offer[OFFICE_ID].closed_reason == ("holiday", "Fronleichnam")
    assert by_offer["weekly"].closed_reason == ("holiday", "Fronleichnam")  # thu in Lehmheide
    assert by_offer["holiday-open"].closed_reason is None  # open_on_holidays
    # "what's open today" leaves out the closed ones
    assert [o.offer_id for o in open_between(directory, day, day, [])] == ["holiday-open"]
    # during the holiday morning: closed now, mentioned, next opening on Friday
    status = status_now(directory, "daily", None, local(2026, 6, 4, 10, 0), [])
    assert not status.is_open
    assert [o.closed_reason for o in status.closed] == [("holiday", "Fronleichnam")]
    assert status.next_open is not None and status.next_open.start == local(2026, 6, 5, 9)


def test_closure_for_one_place(directory: Directory) -> None:
    closures = [Closure("heeder", date(2026, 11, 23), date(2026, 11, 25), "Fortbildung")]
    occs = open_between(
        directory, date(2026, 11, 23), date(2026, 11, 26), closures, include_closed=True
    )
    heeder = [o for o in occs if o.place_id == "heeder"]
    lehmheide = [o for o in occs if o.place_id == "lehmheide"]
    assert heeder and all(
        o.closed_reason == ("closure", "Fortbildung")
        for o in heeder
        if o.start.date() <= date(2026, 11, 25)
    )
    assert all(o.is_open for o in heeder if o.start.date() == date(2026, 11, 26))
    assert lehmheide and all(o.is_open for o in lehmheide)  # holiday-open, Thursday 26th
    status = status_now(directory, "daily", "heeder", local(2026, 11, 22, 13, 0), closures)
    assert status.next_open is not None and status.next_open.start == local(2026, 11, 26, 9)
    assert [o.start.day for o in status.closed] == [23, 24, 25]


def test_closure_for_all_places(directory: Directory) -> None:
    closures = [Closure(None, date(2026, 12, 5), date(2026, 12, 5), "Betriebsausflug")]
    occs = occurrences(directory, "events", None, local(2026, 12, 1), local(2026, 12, 8), closures)
    assert [(o.place_id, o.closed_reason) for o in occs] == [
        ("lehmheide", ("closure", "Betriebsausflug"))
    ]
    occs = occurrences(directory, None, None, local(2026, 12, 5), local(2026, 12, 6), closures)
    assert occs and all(o.closed_reason == ("closure", "Betriebsausflug") for o in occs)
    # a closure overrides open_on_holidays and wins over the holiday name
    closures = [Closure(None, date(2026, 6, 1), date(2026, 6, 7), "Sommerpause")]
    occs = occurrences(directory, None, None, local(2026, 6, 4), local(2026, 6, 5), closures)
    assert {o.closed_reason for o in occs} == {("closure", "Sommerpause")}
    with pytest.raises(ValueError):
        Closure(None, date(2026, 6, 7), date(2026, 6, 1), "backwards")


def test_one_off_dates(directory: Directory) -> None:
    status = status_now(directory, "events", None, local(2026, 11, 20, 9, 0), [])
    assert status.next_open is not None
    assert status.next_open.one_off
    assert (status.next_open.start, status.next_open.end) == (
        local(2026, 12, 5, 10),
        local(2026, 12, 5, 14),
    )
    assert status.next_open.note is not None
    assert status.next_open.note.get("de") == ("Winterwerkstatt", False)
    # the next one-off is far beyond the weekly horizon of 8 weeks – still found
    status = status_now(directory, "events", None, local(2026, 12, 5, 15, 0), [])
    assert status.next_open is not None and status.next_open.start == local(2027, 9, 1, 10)
    assert status.horizon_end < status.next_open.start
    # open now during a one-off
    status = status_now(directory, "events", "lehmheide", local(2026, 12, 5, 11, 0), [])
    assert status.is_open and status.open_until == local(2026, 12, 5, 14)
    # after the last one: nothing
    status = status_now(directory, "events", None, local(2027, 9, 2), [])
    assert status.open_now is None and status.next_open is None and status.closed == ()


def test_open_now_until(directory: Directory) -> None:
    status = status_now(directory, "daily", "heeder", local(2026, 11, 24, 10, 30), [])
    assert status.is_open
    assert status.open_now is not None and status.open_now.start == local(2026, 11, 24, 9)
    assert status.open_until == local(2026, 11, 24, 12)
    assert status.next_open is not None and status.next_open.start == local(2026, 11, 25, 9)
    # back-to-back periods (Tue 09–12 and 12–13) count as one opening
    status = status_now(directory, "weekly", "heeder", local(2026, 11, 24, 10, 30), [])
    assert status.open_until == local(2026, 11, 24, 13)
    assert status.next_open is not None and status.next_open.start == local(2026, 12, 1, 9)
    # the end is exclusive, the start inclusive
    assert not status_now(directory, "daily", None, local(2026, 11, 24, 12, 0), []).is_open
    assert status_now(directory, "daily", None, local(2026, 11, 24, 9, 0), []).is_open


def test_valid_from_until(directory: Directory) -> None:
    occs = occurrences(directory, "weekly", "lehmheide", local(2026, 6, 22), local(2026, 7, 10), [])
    assert [o.start.date() for o in occs] == [date(2026, 6, 25)]
    status = status_now(directory, "weekly", "lehmheide", local(2026, 7, 1), [])
    assert status.next_open is None  # ended on 30 June


def test_office_hours(directory: Directory) -> None:
    occs = occurrences(directory, OFFICE_ID, None, local(2026, 11, 23), local(2026, 11, 30), [])
    assert [o.start.date().isoformat() for o in occs] == [
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-26",
        "2026-11-27",
    ]
    assert all(o.place_id == "heeder" for o in occs)
    status = status_now(directory, OFFICE_ID, None, local(2026, 11, 28, 10, 0), [])
    assert status.next_open is not None and status.next_open.start == local(2026, 11, 30, 8)


def test_occurrences_overlap_sorted_and_filtered(directory: Directory) -> None:
    # [start, end) overlap: a period running at `start` is included, one starting at `end` not
    occs = occurrences(
        directory, "daily", None, local(2026, 11, 24, 11, 0), local(2026, 11, 25, 9, 0), []
    )
    assert [o.start for o in occs] == [local(2026, 11, 24, 9)]
    occs = open_between(directory, local(2026, 11, 26, 0, 0), local(2026, 11, 27, 0, 0))
    assert [(o.offer_id, o.start.hour) for o in occs] == [
        (OFFICE_ID, 8),
        ("daily", 9),
        ("holiday-open", 10),
    ]
    starts = [o.start for o in occs]
    assert starts == sorted(starts)
    assert occurrences(
        directory, None, "lehmheide", local(2026, 11, 26), local(2026, 11, 27), []
    ) == [o for o in occs if o.place_id == "lehmheide"]


def test_bad_arguments(directory: Directory) -> None:
    with pytest.raises(ValueError):
        occurrences(directory, "daily", None, datetime(2026, 1, 1), local(2026, 1, 2), [])
    with pytest.raises(KeyError):
        occurrences(directory, "nope", None, local(2026, 1, 1), local(2026, 1, 2), [])
    with pytest.raises(KeyError):
        status_now(directory, "daily", "nowhere", local(2026, 1, 1), [])


def test_closures_from_the_database_duck_typed(directory: Directory) -> None:
    """Rows like storage.closures.StoredClosure (same fields, no methods) work as closures."""

    @dataclass(frozen=True)
    class Row:
        id: int
        place_id: str | None
        first_day: date
        last_day: date
        reason: str
        reason_key: str = "illness"

    rows = [Row(7, "heeder", date(2026, 11, 24), date(2026, 11, 24), "Krankheit")]
    status = status_now(directory, "daily", None, local(2026, 11, 24, 10, 0), rows)
    assert not status.is_open
    assert [o.closed_reason for o in status.closed] == [("closure", "Krankheit")]


# ------------------------------------------------------------------------------ caching


def test_hours_cache_follows_reloads_and_closures(directory: Directory, tmp_path: Path) -> None:
    """Periods are expanded once per day and reused, but never across a reload or closure."""
    from bot.directory import hours

    hours._MEMO.clear()
    now = local(2026, 11, 24, 10, 30)
    assert status_now(directory, "daily", "heeder", now, []).open_until == local(2026, 11, 24, 12)
    misses = hours._MEMO.misses
    later = status_now(directory, "daily", "heeder", now + timedelta(minutes=45), [])
    assert later.open_until == local(2026, 11, 24, 12)
    assert hours._MEMO.misses == misses and hours._MEMO.hits > 0  # same day: from the cache

    # a new closure is seen at once, and lifting it again too
    closure = Closure("heeder", date(2026, 11, 24), date(2026, 11, 24), "Wasserschaden")
    closed = status_now(directory, "daily", "heeder", now, [closure])
    assert not closed.is_open
    assert [o.closed_reason for o in closed.closed] == [("closure", "Wasserschaden")]
    other = Closure("heeder", date(2026, 11, 24), date(2026, 11, 24), "Stromausfall")
    assert [o.closed_reason for o in status_now(directory, "daily", None, now, [other]).closed] == [
        ("closure", "Stromausfall")
    ]
    assert status_now(directory, "daily", "heeder", now, []).is_open

    # a reloaded file with other hours is a new directory, even at the same path and day
    changed = tmp_path / "directory.yaml"
    changed.write_text(
        (DATA / "good.yaml")
        .read_text(encoding="utf-8")
        .replace(
            'start: "09:00", end: "12:00"}\n  - id: weekly',
            'start: "11:00", end: "12:00"}\n  - id: weekly',
        ),
        encoding="utf-8",
    )
    reloaded = load_directory(changed)
    status = status_now(reloaded, "daily", "heeder", now, [])
    assert not status.is_open
    assert status.next_open is not None and status.next_open.start == local(2026, 11, 24, 11)
    assert [o.start for o in open_between(reloaded, date(2026, 11, 24), date(2026, 11, 24))] != [
        o.start for o in open_between(directory, date(2026, 11, 24), date(2026, 11, 24))
    ]
    # and the next day is a new key as well
    misses = hours._MEMO.misses
    status_now(directory, "daily", "heeder", local(2026, 11, 25, 10, 30), [])
    assert hours._MEMO.misses > misses
