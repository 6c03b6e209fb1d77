"""The directory of offers, places and opening hours ("when and where can I get help?").

Coordinators keep the directory in a human-editable YAML file (``bot/data/directory.yaml``).
This module loads and validates it (reporting *all* problems with their line numbers) and
computes concrete opening periods: weekly hours and one-off dates, with NRW public holidays
and closures (which come from the database at runtime) marked as closed.

Pure logic: no Telegram, no database, no formatting of strings (that is done elsewhere
via Babel). All returned datetimes are aware and in the directory's time zone
(``Europe/Berlin`` by default); local wall times are built with :mod:`zoneinfo` per day,
so a 09:00–12:00 session stays 09:00–12:00 local time across DST changes.

YAML format, in short (see ``bot/data/directory.yaml`` for a full example)::

    version: 1
    project:                      # optional, descriptive only
      name: {de: ..., en: ...}
      description / target_group / funding: Text
      districts: [Dießem, Lehmheide]
      fields_of_action: [{id, title: Text, description: Text}]
      partners: [{id, name: Text, description: Text, url}]
    topics: [{id, title: Text, description: Text, field: <fields_of_action id>}]
    places:
      - id: fabrik-heeder
        name: Text
        address: {street, postcode, city}      # optional
        lat: 51.32                              # optional, lat and lon together
        lon: 6.57
        phone, email: str                       # optional
        accessibility, notes: Text              # optional
        example: false                          # true = data not yet confirmed
    office: <session>                           # what counts as "the office"
    offers:
      - id: job-counselling
        topic: work
        title: Text
        description: Text
        contact: {name, phone, email, note: Text}
        partners: [jobcenter]
        example: false
        sessions:
          - place: fabrik-heeder
            example: true                       # hours not yet confirmed
            open_on_holidays: false
            note: Text
            weekly:
              - {day: tue, start: "09:00", end: "12:00", from: 2026-01-01, until: 2026-12-31}
              - {day: [mon, thu], start: "14:00", end: "16:00"}
            dates:
              - {date: 2026-12-05, start: "10:00", end: "14:00", note: Text}
        booking:                                # optional, kept as a plain dict
          slot_minutes: 30                      # required
          confirm: instant                      # required: instant | staff
          seats: 1                              # default 1
          min_notice: 24                        # hours, default 0
          max_ahead: 28                         # days, default 28
          max_per_resident: 1                   # open bookings per resident, default 1
          bring: [Text, ...]

A *Text* is a mapping of language id to string and must contain German (``de``);
a plain string is shorthand for German only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import holidays
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "DEFAULT_PATH",
    "DEFAULT_TZ",
    "FALLBACK_LANG",
    "LANGS",
    "OFFICE_ID",
    "WEEKDAYS",
    "Address",
    "ClosedReason",
    "Closure",
    "ClosureLike",
    "Contact",
    "Directory",
    "DirectoryError",
    "FieldOfAction",
    "Occurrence",
    "Offer",
    "OneOff",
    "Partner",
    "Place",
    "Problem",
    "Project",
    "Session",
    "Status",
    "Text",
    "Topic",
    "WeeklyHours",
    "load_directory",
    "occurrences",
    "open_between",
    "public_holiday",
    "status_now",
]

LANGS: tuple[str, ...] = (
    "de",
    "en",
    "tr",
    "ar",
    "uk",
    "ru",
    "pl",
    "bg",
    "ro",
    "fa",
    "ku",
    "de_easy",
)
FALLBACK_LANG = "de"
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TZ = ZoneInfo("Europe/Berlin")
DEFAULT_PATH = Path(__file__).parent / "data" / "directory.yaml"
#: Pseudo offer id under which the office hours (``office:``) appear in occurrences.
OFFICE_ID = "office"
#: How far :func:`status_now` expands weekly hours (one-off dates are always all considered).
DEFAULT_HORIZON = timedelta(weeks=8)

ClosedReason = tuple[Literal["holiday", "closure"], str]


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class Text:
    """A text in several languages; German (``de``) is required and is the fallback."""

    values: Mapping[str, str]

    def __post_init__(self) -> None:
        if not self.values.get(FALLBACK_LANG):
            raise ValueError("a Text needs a German ('de') value")
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def get(self, lang: str) -> tuple[str, bool]:
        """Return ``(text, fell_back)``; ``fell_back`` is True if German was used instead.

        ``de_easy`` falls back to ``de``; regional codes like ``pt-BR``/``uk_UA`` are tried
        as given and then by their base language.
        """
        for candidate in _lang_candidates(lang):
            value = self.values.get(candidate)
            if value:
                return value, False
        return self.values[FALLBACK_LANG], True

    def __str__(self) -> str:
        return self.values[FALLBACK_LANG]

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.values.items())))


def _lang_candidates(lang: str) -> list[str]:
    candidates = [lang]
    base = re.split(r"[-_]", lang, maxsplit=1)[0].lower()
    if lang != "de_easy" and base != lang:
        candidates.append(base)
    return candidates


@dataclass(frozen=True)
class Address:
    street: str
    postcode: str
    city: str


@dataclass(frozen=True)
class Place:
    id: str
    name: Text
    address: Address | None = None
    lat: float | None = None
    lon: float | None = None
    phone: str | None = None
    email: str | None = None
    accessibility: Text | None = None
    notes: Text | None = None
    example: bool = False


@dataclass(frozen=True)
class WeeklyHours:
    weekday: int  # 0 = Monday … 6 = Sunday
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None  # inclusive

    def applies(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or day >= self.valid_from)
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True)
class OneOff:
    date: date
    start: time
    end: time
    note: Text | None = None


@dataclass(frozen=True)
class Session:
    """An offer held at a place: weekly hours and/or one-off dates."""

    place_id: str
    weekly: tuple[WeeklyHours, ...] = ()
    one_offs: tuple[OneOff, ...] = ()
    open_on_holidays: bool = False
    example: bool = False  # hours are placeholders, not yet confirmed
    note: Text | None = None


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    note: Text | None = None


@dataclass(frozen=True)
class Offer:
    id: str
    topic_id: str
    title: Text
    description: Text | None = None
    sessions: tuple[Session, ...] = ()
    contact: Contact | None = None
    booking: Mapping[str, Any] | None = None  # validated plain dict, see module docstring
    partners: tuple[str, ...] = ()
    example: bool = False

    @property
    def place_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.place_id for s in self.sessions))


@dataclass(frozen=True)
class Topic:
    id: str
    title: Text
    description: Text | None = None
    field: str | None = None  # id of a field of action


@dataclass(frozen=True)
class FieldOfAction:
    id: str
    title: Text
    description: Text | None = None


@dataclass(frozen=True)
class Partner:
    id: str
    name: Text
    description: Text | None = None
    url: str | None = None


@dataclass(frozen=True)
class Project:
    name: Text
    description: Text | None = None
    target_group: Text | None = None
    funding: Text | None = None
    districts: tuple[str, ...] = ()
    fields_of_action: tuple[FieldOfAction, ...] = ()
    partners: tuple[Partner, ...] = ()


@dataclass(frozen=True)
class Directory:
    topics: tuple[Topic, ...]
    places: tuple[Place, ...]
    offers: tuple[Offer, ...]
    office: Session | None = None
    project: Project | None = None
    source: Path = DEFAULT_PATH

    def topic(self, topic_id: str) -> Topic:
        for t in self.topics:
            if t.id == topic_id:
                return t
        raise KeyError(topic_id)

    def place(self, place_id: str) -> Place:
        for p in self.places:
            if p.id == place_id:
                return p
        raise KeyError(place_id)

    def offer(self, offer_id: str) -> Offer:
        for o in self.offers:
            if o.id == offer_id:
                return o
        raise KeyError(offer_id)

    def offers_for_topic(self, topic_id: str) -> tuple[Offer, ...]:
        return tuple(o for o in self.offers if o.topic_id == topic_id)

    def sessions_of(self, offer_id: str) -> tuple[Session, ...]:
        """Sessions of an offer, or of the office for :data:`OFFICE_ID`."""
        if offer_id == OFFICE_ID:
            if self.office is None:
                raise KeyError(offer_id)
            return (self.office,)
        return self.offer(offer_id).sessions


@dataclass(frozen=True)
class Closure:
    """A closure from the database: one place (or all with ``place_id=None``), days inclusive."""

    place_id: str | None
    first_day: date
    last_day: date
    reason: str

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("closure ends before it starts")

    def covers(self, place_id: str, day: date) -> bool:
        return _covers(self, place_id, day)


class ClosureLike(Protocol):
    """Anything shaped like :class:`Closure` (e.g. ``storage.closures.StoredClosure``)."""

    @property
    def place_id(self) -> str | None: ...
    @property
    def first_day(self) -> date: ...
    @property
    def last_day(self) -> date: ...
    @property
    def reason(self) -> str: ...


def _covers(closure: ClosureLike, place_id: str, day: date) -> bool:
    return (closure.place_id is None or closure.place_id == place_id) and (
        closure.first_day <= day <= closure.last_day
    )


@dataclass(frozen=True)
class Occurrence:
    offer_id: str  # OFFICE_ID for the office hours
    place_id: str
    start: datetime
    end: datetime
    closed_reason: ClosedReason | None = None
    note: Text | None = None  # note of the one-off date, or of the session
    one_off: bool = False
    example: bool = False

    @property
    def is_open(self) -> bool:
        return self.closed_reason is None


@dataclass(frozen=True)
class Status:
    offer_id: str
    place_id: str | None
    now: datetime
    open_now: Occurrence | None  # the occurrence running right now
    open_until: datetime | None  # end of the current opening, back-to-back periods merged
    next_open: Occurrence | None  # next opening after the current one (None: none in horizon)
    closed: tuple[Occurrence, ...]  # closed occurrences from now until next_open (to mention)
    horizon_end: datetime

    @property
    def is_open(self) -> bool:
        return self.open_now is not None


# ---------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    line: int | None  # 1-based
    path: str  # e.g. "offers[2].sessions[0].weekly[1].start"
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        return f"{where}: {self.path or '(top)'}: {self.message}"


class DirectoryError(Exception):
    def __init__(self, problems: list[Problem], source: Path | None = None) -> None:
        self.problems = problems
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(
            head + f"{len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems)
        )


# ------------------------------------------------------------------------------ loading

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT_RE = re.compile(r"^[+]?\d+$")
_NULL_TAG = "tag:yaml.org,2002:null"
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}

_BOOKING_INT_LIMITS: dict[str, tuple[int, int, int | None]] = {
    # key: (min, max, default)
    "slot_minutes": (5, 480, None),
    "seats": (1, 100, 1),
    "min_notice": (0, 24 * 30, 0),  # hours
    "max_ahead": (1, 366, 28),  # days
    "max_per_resident": (1, 50, 1),
}


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


class _Loader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, node: Node | None, path: str, message: str) -> None:
        self.problems.append(Problem(_line(node) if node is not None else None, path, message))

    # -- generic shapes

    def mapping(
        self,
        node: Node,
        path: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.problem(node, path, "expected a mapping (key: value)")
            return None
        allowed = [*required, *optional]
        result: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, path, "keys must be plain words")
                continue
            key = str(key_node.value)
            sub = f"{path}.{key}" if path else key
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                extra = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.problem(key_node, sub, f"unknown key '{key}'{extra}")
                continue
            if key in result:
                self.problem(key_node, sub, f"duplicate key '{key}'")
                continue
            result[key] = value_node
        for key in required:
            if key not in result or _is_null(result[key]):
                sub = f"{path}.{key}" if path else key
                where = result.get(key, node)
                self.problem(where, sub, f"required key '{key}' is missing or empty")
        return {k: v for k, v in result.items() if not _is_null(v)}

    def sequence(self, node: Node, path: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.problem(node, path, "expected a list")
            return []
        return list(node.value)

    def scalar(self, node: Node, path: str, what: str) -> str | None:
        if not isinstance(node, ScalarNode):
            self.problem(node, path, f"expected {what}")
            return None
        return str(node.value)

    def string(self, node: Node, path: str) -> str | None:
        value = self.scalar(node, path, "a text value")
        if value is not None and not value.strip():
            self.problem(node, path, "must not be empty")
            return None
        return value.strip() if value is not None else None

    def ident(self, node: Node, path: str) -> str | None:
        value = self.scalar(node, path, "an id")
        if value is not None and not _ID_RE.match(value):
            self.problem(
                node, path, f"invalid id '{value}' (use lowercase letters, digits, '-' and '_')"
            )
            return None
        return value

    def boolean(self, node: Node, path: str) -> bool | None:
        value = self.scalar(node, path, "true or false")
        if value is None:
            return None
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        self.problem(node, path, f"expected true or false, got '{value}'")
        return None

    def integer(self, node: Node, path: str, lo: int, hi: int) -> int | None:
        value = self.scalar(node, path, "a whole number")
        if value is None:
            return None
        if not _INT_RE.match(value):
            self.problem(node, path, f"expected a whole number, got '{value}'")
            return None
        number = int(value)
        if not lo <= number <= hi:
            self.problem(node, path, f"{number} is out of range {lo}..{hi}")
            return None
        return number

    def number(self, node: Node, path: str, lo: float, hi: float) -> float | None:
        value = self.scalar(node, path, "a number")
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            self.problem(node, path, f"expected a number, got '{value}'")
            return None
        if not lo <= number <= hi:
            self.problem(node, path, f"{value} is out of range {lo:g}..{hi:g}")
            return None
        return number

    def time_(self, node: Node, path: str) -> time | None:
        value = self.scalar(node, path, "a time HH:MM")
        if value is None:
            return None
        m = _TIME_RE.match(value.strip())
        if not m:
            self.problem(node, path, f"expected a time HH:MM (e.g. \"09:00\"), got '{value}'")
            return None
        return time(int(m.group(1)), int(m.group(2)))

    def date_(self, node: Node, path: str) -> date | None:
        value = self.scalar(node, path, "a date YYYY-MM-DD")
        if value is None:
            return None
        try:
            if not _DATE_RE.match(value.strip()):
                raise ValueError
            return date.fromisoformat(value.strip())
        except ValueError:
            self.problem(node, path, f"expected a date YYYY-MM-DD, got '{value}'")
            return None

    def text(self, node: Node, path: str) -> Text | None:
        if isinstance(node, ScalarNode):  # shorthand: German only
            value = self.string(node, path)
            return Text({FALLBACK_LANG: value}) if value is not None else None
        if not isinstance(node, MappingNode):
            self.problem(node, path, "expected a text: a mapping of language to text")
            return None
        values: dict[str, str] = {}
        ok = True
        has_de = False
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
            sub = f"{path}.{key}"
            if key not in LANGS:
                hint = difflib.get_close_matches(key, LANGS, n=1)
                extra = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.problem(key_node, sub, f"unknown language '{key}'{extra}")
                ok = False
                continue
            if key in values:
                self.problem(key_node, sub, f"duplicate language '{key}'")
                ok = False
                continue
            if _is_null(value_node):
                continue  # an empty translation is the same as a missing one
            has_de = has_de or key == FALLBACK_LANG
            value = self.string(value_node, sub)
            if value is None:
                ok = False
                continue
            values[key] = value
        if not has_de:
            self.problem(node, f"{path}.de", "German text (de) is missing")
            return None
        if FALLBACK_LANG not in values:
            return None
        return Text(values) if ok else None

    def opt(self, m: dict[str, Node], key: str, path: str, fn: Any, *args: Any) -> Any:
        if key not in m:
            return None
        return fn(m[key], f"{path}.{key}" if path else key, *args)

    # -- sections

    def place(self, node: Node, path: str) -> Place | None:
        m = self.mapping(
            node,
            path,
            ["id", "name"],
            ["address", "lat", "lon", "phone", "email", "accessibility", "notes", "example"],
        )
        if m is None:
            return None
        pid = self.opt(m, "id", path, self.ident)
        name = self.opt(m, "name", path, self.text)
        address = None
        if "address" in m:
            a = self.mapping(m["address"], f"{path}.address", ["street", "postcode", "city"])
            if a is not None:
                street = self.opt(a, "street", f"{path}.address", self.string)
                postcode = self.opt(a, "postcode", f"{path}.address", self.string)
                city = self.opt(a, "city", f"{path}.address", self.string)
                if postcode is not None and not re.fullmatch(r"\d{5}", postcode):
                    self.problem(
                        a["postcode"],
                        f"{path}.address.postcode",
                        f"expected a 5-digit postcode, got '{postcode}'",
                    )
                    postcode = None
                if street and postcode and city:
                    address = Address(street, postcode, city)
        lat = self.opt(m, "lat", path, self.number, -90.0, 90.0)
        lon = self.opt(m, "lon", path, self.number, -180.0, 180.0)
        if ("lat" in m) != ("lon" in m):
            self.problem(node, path, "give both lat and lon, or neither")
        email = self.opt(m, "email", path, self.email)
        place = Place(
            id=pid or "",
            name=name or Text({FALLBACK_LANG: "?"}),
            address=address,
            lat=lat,
            lon=lon,
            phone=self.opt(m, "phone", path, self.string),
            email=email,
            accessibility=self.opt(m, "accessibility", path, self.text),
            notes=self.opt(m, "notes", path, self.text),
            example=bool(self.opt(m, "example", path, self.boolean)),
        )
        return place if pid and name else None

    def email(self, node: Node, path: str) -> str | None:
        value = self.string(node, path)
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            self.problem(node, path, f"not an e-mail address: '{value}'")
            return None
        return value

    def weekly(self, node: Node, path: str) -> list[WeeklyHours]:
        m = self.mapping(node, path, ["day", "start", "end"], ["from", "until"])
        if m is None:
            return []
        days: list[int] = []
        if "day" in m:
            day_nodes = (
                self.sequence(m["day"], f"{path}.day")
                if isinstance(m["day"], SequenceNode)
                else [m["day"]]
            )
            for i, dn in enumerate(day_nodes):
                sub = f"{path}.day[{i}]" if isinstance(m["day"], SequenceNode) else f"{path}.day"
                value = self.scalar(dn, sub, "a weekday (mon..sun)")
                if value is None:
                    continue
                word = value.strip().lower()
                if word in WEEKDAYS:
                    days.append(WEEKDAYS.index(word))
                elif word in _LONG_DAYS:
                    days.append(_LONG_DAYS.index(word))
                else:
                    self.problem(dn, sub, f"unknown weekday '{value}' (use mon, tue, … sun)")
        start = self.opt(m, "start", path, self.time_)
        end = self.opt(m, "end", path, self.time_)
        self.check_order(m, path, start, end)
        valid_from = self.opt(m, "from", path, self.date_)
        valid_until = self.opt(m, "until", path, self.date_)
        if valid_from and valid_until and valid_until < valid_from:
            self.problem(m["until"], f"{path}.until", "'until' is before 'from'")
            return []
        if start is None or end is None or start >= end:
            return []
        return [WeeklyHours(d, start, end, valid_from, valid_until) for d in days]

    def check_order(self, m: dict[str, Node], path: str, start: Any, end: Any) -> None:
        if start is not None and end is not None and start >= end:
            self.problem(
                m["end"], f"{path}.end", f"end {end:%H:%M} is not after start {start:%H:%M}"
            )

    def one_off(self, node: Node, path: str) -> OneOff | None:
        m = self.mapping(node, path, ["date", "start", "end"], ["note"])
        if m is None:
            return None
        day = self.opt(m, "date", path, self.date_)
        start = self.opt(m, "start", path, self.time_)
        end = self.opt(m, "end", path, self.time_)
        self.check_order(m, path, start, end)
        note = self.opt(m, "note", path, self.text)
        if day is None or start is None or end is None or start >= end:
            return None
        return OneOff(day, start, end, note)

    def session(self, node: Node, path: str, places: dict[str, Node]) -> Session | None:
        m = self.mapping(
            node, path, ["place"], ["weekly", "dates", "open_on_holidays", "example", "note"]
        )
        if m is None:
            return None
        place_id = self.opt(m, "place", path, self.ident)
        if place_id is not None and place_id not in places:
            self.problem(m["place"], f"{path}.place", f"unknown place '{place_id}'")
        weekly: list[WeeklyHours] = []
        for i, w in enumerate(self.opt(m, "weekly", path, self.sequence) or []):
            weekly.extend(self.weekly(w, f"{path}.weekly[{i}]"))
        one_offs: list[OneOff] = []
        for i, d in enumerate(self.opt(m, "dates", path, self.sequence) or []):
            o = self.one_off(d, f"{path}.dates[{i}]")
            if o is not None:
                one_offs.append(o)
        if "weekly" not in m and "dates" not in m:
            self.problem(node, path, "a session needs 'weekly' hours or 'dates'")
        if place_id is None:
            return None
        return Session(
            place_id=place_id,
            weekly=tuple(weekly),
            one_offs=tuple(sorted(one_offs, key=lambda o: (o.date, o.start))),
            open_on_holidays=bool(self.opt(m, "open_on_holidays", path, self.boolean)),
            example=bool(self.opt(m, "example", path, self.boolean)),
            note=self.opt(m, "note", path, self.text),
        )

    def booking(self, node: Node, path: str) -> dict[str, Any] | None:
        keys = list(_BOOKING_INT_LIMITS)
        m = self.mapping(
            node,
            path,
            ["slot_minutes", "confirm"],
            [k for k in keys if k != "slot_minutes"] + ["bring"],
        )
        if m is None:
            return None
        result: dict[str, Any] = {}
        ok = True
        for key, (lo, hi, default) in _BOOKING_INT_LIMITS.items():
            value = self.opt(m, key, path, self.integer, lo, hi)
            if key in m and value is None:
                ok = False
            result[key] = value if value is not None else default
        confirm = self.opt(m, "confirm", path, self.scalar, "instant or staff")
        if confirm is not None and confirm not in ("instant", "staff"):
            self.problem(
                m["confirm"],
                f"{path}.confirm",
                f"confirm must be 'instant' or 'staff', got '{confirm}'",
            )
            ok = False
        result["confirm"] = confirm
        bring: list[dict[str, str]] = []
        for i, b in enumerate(self.opt(m, "bring", path, self.sequence) or []):
            t = self.text(b, f"{path}.bring[{i}]")
            if t is None:
                ok = False
            else:
                bring.append(dict(t.values))
        result["bring"] = bring
        return result if ok and "slot_minutes" in m and "confirm" in m else None

    def contact(self, node: Node, path: str) -> Contact | None:
        m = self.mapping(node, path, [], ["name", "phone", "email", "note"])
        if m is None:
            return None
        return Contact(
            name=self.opt(m, "name", path, self.string),
            phone=self.opt(m, "phone", path, self.string),
            email=self.opt(m, "email", path, self.email),
            note=self.opt(m, "note", path, self.text),
        )

    def id_list(self, node: Node, path: str) -> list[tuple[str, Node]]:
        out = []
        for i, n in enumerate(self.sequence(node, path)):
            value = self.ident(n, f"{path}[{i}]")
            if value is not None:
                out.append((value, n))
        return out


_LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _unique(
    loader: _Loader, items: list[tuple[str | None, Node, str]], kind: str, seen: dict[str, Node]
) -> None:
    for item_id, node, path in items:
        if item_id is None:
            continue
        if item_id in seen:
            loader.problem(
                node,
                path,
                f"duplicate {kind} id '{item_id}' (first on line {_line(seen[item_id])})",
            )
        else:
            seen[item_id] = node


def _id_nodes(loader: _Loader, nodes: list[Node], path: str) -> list[tuple[str | None, Node, str]]:
    """Pre-scan a list of items for their ``id`` (for uniqueness/reference checks)."""
    out: list[tuple[str | None, Node, str]] = []
    for i, n in enumerate(nodes):
        if isinstance(n, MappingNode):
            for k, v in n.value:
                if isinstance(k, ScalarNode) and k.value == "id" and isinstance(v, ScalarNode):
                    out.append((str(v.value), v, f"{path}[{i}].id"))
                    break
    return out


def load_directory(path: Path | str = DEFAULT_PATH) -> Directory:
    """Load and validate a directory file; raise :class:`DirectoryError` with all problems."""
    source = Path(path)
    try:
        content = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError([Problem(None, "", f"cannot read file: {exc}")], source) from exc
    try:
        root = yaml.compose(content, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        msg = f"YAML syntax error: {exc.problem or exc}"
        if exc.context and exc.context_mark is not None:
            msg += f" ({exc.context}, line {int(exc.context_mark.line) + 1})"
        raise DirectoryError([Problem(line, "", msg)], source) from exc
    except yaml.YAMLError as exc:
        raise DirectoryError([Problem(None, "", f"YAML error: {exc}")], source) from exc
    if root is None:
        raise DirectoryError([Problem(None, "", "the file is empty")], source)

    ld = _Loader()
    top = ld.mapping(root, "", ["topics", "places", "offers"], ["version", "project", "office"])
    if top is None:
        raise DirectoryError(ld.problems, source)
    if "version" in top:
        ld.integer(top["version"], "version", 1, 1)  # only format version 1 exists

    # First pass: ids, so that references can be checked wherever they are.
    topic_nodes = ld.opt(top, "topics", "", ld.sequence) or []
    place_nodes = ld.opt(top, "places", "", ld.sequence) or []
    offer_nodes = ld.opt(top, "offers", "", ld.sequence) or []
    topic_ids: dict[str, Node] = {}
    place_ids: dict[str, Node] = {}
    offer_ids: dict[str, Node] = {}
    _unique(ld, _id_nodes(ld, topic_nodes, "topics"), "topic", topic_ids)
    _unique(ld, _id_nodes(ld, place_nodes, "places"), "place", place_ids)
    offer_id_nodes = _id_nodes(ld, offer_nodes, "offers")
    _unique(ld, offer_id_nodes, "offer", offer_ids)
    for item_id, node, item_path in offer_id_nodes:
        if item_id == OFFICE_ID:
            ld.problem(node, item_path, f"offer id '{OFFICE_ID}' is reserved for the office")

    project = _project(ld, top["project"]) if "project" in top else None
    field_ids = {f.id for f in project.fields_of_action} if project else set()
    partner_ids = {p.id for p in project.partners} if project else set()

    topics: list[Topic] = []
    for i, n in enumerate(topic_nodes):
        p = f"topics[{i}]"
        m = ld.mapping(n, p, ["id", "title"], ["description", "field"])
        if m is None:
            continue
        tid = ld.opt(m, "id", p, ld.ident)
        title = ld.opt(m, "title", p, ld.text)
        fid = ld.opt(m, "field", p, ld.ident)
        if fid is not None and fid not in field_ids:
            ld.problem(m["field"], f"{p}.field", f"unknown field of action '{fid}'")
        if tid and title:
            topics.append(Topic(tid, title, ld.opt(m, "description", p, ld.text), fid))

    places = [
        pl for i, n in enumerate(place_nodes) if (pl := ld.place(n, f"places[{i}]")) is not None
    ]

    office = ld.session(top["office"], "office", place_ids) if "office" in top else None

    offers: list[Offer] = []
    for i, n in enumerate(offer_nodes):
        p = f"offers[{i}]"
        m = ld.mapping(
            n,
            p,
            ["id", "topic", "title"],
            ["description", "sessions", "contact", "booking", "partners", "example"],
        )
        if m is None:
            continue
        oid = ld.opt(m, "id", p, ld.ident)
        topic_id = ld.opt(m, "topic", p, ld.ident)
        if topic_id is not None and topic_id not in topic_ids:
            ld.problem(m["topic"], f"{p}.topic", f"unknown topic '{topic_id}'")
        title = ld.opt(m, "title", p, ld.text)
        description = ld.opt(m, "description", p, ld.text)
        sessions = [
            s
            for j, sn in enumerate(ld.opt(m, "sessions", p, ld.sequence) or [])
            if (s := ld.session(sn, f"{p}.sessions[{j}]", place_ids)) is not None
        ]
        partners: list[str] = []
        for pid, pn in ld.opt(m, "partners", p, ld.id_list) or []:
            if pid not in partner_ids:
                ld.problem(pn, f"{p}.partners", f"unknown partner '{pid}'")
            partners.append(pid)
        contact = ld.opt(m, "contact", p, ld.contact)
        booking = ld.opt(m, "booking", p, ld.booking)
        example = bool(ld.opt(m, "example", p, ld.boolean))
        if oid and topic_id and title:
            offers.append(
                Offer(
                    oid,
                    topic_id,
                    title,
                    description,
                    tuple(sessions),
                    contact,
                    MappingProxyType(booking) if booking is not None else None,
                    tuple(partners),
                    example,
                )
            )

    if ld.problems:
        ld.problems.sort(key=lambda pr: (pr.line is None, pr.line or 0))
        raise DirectoryError(ld.problems, source)
    return Directory(
        topics=tuple(topics),
        places=tuple(places),
        offers=tuple(offers),
        office=office,
        project=project,
        source=source,
    )


def _project(ld: _Loader, node: Node) -> Project | None:
    p = "project"
    m = ld.mapping(
        node,
        p,
        ["name"],
        ["description", "target_group", "funding", "districts", "fields_of_action", "partners"],
    )
    if m is None:
        return None
    districts = [
        d
        for i, dn in enumerate(ld.opt(m, "districts", p, ld.sequence) or [])
        if (d := ld.string(dn, f"{p}.districts[{i}]")) is not None
    ]
    fields: list[FieldOfAction] = []
    fnodes = ld.opt(m, "fields_of_action", p, ld.sequence) or []
    _unique(ld, _id_nodes(ld, fnodes, f"{p}.fields_of_action"), "field of action", {})
    for i, fn in enumerate(fnodes):
        sub = f"{p}.fields_of_action[{i}]"
        fm = ld.mapping(fn, sub, ["id", "title"], ["description"])
        if fm is None:
            continue
        fid = ld.opt(fm, "id", sub, ld.ident)
        title = ld.opt(fm, "title", sub, ld.text)
        if fid and title:
            fields.append(FieldOfAction(fid, title, ld.opt(fm, "description", sub, ld.text)))
    partners: list[Partner] = []
    pnodes = ld.opt(m, "partners", p, ld.sequence) or []
    _unique(ld, _id_nodes(ld, pnodes, f"{p}.partners"), "partner", {})
    for i, pn in enumerate(pnodes):
        sub = f"{p}.partners[{i}]"
        pm = ld.mapping(pn, sub, ["id", "name"], ["description", "url"])
        if pm is None:
            continue
        pid = ld.opt(pm, "id", sub, ld.ident)
        name = ld.opt(pm, "name", sub, ld.text)
        url = ld.opt(pm, "url", sub, ld.string)
        if url is not None and not url.startswith(("https://", "http://")):
            ld.problem(pm["url"], f"{sub}.url", "url must start with https://")
        if pid and name:
            partners.append(Partner(pid, name, ld.opt(pm, "description", sub, ld.text), url))
    name = ld.opt(m, "name", p, ld.text)
    if name is None:
        return None
    return Project(
        name=name,
        description=ld.opt(m, "description", p, ld.text),
        target_group=ld.opt(m, "target_group", p, ld.text),
        funding=ld.opt(m, "funding", p, ld.text),
        districts=tuple(districts),
        fields_of_action=tuple(fields),
        partners=tuple(partners),
    )


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
) -> ClosedReason | None:
    for closure in closures:
        if _covers(closure, session.place_id, day):
            return ("closure", closure.reason)
    if not session.open_on_holidays:
        name = public_holiday(day)
        if name is not None:
            return ("holiday", name)
    return None


def _session_occurrences(
    offer_id: str,
    session: Session,
    start: datetime,
    end: datetime,
    closures: Sequence[ClosureLike],
    tz: ZoneInfo,
    *,
    weekly: bool = True,
) -> Iterator[Occurrence]:
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()

    def make(day: date, s: time, e: time, note: Text | None, one_off: bool) -> Occurrence | None:
        occ_start, occ_end = _wall(day, s, tz), _wall(day, e, tz)
        if not (occ_start < end and occ_end > start and occ_start < occ_end):
            return None
        return Occurrence(
            offer_id=offer_id,
            place_id=session.place_id,
            start=occ_start,
            end=occ_end,
            closed_reason=_closed_reason(session, day, closures),
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
                        yield occ
    for o in session.one_offs:
        if first <= o.date <= last:
            occ = make(o.date, o.start, o.end, o.note or session.note, True)
            if occ is not None:
                yield occ


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
    result = [
        occ
        for oid, session in _selected(directory, offer_id, place_id)
        for occ in _session_occurrences(oid, session, start, end, closures, tz)
    ]
    return sorted(result, key=_sort_key)


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
    pairs = _selected(directory, offer_id, place_id)
    occs = [
        occ
        for oid, session in pairs
        for occ in _session_occurrences(oid, session, now, horizon_end, closures, tz)
    ]
    # one-off dates beyond the horizon
    far_last = max((o.date for _, s in pairs for o in s.one_offs), default=None)
    if far_last is not None:
        far_end = _wall(far_last + timedelta(days=1), time(0), tz)
        if far_end > horizon_end:
            occs.extend(
                occ
                for oid, session in pairs
                for occ in _session_occurrences(
                    oid, session, horizon_end, far_end, closures, tz, weekly=False
                )
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
