"""Which language is a resident's message in? Their chosen one, unless the text clearly says
otherwise.

Residents often write in a second language (a Kurdish family in Turkish, a Ukrainian in
Russian, many in German). ``lingua-language-detector`` (optional extra ``[detect]``; its models
ship in the wheel) restricted to our languages tells us; when it is not installed, detection
is off and the resident's chosen language is used, which is said once at start.

A wrong switch is worse than none: an Arabic note sent to a Farsi model comes back as
nonsense, while a note kept in the chosen language at worst translates a close neighbour
imperfectly. So :func:`choose` trusts the chosen language and asks for more evidence the
closer the other language is. Measured on tests/data/detect/messages.tsv (``python bench/detect.py``;
README, "Translation") — the rules, and why:

- **The script first.** A text is read in the script most of its words are written in
  (an Arabic note with "Jobcenter" in it is Arabic script), and lingua only sees those
  words. If the chosen language cannot be written in that script (Latin text from a resident
  who chose Arabic), the chosen language is out and lingua's best reading of that script is
  taken (in Latin script only at :data:`MIN_CONFIDENCE`, see below).
- **Letters rule languages out** (:data:`FOREIGN`): a letter a language never uses is proof
  lingua's trigrams cannot outvote. Persian keyboards write ی and ک (and پ ژ), Arabic ones
  ي ك ة ى: "لدي سؤال عن طلب عمل" has ي and cannot be Farsi, whatever the 0.83 of
  low-accuracy lingua says. Ukrainian has no ы э ъ ё, Russian and Bulgarian no і ї є ґ,
  Kurmanji no ı ğ, Turkish and German no ê. These are the pairs that share a script and that
  lingua confuses on short texts; the letters decide them. German's ä ö ü ß rule nothing
  out: Ausländerbehörde turns up in every language's notes.
- **A reading must show its language**: one of its own letters (:data:`OWN`: ی for Farsi,
  і for Ukrainian, ş for Turkish…) or one of its most frequent words (:data:`COMMON_WORDS`).
  Low-accuracy lingua reads "можно прийти завтра" as Ukrainian, romanised Persian ("salam
  man ye soal daram") as Romanian with 0.96; neither reading shows anything of its language.
  In Latin script a text with no reading that shows itself keeps the resident's language
  (romanised Persian or Russian is at least labelled right; staff see the original beside
  whatever the engine makes of it), and so do two words with digits for Arabic sounds
  ("3andi", "ba2dar"). In Arabic and Cyrillic script the keyboard already says the script is
  meant, so lingua's best reading stands when none shows itself.
- **Within the chosen language's script the choice stands** unless the text has at least
  :data:`SHORT_WORDS` words and lingua gives another language that shows itself
  :data:`STRONG` or more. Short notes keep the chosen language (unless their letters rule it
  out).
- **Kurmanji**: lingua has no Kurdish and reads Kurmanji as Turkish, Romanian, Polish or
  English with confidence up to 1.0 (never as German, in the set). So for a resident who
  chose Kurmanji only a letter Kurmanji lacks (a Turkish ı or ğ) or a sure German reading
  changes the language, and Latin text with Kurmanji's ê/û/î or its everyday words
  (:data:`KURMANJI_WORDS`) from anyone is taken as Kurmanji — which the translation server
  then says it cannot translate, instead of turning it into nonsense.
- **Low-accuracy mode** (trigrams only), measured with ``bench/detect.py`` on this 2-core
  machine: a 40 MB process, models loaded in 0.06 s CPU, 0.3 ms per message — against a
  200 MB process, 1.1 s to load and 3.6 ms per message for high accuracy. With the rules
  above, low accuracy is wrong on 1 message of the 308 (0.3 %), high accuracy on 4 (1.3 %):
  the letters settle what high accuracy would have helped with (short Arabic/Farsi and
  Russian/Ukrainian notes), and high accuracy is less sure of Bulgarian and of English with
  a German office word in it. On the harder view (every message as if the resident had
  chosen each other language) both modes take none for a third language. The small mode
  stays. Without the letter checks the rules miss 5 of the set (Turkish from residents who
  chose Kurmanji; an Arabic sentence from a resident who chose Farsi stays Farsi), and on
  the harder view mix up Arabic and Farsi in Arabic script 22 times, against once with them.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from bot.engines import engine_code

if TYPE_CHECKING:  # the package is optional; only its types are needed here
    import lingua

log = logging.getLogger(__name__)

MIN_LETTERS = 12
"""Texts with fewer letters (a greeting, "ok", a date or a number) are not translated."""
MIN_WORDS = 2
SHORT_WORDS = 4
"""Below this many words, a text in the chosen language's script keeps that language."""
STRONG = 0.95
"""lingua's confidence needed to overrule the chosen language within its own script."""
MIN_CONFIDENCE = 0.5
"""lingua's confidence needed when the letters already rule the chosen language out."""

# Our engine codes lingua can tell apart (no Kurdish in lingua), with the script they use.
SCRIPTS = {
    "ar": "ARABIC",
    "fa": "ARABIC",
    "bg": "CYRILLIC",
    "ru": "CYRILLIC",
    "uk": "CYRILLIC",
    "de": "LATIN",
    "en": "LATIN",
    "pl": "LATIN",
    "ro": "LATIN",
    "tr": "LATIN",
}
KURMANJI = "ku"
"""Latin script; known to these rules, not to lingua."""

_LATIN_MARKS = {
    "de": "äöüß",
    "tr": "çğıöşüâî",
    "pl": "ąćęłńóśźż",
    "ro": "ăâîșțşţ",
    "ku": "çêîşû",
    "en": "",
}
_ALL_LATIN_MARKS = "".join(_LATIN_MARKS.values())

FOREIGN: dict[str, frozenset[str]] = {
    # Arabic keyboards: ي ك, and ة ى, which Persian does not write.
    "fa": frozenset("يكةى"),
    # Persian keyboards: ی ک, and پ ژ (چ and گ are left out: Iraqi and Gulf Arabic write them).
    "ar": frozenset("یکپژ"),
    "uk": frozenset("ыэъё"),
    "ru": frozenset("іїєґ"),
    "bg": frozenset("ыэёіїєґ"),
    # Latin: the marks of the others, but German's ä ö ü ß rule nothing out: office words
    # (Ausländerbehörde, Kündigung, Bürgeramt) turn up in every language's notes.
    **{
        code: frozenset(_ALL_LATIN_MARKS) - frozenset(marks) - frozenset(_LATIN_MARKS["de"])
        for code, marks in _LATIN_MARKS.items()
    },
}
"""Letters a language never writes: one of them in a text rules the language out."""

OWN: dict[str, frozenset[str]] = {
    "ar": frozenset("يكةى"),
    "fa": frozenset("یکپژچگ"),
    "uk": frozenset("іїєґ"),
    "ru": frozenset("ыэё"),
    "bg": frozenset("ъѝ"),
    # Not German's ä ö ü ß: they come with the office words every language's notes carry.
    **{code: frozenset(marks) for code, marks in _LATIN_MARKS.items() if code != "de"},
}
"""Letters that show a language among its script neighbours (most of its sentences have
one); with :data:`COMMON_WORDS`, what a reading must show."""

KURMANJI_WORDS = frozenset(
    [
        "ez",
        "ji",
        "jî",
        "min",
        "hûn",
        "heye",
        "nîne",
        "dixwazim",
        "nikarim",
        "dikarim",
        "kengî",
        "çawa",
        "çima",
        "spas",
        "bibore",
        "silav",
        "xwe",
        "gelek",
        "alîkarî",
        "zarokê",
        "kurê",
        "keça",
    ]
)
"""Everyday Kurmanji words no other language of ours writes; two of them mark Kurmanji."""


COMMON_WORDS: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        "de": "ich wir sie und oder nicht ist bin sind habe hab hat haben ein eine einen der die das"
        " den dem mit von vom für zu zum zur bitte danke hallo wann wo was wie kann können muss"
        " mein meine meinen brauche morgen heute kein keine noch auch",
        "en": "i you we the and is are my me to for of with have has can need help please"
        " when what where how thank thanks hello hi not dont don't will this it from at",
        "pl": "nie jest się sie mam mój moj moja mnie czy jak kiedy gdzie proszę prosze dziękuję"
        " dziekuje dzień dzien dobry na do że ze to co jestem potrzebuję potrzebuje pomoc"
        " pomocy przepraszam jutro dla od tak ale",
        "ro": "nu și si în de la pe cu am un o este e sunt mă ma vă va să sa ce pentru bună buna"
        " ziua mulțumesc multumesc ajutor când cand unde cum mâine maine azi nevoie rog pot",
        "tr": "ve bir bu ne mi mı mu mü için icin var yok ben benim siz lazım lazim merhaba"
        " teşekkür tesekkur yardım yardim gün gun yarın yarin bugün bugun saat nasıl nasil"
        " nerede zaman istiyorum değil degil ama çok cok da de",
        "ru": "что как мне меня это или есть спасибо пожалуйста можно нужно нужна нужен когда"
        " где здравствуйте помогите помощь хочу могу сегодня письмо ребенок",
        "uk": "що як мені мене це або є дякую будь ласка можна потрібно потрібна коли де"
        " допомога допоможіть сьогодні лист дитина",
        "bg": "какво къде кога може трябва искам благодаря ми се е съм сме писмо помощ утре"
        " днес здравейте добър ден",
        # Not "من" (Arabic "from", Persian "I"), "ما" (Persian "we") or "به".
        "ar": "في على إلى الى عن هل لا أنا انا هذا هذه مع أريد اريد عندي شكرا ممكن بدي",
        "fa": "در از را است که این با برای می هست دارم نمی ممنون",
    }.items()
}
"""A language's most frequent words (Latin ones typed with and without their marks): a
reading needs one of them or one of the language's own letters (:data:`OWN`). Low-accuracy
lingua reads romanised Arabic, Persian or Russian ("salam man ye soal daram", "privet mne
nuzhna pomosh") as Romanian, English or Polish with confidence up to 1.0, and "можно
прийти завтра" as Ukrainian; these words and letters are what such a reading lacks."""

_ARABIZI = re.compile(r"[^\W\d_][2-9][^\W\d_]|(?<!\w)[2-9][^\W\d_]{2,}")
"""Digits for Arabic sounds inside words ("3andi", "ba2dar"); two such words are Arabic
written in Latin letters (one could be "um 5uhr")."""


def worth_translating(text: str) -> bool:
    """Whether a text says enough to be worth a machine translation (and a detection)."""
    letters = sum(1 for c in text if c.isalpha())
    words = sum(1 for word in text.split() if any(c.isalpha() for c in word))
    return letters >= MIN_LETTERS and words >= MIN_WORDS


def script_of(code: str) -> str | None:
    """The script one of our languages is written in (Kurmanji: Latin)."""
    code = engine_code(code)
    return "LATIN" if code == KURMANJI else SCRIPTS.get(code)


def _word_script(word: str) -> str | None:
    for c in word:
        if c.isalpha():
            name = unicodedata.name(c, "")
            for script in ("ARABIC", "CYRILLIC", "LATIN"):
                if name.startswith(script):
                    return script
            return None
    return None


def focus(text: str) -> tuple[str | None, list[str]]:
    """The script most words are in, and those words: "Jobcenter" in an Arabic note is
    left out of what lingua reads, it says nothing about the language around it."""
    scripts = [(word, _word_script(word)) for word in text.split()]
    counts = Counter(script for _, script in scripts if script is not None)
    if not counts:
        return None, []
    script = counts.most_common(1)[0][0]
    return script, [word for word, found in scripts if found == script]


def shows(code: str, words: list[str], letters: set[str]) -> bool:
    """Whether a text has something of ``code`` itself: one of its own letters or one of
    its most frequent words."""
    if not letters.isdisjoint(OWN.get(code, ())):
        return True
    return not COMMON_WORDS.get(code, frozenset()).isdisjoint(_bare(word) for word in words)


def _bare(word: str) -> str:
    return word.strip(".,!?;:()\"'«»„“”…؟،؛").casefold()


def ruled_out(code: str, letters: set[str]) -> bool:
    return not FOREIGN.get(engine_code(code), frozenset()).isdisjoint(letters)


def kurmanji_evidence(words: list[str], letters: set[str]) -> bool:
    """Latin text that looks like Kurmanji: ê or û (no other language of ours writes them),
    or two of its everyday words; never when a letter rules Kurmanji out."""
    if ruled_out(KURMANJI, letters):
        return False
    if letters & {"ê", "û"}:
        return True
    found = {_bare(word) for word in words} & KURMANJI_WORDS
    return len(found) >= 2 or bool(found and "î" in letters and not letters & set("ăâșțşţ"))


def choose(
    text: str, chosen: str, confidences: Callable[[str], list[tuple[str, float]]]
) -> str | None:
    """The language ``text`` is in when the evidence says it is not ``chosen``; else None.

    ``confidences`` is lingua's reading (our codes, best first); the rules are in the
    module's docstring."""
    chosen = engine_code(chosen)
    own_script = script_of(chosen)
    if own_script is None or not worth_translating(text):
        return None
    script, words = focus(text)
    if script is None:
        return None
    letters = {c for c in " ".join(words).casefold() if c.isalpha()}
    possible = [
        (code, confidence)
        for code, confidence in confidences(" ".join(words))
        if SCRIPTS.get(code) == script and not ruled_out(code, letters)
    ]
    allowed = [pair for pair in possible if shows(pair[0], words, letters)]
    kurmanji = script == "LATIN" and kurmanji_evidence(words, letters)
    if kurmanji:
        return None if chosen == KURMANJI else KURMANJI
    if own_script != script or ruled_out(chosen, letters):
        # Not the chosen language: the best reading that shows something of its language.
        if script != "LATIN":
            # Arabic and Cyrillic letters come from the keyboard: this script is meant,
            # lingua only says which of its languages (its best, if none shows itself).
            readings = allowed or possible
            return readings[0][0] if readings and readings[0][0] != chosen else None
        if len(_ARABIZI.findall(" ".join(words))) >= 2:
            return None  # Arabic in Latin letters: the resident's language stands
        # Lingua must agree: a Latin letter can come with a name (Gülşen in a German note),
        # and without a word of its own a reading is likely romanised Persian or Russian.
        if allowed and allowed[0][1] >= MIN_CONFIDENCE and allowed[0][0] != chosen:
            return allowed[0][0]
        return None
    if len(words) < SHORT_WORDS or not allowed:
        return None
    best, confidence = allowed[0]
    if best == chosen or confidence < STRONG:
        return None
    if chosen == KURMANJI and best != "de":
        # lingua reads Kurmanji as Turkish, Romanian, Polish or English, never as German.
        return None
    return best


class Detector(Protocol):
    @property
    def available(self) -> bool: ...

    def detect(self, text: str, expected: str) -> str | None:
        """The language ``text`` is in when clearly not ``expected``; else None."""
        ...


class LinguaDetector:
    """lingua restricted to our languages; :attr:`available` is False without the package."""

    def __init__(self, *, low_accuracy: bool = True) -> None:
        self._detector: lingua.LanguageDetector | None = None
        self._codes: dict[lingua.Language, str] = {}
        try:
            import lingua
        except ImportError:
            log.warning(
                "language detection is off: lingua-language-detector is not installed"
                " (pip install '.[detect]'); the resident's chosen language is used"
            )
            return
        self._codes = {
            lingua.Language.from_iso_code_639_1(lingua.IsoCode639_1.from_str(code)): code
            for code in SCRIPTS
        }
        builder = lingua.LanguageDetectorBuilder.from_languages(*self._codes)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector = builder.build()

    @property
    def available(self) -> bool:
        return self._detector is not None

    def warm_up(self) -> None:
        """Load the models now (at start) rather than on the first resident's message."""
        self.confidences("Guten Tag, ich habe eine Frage.")

    def confidences(self, text: str) -> list[tuple[str, float]]:
        """Our engine codes with lingua's confidence (0..1, summing to 1), best first."""
        if self._detector is None:
            return []
        return [
            (self._codes[value.language], value.value)
            for value in self._detector.compute_language_confidence_values(text)
        ]

    def detect(self, text: str, expected: str) -> str | None:
        if self._detector is None:
            return None
        return choose(text, expected, self.confidences)
