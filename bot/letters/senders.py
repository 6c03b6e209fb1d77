"""Who sent a letter, from the list the office keeps in ``bot/data/senders.yaml``.

A plain list of words rather than a classifier: an office adds a landlord or a school by
writing one line, and staff can see why a letter was sorted where it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "senders.yaml"
HEADER_CHARS = 700
"""The letterhead: where the sender is named first (the body may name other offices)."""


class SendersError(ValueError):
    pass


@dataclass(frozen=True)
class Sender:
    key: str
    name: str
    pattern: re.Pattern[str]


def load_senders(path: Path = DEFAULT_PATH) -> tuple[Sender, ...]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SendersError(f"{path}: cannot be read ({error})") from error
    if not isinstance(raw, list):
        raise SendersError(f"{path}: expected a list of senders")
    senders: list[Sender] = []
    for number, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise SendersError(f"{path}: entry {number} is not a mapping")
        key, name, patterns = entry.get("key"), entry.get("name"), entry.get("patterns")
        if not isinstance(key, str) or not isinstance(name, str) or not key or not name:
            raise SendersError(f"{path}: entry {number} needs a key and a name")
        if (
            not isinstance(patterns, list)
            or not patterns
            or not all(isinstance(p, str) and p.strip() for p in patterns)
        ):
            raise SendersError(f"{path}: {key}: patterns must be a list of words")
        senders.append(Sender(key, name, _compile(patterns)))
    return tuple(senders)


def _compile(patterns: list[str]) -> re.Pattern[str]:
    """Whole words, any case, any whitespace (OCR breaks lines) between the words."""
    alternatives = [
        r"\s+".join(re.escape(word) for word in pattern.split())
        for pattern in sorted(patterns, key=len, reverse=True)
    ]
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE)


def recognise(text: str, senders: tuple[Sender, ...]) -> Sender | None:
    """The first sender of the list named in the header; else the one named first anywhere."""
    header = text[:HEADER_CHARS]
    for sender in senders:
        if sender.pattern.search(header):
            return sender
    best: tuple[int, Sender] | None = None
    for sender in senders:
        match = sender.pattern.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), sender)
    return best[1] if best else None
