"""The project's figures as one suppressed table of aggregates, and the chart and export
files made from it.

Small numbers could single out a resident ("the one Farsi speaker who missed an
appointment in March"), so every count of people or their actions below the configured
minimum is shown as ``<3``. Totals are shown too, and a total minus the visible cells would
give the hidden one back; so whenever a sum would let a hidden cell be worked out (only one
cell hidden in the sum, or the hidden cells so few that their values are forced), a further
cell is hidden, shown as ``x``. This runs once over all figures of a report: the text,
the chart and the export all read the same marks and can never disagree.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from storage.stats import RawFigures, Span

Key = tuple[str, ...]
Mark = Literal["small", "hidden"]
"""``small``: below the minimum; ``hidden``: hidden so that a small one cannot be
worked out from a total."""
HIDDEN_MARK = "x"
Relation = tuple[Key, Sequence[Key]]
"""A total and the parts it is the sum of."""

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
WEEKLY_UP_TO = timedelta(days=190)
"""Longer periods are charted per month: 200 weekly bars are unreadable on a phone."""


# -- periods ----------------------------------------------------------------------------------
class PeriodError(ValueError):
    def __init__(self, reason: Literal["invalid", "future"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Bucket:
    """One bar of the chart: a week (from its Monday) or a month, cut to the period."""

    key: str
    first: date
    last: date
    """Inclusive."""


@dataclass(frozen=True)
class Period:
    kind: Literal["week", "month", "all"]
    first: date
    last: date
    """Inclusive; a week or month runs to its end (appointments ahead count as booked),
    the funding period to today."""

    def span(self, tz: ZoneInfo) -> Span:
        return day_span(self.first, self.last, tz)

    @property
    def monthly(self) -> bool:
        return self.last - self.first > WEEKLY_UP_TO

    def buckets(self) -> tuple[Bucket, ...]:
        found = []
        day = self.first
        while day <= self.last:
            if self.monthly:
                nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
                key = f"{day:%Y-%m}"
            else:
                nxt = day + timedelta(days=7 - day.weekday())
                iso = day.isocalendar()
                key = f"{iso.year}-W{iso.week:02d}"
            last = min(nxt - timedelta(days=1), self.last)
            found.append(Bucket(key, day, last))
            day = nxt
        return tuple(found)

    def months(self) -> tuple[str, ...]:
        """'YYYY-MM' of every month the period touches: feedback is only counted per
        month, so a week shows the figures of its month(s)."""
        found: list[str] = []
        day = self.first.replace(day=1)
        while day <= self.last:
            found.append(f"{day:%Y-%m}")
            day = (day + timedelta(days=32)).replace(day=1)
        return tuple(found)

    def slug(self) -> str:
        """For file names."""
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "week":
            iso = self.first.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        return f"{self.first:%Y-%m-%d}_{self.last:%Y-%m-%d}"


MONTHS_AHEAD = timedelta(days=366)
"""How far ahead a month may be asked for: bookings reach at most this far."""


def day_span(first: date, last: date, tz: ZoneInfo) -> Span:
    """Local days [first, last] as UTC instants [start, end)."""
    start = datetime.combine(first, time(0), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(UTC)
    return start, end


def _month(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def parse_period(arg: str | None, today: date, funding_start: date) -> Period:
    """``week``, ``month`` (the default), ``2026-11`` or ``all`` (the funding period)."""
    word = (arg or "month").strip().lower()
    if word == "week":
        monday = today - timedelta(days=today.weekday())
        return Period("week", monday, monday + timedelta(days=6))
    if word == "month":
        return Period("month", *_month(today.year, today.month))
    if word == "all":
        if funding_start > today:
            raise PeriodError("future")
        return Period("all", funding_start, today)
    match = MONTH_RE.match(word)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise PeriodError("invalid")
    first, last = _month(int(match.group(1)), int(match.group(2)))
    if first > today + MONTHS_AHEAD:
        raise PeriodError("future")
    # A month ahead shows the appointments already booked for it (issue 18).
    return Period("month", first, last)


# -- suppression ------------------------------------------------------------------------------
def _determined(total: int, shown_sum: int, small: int, hidden: int, k: int) -> bool:
    """Whether a hidden small cell of a sum can be narrowed down further than "1 to k-1".

    What a reader knows: the hidden cells add up to ``total - shown_sum``; each small one is
    between 1 and k-1; each ``x`` is at least k (smaller non-zero ones would be small).
    """
    rest = total - shown_sum
    others_min = (small - 1) + hidden * k
    others_max = math.inf if hidden else (small - 1) * (k - 1)
    lower = max(1, rest - others_max)
    upper = min(k - 1, rest - others_min)
    return upper - lower < (1 if k >= 3 else 0)


def suppress(values: Mapping[Key, int], relations: Iterable[Relation], k: int) -> dict[Key, Mark]:
    """Marks for the cells that must not be shown.

    First every count from 1 to k-1 is marked small (zero is shown: it singles nobody
    out). Then, until nothing changes, each sum is checked: if a visible total would give
    back a hidden part, the smallest visible non-zero part is hidden as well (or, with none
    left, the total); if a hidden total could be added up from visible parts, the smallest
    part is hidden. This is the usual primary and secondary cell suppression of official
    statistics, checked per sum. Sums share cells (a week's total is also part of the
    period's), and a reader can combine them: :func:`narrowed` plays that reader, and
    whatever small cell it still pins down gets one more neighbour hidden, until none.
    """
    marks: dict[Key, Mark] = {key: "small" for key, v in values.items() if 0 < v < k}
    relations = list(relations)
    if k <= 1:
        return marks

    def hide_smallest(keys: Iterable[Key]) -> bool:
        candidates = sorted((values[p], p) for p in keys if p not in marks and values[p] > 0)
        if not candidates:
            return False
        marks[candidates[0][1]] = "hidden"
        return True

    def per_sum() -> None:
        changed = True
        while changed:
            changed = False
            for total, parts in relations:
                hidden_parts = [p for p in parts if p in marks]
                if total in marks:
                    if not hidden_parts and hide_smallest(parts):
                        changed = True
                    continue
                if not hidden_parts:
                    continue
                small = sum(1 for p in hidden_parts if marks[p] == "small")
                shown_sum = sum(values[p] for p in parts if p not in marks)
                hidden = len(hidden_parts) - small
                if len(hidden_parts) == 1 or (
                    small and _determined(values[total], shown_sum, small, hidden, k)
                ):
                    if hide_smallest(parts):
                        changed = True
                    elif values[total] > 0:
                        marks[total] = "hidden"
                        changed = True

    per_sum()
    if k < 3:  # "<2" is exactly 1 already: nothing more to give away
        return marks
    # A sum shown as "<3" whose non-zero parts are all "<3" gives them away (1 + 1) however
    # much else is hidden: those are left as they are rather than hiding the whole table.
    everything: dict[Key, Mark] = {q: marks.get(q, "hidden") for q, v in values.items() if v}
    inherent = set(narrowed(values, relations, everything, k))
    while pinned := [q for q in narrowed(values, relations, marks, k) if q not in inherent]:
        key = pinned[0]
        near = [m for total, parts in relations if key in (total, *parts) for m in (total, *parts)]
        totals = {r[0] for r in relations}
        if (
            not hide_smallest([m for m in near if m not in totals])
            and not hide_smallest(near)
            and not hide_smallest(values)
        ):
            break  # everything is hidden already
        per_sum()
    return marks


def narrowed(
    values: Mapping[Key, int], relations: Sequence[Relation], marks: Mapping[Key, Mark], k: int
) -> list[Key]:
    """Small cells a reader can narrow down to one value by combining all the sums.

    The reader's knowledge as intervals: a visible number is exact, ``<k`` is 1..k-1, ``x``
    is at least k. Every sum then tightens the bounds of its members from the others'
    (interval propagation), until nothing moves.
    """
    inf = math.inf
    low: dict[Key, float] = {}
    high: dict[Key, float] = {}
    for key, v in values.items():
        mark = marks.get(key)
        low[key], high[key] = (
            (v, v) if mark is None else (1, k - 1) if mark == "small" else (k, inf)
        )
    involved = [(t, list(ps)) for t, ps in relations if t in marks or any(p in marks for p in ps)]
    for _ in range(200):
        moved = False
        for total, parts in involved:
            lo_sum = sum(low[p] for p in parts)
            hi_sum = sum(high[p] for p in parts)
            if lo_sum > low[total]:
                low[total], moved = lo_sum, True
            if hi_sum < high[total]:
                high[total], moved = hi_sum, True
            for p in parts:
                lo_others, hi_others = lo_sum - low[p], hi_sum - high[p] if high[p] < inf else None
                if hi_others is None:
                    hi_others = sum(high[q] for q in parts if q != p)
                new_low = low[total] - hi_others
                new_high = high[total] - lo_others
                if new_low > low[p]:
                    low[p], moved = new_low, True
                if new_high < high[p]:
                    high[p], moved = new_high, True
        if not moved:
            break
    return sorted(
        key for key, mark in marks.items() if mark == "small" and high[key] - low[key] < 1
    )


# -- the figures of one report ----------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    value: int | None
    """None when hidden."""
    text: str
    """What every output shows: the number, ``<3`` or ``x``."""

    @property
    def shown(self) -> bool:
        return self.value is not None


MEASURES = ("booked", "cancelled", "attended", "no_show")
FEEDBACK = (("helped", True), ("not_helped", False))
"""The answers to "Did we help you?" (👍, 👎)."""
CONVERSATION = ("messages", "translated", "transcribed")
"""Residents' messages per language, and how many were machine translated or transcribed."""
PREPARED = ("suggested", "offered", "helped", "talk", "sent")
"""What prepared answers did per language (``bot.services.answers.Outcome``); figures
``prepared_<outcome>``."""


@dataclass(frozen=True)
class Figures:
    period: Period
    min_cell: int
    buckets: tuple[Bucket, ...]
    languages: tuple[str, ...]
    """Every language that occurs, most frequent first."""
    places: tuple[tuple[str, str], ...]
    """(offer id, place id) with appointments in the period."""
    values: Mapping[Key, int]
    marks: Mapping[Key, Mark]
    answer_median: float | None
    """Seconds to the first answer; None when fewer requests than the minimum were
    answered (a median of two is each of them)."""
    answer_p90: float | None
    broadcasts: int
    """How many broadcasts started: the coordinators' own action, never suppressed."""
    interpreter_languages: tuple[str, ...] = ()
    """Languages interpreting was asked for, most asked first."""
    message_languages: tuple[str, ...] = ()
    """Languages residents wrote in during the period (the ``CONVERSATION`` counters)."""
    prepared_languages: tuple[str, ...] = ()
    """Languages prepared answers were suggested, offered or sent in (``PREPARED``)."""

    def cell(self, *key: str) -> Cell:
        value = self.values.get(key, 0)
        mark = self.marks.get(key)
        if mark == "small":
            return Cell(None, f"<{self.min_cell}")
        if mark == "hidden":
            return Cell(None, HIDDEN_MARK)
        return Cell(value, str(value))

    @property
    def any_suppressed(self) -> bool:
        return bool(self.marks)


def build_figures(raw: RawFigures, period: Period, min_cell: int) -> Figures:
    buckets = period.buckets()
    weight: dict[str, int] = {}
    for source in (raw.new_by_language, raw.active_by_language):
        for lang, n in source.items():
            weight[lang] = weight.get(lang, 0) + n
    for grid in (
        raw.requests_by_bucket,
        raw.bookings_by_bucket,
        raw.made_by_bucket,
        raw.feedback,
    ):
        for (_, lang), n in grid.items():
            weight[lang] = weight.get(lang, 0) + n
    languages = tuple(sorted(weight, key=lambda lang: (-weight[lang], lang)))
    places = tuple((p.offer_id, p.place_id) for p in raw.by_place)

    values: dict[Key, int] = {}
    relations: list[Relation] = []
    for name, source in (("new", raw.new_by_language), ("active", raw.active_by_language)):
        for lang in languages:
            values[(name, lang)] = source.get(lang, 0)
        values[(name,)] = sum(source.values())
        relations.append(((name,), [(name, lang) for lang in languages]))
    grids = (
        ("requests", raw.requests_by_bucket),
        ("booked", raw.bookings_by_bucket),
        ("made", raw.made_by_bucket),
    )
    for name, grid in grids:
        weeks = [b.key for b in buckets]
        for i, week in enumerate(weeks):
            for lang in languages:
                values[(name, week, lang)] = grid.get((i, lang), 0)
            values[(name, week, "")] = sum(values[(name, week, lang)] for lang in languages)
            relations.append(((name, week, ""), [(name, week, lang) for lang in languages]))
        for lang in languages:
            values[(name, "", lang)] = sum(values[(name, w, lang)] for w in weeks)
            relations.append(((name, "", lang), [(name, w, lang) for w in weeks]))
        values[(name,)] = sum(values[(name, w, "")] for w in weeks)
        relations.append(((name,), [(name, w, "") for w in weeks]))
        relations.append(((name,), [(name, "", lang) for lang in languages]))
    for measure in MEASURES:
        for p in raw.by_place:
            values[(measure, p.offer_id, p.place_id)] = getattr(p, measure)
        if measure != "booked":
            values[(measure,)] = sum(getattr(p, measure) for p in raw.by_place)
        relations.append(((measure,), [(measure, o, pl) for o, pl in places]))
    interpreter_languages = tuple(sorted(raw.interpreters, key=lambda g: (-raw.interpreters[g], g)))
    for lang in interpreter_languages:
        values[("interpreter", lang)] = raw.interpreters[lang]
    values[("interpreter",)] = sum(raw.interpreters.values())
    relations.append((("interpreter",), [("interpreter", lang) for lang in interpreter_languages]))
    for name, helped in FEEDBACK:
        for lang in languages:
            values[(name, lang)] = raw.feedback.get((helped, lang), 0)
        values[(name,)] = sum(n for (h, _), n in raw.feedback.items() if h is helped)
        relations.append(((name,), [(name, lang) for lang in languages]))
    values[("answered",)] = raw.answered
    values[("open_now",)] = raw.open_now
    values[("sent",)] = raw.sent
    values[("blocked",)] = raw.blocked
    values[("waiting_list",)] = raw.waiting_list
    counted = raw.messages_by_language
    message_languages = tuple(sorted(counted, key=lambda lang: (-counted[lang][0], lang)))
    for index, measure in enumerate(CONVERSATION):
        for lang in message_languages:
            values[(measure, lang)] = counted[lang][index]
        values[(measure,)] = sum(counted[lang][index] for lang in message_languages)
        relations.append(((measure,), [(measure, lang) for lang in message_languages]))

    prepared = raw.prepared
    weights: dict[str, int] = {}
    for (_, lang), n in prepared.items():
        weights[lang] = weights.get(lang, 0) + n
    prepared_languages = tuple(sorted(weights, key=lambda lang: (-weights[lang], lang)))
    for outcome in PREPARED:
        name = f"prepared_{outcome}"
        for lang in prepared_languages:
            values[(name, lang)] = prepared.get((outcome, lang), 0)
        values[(name,)] = sum(n for (o, _), n in prepared.items() if o == outcome)
        relations.append(((name,), [(name, lang) for lang in prepared_languages]))

    marks = suppress(values, relations, min_cell)
    enough = raw.answered >= min_cell
    return Figures(
        period=period,
        min_cell=min_cell,
        buckets=buckets,
        languages=languages,
        places=places,
        values=values,
        marks=marks,
        answer_median=raw.answer_median if enough else None,
        answer_p90=raw.answer_p90 if enough else None,
        broadcasts=raw.broadcasts,
        interpreter_languages=interpreter_languages,
        message_languages=message_languages,
        prepared_languages=prepared_languages,
    )


# -- export -----------------------------------------------------------------------------------
EXPORT_HEADER = ("section", "figure", "label", "period", "language", "offer", "place", "value")


def export_rows(
    figures: Figures, labels: Mapping[str, str]
) -> list[tuple[str, str, str, str, str, str, str, str]]:
    """Aggregates only, one figure a row, with the same marks as the text; ``labels``
    names each figure in the coordinator's language."""
    rows: list[tuple[str, str, str, str, str, str, str, str]] = []

    def add(
        section: str,
        figure: str,
        value: str,
        period: str = "",
        language: str = "",
        offer: str = "",
        place: str = "",
    ) -> None:
        rows.append(
            (section, figure, labels.get(figure, figure), period, language, offer, place, value)
        )

    p = figures.period
    add("period", "first_day", p.first.isoformat())
    add("period", "last_day", p.last.isoformat())
    add("period", "min_cell", str(figures.min_cell))
    for name in ("new", "active"):
        add("residents", name, figures.cell(name).text)
        for lang in figures.languages:
            add("residents", name, figures.cell(name, lang).text, language=lang)
    add("requests", "received", figures.cell("requests").text)
    add("requests", "answered", figures.cell("answered").text)
    for figure, seconds in (
        ("median_minutes", figures.answer_median),
        ("p90_minutes", figures.answer_p90),
    ):
        add("requests", figure, "" if seconds is None else f"{seconds / 60:.0f}")
    add("requests", "open_now", figures.cell("open_now").text)
    add("appointments", "booked", figures.cell("booked").text)
    add("appointments", "made", figures.cell("made").text)
    add("appointments", "interpreter", figures.cell("interpreter").text)
    for lang in figures.interpreter_languages:
        add("appointments", "interpreter", figures.cell("interpreter", lang).text, language=lang)
    for measure in MEASURES[1:]:
        add("appointments", measure, figures.cell(measure).text)
    for offer, place in figures.places:
        for measure in MEASURES:
            add(
                "appointments",
                measure,
                figures.cell(measure, offer, place).text,
                offer=offer,
                place=place,
            )
    for name, section, figure in (
        ("requests", "requests", "received"),
        ("booked", "appointments", "booked"),
        ("made", "appointments", "made"),
    ):
        for bucket in figures.buckets:
            add(section, figure, figures.cell(name, bucket.key, "").text, period=bucket.key)
            for lang in figures.languages:
                add(
                    section,
                    figure,
                    figures.cell(name, bucket.key, lang).text,
                    period=bucket.key,
                    language=lang,
                )
        for lang in figures.languages:
            add(section, figure, figures.cell(name, "", lang).text, language=lang)
    for name, _ in FEEDBACK:
        add("feedback", name, figures.cell(name).text)
        for lang in figures.languages:
            add("feedback", name, figures.cell(name, lang).text, language=lang)
    add("broadcasts", "broadcasts", str(figures.broadcasts))
    add("broadcasts", "sent", figures.cell("sent").text)
    add("broadcasts", "blocked", figures.cell("blocked").text)
    add("waiting_list", "waiting_list", figures.cell("waiting_list").text)
    for outcome in PREPARED:
        name = f"prepared_{outcome}"
        add("prepared_answers", name, figures.cell(name).text)
        for lang in figures.prepared_languages:
            add("prepared_answers", name, figures.cell(name, lang).text, language=lang)
    if figures.message_languages:
        for measure in CONVERSATION:
            add("conversation", measure, figures.cell(measure).text)
            for lang in figures.message_languages:
                add("conversation", measure, figures.cell(measure, lang).text, language=lang)
    return rows


def to_csv(rows: Sequence[Sequence[str]]) -> bytes:
    """UTF-8 with a byte order mark, so that Excel shows umlauts right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Sequence[Sequence[str]]) -> bytes:
    """The same rows as a spreadsheet; numbers as numbers so they can be summed."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("figures")
    sheet.append(list(EXPORT_HEADER))
    for row in rows:
        sheet.append([int(v) if v.isdigit() else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- chart ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChartLabels:
    """Every word on the chart, already translated."""

    title: str
    requests: str
    appointments: str
    buckets: Sequence[str]
    languages: Mapping[str, str]
    hidden: str
    footnote: str
    made: str = ""
    """The line over the appointments: booked during each week or month."""


_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a",
)  # fmt: skip
_HIDDEN_COLOR = "#d9d9d9"
WIDTH_PX, HEIGHT_PX, DPI = 1080, 1440, 150
"""Portrait and large type: it is read on a phone."""


def _colors(languages: Sequence[str]) -> dict[str, str]:
    from bot.i18n import LANGUAGES

    order = [*LANGUAGES, "?"]
    return {
        lang: _PALETTE[order.index(lang) % len(_PALETTE)] if lang in order else "#555555"
        for lang in languages
    }


def render_chart(figures: Figures, labels: ChartLabels) -> bytes:
    """Requests and appointments per week (or month), stacked by language, as PNG.

    Only what the text shows is drawn: hidden cells of a bar are one grey block (the bar's
    total is shown anyway), a bar whose total is hidden is not drawn but labelled ``<3``.
    Uses the Agg canvas directly (no pyplot state), so it can run in a worker thread.
    """
    from matplotlib.artist import Artist
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(labels.title, fontsize=14, fontweight="bold")
    colors = _colors(figures.languages)
    n = len(figures.buckets)
    xs = list(range(n))
    used: set[str] = set()
    any_hidden = False
    made_drawn = False
    axes = fig.subplots(2, 1, sharex=True)
    for ax, name, title in (
        (axes[0], "requests", labels.requests),
        (axes[1], "booked", labels.appointments),
    ):
        ax.set_title(title, fontsize=13, loc="left")
        bottoms = [0] * n
        totals = [figures.cell(name, b.key, "") for b in figures.buckets]
        for lang in figures.languages:
            heights = []
            for i, bucket in enumerate(figures.buckets):
                cell = figures.cell(name, bucket.key, lang)
                heights.append(cell.value if totals[i].shown and cell.value else 0)
            if any(heights):
                used.add(lang)
                ax.bar(xs, heights, bottom=bottoms, color=colors[lang], width=0.8)
                bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        rest = [
            (total.value - bottoms[i]) if total.value is not None else 0
            for i, total in enumerate(totals)
        ]
        if any(rest):
            any_hidden = True
            ax.bar(
                xs, rest, bottom=bottoms, color=_HIDDEN_COLOR, hatch="//", edgecolor="#999999",
                width=0.8,
            )  # fmt: skip
        for i, total in enumerate(totals):
            if total.value is None:
                any_hidden = True
            if n <= 16 and (total.value or total.value is None):
                top = total.value if total.value is not None else 0
                ax.annotate(
                    total.text, (i, top), textcoords="offset points", xytext=(0, 2),
                    ha="center", va="bottom", fontsize=10,
                )  # fmt: skip
        top = max([t.value or 0 for t in totals] + [1])
        if name == "booked":
            # Booked during each bar's time (by booking date): a line over the bars of
            # appointments held then; a hidden total is left out of the line.
            made = [figures.cell("made", b.key, "").value for b in figures.buckets]
            points = [(x, v) for x, v in zip(xs, made, strict=True) if v is not None]
            if points and any(v for _, v in points):
                ax.plot(
                    [x for x, _ in points], [v for _, v in points], color="#222222",
                    marker="o", linewidth=2,
                )  # fmt: skip
                made_drawn = True
                top = max([top] + [v for _, v in points])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0, top=top * 1.15)
        ax.tick_params(labelsize=11)
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    step = max(1, math.ceil(n / 12))
    axes[1].set_xticks(xs[::step], [labels.buckets[i] for i in xs[::step]])
    if n > 6:
        for tick in axes[1].get_xticklabels():
            tick.set_rotation(45)
            tick.set_ha("right")
    handles: list[Artist] = [
        Patch(color=colors[lang]) for lang in figures.languages if lang in used
    ]
    names = [labels.languages.get(lang, lang) for lang in figures.languages if lang in used]
    if any_hidden:
        handles.append(Patch(facecolor=_HIDDEN_COLOR, hatch="//", edgecolor="#999999"))
        names.append(labels.hidden)
    if made_drawn and labels.made:
        handles.append(Line2D([], [], color="#222222", marker="o", linewidth=2))
        names.append(labels.made)
    fig.legend(
        handles,
        names,
        loc="outside lower center",
        ncols=3,
        fontsize=11,
        frameon=False,
        title=labels.footnote,
        title_fontsize=9,
    )
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


__all__ = [
    "Bucket",
    "Cell",
    "ChartLabels",
    "Figures",
    "Period",
    "PeriodError",
    "build_figures",
    "day_span",
    "export_rows",
    "parse_period",
    "render_chart",
    "suppress",
    "to_csv",
    "to_xlsx",
]
