"""Language detection with the real lingua models (the [detect] extra, part of [test])."""

from __future__ import annotations

import builtins
import logging
from typing import Any

import pytest

from bot.engines.detect import LinguaDetector, worth_translating

pytest.importorskip("lingua", reason="lingua-language-detector is not installed ([detect])")

# Everyday sentences a resident might send, by the language they are written in.
SENTENCES = {
    "de": [
        "Ich habe einen Brief vom Jobcenter bekommen und verstehe ihn nicht.",
        "Wann kann ich vorbeikommen?",
        "Ist das Büro am Freitag geöffnet?",
        "Mein Sohn braucht einen Kitaplatz.",
    ],
    "tr": [
        "Merhaba, iş merkezinden bir mektup aldım ve anlamıyorum.",
        "Randevumu iptal etmek istiyorum.",
        "Cuma günü ofis açık mı?",
    ],
    "ar": [
        "وصلتني رسالة من الجوب سنتر ولا أفهمها",
        "هل المكتب مفتوح يوم الجمعة؟",
        "أحتاج مساعدة في ملء الاستمارة",
    ],
    "fa": ["من یک نامه از جاب سنتر دریافت کردم و آن را نمی‌فهمم", "آیا دفتر روز جمعه باز است؟"],
    "uk": ["Я отримав лист від джобцентру і не розумію його.", "Чи відкритий офіс у п'ятницю?"],
    "ru": ["Мне нужна помощь с заполнением анкеты", "Офис открыт в пятницу?"],
    "bg": ["Получих писмо от бюрото по труда и не го разбирам.", "Офисът отворен ли е в петък?"],
    "pl": ["Otrzymałem list z urzędu pracy i go nie rozumiem.", "Czy biuro jest otwarte w piątek?"],
    "ro": ["Am primit o scrisoare de la Jobcenter și nu o înțeleg.", "Voi întârzia puțin, scuze"],
    "en": [
        "I got a letter from the job centre and I don't understand it.",
        "Is the office open on Friday?",
    ],
}
KURMANJI = [
    "Ofîs roja înê vekirî ye?",
    "Ji bo dagirtina formê alîkarî divê",
    "Ez ê hinekî dereng bimînim, bibore",
    "Kurê min cihekî baxçeyê zarokan hewce dike",
    "Min nameyek ji navenda kar stand",
]


@pytest.fixture(scope="module")
def detector() -> LinguaDetector:
    found = LinguaDetector()
    assert found.available
    found.warm_up()
    return found


def test_turkish_from_a_resident_who_chose_german(detector: LinguaDetector) -> None:
    text = "Merhaba, iş merkezinden bir mektup aldım ve anlamıyorum."
    assert detector.detect(text, "de") == "tr"
    assert detector.detect(text, "de_easy") == "tr"
    assert detector.detect(text, "tr") is None


def test_german_stays_german(detector: LinguaDetector) -> None:
    for text in SENTENCES["de"]:
        assert detector.detect(text, "de") is None
        assert detector.detect(text, "de_easy") is None


def test_arabic_is_arabic(detector: LinguaDetector) -> None:
    assert detector.detect("وصلتني رسالة من الجوب سنتر ولا أفهمها", "de") == "ar"
    # Arabic and Farsi share a script and are still told apart.
    assert detector.detect("وصلتني رسالة من الجوب سنتر ولا أفهمها", "fa") == "ar"
    assert detector.detect("من یک نامه از جاب سنتر دریافت کردم و آن را نمی‌فهمم", "ar") == "fa"


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_every_language_is_recognised_against_another_choice(
    detector: LinguaDetector, language: str
) -> None:
    other = "en" if language == "de" else "de"
    for text in SENTENCES[language]:
        assert detector.detect(text, other) == language, text
        assert detector.detect(text, language) is None, text


def test_close_neighbours(detector: LinguaDetector) -> None:
    """Ukrainians writing Russian, Bulgarians writing Bulgarian: neither is mistaken."""
    assert detector.detect("Мне нужна помощь с заполнением анкеты", "uk") == "ru"
    assert detector.detect("Мені потрібна допомога із заповненням анкети", "ru") == "uk"
    assert detector.detect("Имам нужда от помощ с формуляра", "bg") is None


def test_kurmanji_choice_always_stands(detector: LinguaDetector) -> None:
    # lingua has no Kurdish and reads these as Turkish, Romanian, Polish or English, often
    # with full confidence: the chosen language must win.
    readings = {detector.confidences(text)[0][0] for text in KURMANJI}
    assert readings - {"ku"}  # it does misread them, which is why the rule exists
    for text in KURMANJI:
        assert detector.detect(text, "ku") is None, text


def test_latin_text_cannot_be_arabic_or_farsi(detector: LinguaDetector) -> None:
    # Latin letters from a resident who chose Arabic cannot be Arabic.
    assert detector.detect("Hallo, ich bin Aylin", "ar") == "de"
    assert detector.detect("Hello, when are you open today?", "fa") == "en"


@pytest.mark.parametrize(
    "text",
    ["Hallo", "Danke schön", "ok 👍", "12.03.2026 10:00", "Merhaba", "شكرا جزيلا", "Jobcenter"],
)
def test_short_texts_are_not_worth_translating(detector: LinguaDetector, text: str) -> None:
    assert not worth_translating(text)
    assert detector.detect(text, "ar" if text.isascii() else "de") is None


def test_sentences_are_worth_translating() -> None:
    for texts in SENTENCES.values():
        assert all(worth_translating(text) for text in texts)


def test_without_lingua_detection_is_off_and_said_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_import = builtins.__import__

    def no_lingua(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "lingua" or name.startswith("lingua."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_lingua)
    caplog.set_level(logging.INFO, logger="bot.engines.detect")
    detector = LinguaDetector()
    assert not detector.available
    assert detector.detect("Merhaba, iş merkezinden bir mektup aldım.", "de") is None
    assert detector.confidences("Merhaba, iş merkezinden bir mektup aldım.") == []
    assert len([r for r in caplog.records if "detection is off" in r.getMessage()]) == 1
