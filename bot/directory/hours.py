"""The opening-hours calculator: concrete opening periods from the directory's sessions.

Weekly hours and one-off dates become :class:`Occurrence` objects, with NRW public
holidays and closures (which come from the database at runtime) marked as closed.

Pure logic: no Telegram, no database, no clock (callers pass "now"), no formatting of
strings (that is done elsewhere via Babel). All returned datetimes are aware and in the
directory's time zone (``Europe/Berlin`` by default); local wall times are built with
:mod:`zoneinfo` per day, so a 09:00–12:00 session stays 09:00–12:00 local time across DST
changes. Expanded periods are kept per (directory, days, closures, zone), so an update only
filters them (see "caching" below).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import holidays

from bot.directory.model import (
    DEFAULT_TZ,
    FALLBACK_LANG,
    OFFICE_ID,
    ClosedReason,
    ClosureLike,
    Directory,
    Occurrence,
    Session,
    Status,
    Text,
    closure_covers,
)

__all__ = [
    "DEFAULT_HORIZON",
    "occurrences",
    "open_between",
    "public_holiday",
    "status_now",
]

T = TypeVar("T")

#: How far :func:`status_now` expands weekly hours (one-off dates are always all considered).
DEFAULT_HORIZON = timedelta(weeks=8)


# ----------------------------------------------------------------------------- holidays

_HOLIDAY_LANGS = {"de": "de", "de_easy": "de", "en": "en_US", "uk": "uk"}


@lru_cache(maxsize=64)
def _holidays(year: int, language: str) -> Mapping[date, str]:
    return dict(holidays.country_holidays("DE", subdiv="NW", years=year, language=language))


def public_holiday(day: date, lang: str = FALLBACK_LANG) -> str | None:
    """Name of the NRW public holiday on ``day`` or None.

    Names exist in German, English and Ukrainian (the ``holidays`` library); other
    languages get the German name.
    """
    return _holidays(day.year, _HOLIDAY_LANGS.get(lang, "de")).get(day)


# ---------------------------------------------------------------------------- schedules


def _aware(dt: datetime, name: str) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return dt


def _wall(day: date, t: time, tz: ZoneInfo) -> datetime:
    """Local wall time on ``day``; a time that does not exist (spring gap) is moved forward."""
    return datetime.combine(day, t, tzinfo=tz).astimezone(UTC).astimezone(tz)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _closed_reason(
    session: Session, day: date, closures: Iterable[ClosureLike]
) -> tuple[ClosedReason, str | None] | None:
    """Why the session is closed on ``day``, and the closure's reason key if a closure."""
    for closure in closures:
        if closure_covers(closure, session.place_id, day):
            return ("closure", closure.reason), closure.reason_key
    if not session.open_on_holidays:
        name = public_holiday(day)
        if name is not None:
            return ("holiday", name), None
    return None


def _session_days(
    offer_id: str,
    session: Session,
    first: date,
    last: date,
    closures: Sequence[ClosureLike],
    tz: ZoneInfo,
    *,
    weekly: bool = True,
) -> Iterator[tuple[date, Occurrence]]:
    """Every period of ``session`` on the local days ``first..last``, with its day."""

    def make(day: date, s: time, e: time, note: Text | None, one_off: bool) -> Occurrence | None:
        occ_start, occ_end = _wall(day, s, tz), _wall(day, e, tz)
        if not occ_start < occ_end:
            return None
        closed = _closed_reason(session, day, closures)
        return Occurrence(
            offer_id=offer_id,
            place_id=session.place_id,
            start=occ_start,
            end=occ_end,
            closed_reason=closed[0] if closed else None,
            closure_key=closed[1] if closed else None,
            note=note,
            one_off=one_off,
            example=session.example,
        )

    if weekly and session.weekly:
        for day in _days(first, last):
            for w in session.weekly:
                if w.applies(day):
                    occ = make(day, w.start, w.end, session.note, False)
                    if occ is not None:
                        yield day, occ
    for o in session.one_offs:
        if first <= o.date <= last:
            occ = make(o.date, o.start, o.end, o.note or session.note, True)
            if occ is not None:
                yield o.date, occ


def _selected(
    directory: Directory, offer_id: str | None, place_id: str | None
) -> list[tuple[str, Session]]:
    if offer_id is not None:
        pairs = [(offer_id, s) for s in directory.sessions_of(offer_id)]
    else:
        pairs = [(o.id, s) for o in directory.offers for s in o.sessions]
        if directory.office is not None:
            pairs.append((OFFICE_ID, directory.office))
    if place_id is not None:
        directory.place(place_id)  # KeyError for unknown places
        pairs = [(oid, s) for oid, s in pairs if s.place_id == place_id]
    return pairs


def _sort_key(o: Occurrence) -> tuple[datetime, datetime, str, str]:
    return (o.start.astimezone(UTC), o.end.astimezone(UTC), o.offer_id, o.place_id)


# ------------------------------------------------------------------------------ caching
#
# /hours, /today and the booking flow ask for the same periods many times a day, and
# expanding weekly hours (wall times per day, holiday and closure look-ups) is most of the
# work. Periods depend only on the directory, the local days, the closures and the zone,
# never on "now", so they are expanded once per key and only *filtered* per update:
# a reloaded directory is a new object and a changed set of closures a new key, so
# neither ever sees periods computed for the old one.

_Days = tuple[tuple[date, Occurrence], ...]
_CACHE_SIZE = 256


class _Memo:
    """A small LRU whose keys start with a :class:`Directory`, compared by identity.

    Directories are not hashable (their booking rules are mappings) and two reloads of
    one file are equal but distinct; the entry keeps its directory alive, so its ``id``
    cannot be reused while the entry exists.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[Directory, Any]] = OrderedDict()

    def get(self, directory: Directory, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        full = (id(directory), *key)
        entry = self._entries.get(full)
        if entry is not None and entry[0] is directory:
            self._entries.move_to_end(full)
            self.hits += 1
            return cast(T, entry[1])
        self.misses += 1
        value = compute()
        self._entries[full] = (directory, value)
        self._entries.move_to_end(full)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._entries.clear()
        self.hits = self.misses = 0


_MEMO = _Memo(_CACHE_SIZE)


def _closures_key(closures: Sequence[ClosureLike]) -> tuple[Hashable, ...]:
    """Everything of the closures that a period depends on, in order (first match wins)."""
    return tuple((c.place_id, c.first_day, c.last_day, c.reason, c.reason_key) for c in closures)


def _plan(
    directory: Directory, offer_id: str | None, place_id: str | None
) -> tuple[tuple[tuple[str, Session], ...], date | None]:
    """The selected sessions and their last one-off date (KeyError for unknown ids)."""

    def compute() -> tuple[tuple[tuple[str, Session], ...], date | None]:
        pairs = tuple(_selected(directory, offer_id, place_id))
        far_last = max((o.date for _, s in pairs for o in s.one_offs), default=None)
        return pairs, far_last

    return _MEMO.get(directory, ("plan", offer_id, place_id), compute)


def _expanded(
    directory: Directory,
    offer_id: str | None,
    place_id: str | None,
    first: date,
    last: date,
    closures: Sequence[ClosureLike],
    tz: ZoneInfo,
    *,
    weekly: bool = True,
) -> _Days:
    """All periods on the days ``first..last``, sorted, each with its local day."""
    pairs, _ = _plan(directory, offer_id, place_id)

    def compute() -> _Days:
        found = [
            item
            for oid, session in pairs
            for item in _session_days(oid, session, first, last, closures, tz, weekly=weekly)
        ]
        return tuple(sorted(found, key=lambda item: _sort_key(item[1])))

    key = ("days", offer_id, place_id, first, last, _closures_key(closures), tz, weekly)
    return _MEMO.get(directory, key, compute)


def _overlapping(
    days: _Days, first: date, last: date, start: datetime, end: datetime
) -> list[Occurrence]:
    """The periods on ``first..last`` that overlap ``[start, end)``, in the given order."""
    return [
        occ for day, occ in days if first <= day <= last and occ.start < end and occ.end > start
    ]


def _day_span(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """The local days whose periods may overlap ``[start, end)``.

    The day before is included: a period is built on its own day, and ``start`` may be
    given in another zone.
    """
    return start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date()


# ---------------------------------------------------------------------------- queries


def occurrences(
    directory: Directory,
    offer_id: str | None,
    place_id: str | None,
    start: datetime,
    end: datetime,
    closures: Sequence[ClosureLike] = (),
    tz: ZoneInfo = DEFAULT_TZ,
) -> list[Occurrence]:
    """All concrete opening periods overlapping ``[start, end)``, closed ones included.

    ``offer_id=None`` means all offers plus the office (as :data:`OFFICE_ID`);
    ``place_id=None`` means all places. Unknown ids raise :class:`KeyError`.
    Sorted by start (then end, offer, place).
    """
    _aware(start, "start")
    _aware(end, "end")
    first, last = _day_span(start, end, tz)
    days = _expanded(directory, offer_id, place_id, first, last, closures, tz)
    return _overlapping(days, first, last, start, end)


def status_now(
    directory: Directory,
    offer_id: str,
    place_id: str | None,
    now: datetime,
    closures: Sequence[ClosureLike] = (),
    tz: ZoneInfo = DEFAULT_TZ,
    horizon: timedelta = DEFAULT_HORIZON,
) -> Status:
    """Is the offer open now (until when)? Otherwise, when does it open next?

    Weekly hours are expanded up to ``now + horizon``; one-off dates are considered
    however far ahead they are. ``closed`` lists the closed occurrences (holidays,
    closures) from now until the next opening, so they can be mentioned.
    """
    _aware(now, "now")
    horizon_end = now + horizon
    _, far_last = _plan(directory, offer_id, place_id)
    # The days are expanded for the whole local day of ``now`` (one cache entry per day)
    # and then cut to ``[now, horizon_end)``.
    today = now.astimezone(tz).date()
    tomorrow = _wall(today + timedelta(days=1), time(0), tz)
    near_last = (tomorrow + horizon).astimezone(tz).date()
    near = _expanded(
        directory, offer_id, place_id, today - timedelta(days=1), near_last, closures, tz
    )
    first, last = _day_span(now, horizon_end, tz)
    occs = _overlapping(near, first, last, now, horizon_end)
    # one-off dates beyond the horizon
    if far_last is not None:
        far_end = _wall(far_last + timedelta(days=1), time(0), tz)
        if far_end > horizon_end:
            far = _expanded(
                directory,
                offer_id,
                place_id,
                today - timedelta(days=1),
                far_last + timedelta(days=1),
                closures,
                tz,
                weekly=False,
            )
            first, last = _day_span(horizon_end, far_end, tz)
            occs.extend(
                occ
                for occ in _overlapping(far, first, last, horizon_end, far_end)
                if occ.start >= horizon_end
            )
    occs.sort(key=_sort_key)

    opens = [o for o in occs if o.is_open and o.end > now]
    current = [o for o in opens if o.start <= now]
    open_now = current[0] if current else None
    open_until: datetime | None = None
    limit = now
    if current:
        open_until = max(o.end for o in current)
        for o in opens:
            if o.start <= open_until:
                open_until = max(open_until, o.end)
        limit = open_until
    next_open = next((o for o in opens if o.start > limit), None)
    closed_limit = next_open.start if next_open else None
    closed = tuple(
        o
        for o in occs
        if not o.is_open and o.end > now and (closed_limit is None or o.start < closed_limit)
    )
    return Status(
        offer_id=offer_id,
        place_id=place_id,
        now=now,
        open_now=open_now,
        open_until=open_until.astimezone(tz) if open_until else None,
        next_open=next_open,
        closed=closed,
        horizon_end=horizon_end,
    )


def open_between(
    directory: Directory,
    day_start: date | datetime,
    day_end: date | datetime,
    closures: Sequence[ClosureLike] = (),
    tz: ZoneInfo = DEFAULT_TZ,
    *,
    include_closed: bool = False,
) -> list[Occurrence]:
    """What is open in a period ("today", "this week"), across all offers and the office.

    Dates mean whole local days, ``day_end`` inclusive; datetimes mean ``[start, end)``.
    Closed occurrences are left out unless ``include_closed``.
    """
    start = (
        day_start
        if isinstance(day_start, datetime)
        else datetime.combine(day_start, time(0), tzinfo=tz)
    )
    end = (
        day_end
        if isinstance(day_end, datetime)
        else datetime.combine(day_end + timedelta(days=1), time(0), tzinfo=tz)
    )
    occs = occurrences(directory, None, None, start, end, closures, tz)
    return occs if include_closed else [o for o in occs if o.is_open]


NEXT_OPEN_WITHIN = timedelta(days=60)
"""How far "when is the next opening?" looks (summer holidays close some places for six
weeks)."""


def next_open(
    directory: Directory,
    now: datetime,
    last_day: date,
    closures: Sequence[ClosureLike] = (),
    tz: ZoneInfo = DEFAULT_TZ,
) -> Occurrence | None:
    """The first opening (any offer, the office too) after the local day ``last_day`` and
    not before ``now``, or None within :data:`NEXT_OPEN_WITHIN`: what to say when nothing
    is open on the days asked for."""
    after = max(now, datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz))
    found = open_between(directory, after, after + NEXT_OPEN_WITHIN, closures, tz)
    return found[0] if found else None
