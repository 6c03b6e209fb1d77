"""The pure parts of reading a letter: dates, the deadline, the sender, the reference."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.letters.deadlines import (
    add_months,
    find_deadline,
    find_letter_date,
    next_working_day,
    parse_dates,
    sentences,
)
from bot.letters.references import find_reference
from bot.letters.senders import SendersError, load_senders, recognise

LETTER_DAY = date(2026, 12, 4)
TODAY = date(2026, 12, 7)


def deadline_in(body: str, letter_day: date | None = LETTER_DAY) -> date | None:
    found = find_deadline(body, letter_date=letter_day, today=TODAY)
    return found.due if found else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18.12.2026", date(2026, 12, 18)),
        ("18.12.26", date(2026, 12, 18)),
        ("8.1.2027", date(2027, 1, 8)),
        ("18. Dezember 2026", date(2026, 12, 18)),
        ("18.Dezember 2026", date(2026, 12, 18)),
        ("18. Dez. 2026", date(2026, 12, 18)),
        ("1. März 2027", date(2027, 3, 1)),
        ("1. Maerz 2027", date(2027, 3, 1)),
        ("2026-12-18", date(2026, 12, 18)),
        ("18 . 12 . 2026", date(2026, 12, 18)),
        ("18,12.2026", date(2026, 12, 18)),  # an OCR slip: comma for the first dot
        ("84,50 Euro", None),
        ("31.02.2027", None),
        ("Tel. 02151 86-0", None),
        ("Version 1.2.3", None),
    ],
)
def test_dates_in_every_common_form(text: str, expected: date | None) -> None:
    found = [m.when for m in parse_dates(f"am {text} bitte")]
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Jobcenter Krefeld\n\nKrefeld, den 04.12.2026\n", LETTER_DAY),
        ("Familienkasse\nDatum: 04.12.2026\n", LETTER_DAY),
        ("Datum 4. Dezember 2026", LETTER_DAY),
        ("Düsseldorf, 4. Dezember 2026", LETTER_DAY),
        ("Nürnberg, den 04.12.26", LETTER_DAY),
        ("AOK Rheinland\nPostfach 1\n04.12.2026\n\nSehr geehrte Frau A,", LETTER_DAY),
        ("Sehr geehrter Herr B,\nSie haben am 18.12.2026 einen Termin.", None),
    ],
)
def test_the_letters_own_date(header: str, expected: date | None) -> None:
    assert find_letter_date(header) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Bitte reichen Sie die Unterlagen bis zum 18.12.2026 ein.", date(2026, 12, 18)),
        ("Bitte reichen Sie die Unterlagen bis 18.12.2026 ein.", date(2026, 12, 18)),
        ("Senden Sie das Formular spätestens am 18. Dezember 2026 zurück.", date(2026, 12, 18)),
        ("Die Nachweise müssen bis spätestens 18.12.26 vorliegen.", date(2026, 12, 18)),
        ("Bitte zahlen Sie den Betrag bis einschließlich 2026-12-18.", date(2026, 12, 18)),
        ("Frist: 18.12.2026", date(2026, 12, 18)),
        ("Bitte bis spatestens 18.12.2026 einreichen.", date(2026, 12, 18)),  # OCR lost the ä
        ("Die Frist für Ihre Antwort endet am 18.12.2026.", date(2026, 12, 18)),
        ("Der Betrag ist fällig am 18.12.2026.", date(2026, 12, 18)),
        ("Die Mitwirkungsfrist endet mit Ablauf des 18.12.2026.", date(2026, 12, 18)),
        ("Zahlungsziel: 18.12.2026", date(2026, 12, 18)),
        ("Bitte teilen Sie uns bis zum 15. Januar 2027 mit, ob Sie umziehen.", date(2027, 1, 15)),
        ("Ich setze Ihnen hiermit eine Frist bis zum 18.12.2026.", date(2026, 12, 18)),
        ("Die Miete für Januar ist zum 01.01.2027 zu zahlen.", date(2027, 1, 1)),
        ("Bitte legen Sie den Nachweis vor dem 18.12.2026 vor.", date(2026, 12, 18)),
        # Several deadlines: the earliest is the one to act by.
        (
            "Reichen Sie den Antrag bis zum 20.01.2027 ein. Die Lohnabrechnung bitte "
            "spätestens bis 18.12.2026.",
            date(2026, 12, 18),
        ),
        # The deadline beside an appointment.
        (
            "Wir laden Sie zu einem Gespräch am 10.12.2026 um 9:30 Uhr ein. Bitte senden Sie "
            "uns vorher bis zum 08.12.2026 Ihre Unterlagen.",
            date(2026, 12, 8),
        ),
        (
            "Sollten Sie den Termin nicht wahrnehmen können, sagen Sie bitte bis zum "
            "09.12.2026 ab.",
            date(2026, 12, 9),
        ),
        # The letter broken over lines, a word hyphenated at the line end.
        (
            "Bitte reichen Sie die Unterlagen\nbis zum 18.12.2026 bei uns ein-\nreichen.",
            date(2026, 12, 18),
        ),
    ],
)
def test_the_date_to_act_by(body: str, expected: date) -> None:
    assert deadline_in(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        # Appointments are not deadlines.
        "Wir laden Sie zu einem Termin am 15.12.2026 um 10:30 Uhr ein.",
        "Einladung: Bitte kommen Sie am 15.12.2026, 10.30 Uhr, in Raum 204.",
        "Ihr Termin: 15.12.2026 um 10 Uhr",
        "Ihr nächster Termin ist am 15.12.2026.",
        # Other letters, periods, validity, the past.
        "Ihr Schreiben vom 01.12.2026 haben wir erhalten.",
        "Bewilligungszeitraum: 01.01.2027 bis 30.06.2027",
        "Leistungen werden für die Zeit vom 01.01.2027 bis 30.06.2027 bewilligt.",
        "Ihre Aufenthaltserlaubnis ist gültig bis 30.06.2027.",
        "Ihre Aufenthaltserlaubnis ist befristet bis 30.06.2027.",
        "Die Bescheinigung ist bis zum 30.06.2027 gültig.",
        "Die Zahlung erfolgt ab dem 01.01.2027.",
        "Bitte reichen Sie die Unterlagen bis zum 18.11.2026 ein.",  # before the letter
        "Geboren am 12.03.1990 in Aleppo.",
        "Sie erhalten Kindergeld seit dem 01.01.2025.",
        "Wir haben Ihren Antrag am 01.12.2026 bearbeitet.",
        "Der Bescheid ergeht bis zum 18.12.2031.",  # years ahead: not a task
        "Die Auszahlung erfolgt zum 01.01.2027.",
        "Bitte bringen Sie zum Termin am 15.12.2026 Ihren Ausweis mit.",
        "Mit freundlichen Grüßen",
        "",
    ],
)
def test_no_deadline(body: str) -> None:
    assert deadline_in(body) is None


def test_the_letters_date_is_not_its_deadline() -> None:
    letter = "Krefeld, den 04.12.2026\n\nBitte reichen Sie alles bis zum 04.12.2026 ein."
    assert deadline_in(letter, find_letter_date(letter)) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # 04.12. posted, received 08.12. (fourth day), one month: Fri 08.01.2027.
        (
            "Widerspruch kann innerhalb eines Monats nach Bekanntgabe erhoben werden.",
            date(2027, 1, 8),
        ),
        (
            "Sie können innerhalb eines Monats nach Zugang dieses Schreibens klagen.",
            date(2027, 1, 8),
        ),
        # From the letter's date itself: 04.12. + 14 days = Fri 18.12.
        ("Bitte reichen Sie die Nachweise innerhalb von zwei Wochen ein.", date(2026, 12, 18)),
        ("Bitte antworten Sie binnen 14 Tagen.", date(2026, 12, 18)),
        # 04.12. + 4 = 08.12. + 3 weeks = 29.12.
        ("Bitte melden Sie sich innerhalb von drei Wochen nach Erhalt.", date(2026, 12, 29)),
    ],
)
def test_relative_deadlines_are_estimated(body: str, expected: date) -> None:
    found = find_deadline(body, letter_date=LETTER_DAY, today=TODAY)
    assert found is not None
    assert found.estimated
    assert found.due == expected
    assert found.sentence == body


def test_a_relative_deadline_without_letter_date_counts_from_today() -> None:
    found = find_deadline("Antworten Sie innerhalb von zwei Wochen.", letter_date=None, today=TODAY)
    assert found is not None and found.due == date(2026, 12, 21) and found.estimated


def test_a_printed_date_wins_over_the_legal_remedy_boilerplate() -> None:
    body = (
        "Bitte senden Sie die Unterlagen bis zum 28.12.2026.\n\n"
        "Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach "
        "Bekanntgabe Widerspruch erhoben werden."
    )
    found = find_deadline(body, letter_date=LETTER_DAY, today=TODAY)
    assert found is not None and found.due == date(2026, 12, 28) and not found.estimated
    assert found.sentence == "Bitte senden Sie die Unterlagen bis zum 28.12.2026."


def test_periods_end_on_working_days() -> None:
    assert next_working_day(date(2026, 12, 26)) == date(2026, 12, 28)  # Sat (2nd Christmas day)
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 28)  # Christmas, Fri
    assert next_working_day(date(2027, 1, 1)) == date(2027, 1, 4)
    assert next_working_day(date(2026, 12, 18)) == date(2026, 12, 18)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 8), 1) == date(2027, 1, 8)


def test_sentences_keep_dates_and_abbreviations_whole() -> None:
    text = "Sehr geehrte Frau A,\n\nbitte zahlen Sie bis zum 18. Dez. 2026 z. B. per\nÜberweisung. Danke."
    assert sentences(text) == [
        "Sehr geehrte Frau A,",
        "bitte zahlen Sie bis zum 18. Dez. 2026 z. B. per Überweisung.",
        "Danke.",
    ]


# ------------------------------------------------------------------ senders

SENDERS = load_senders()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Jobcenter Krefeld\nPhiladelphiastraße 2", "jobcenter"),
        ("Bundesagentur für Arbeit\nFamilienkasse Nordrhein-Westfalen West", "familienkasse"),
        ("Agentur für Arbeit Krefeld", "arbeitsagentur"),
        ("Stadt Krefeld\nDer Oberbürgermeister\nAusländerbehörde", "auslaenderbehoerde"),
        ("Bundesamt für Migration und Flüchtlinge\nAußenstelle Bielefeld", "bamf"),
        ("Stadt Krefeld · Fachbereich Soziales", "stadt_krefeld"),
        ("AOK Rheinland/Hamburg\nDie Gesundheitskasse", "krankenkasse"),
        ("Techniker\nKrankenkasse", "krankenkasse"),
        ("BARMER\nPostfach 110704", "krankenkasse"),
        ("Deutsche Rentenversicherung Rheinland", "rentenversicherung"),
        ("Wohnstätte Krefeld AG\nMieterservice", "vermieter"),
        ("Finanzamt Krefeld", "finanzamt"),
        ("Amtsgericht Krefeld\nNordwall 131", "gericht"),
        ("Städtische Gesamtschule Kaiserplatz", "schule"),
        ("ARD ZDF Deutschlandradio\nBeitragsservice", "rundfunkbeitrag"),
    ],
)
def test_senders_from_the_letterhead(text: str, key: str) -> None:
    sender = recognise(text + "\n\nSehr geehrte Frau A,\n", SENDERS)
    assert sender is not None and sender.key == key


def test_the_letterhead_wins_over_offices_named_in_the_body() -> None:
    header = "Jobcenter Krefeld\nPhiladelphiastraße 2\n" + "x " * 400
    body = "\nDas Kindergeld der Familienkasse wird angerechnet."
    sender = recognise(header + body, SENDERS)
    assert sender is not None and sender.key == "jobcenter"
    # Without a letterhead match, the office named first in the text.
    text = "x " * 400 + "Ihr Antrag bei der Familienkasse, weitergeleitet vom Jobcenter."
    sender = recognise(text, SENDERS)
    assert sender is not None and sender.key == "familienkasse"


def test_no_sender_and_whole_words_only() -> None:
    assert recognise("Liebe Oma, viele Grüße aus der Schulstraße", SENDERS) is None
    assert recognise("", SENDERS) is None


def test_an_office_extends_the_list(tmp_path: Path) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text(
        "- key: hausverwaltung_m\n  name: Hausverwaltung Müller\n  patterns: [Verwaltung Müller]\n",
        encoding="utf-8",
    )
    senders = load_senders(path)
    found = recognise("Verwaltung\nMüller GmbH", senders)
    assert found is not None and found.name == "Hausverwaltung Müller"
    path.write_text("- key: x\n  name: X\n  patterns: []\n", encoding="utf-8")
    with pytest.raises(SendersError, match="patterns"):
        load_senders(path)
    path.write_text("{not: a list}", encoding="utf-8")
    with pytest.raises(SendersError):
        load_senders(path)


# --------------------------------------------------------------- references


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BG-Nummer: 12345BG0067890\nKundennummer: 123D456789", "BG-Nummer 12345BG0067890"),
        ("Nummer der Bedarfsgemeinschaft 12345BG0067890", "BG-Nummer 12345BG0067890"),
        ("Kundennummer: 123D456789 Bitte stets angeben", "Kundennummer 123D456789"),
        ("Aktenzeichen: 52-1234/26 Datum: 04.12.2026", "Aktenzeichen 52-1234/26"),
        ("Az.: 3 K 123/26", "Aktenzeichen 3 K 123/26"),
        ("Geschäftszeichen: II-301.4-789", "Aktenzeichen II-301.4-789"),
        ("Unser Zeichen: AB 12/345", "Unser Zeichen AB 12/345"),
        ("Steuernummer 117/5012/3456", "Steuernummer 117/5012/3456"),
        ("Kindergeldnummer: 123FK456789", "Kindergeldnummer 123FK456789"),
        ("Versicherungsnummer: 12 150385 A 123", "Versicherungsnummer 12 150385 A 123"),
        ("Ihr Aktenzeichen ist uns nicht bekannt", None),
        ("Kundennummer: bitte angeben", None),
        ("Sehr geehrte Frau A,", None),
    ],
)
def test_reference_numbers(text: str, expected: str | None) -> None:
    assert find_reference(text) == expected


# ------------------------------------------------------------ whole letters

JOBCENTER = """Jobcenter Krefeld
Philadelphiastraße 2
47799 Krefeld

Frau
Ayşe Yılmaz
Südwall 12
47798 Krefeld

BG-Nummer: 12345BG0067890
Krefeld, den 04.12.2026

Mitwirkungsaufforderung

Sehr geehrte Frau Yılmaz,

Sie beziehen seit dem 01.03.2025 Bürgergeld. Für den Weiterbewilligungsantrag vom
20.11.2026 benötige ich noch Ihre Kontoauszüge der Monate September bis November 2026.
Bitte reichen Sie diese bis zum 21.12.2026 ein. Gerne können Sie die Unterlagen auch zu
Ihrem Termin am 15.12.2026 um 10:30 Uhr mitbringen.

Rechtsfolgenbelehrung: Kommen Sie Ihrer Mitwirkungspflicht nicht nach, können die Leistungen
ganz versagt werden (§ 66 SGB I).

Mit freundlichen Grüßen
Im Auftrag
Schneider
"""

FAMILIENKASSE = """Bundesagentur für Arbeit
Familienkasse Nordrhein-Westfalen West

Datum: 4. Dezember 2026
Kindergeldnummer: 123FK456789

Kindergeld für Ihr Kind Emre, geboren am 12.05.2010

Sehr geehrter Herr Yılmaz,

das Kindergeld wird für die Zeit vom 01.01.2026 bis 31.07.2027 festgesetzt. Damit wir
prüfen können, ob der Anspruch über den 31.07.2027 hinaus besteht, senden Sie uns bitte
die beiliegende Schulbescheinigung spätestens am 08.01.2027 ausgefüllt zurück.

Rechtsbehelfsbelehrung
Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Einspruch erhoben werden.
"""

TERMIN_ONLY = """Stadt Krefeld
Der Oberbürgermeister
Fachbereich Migration und Integration – Ausländerbehörde

Krefeld, 04.12.2026
Aktenzeichen: 32-4-123456

Einladung zur Vorsprache

Sehr geehrter Herr Koval,

bitte kommen Sie am Dienstag, 15.12.2026, um 9:00 Uhr in Raum 204. Bringen Sie zu diesem
Termin Ihren Reisepass und ein biometrisches Foto mit. Ihre Fiktionsbescheinigung ist
gültig bis 31.12.2026.
"""


@pytest.mark.parametrize(
    ("text", "sender", "letter_day", "reference", "due", "words"),
    [
        (
            JOBCENTER,
            "jobcenter",
            LETTER_DAY,
            "BG-Nummer 12345BG0067890",
            date(2026, 12, 21),
            "bis zum 21.12.2026",
        ),
        (
            FAMILIENKASSE,
            "familienkasse",
            LETTER_DAY,
            "Kindergeldnummer 123FK456789",
            date(2027, 1, 8),
            "spätestens am 08.01.2027",
        ),
        (TERMIN_ONLY, "auslaenderbehoerde", LETTER_DAY, "Aktenzeichen 32-4-123456", None, ""),
    ],
)
def test_whole_letters(
    text: str, sender: str, letter_day: date, reference: str, due: date | None, words: str
) -> None:
    found_sender = recognise(text, SENDERS)
    assert found_sender is not None and found_sender.key == sender
    assert find_letter_date(text) == letter_day
    assert find_reference(text) == reference
    deadline = find_deadline(text, letter_date=letter_day, today=TODAY)
    if due is None:
        assert deadline is None
    else:
        assert deadline is not None and deadline.due == due and not deadline.estimated
        assert words in deadline.sentence
