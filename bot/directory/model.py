"""The directory's data model: frozen dataclasses, and the constants they share.

Kept apart from the YAML loader and the opening-hours calculator so both can build on it
without importing each other; this module has no I/O and no third-party dependencies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

__all__ = [
    "CLOSURE_REASONS",
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
    "FieldOfAction",
    "Occurrence",
    "Offer",
    "OneOff",
    "Partner",
    "Place",
    "Project",
    "Session",
    "Status",
    "Text",
    "Topic",
    "WeeklyHours",
    "closure_covers",
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
#: The directory shipped with the bot (``bot/data/directory.yaml``).
DEFAULT_PATH = Path(__file__).parent.parent / "data" / "directory.yaml"
#: Pseudo offer id under which the office hours (``office:``) appear in occurrences.
OFFICE_ID = "office"

ClosedReason = tuple[Literal["holiday", "closure"], str]
"""Why a period is closed: a public holiday and its (German) name, or a closure and the
staff's own words for it (may be empty; the reason key is :attr:`Occurrence.closure_key`)."""
#: What coordinators pick as the reason of a closure; residents read it in their language.
CLOSURE_REASONS: tuple[str, ...] = ("illness", "training", "holiday", "building", "other")


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

    def office_phone(self) -> str | None:
        """The phone of the office's place, else of the first place that has one."""
        office = self.office.place_id if self.office is not None else None
        places = sorted(self.places, key=lambda p: p.id != office)
        return next((p.phone for p in places if p.phone), None)

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
    reason_key: str = "other"

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("closure ends before it starts")

    def covers(self, place_id: str, day: date) -> bool:
        return closure_covers(self, place_id, day)


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
    @property
    def reason_key(self) -> str: ...


def closure_covers(closure: ClosureLike, place_id: str, day: date) -> bool:
    """Whether ``closure`` shuts ``place_id`` on ``day``; works for any :class:`ClosureLike`."""
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
    closure_key: str | None = None
    """The reason key (:data:`CLOSURE_REASONS`) when a closure shuts this period."""
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
