"""Classes of errors a native reader finds in how texts are put together (issue 23).

Every message of every catalog is rendered the way the bot fills it — dates, times and
counts from the bot's own :class:`Translator`, for today, tomorrow, a weekday and a date
next year — and the result is checked for each class: a double full stop after an
abbreviated date ("2026 р.."), a word for "on the day" before a relative day ("يوم غدًا"),
Latin and Persian digits in one message. The checks run over the catalogs as they are, so
strings added later are checked too; the per-class unit tests show each check can fail.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import FSI, LANGUAGES, LOCALES_DIR, LRI, PDI, I18n, Translator, _fit_stop
from tests.test_catalogs import forms, load

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 12, 1)  # a Tuesday
MOMENTS = (
    datetime(2026, 12, 1, 14, 0, tzinfo=BERLIN),  # today
    datetime(2026, 12, 2, 14, 30, tzinfo=BERLIN),  # tomorrow
    datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN),  # a weekday this week
    datetime(2027, 1, 12, 16, 45, tzinfo=BERLIN),  # next year
)
COUNTS = (1, 2, 3, 5, 11, 22, 100)
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Placeholders that carry a count (a number a person reads as "how many").
NUMERIC = frozenset(
    {
        "n",
        "count",
        "days",
        "minutes",
        "max",
        "total",
        "active",
        "sent",
        "blocked",
        "messages",
        "translated",
        "transcribed",
        "weeks",
        "length",
    }
)


@cache
def relative_slots() -> frozenset[tuple[str, str]]:
    """(msgid, placeholder) pairs the code fills with a relative day ("tomorrow at 14:00"):
    every ``t._(N_("…{when}…"), when=t.when_relative(…))`` in bot/ and handlers/."""
    found = set()
    root = LOCALES_DIR.parent
    for path in [*root.glob("bot/**/*.py"), *root.glob("handlers/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            first = node.args[0]
            if isinstance(first, ast.Call) and first.args:
                first = first.args[0]  # N_("…")
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            for keyword in node.keywords:
                if keyword.arg and "when_relative" in ast.dump(keyword.value):
                    found.add((first.value, keyword.arg))
    return frozenset(found)


@cache
def i18n() -> I18n:
    return I18n(BERLIN)


def plain(text: str) -> str:
    for mark in (FSI, LRI, PDI, "\u200f"):
        text = text.replace(mark, "")
    return text.replace("\u202f", " ").replace("\u2009", " ").replace("\u00a0", " ")


def values_for(
    t: Translator, name: str, moment: datetime, variant: int, relative: bool = False
) -> str:
    """What the bot inserts for a placeholder of this name (the names are the project's
    convention: {date}, {when}, {time}, {hours}, {old}/{new}, {n}…); ``relative``: the
    code fills it with :meth:`Translator.when_relative` (see :func:`relative_slots`)."""
    end = moment + timedelta(minutes=30)
    if relative:
        return t.when_relative(moment, TODAY)
    if name == "date":
        return (t.date_long(moment), t.date(moment), t.date(moment, "yMMMEd"))[variant % 3]
    if name in ("when", "old"):
        return (
            t.when(moment, end),
            t.when(moment),
            t.when(moment, skeleton="MMMEd"),
        )[variant % 3]
    if name == "new" and variant % 2:
        return t.when(moment, skeleton="MMMEd")
    if name in ("time", "until"):
        return t.time(moment)
    if name == "hours":
        return t.time_range(moment, end)
    if name in ("start", "end"):
        return t._clock(moment)
    if name in NUMERIC or name == "new":  # {new}: a count in stats, a date when moved
        return "5"
    if name in ("language", "source", "target"):
        return t.language_name("de")
    return "Fabrik Heeder"


@cache
def renderings(code: str) -> tuple[tuple[str, str], ...]:
    """(msgid, rendered text) for every message of the catalog, filled the bot's ways."""
    return tuple(_render(code))


def _render(code: str) -> Iterator[tuple[str, str]]:
    t = i18n().get(code)
    relative = relative_slots()
    for message in load(code):
        if not message.id:
            continue
        singular = message.id if isinstance(message.id, str) else message.id[0]
        names = set(PLACEHOLDER.findall(singular))
        dated = names & {"date", "when", "time", "hours", "old", "new", "start", "end"}
        if not (dated or names & NUMERIC or isinstance(message.id, tuple)):
            continue
        for variant, moment in enumerate(MOMENTS):
            for shift in range(4 if names & {"when", "old", "date"} else 1):
                values = {
                    n: values_for(t, n, moment, variant + shift, (singular, n) in relative)
                    for n in names
                }
                if isinstance(message.id, tuple):
                    for count in COUNTS:
                        values.pop("n", None)
                        yield singular, t.n_(message.id[0], message.id[1], count, **values)
                else:
                    yield singular, t._(singular, **values)


# -- class 2: one full stop ------------------------------------------------------------------
DOUBLE_STOP = re.compile(r"(?<![.\[])\.\.(?![.<])|\.\s+\.(?!\.)|,,|,\.|\.,(?=\s*$)")


def double_punctuation(text: str) -> list[str]:
    return [m.group() for m in DOUBLE_STOP.finditer(plain(text))]


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_no_double_full_stop_in_any_rendered_message(code: str) -> None:
    """uk "2026 р..", ru "г..", bg "ч..": an abbreviated date or time before a sentence's
    own full stop. The translator drops the abbreviation's period there (bot/i18n.py)."""
    bad = {plain(text) for _msgid, text in renderings(code) if double_punctuation(text)}
    assert not bad, f"{code}:\n" + "\n".join(sorted(bad)[:10])


def test_the_full_stop_check_can_fail() -> None:
    assert double_punctuation("Офіс буде зачинено 1 грудня 2026 р..")
    assert double_punctuation("до 12:00 ч..")
    assert not double_punctuation("/closed <date>[..<date>] and so on...")
    assert _fit_stop("2026 р.", before_stop=True) == "2026 р"
    assert _fit_stop("12:00 ч." + PDI, before_stop=True) == "12:00 ч" + PDI
    assert _fit_stop("2026 р.", before_stop=False) == "2026 р."


def test_a_sentence_keeps_one_stop_after_an_abbreviated_date() -> None:
    t = i18n().get("uk")
    day = datetime(2027, 1, 12, 9, 0, tzinfo=BERLIN)
    text = plain(t._("You agreed on {date}.", date=t.date_long(day)))
    assert text.endswith("2027 р."), text


def test_bulgarian_range_has_one_hour_marker() -> None:
    """Babel's interval wrote "14:00 ч. – 14:30 ч."; one "ч." after the range."""
    t = i18n().get("bg")
    assert plain(t.time_range(MOMENTS[0], MOMENTS[0] + timedelta(minutes=30))) == ("14:00–14:30 ч.")


# -- class 1: no "day" before today/tomorrow ----------------------------------------------
DAY_WORDS = {
    "de": r"Tag|am",
    "de_easy": r"Tag|am",
    "en": r"day|on",
    "tr": r"gün",
    "ar": r"يوم|في",
    "uk": r"день|в|у",
    "ru": r"день|в",
    "pl": r"dzień|w",
    "bg": r"ден|в|на",
    "ro": r"ziua|în",
    "fa": r"روز|در",
    "ku": r"roja|rojê",
}


def day_before_relative(t: Translator, text: str) -> bool:
    relative = "|".join(re.escape(t._(w)) for w in ("today", "tomorrow"))
    pattern = rf"(?<!\w)({DAY_WORDS[t.code]})\s+({relative})(?!\w)"
    return re.search(pattern, plain(text), re.IGNORECASE) is not None


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_relative_days_have_their_own_phrase(code: str) -> None:
    """ar "نراك يوم غدًا", fa "روز فردا": the date phrase put its "on the day" before a
    relative day. Today and tomorrow start their phrase; no message puts a day word
    before them."""
    t = i18n().get(code)
    today, tomorrow = (plain(t.when_relative(m, TODAY)) for m in MOMENTS[:2])
    assert today.startswith(plain(t._("today"))), today
    assert tomorrow.startswith(plain(t._("tomorrow"))), tomorrow
    bad = {plain(text) for _msgid, text in renderings(code) if day_before_relative(t, text)}
    assert not bad, f"{code}:\n" + "\n".join(sorted(bad)[:10])


def test_relative_slots_are_found() -> None:
    assert ("See you {when}!", "when") in relative_slots()


def test_the_day_check_can_fail() -> None:
    assert day_before_relative(i18n().get("ar"), "نراك يوم غدًا الساعة 14:00")
    assert day_before_relative(i18n().get("fa"), "روز فردا ساعت 14:00")


# -- class 8: one kind of digits -----------------------------------------------------------
LATIN_DIGIT = re.compile(r"[0-9]")
EASTERN_DIGIT = re.compile(r"[\u0660-\u0669\u06f0-\u06f9]")


def mixes_digits(text: str) -> bool:
    return bool(LATIN_DIGIT.search(text) and EASTERN_DIGIT.search(text))


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_one_kind_of_digits(code: str) -> None:
    """fa had Latin digits in dates (Babel's) and Persian in "۱۸۰ روز". The convention is
    Latin digits in every language (Babel's dates and numbers, times, phone numbers and
    references are Latin): no catalog writes Arabic-Indic or Persian digits, and no
    rendered message mixes them."""
    written = [text for m in load(code) if m.id for text in forms(m) if EASTERN_DIGIT.search(text)]
    assert not written, written[:5]
    bad = {plain(text) for _msgid, text in renderings(code) if mixes_digits(text)}
    assert not bad, sorted(bad)[:5]


def test_the_digit_check_can_fail() -> None:
    assert mixes_digits("پس از ۱۸۰ روز، 1 دسامبر 2026")


# -- class 4: language names as the sentence needs them --------------------------------------
LOWER_CASE_NAMES = ("uk", "ru", "pl", "bg", "ro", "ku")


@pytest.mark.parametrize("code", LOWER_CASE_NAMES)
def test_language_names_are_lower_case_inside_sentences(code: str) -> None:
    """uk "Оригінал (Німецька):", pl "…: Polski.": names were capitalised, or inserted in
    their own language. Inside a sentence these languages write a name in lower case."""
    t = i18n().get(code)
    bad = []
    for message in load(code):
        singular = message.id if isinstance(message.id, str) else (message.id or [""])[0]
        every = set(PLACEHOLDER.findall(singular))
        names = every & {"language", "source", "target"}
        if not names or isinstance(message.id, tuple):
            continue
        for other in LANGUAGES:
            name = plain(t.language_name(other))
            values = dict.fromkeys(every, "Fabrik Heeder") | dict.fromkeys(names, name)
            text = plain(t._(singular, **values))
            for line in text.split("\n"):
                at = line.find(name)
                if at > 0 and name[:1].isupper():
                    bad.append(line)
    assert not bad, "\n".join(bad[:10])


def test_native_names_only_in_the_language_menu() -> None:
    """A native name ("Polski", "Українська") inserted into a sentence of another language
    (or capitalised in its own): sentences take :meth:`Translator.language_name`."""
    root = LOCALES_DIR.parent
    found = []
    for path in [*root.glob("bot/**/*.py"), *root.glob("handlers/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("_", "n_", "p_")
            ):
                found += [
                    f"{path.relative_to(root)}:{node.lineno}"
                    for keyword in node.keywords
                    if "native_name" in ast.dump(keyword.value)
                ]
    assert not found, found


# -- class 7: every count through the plural rules -------------------------------------------
# A count may stand without ngettext only as a label's value: "Termine: 3", "(3)", "3 of 7".
LABEL_VALUE = re.compile(r"(: |\(|\{[a-z_]+\} of )$")
# "{x} days", "{limit} characters": a placeholder counted by the English noun after it (a
# plural noun; the verbs that follow a name are not).
COUNTED = re.compile(
    r" (?!(?:is|was|has|does|takes|gets|needs|says|wants|sends|this|its|as|us)\b)[a-z]+s\b"
)


def counts_outside_plurals(msgid: str) -> list[str]:
    """Placeholders of a non-plural msgid that a sentence reads as a count ("5 days"): a
    count's name ({n}, {days}…) outside a label, or any placeholder before a plural noun."""
    return [
        match.group()
        for match in PLACEHOLDER.finditer(msgid)
        if (match.group(1) in NUMERIC and not LABEL_VALUE.search(msgid[: match.start()]))
        or COUNTED.match(msgid, match.end())
    ]


def test_every_count_goes_through_the_plural_rules() -> None:
    """ar "لمدة {days} يوم" read "5 يوم"; a count in a sentence needs ngettext (``t.n_``),
    durations :meth:`Translator.duration` (Babel's units); a label's value ("Termine: 3")
    needs neither."""
    bad = [
        message.id
        for message in load("en")
        if isinstance(message.id, str) and counts_outside_plurals(message.id)
    ]
    assert not bad, "\n".join(bad)


def test_the_count_check_can_fail() -> None:
    assert counts_outside_plurals("Closed for {days} days.")
    assert counts_outside_plurals("and {n} more")
    assert counts_outside_plurals("at most {limit} characters")
    assert not counts_outside_plurals("{name} takes care of #{ref}.")
    assert not counts_outside_plurals("Appointments: {n}")
    assert not counts_outside_plurals("sent: {sent} of {total}")


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_durations_agree_with_their_number(code: str) -> None:
    t = i18n().get(code)
    for minutes in (1, 2, 45, 60 + 5, 47 * 60, 2 * 24 * 60, 5 * 24 * 60 + 60):
        text = plain(t.duration(minutes))
        assert text and "{" not in text and not mixes_digits(text), text
    assert plain(i18n().get("ar").duration(2 * 24 * 60)).startswith("يومان")
    assert plain(i18n().get("de").duration(3 * 60 + 20)) == "3 Std. 20 Min."


def test_arabic_one_and_two_are_words_not_digits() -> None:
    """ar "منذ {n} يومين" read "منذ 2 يومين": the dual (and "one") is a word of its own
    ("يومين", "يوم واحد"); a digit before it says the number twice."""
    bad = [
        forms(m)[i]
        for m in load("ar")
        if isinstance(m.id, tuple)
        for i in (1, 2)
        if re.search(r"\{n\} \w", forms(m)[i])
    ]
    assert not bad, "\n".join(bad)


# -- class 5: a date or time where the sentence's grammar fits -------------------------------
# A phrase the date helpers return glued into words that do not fit it: tr "saat 14:00
# tarihinden" (a time taken for a date), uk/ru "… буде зачинено. Дата: …" (the date pushed
# out of the sentence), ar "مغلق في" (a day is "يوم"), a doubled "on the day" or postposition.
TR_DAYS = "Pazartesi|Salı|Çarşamba|Perşembe|Cuma|Cumartesi|Pazar"
PL_DAYS = "poniedziałek|wtorek|środa|czwartek|piątek|sobota|niedziela|pon|wt|śr|czw|pt|sob|niedz"
MISFITS: dict[str, tuple[str, ...]] = {
    "tr": (r"saat [\d:]+ (tarih|için)", rf"({TR_DAYS}) tarih"),
    "uk": (r"\. Дата:",),
    "ru": (r"\. Дата:",),
    "ar": (r"مغلق في", r"يوم يوم", r"في يوم اليوم"),
    "fa": (r"روز روز", r"تعطیل در"),
    "ku": (r"\bde de\b",),
    "pl": (rf"\b(z|na|dnia|dniu|wysłany|wyrażono|zamknięte) ({PL_DAYS})\b",),
}


def misfits(code: str, text: str) -> list[str]:
    return [p for p in MISFITS.get(code, ()) if re.search(p, plain(text))]


@pytest.mark.parametrize("code", sorted(MISFITS))
def test_dates_fit_the_sentence(code: str) -> None:
    bad = {plain(text) for _msgid, text in renderings(code) if misfits(code, text)}
    assert not bad, f"{code}:\n" + "\n".join(sorted(bad)[:10])


def test_the_misfit_check_can_fail() -> None:
    assert misfits("tr", "Randevunuz 1 Aralık 2026 Salı, saat 14:00 tarihinden taşındı.")
    assert misfits("ar", "مغلق في الثلاثاء، 1 ديسمبر")
    assert misfits("ku", "Dê di sêşem, 01.12.2026, di saet 09:00 de de were şandin.")
