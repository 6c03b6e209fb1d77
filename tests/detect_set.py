"""Test utility: the residents' messages of tests/data/detect/messages.tsv and what a
detection policy makes of them (used by tests/test_detect_set.py and bench/detect.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.engines import engine_code

SET = Path(__file__).parent / "data" / "detect" / "messages.tsv"


@dataclass(frozen=True)
class Message:
    language: str
    """The language the text is really in."""
    chosen: str
    """The language the resident chose in the bot."""
    text: str


def messages() -> list[Message]:
    found = []
    for number, line in enumerate(SET.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        language, chosen, text = line.split("\t")
        if not text.strip():
            raise ValueError(f"{SET.name}:{number}: no text")
        found.append(Message(language, chosen, text))
    return found


@dataclass
class Figures:
    total: Counter[str] = field(default_factory=Counter)
    """Messages per true language (engine codes: Leichte Sprache counts as German)."""
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(true language, language used) for every message, right or wrong."""
    wrong: list[tuple[Message, str]] = field(default_factory=list)

    @property
    def wrong_rate(self) -> float:
        return len(self.wrong) / max(1, sum(self.total.values()))

    def mixed_up(self, a: str, b: str) -> int:
        """Messages in ``a`` taken for ``b`` or the reverse."""
        return self.confusion[(a, b)] + self.confusion[(b, a)]


def measure(policy: Callable[[str, str], str | None], found: list[Message]) -> Figures:
    """``policy(text, chosen)`` returns the language to translate from, None for the chosen
    one (as :meth:`bot.engines.detect.LinguaDetector.detect` does)."""
    figures = Figures()
    for message in found:
        true = engine_code(message.language)
        used = engine_code(policy(message.text, message.chosen) or message.chosen)
        figures.total[true] += 1
        figures.confusion[(true, used)] += 1
        if used != true:
            figures.wrong.append((message, used))
    return figures
