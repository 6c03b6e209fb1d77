"""The dates in a German letter: the letter's own date, and the date to act by.

Pure text in, dates out (no OCR, no I/O), so every rule has a unit test
(tests/test_letters_deadlines.py). The rules, from what offices actually print:

- Dates come as ``18.12.2026``, ``18.12.26``, ``18. Dezember 2026``, ``18. Dez. 2026`` or
  ``2026-12-18``; OCR may put spaces around the dots.
- The letter's date stands in the header next to the place (``Krefeld, den 04.12.2026``) or
  after ``Datum:``; failing that, a date alone on one of the first lines.
- A deadline is a date introduced as one (``bis zum``, ``bis spätestens``, ``spätestens``,
  ``Frist``, ``fällig am`` …). A date with a time of day (``am 15.12.2026 um 10:30 Uhr``), or
  in a sentence about a ``Termin`` or an ``Einladung``, is an appointment, not a deadline —
  unless the date itself is introduced by ``bis``. The end of a period (``01.01.2027 bis
  30.06.2027``), the date of another letter (``Ihr Schreiben vom``) and dates on or before the
  letter's date are never deadlines. Of several deadlines the earliest is the one to act by.
- Without a printed deadline date, a relative one (``innerhalb eines Monats nach
  Bekanntgabe``, ``innerhalb von zwei Wochen``) is estimated from the letter's date: a letter
  sent by post counts as received on the fourth day after it was posted (§ 37 SGB X,
  § 122 AO as of 2025), and a period that ends on a weekend or an NRW holiday ends on the
  next working day (§ 26 SGB X, § 193 BGB). It is marked as an estimate.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import holidays

from bot.letters.model import Deadline

MONTHS = {
    "januar": 1,
    "jan": 1,
    "jänner": 1,
    "februar": 2,
    "feb": 2,
    "febr": 2,
    "märz": 3,
    "maerz": 3,
    "marz": 3,
    "mär": 3,
    "mrz": 3,
    "april": 4,
    "apr": 4,
    "mai": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "dezember": 12,
    "dez": 12,
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))

DATE_RE = re.compile(
    r"(?<![\d.])(?:"
    r"(?P<d1>[0-3]?\d)\s?[.,]\s?(?P<m1>[01]?\d)\s?\.\s?(?P<y1>(?:19|20)\d\d|\d\d)(?![\d])"
    rf"|(?P<d2>[0-3]?\d)\s?\.?\s*(?P<m2>{_MONTH_RE})\.?\s*(?P<y2>(?:19|20)\d\d)(?!\d)"
    r"|(?P<y3>(?:19|20)\d\d)-(?P<m3>[01]\d)-(?P<d3>[0-3]\d)(?!\d)"
    r")",
    re.IGNORECASE,
)

MAX_AHEAD = timedelta(days=2 * 366)
"""A "deadline" further than this after the letter is a validity or a period, not a task."""

# Words that introduce the date to act by, right before the date.
_CUE_BEFORE = re.compile(
    r"(?:\bbis\s+(?:sp[äa]testens\s+|einschlie(?:ß|ss|b)lich\s+|zum\s+|sp[äa]testens\s+zum\s+|sp[äa]testens\s+am\s+"
    r"|am\s+|den\s+)?|\bsp[äa]testens\s+(?:am\s+|zum\s+|bis\s+)?|frist\w*\W{0,3}(?:\w+\s+){0,3}|\b(?:mit\s+)?ablauf\s+(?:des|vom)\s+"
    r"|\bf[äa]llig\s+(?:am\s+|zum\s+)?|\bnicht\s+später\s+als\s+(?:am\s+)?|\b(?:endet|l[äa]uft)\s+am\s+"
    r"|\beinsendeschluss\W{0,3}|\babgabetermin\W{0,3}|\bstichtag\W{0,3}|\bzahlungsziel\W{0,3}"
    r"|\bzahlbar\s+(?:bis\s+)?(?:zum\s+)?)$",
    re.IGNORECASE,
)
# A sentence that asks for something to be done (supports a weaker cue).
_TASK_WORDS = re.compile(
    r"einreich|einzureich|vorleg|vorzuleg|nachreich|zurücksend|zurückzusend|übersend|"
    r"zusend|zukommen|einsend|überweis|zahlen|zu\s+zahlen|begleich|widerspruch|mitteil|"
    r"mitzuteil|melden|beantrag|abgeben|abzugeben|nachweis|ausgefüllt|unterschrieben",
    re.IGNORECASE,
)
# What makes a date an appointment: a time of day just after it, or a sentence about one.
_TIME_AFTER = re.compile(r"^\W{0,3}(?:um\s+)?\d{1,2}[:.]\d\d\s*(?:uhr)?|^\W{0,3}um\s+\d", re.I)
_APPOINTMENT_WORDS = re.compile(
    r"termin|einladung|lade\w*\s+sie|eingeladen|vorsprache|vorsprechen|erscheinen|"
    r"gespräch|sprechstunde|anhörung|verhandlung|untersuchung|raum\s+\w+|zimmer",
    re.IGNORECASE,
)
# Words right before a date that make it something else: another letter's date, a start,
# a birthday, a period.
_OTHER_BEFORE = re.compile(
    r"(?:\bvom|\bseit(?:\s+dem)?|\bab(?:\s+dem)?|\bgeboren(?:\s+am)?|\bgeb\.|\bzeitraum\W*"
    r"|\bdatum\W*|\bden|\bam\s+heutigen\s+tag)\s*$",
    re.IGNORECASE,
)
_PERIOD_JOIN = re.compile(r"^\s*(?:bis|[-–—])\s*$", re.IGNORECASE)
_VALIDITY_BEFORE = re.compile(
    r"\b(?:g[üu]ltig|befristet|bewilligt|laufzeit|aufenthaltstitel)\b[^.]{0,40}$", re.I
)
_VALIDITY_AFTER = re.compile(r"^\W{0,3}(?:g[üu]ltig|befristet|bewilligt)\b", re.I)

_NUMBER_WORDS = {
    "einer": 1,
    "eines": 1,
    "einem": 1,
    "ein": 1,
    "eine": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "zehn": 10,
    "zwölf": 12,
    "vierzehn": 14,
    "einundzwanzig": 21,
    "dreißig": 30,
}
_RELATIVE_RE = re.compile(
    r"\b(?:innerhalb|binnen)\s+(?:von\s+)?(?P<n>\d{1,3}|"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")\s+(?P<unit>tag(?:e|en)?|woche(?:n)?|monat(?:s|e|en)?)\b"
    r"(?P<after>[^.]{0,60}?\bnach\s+(?:dem\s+|der\s+)?"
    r"(?P<event>zugang|bekanntgabe|erhalt|zustellung|eingang|empfang|datum))?",
    re.IGNORECASE,
)
POSTAL_DAYS = 4
"""A letter sent by post counts as received on the fourth day after posting (since 2025)."""
_LETTER_DATE_RE = re.compile(
    r"(?:\b[A-ZÄÖÜ][\wäöüß.\- ]{1,30},\s*(?:den\s+)?|\bdatum\s*[:.]?\s*|\bden\s+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    when: date
    start: int
    end: int


def parse_dates(text: str) -> Iterator[DateMention]:
    """Every valid calendar date written in ``text``, in order."""
    for match in DATE_RE.finditer(text):
        parts = match.groupdict()
        try:
            if parts["d1"]:
                year = int(parts["y1"])
                if year < 100:
                    year += 2000
                when = date(year, int(parts["m1"]), int(parts["d1"]))
            elif parts["d2"]:
                when = date(int(parts["y2"]), MONTHS[parts["m2"].lower()], int(parts["d2"]))
            else:
                when = date(int(parts["y3"]), int(parts["m3"]), int(parts["d3"]))
        except ValueError:
            continue  # 31.02., an OCR slip: not a date
        yield DateMention(when, match.start(), match.end())


def sentences(text: str) -> list[str]:
    """The letter's sentences, on one line each.

    Paragraphs (blank lines) end a sentence, and so does each line of a block of short lines (an
    address, a header); lines within a paragraph are joined, a word broken at the line end with a hyphen rejoined. Dots in
    dates (``18. Dezember 2026``) and common abbreviations do not end a sentence.
    """
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines and max(len(line) for line in lines) < 40 and len(lines) > 1:
            out.extend(lines)  # an address or header block: one item a line
            continue
        paragraph = ""
        for line in lines:
            if paragraph.endswith("-") and line[:1].islower():
                paragraph = paragraph[:-1] + line
            else:
                paragraph = f"{paragraph} {line}" if paragraph else line
        if paragraph:
            out.extend(_split_sentences(paragraph))
    return [s for s in (re.sub(r"\s+", " ", s).strip() for s in out) if s]


_ABBREVIATIONS = re.compile(
    r"(?:\b(?:[a-zäöü]|ggf|bzw|vgl|evtl|inkl|ca|nr|str|abs|az|geb|tel|usw|sog|bzgl|"
    r"gem|lt|jan|feb|febr|mär|apr|jun|jul|aug|sep|sept|okt|nov|dez|dr|fr|hr|mo|di|mi|do|sa|so"
    r"|st|kd|zzgl|max|min)\.|\d\.)$",
    re.IGNORECASE,
)


def _split_sentences(paragraph: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in re.finditer(r"[.!?](?=\s+\S)", paragraph):
        head = paragraph[start : match.end()]
        if _ABBREVIATIONS.search(head):
            continue
        parts.append(head)
        start = match.end()
    parts.append(paragraph[start:])
    return parts


def find_letter_date(text: str) -> date | None:
    """The date the letter was written, from its header."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        for mention in parse_dates(line):
            if _LETTER_DATE_RE.search(line[: mention.start]):
                return mention.when
    for line in lines[:20]:  # a date alone on a header line (right-aligned under the sender)
        mentions = list(parse_dates(line))
        if len(mentions) == 1 and len(line) - (mentions[0].end - mentions[0].start) <= 3:
            return mentions[0].when
    return None


def find_deadline(text: str, *, letter_date: date | None, today: date) -> Deadline | None:
    """The date to act by, with the sentence it came from; None when the letter names none.

    ``today`` anchors an estimate when the letter's date is not printed (or not read).
    """
    anchor = letter_date or today
    found: list[tuple[date, str]] = []
    for sentence in sentences(text):
        for when in _deadline_dates(sentence, anchor, letter_date is not None):
            found.append((when, sentence))
    if found:
        when, sentence = min(found, key=lambda item: item[0])
        return Deadline(due=when, sentence=sentence)
    for sentence in sentences(text):
        estimate = _relative_deadline(sentence, anchor)
        if estimate is not None:
            return Deadline(due=estimate, sentence=sentence, estimated=True)
    return None


def _deadline_dates(sentence: str, anchor: date, dated: bool) -> Iterator[date]:
    mentions = list(parse_dates(sentence))
    for index, mention in enumerate(mentions):
        when = mention.when
        if (dated and when <= anchor) or (not dated and when < anchor):
            continue  # in the past when the letter was written: not something to do
        if when - anchor > MAX_AHEAD:
            continue
        before = sentence[max(0, mention.start - 60) : mention.start]
        after = sentence[mention.end : mention.end + 25]
        if index and _PERIOD_JOIN.match(sentence[mentions[index - 1].end : mention.start]):
            continue  # the end of a period "01.01.2027 bis 30.06.2027"
        if index + 1 < len(mentions) and _PERIOD_JOIN.match(
            sentence[mention.end : mentions[index + 1].start]
        ):
            continue  # the start of a period
        if _OTHER_BEFORE.search(before):
            continue
        cue = _CUE_BEFORE.search(before) is not None
        if _VALIDITY_BEFORE.search(before) or _VALIDITY_AFTER.match(after):
            continue  # how long something is valid or granted, not a task
        if _TIME_AFTER.match(after):
            continue  # "am 15.12.2026 um 10:30 Uhr": an appointment
        if not cue and not (
            re.search(r"\b(?:vor\s+dem|zum|am)\s*$", before, re.IGNORECASE)
            and _TASK_WORDS.search(sentence)
            and not _APPOINTMENT_WORDS.search(sentence)
        ):
            continue  # a weak cue counts only in a sentence that asks for something
        yield when


def _relative_deadline(sentence: str, anchor: date) -> date | None:
    match = _RELATIVE_RE.search(sentence)
    if match is None:
        return None
    raw = match.group("n").lower()
    count = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
    unit = match.group("unit").lower()
    start = anchor
    if match.group("event") and match.group("event").lower() in (
        "zugang",
        "bekanntgabe",
        "erhalt",
        "zustellung",
        "empfang",
    ):
        start = anchor + timedelta(days=POSTAL_DAYS)
    if unit.startswith("tag"):
        due = start + timedelta(days=count)
    elif unit.startswith("woche"):
        due = start + timedelta(weeks=count)
    else:
        due = add_months(start, count)
    return next_working_day(due)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_working_day(day: date) -> date:
    """A period ending on a Saturday, Sunday or NRW public holiday ends on the next working
    day."""
    closed = holidays.country_holidays("DE", subdiv="NW", years=(day.year, day.year + 1))
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return day
