"""Leichte Sprache (de_easy) follows the rules of the Netzwerk Leichte Sprache.

Checked here, as far as a machine can: no abbreviations, short sentences, one statement per
line, no passive ("Ihr Termin ist abgesagt" → "Wir haben Ihren Termin abgesagt"), and hard
words explained where they first appear (BIWAQ, Kom.ZFB, Bot, Befehl).
"""

from __future__ import annotations

import re
from typing import Any

from tests.test_catalogs import load

MAX_WORDS = 15
ABBREVIATIONS = re.compile(
    r"(?<!\w)(z\.\s?B\.|bzw\.|ggf\.|Nr\.|Tel\.|usw\.|ca\.|u\.\s?a\.|d\.\s?h\.|evtl\.|inkl\.|"
    r"max\.|min\.|Min\.|Std\.|etc\.|vgl\.|s\.\s?o\.|o\.\s?Ä\.|Mo\.|Di\.|Mi\.|Do\.|Fr\.|Sa\.|So\.|"
    r"Jan\.|Feb\.|Mär\.|Apr\.|Jun\.|Jul\.|Aug\.|Sep\.|Okt\.|Nov\.|Dez\.|Str\.|bzgl\.|zzgl\.|"
    r"Hr\.|Fr\.|Dr\.|sog\.|allg\.|usf\.)"
)
# "wird/wurde/werden … abgesagt", "ist abgesagt": say who does it.
PASSIVE = re.compile(
    r"\b(wird|wurde|wurden|werden|worden)\b[^.?!\n]{0,60}\b\w*(ge\w+t|iert)\b|"
    r"\b(ist|sind)\s+(\w+\s+){0,2}(abgesagt|gelöscht|gespeichert|gebucht|verschoben|"
    r"bestätigt|geschickt|gesendet|aufgehoben)\b"
)
# Command names, placeholders and "Kom.ZFB" are names, not words or sentence ends.
NAMES = re.compile(r"\{[a-z_]+\}|/[a-z_]+|Kom\.ZFB|#\{[a-z_]+\}")
# A sentence ends at . ! ? or : followed by a space or the line end.
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
HARD_WORDS = {
    "BIWAQ": "BIWAQ ist",
    "Kom.ZFB": "Kom.ZFB ist",
}


def easy_strings() -> list[tuple[str, str]]:
    result = []
    for message in load("de_easy"):
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        texts: Any = message.string if isinstance(message.string, tuple) else (message.string,)
        result += [(msgid, text) for text in texts]
    return result


def sentences(line: str) -> list[str]:
    cleaned = NAMES.sub("X", line)
    return [s for s in re.split(r"(?<=[.!?])\s+", cleaned) if s.strip()]


def test_no_abbreviations() -> None:
    found = [text for _, text in easy_strings() if ABBREVIATIONS.search(NAMES.sub("X", text))]
    assert not found, "\n".join(found)


def test_short_sentences() -> None:
    long = [
        f"{len(s.split())} words: {s}"
        for _, text in easy_strings()
        for line in text.splitlines()
        for s in sentences(line)
        if len(s.split()) > MAX_WORDS
    ]
    assert not long, "\n".join(long)


def test_one_statement_per_line() -> None:
    crowded = [
        line
        for _, text in easy_strings()
        for line in text.splitlines()
        if len(SENTENCE_END.findall(NAMES.sub("X", line).rstrip(".!?"))) >= 1
    ]
    assert not crowded, "\n".join(crowded)


def test_no_passive() -> None:
    passive = [text for _, text in easy_strings() if PASSIVE.search(text)]
    assert not passive, "\n".join(passive)


def test_hard_words_are_explained_where_residents_meet_them() -> None:
    """The welcome names BIWAQ and Kom.ZFB; it must say what they are. "Bot" and "Befehl"
    are explained where the bot introduces itself and its commands."""
    texts = "\n".join(text for _, text in easy_strings())
    for word, explanation in HARD_WORDS.items():
        if word in texts:
            assert explanation in texts, f"{word} is used but never explained"
    assert re.search(r"Ein Bot ist|Bot: Das ist|Der Bot ist ein", texts), "explain 'Bot'"
    if "Befehl" in texts:
        assert re.search(r"Ein Befehl ist|Befehl: Das ist", texts), "explain 'Befehl'"


def test_a_defect_is_caught() -> None:
    assert ABBREVIATIONS.search("Am Di., 1. Dez. um 9 Uhr")
    assert PASSIVE.search("Ihr Termin ist abgesagt.")
    assert len(sentences("Das ist ein Satz. Und das ist noch ein Satz.")) == 2
