"""Reading the directory YAML file and validating it, reporting *all* problems with lines.

Coordinators keep the directory in a human-editable YAML file (``bot/data/directory.yaml``)
and fix it from the problem list a failed ``/reload`` shows them, so every message names
the line and the path of the value and says what was expected. The file is composed into
PyYAML nodes (which carry line numbers) and walked by hand; nothing is loaded into plain
Python values first, which would lose the lines.

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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.directory.model import (
    DEFAULT_PATH,
    FALLBACK_LANG,
    LANGS,
    OFFICE_ID,
    WEEKDAYS,
    Address,
    Contact,
    Directory,
    FieldOfAction,
    Offer,
    OneOff,
    Partner,
    Place,
    Project,
    Session,
    Text,
    Topic,
    WeeklyHours,
)

__all__ = ["DEFAULT_PATH", "DirectoryError", "Problem", "load_directory"]


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
        if booking is not None:
            # A resident who booked must be able to find the place (issue 18). A place
            # marked ``example`` is a placeholder whose address is not known yet: residents
            # read "address will be added soon" and the office's phone number instead.
            addressed = {pl.id for pl in places if pl.address is not None or pl.example}
            for place_id in dict.fromkeys(s.place_id for s in sessions):
                if place_id in place_ids and place_id not in addressed:
                    ld.problem(
                        m["booking"],
                        f"{p}.booking",
                        f"bookable at place '{place_id}', which has no address: residents who"
                        " book must be able to find it",
                    )
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
