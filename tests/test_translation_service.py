"""The rules of translating a conversation, without Telegram: what is translated, from which
language, and when staff hear about a failure."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engines.translate import (
    EngineLanguage,
    Failure,
    TranslateOutcome,
    Translation,
    TranslationFailed,
)
from bot.services.translation import (
    ConversationTranslator,
    Failed,
    Skip,
    Skipped,
    Translated,
    language_name,
    strip_verbatim,
)

QUESTION_AR = "وصلتني رسالة من الجوب سنتر ولا أفهمها"
ANSWER_DE = "Bitte bringen Sie den Brief am Donnerstag mit."


@dataclass
class FakeEngine:
    fail: Failure | None = None
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "fake"

    async def translate(self, text: str, source: str, target: str) -> TranslateOutcome:
        self.calls.append((text, source, target))
        if self.fail is not None:
            return TranslationFailed(self.fail, source, target, "test")
        return Translation(f"[{source}→{target}] {text}", source, target, 0.0)

    async def detect(self, text: str) -> list[tuple[str, float]]:
        return []

    def supported_pairs(self) -> frozenset[tuple[str, str]] | None:
        return None

    def languages(self) -> tuple[EngineLanguage, ...] | None:
        return None

    async def refresh_languages(self, *, force: bool = False) -> bool:
        return True

    def clear_cache(self) -> None:
        return None

    async def close(self) -> None:
        return None


@dataclass
class FakeDetector:
    answer: str | None = None

    @property
    def available(self) -> bool:
        return True

    def detect(self, text: str, expected: str) -> str | None:
        return self.answer


async def test_a_question_is_translated_into_the_staff_language() -> None:
    engine = FakeEngine()
    service = ConversationTranslator(engine, None, "de")
    outcome = await service.to_staff(1, QUESTION_AR, "ar")
    assert outcome == Translated(f"[ar→de] {QUESTION_AR}", "ar", "de")
    assert engine.calls == [(QUESTION_AR, "ar", "de")]


async def test_short_same_language_and_no_engine_make_no_request() -> None:
    engine = FakeEngine()
    service = ConversationTranslator(engine, None, "de")
    assert await service.to_staff(1, "Hallo 👋", "ar") == Skipped(Skip.SHORT)
    assert await service.to_staff(1, "Ich habe eine Frage zum Brief", "de") == Skipped(Skip.SAME)
    assert await service.to_staff(1, "Ich habe eine Frage zum Brief", "de_easy") == Skipped(
        Skip.SAME
    )
    assert engine.calls == []
    off = ConversationTranslator(None, None, "de")
    assert await off.to_staff(1, QUESTION_AR, "ar") == Skipped(Skip.OFF)


async def test_a_text_in_another_language_than_chosen_is_detected() -> None:
    engine = FakeEngine()
    service = ConversationTranslator(engine, FakeDetector("tr"), "de")
    outcome = await service.to_staff(1, "Merhaba, iş merkezinden bir mektup aldım", "de")
    assert isinstance(outcome, Translated)
    assert (outcome.source, outcome.detected) == ("tr", "tr")


async def test_staff_answers_translated_unless_marked_verbatim() -> None:
    engine = FakeEngine()
    service = ConversationTranslator(engine, None, "de")
    outcome = await service.to_resident(1, ANSWER_DE, "ar")
    assert outcome == Translated(f"[de→ar] {ANSWER_DE}", "de", "ar")
    assert await service.to_resident(1, "= " + ANSWER_DE, "ar") == Skipped(Skip.VERBATIM)
    assert strip_verbatim("= " + ANSWER_DE) == ANSWER_DE
    assert await service.to_resident(1, ANSWER_DE, "de_easy") == Skipped(Skip.SAME)
    assert len(engine.calls) == 1


async def test_staff_are_told_once_per_resident_and_cause() -> None:
    engine = FakeEngine(fail=Failure.NO_MODEL)
    service = ConversationTranslator(engine, None, "de")
    first = await service.to_staff(1, "Ez nameyek ji navenda karê stendim", "ku")
    second = await service.to_staff(1, "Ez nameyek din jî stendim, alîkarî", "ku")
    other = await service.to_staff(2, "Ez nameyek ji navenda karê stendim", "ku")
    assert isinstance(first, Failed) and first.tell_staff
    assert isinstance(second, Failed) and not second.tell_staff
    assert isinstance(other, Failed) and other.tell_staff
    engine.fail = Failure.DOWN  # another cause is news again
    down = await service.to_staff(1, "Ez nameyek din jî stendim, alîkarî", "ku")
    assert isinstance(down, Failed) and down.tell_staff
    engine.fail = None  # working again, then failing: staff hear of it again
    assert (await service.to_staff(1, "Ez nameyek din jî stendim, alîkarî", "ku")).ok
    engine.fail = Failure.DOWN
    again = await service.to_staff(1, "Ez nameyek din jî stendim, alîkarî", "ku")
    assert isinstance(again, Failed) and again.tell_staff
    service.forget(2)
    assert 2 not in service._told


def test_language_names_for_the_staff() -> None:
    assert language_name("ar", "de") == "Arabisch"
    assert language_name("fa", "de") == "Persisch"
    assert language_name("de_easy", "de") == "Leichte Sprache"
    assert language_name("tr", "en") == "Turkish"
