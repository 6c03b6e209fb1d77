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
  who chose Arabic), the chosen language is impossible and lingua's best reading of that
  script is taken (in Latin script at :data:`MIN_CONFIDENCE`, and see below).
- **Letters rule languages out** (:data:`FOREIGN`): a letter a language never uses is proof
  lingua's trigrams cannot outvote. Persian keyboards write ی and ک (and پ ژ), Arabic ones
  ي ك ة ى: "لدي سؤال عن طلب عمل" has ي and cannot be Farsi, whatever the 0.83 of
  low-accuracy lingua says. Ukrainian has no ы э ъ ё, Russian and Bulgarian no і ї є ґ,
  Kurmanji no ı ğ, Turkish and German no ê. These are the pairs that share a script
  and that lingua confuses on short texts; the letters decide them. The other way round
  (:data:`OWN`), a switch to Arabic, Farsi or Ukrainian within the script needs one of that
  language's own letters, which nearly every sentence of it has.
- **Same script, not ruled out: the chosen language stands** unless the text has at least
  :data:`SHORT_WORDS` words and lingua gives another language :data:`STRONG` or more. Short
  notes in the chosen script keep the chosen language (unless their letters rule it out, when
  lingua's best allowed reading at :data:`MIN_CONFIDENCE` is taken).
- **A Latin-script reading needs a word or letter of its language** (:data:`COMMON_WORDS`):
  residents write Arabic, Persian and Russian in Latin letters too, and low-accuracy lingua
  calls "salam man ye soal daram" Romanian with 0.96. Without one of Romanian's frequent
  words or letters, the chosen language stands; so it does for two words with digits for
  Arabic sounds ("3andi", "ba2dar"). Such a text is at least labelled with the right
  language, and staff see the original beside whatever the engine makes of it.
- **Kurmanji**: lingua has no Kurdish and reads Kurmanji as Turkish, Romanian, Polish or
  English with confidence up to 1.0 (never as German, in the set). So for a resident who
  chose Kurmanji only a letter Kurmanji lacks (a Turkish ı or ğ) or a sure German reading
  changes the language, and Latin text with Kurmanji's ê/û/î or its everyday words
  (:data:`KURMANJI_WORDS`) from anyone is taken as Kurmanji — which the translation server
  then says it cannot translate, instead of turning it into nonsense.
- **Low-accuracy mode** (trigrams only), measured with ``bench/detect.py`` on this 2-core
  machine: a 38 MB process, models loaded in 0.05 s CPU, 0.25 ms per message — against a
  200 MB process, 1 s to load and 3.5 ms per message for high accuracy. With the rules
  above, low accuracy is wrong on 1 message of the 308 (0.3 %), high accuracy on 4 (1.3 %):
  the letters settle what high accuracy would have helped with (short Arabic/Farsi and
  Russian/Ukrainian notes), and high accuracy is less sure of Bulgarian and of English with
  a German office word in it. Only on the harder view (every message as if the resident had
  chosen each other language) high accuracy takes fewer messages for a third language (10
  against 51 of 3080), mostly short notes from a resident whose chosen language cannot be
  written in that script — at five times the memory. The small mode stays.
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
}
"""Letters nearly every sentence of a language has and its script neighbours lack: a switch
to it within the script needs one (lingua reads "можно прийти завтра" as Ukrainian)."""

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
        "de": "ich wir sie und oder nicht ist bin sind habe hab hat haben ein eine einen der das"
        " den dem mit von vom für zu zum zur bitte danke hallo wann wo was wie kann können muss"
        " mein meine meinen brauche morgen heute kein keine noch auch",
        "en": "i you we the and is are am my me to for of with have has can need help please"
        " when what where how thank thanks hello hi not dont don't will this it from at",
        "pl": "nie jest się sie mam mój moj moja mnie czy jak kiedy gdzie proszę prosze dziękuję"
        " dziekuje dzień dzien dobry na do że ze to co jestem potrzebuję potrzebuje pomoc"
        " pomocy przepraszam jutro dla od tak ale",
        "ro": "nu și si în de la pe cu am un o este e sunt mă ma vă va să sa ce pentru bună buna"
        " ziua mulțumesc multumesc ajutor când cand unde cum mâine maine azi nevoie rog pot",
        "tr": "ve bir bu ne mi mı mu mü için icin var yok ben benim siz lazım lazim merhaba"
        " teşekkür tesekkur yardım yardim gün gun yarın yarin bugün bugun saat nasıl nasil"
        " nerede zaman istiyorum değil degil ama çok cok da de",
    }.items()
}
"""A language's most frequent words (typed with and without its marks): a Latin-script
reading needs one of them or one of the language's own letters. Low-accuracy lingua reads
romanised Arabic, Persian or Russian ("salam man ye soal daram", "privet mne nuzhna
pomosh") as Romanian, English or Polish with confidence up to 1.0; these words are what
that reading lacks, and the resident's own language stands."""

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
    """Whether a Latin-script text has something of ``code`` itself: one of its own letters
    or one of its most frequent words (always true in the other scripts)."""
    if code not in COMMON_WORDS:
        return True
    if not letters.isdisjoint(_LATIN_MARKS[code]):
        return True
    return not COMMON_WORDS[code].isdisjoint(_bare(word) for word in words)


def _bare(word: str) -> str:
    return word.strip(".,!?;:()\"'«»„“”…").casefold()


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
    allowed = [
        (code, confidence)
        for code, confidence in confidences(" ".join(words))
        if SCRIPTS.get(code) == script
        and not ruled_out(code, letters)
        and shows(code, words, letters)
    ]
    kurmanji = script == "LATIN" and kurmanji_evidence(words, letters)
    if own_script != script:
        # The chosen language cannot be written in this script: the best reading that shows
        # something of its language, else the chosen language written in Latin letters.
        if kurmanji:
            return KURMANJI
        if script != "LATIN":
            return allowed[0][0] if allowed else None
        if len(_ARABIZI.findall(" ".join(words))) >= 2:
            return None
        return allowed[0][0] if allowed and allowed[0][1] >= MIN_CONFIDENCE else None
    if kurmanji:
        return None if chosen == KURMANJI else KURMANJI
    if ruled_out(chosen, letters):
        if not allowed:
            return None
        best, confidence = allowed[0]
        if script != "LATIN":
            # Arabic and Cyrillic letters come from the keyboard, every word of the text:
            # the neighbour is meant, lingua only says which one.
            return best
        # A Latin letter can come with a name (Gülşen in a German note): lingua must agree.
        return best if confidence >= MIN_CONFIDENCE else None
    if len(words) < SHORT_WORDS or not allowed:
        return None
    best, confidence = allowed[0]
    if best == chosen or confidence < STRONG:
        return None
    if chosen == KURMANJI and best != "de":
        # lingua reads Kurmanji as Turkish, Romanian, Polish or English, never as German.
        return None
    return None if best in OWN and OWN[best].isdisjoint(letters) else best


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
