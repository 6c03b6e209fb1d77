"""The reference number printed on a letter, the first thing a counsellor quotes when calling
the office back: Aktenzeichen, BG-Nummer, Kundennummer, Steuernummer, Geschäftszeichen …

Returned with its label as staff know it ("BG-Nummer 12345BG0067890"), so nobody has to guess
which number it is.
"""

from __future__ import annotations

import re

# (label shown to staff, printed forms), most telling first: a Jobcenter letter carries both
# a BG-Nummer and a Kundennummer, and staff ask for the BG-Nummer.
LABELS: tuple[tuple[str, str], ...] = (
    ("BG-Nummer", r"BG[-\s]?Nummer|BG[-\s]?Nr\.?|Nummer\s+der\s+Bedarfsgemeinschaft"),
    ("Aktenzeichen", r"Aktenzeichen|Az\.|AZ\.?|Gz\.|Geschäftszeichen|Gesch\.?-?Z(?:eichen|\.)"),
    ("Unser Zeichen", r"Unser\s+Zeichen|Unser\s+Az\.?|Unsere\s+Zeichen"),
    ("Kindergeldnummer", r"Kindergeld-?nummer|Kindergeld-Nr\.?"),
    ("Steuernummer", r"Steuer-?nummer|St\.?-?Nr\.?|Steuer-ID|Steueridentifikationsnummer"),
    ("Kundennummer", r"Kunden-?nummer|Kunden-Nr\.?|Kd\.?-?Nr\.?"),
    (
        "Versicherungsnummer",
        r"(?:Renten)?[Vv]ersicherungs-?nummer|Vers\.?-?Nr\.?|Mitglieds-?nummer",
    ),
    ("Vertragsnummer", r"Vertrags-?nummer|Mietvertrags-?nummer|Vertrags-Nr\.?"),
    ("Kassenzeichen", r"Kassenzeichen|Beitragsnummer"),
)
_VALUE = r"\s*(?:[:#]|Nr\.?:?)?\s*(?P<value>[A-Z0-9][A-Za-z0-9/.\-]*(?:[ ][A-Za-z0-9/.\-]+){0,3})"


def find_reference(text: str) -> str | None:
    """The most telling printed reference, as "Label value"; None when there is none."""
    for label, printed in LABELS:
        for match in re.finditer(rf"(?<!\w)(?:{printed}){_VALUE}", text):
            value = _clean(match.group("value"))
            if value:
                return f"{label} {value}"
    return None


def _clean(value: str) -> str | None:
    """Cut what follows the number on the same line; a number must hold digits."""
    words: list[str] = []
    for word in value.split(" "):
        if words and not re.search(r"\d", word) and not re.fullmatch(r"[A-Z]{1,3}", word):
            break  # "123-45 Datum": the next label starts
        words.append(word)
    cleaned = " ".join(words).rstrip(".-/")
    if not re.search(r"\d", cleaned) or len(re.sub(r"\D", "", cleaned)) < 3:
        return None
    return cleaned
