"""Finding the prepared answer for a resident's question (in the staff language).

Three steps, each from a library that does one thing well:
- ``snowballstemmer`` (pure Python, no dependencies, the Snowball stemmers SQLite's own
  porter tokenizer has only for English): "beantragen", "beantragt" and "Antrag" are
  searched as their stems, so the few phrases of an entry cover the ways people write them.
- ``rapidfuzz`` (C++ with wheels, no dependencies): a word not in the library's vocabulary
  is replaced by the closest one within a small edit distance — residents' typos
  ("kindergelt", "wohngelt") and a machine translation's odd spellings ("Burger Geld").
  Hand-written Levenshtein over the vocabulary would be slower and less tested.
- SQLite's FTS5 with bm25 ranks the phrases and answers sharing the stems.

The decision whether a match is good enough is :func:`decide`, with thresholds calibrated
on ``tests/data/answers/questions.yaml`` (``bench/answers.py`` prints the figures).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]
from rapidfuzz import fuzz, process

from storage.answers import Answers, Hit, StoredAnswer

_WORD = re.compile(r"[^\W\d_]{2,}")
_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})

# Words that say nothing about what a question is about. The library's own answers are
# full of them too; left in, they would match everything a little.
STOPWORDS: dict[str, frozenset[str]] = {
    "de": frozenset(
        str.split(
            """aber alle als also am an auch auf aus bei beim bin bis bitte bzw da dafür damit dann
        das dass dem den denn der des die dies diese diesem diesen dieser doch dort du durch
        ein eine einem einen einer eines er es etwas euch euer für gibt gut guten hab habe haben
        hallo hat hatte hier ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ist ja jetzt
        kann kannst können könnten man mein meine meinem meinen meiner mich mir mit möchte
        muss müssen nach nicht noch nun nur ob oder ohne schon sehr sein seine sich sie sind
        so soll sollte tag um und uns unser unsere von vor war was weil wenn wer wie wieder
        wir wird wo wollte würde zu zum zur über morgen danke dank frage fragen grüße
        freundlichen hi hey selam gerne bekomme bekommen brauche brauchen machen mache tun
        suche suchen sucht finde finden findet brief briefe hilfe helfen helfe"""
        )
    )
}


@lru_cache(maxsize=8)
def _folded_stopwords(language: str) -> frozenset[str]:
    return frozenset(w.translate(_UMLAUTS) for w in STOPWORDS.get(language, frozenset()))


@lru_cache(maxsize=8)
def _stemmer(language: str) -> snowballstemmer.stemmer | None:
    name = {"de": "german", "en": "english"}.get(language.split("_")[0])
    return snowballstemmer.stemmer(name) if name else None


def terms(text: str, language: str = "de") -> list[str]:
    """The stems of a text's meaningful words, in order, umlauts folded (a resident's
    "fur" and a translation's "für" are one term)."""
    stop = _folded_stopwords(language)
    words = [w for w in _WORD.findall(text.casefold().translate(_UMLAUTS)) if w not in stop]
    stemmer = _stemmer(language)
    stems = stemmer.stemWords(words) if stemmer is not None else words
    return [str(s).translate(_UMLAUTS) for s in stems]


def known_terms(words: Sequence[str], vocabulary: dict[str, int]) -> list[str]:
    """The question's terms as the library knows them: a word the library does not have is
    replaced by a close one (a typo), or by the known words it is made of (a compound:
    "kitaplatz" → "kita", "platz")."""
    found: list[str] = []
    if not vocabulary:
        return found
    for word in words:
        if word in vocabulary:
            found.append(word)
            continue
        if len(word) >= 5:
            close = process.extractOne(word, vocabulary.keys(), scorer=fuzz.ratio, score_cutoff=84)
            if close is not None:
                found.append(close[0])
                continue
        if len(word) >= 7:
            parts = [v for v in vocabulary if len(v) >= 4 and v != word and word.startswith(v)]
            parts += [v for v in vocabulary if len(v) >= 4 and v != word and word.endswith(v)]
            found.extend(parts)
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Candidate:
    key: str
    score: float
    """The best phrase's bm25 times how much of that phrase the question covers, plus a
    small part for the answer text."""
    coverage: float
    """The share (by idf) of the best phrase's terms found in the question."""


def rank(
    hits: Iterable[Hit], question: Sequence[str], vocabulary: dict[str, int]
) -> list[Candidate]:
    """One candidate per entry, best first."""
    asked = set(question)
    total = max(vocabulary.values(), default=1) + 1

    def idf(term: str) -> float:
        return math.log(1 + total / (1 + vocabulary.get(term, 0)))

    best: dict[str, tuple[float, float]] = {}
    answer_part: dict[str, float] = {}
    for hit in hits:
        if hit.kind == "a":
            answer_part[hit.key] = max(answer_part.get(hit.key, 0.0), hit.score)
            continue
        phrase = set(hit.terms.split())
        weight = sum(idf(t) for t in phrase) or 1.0
        coverage = sum(idf(t) for t in phrase & asked) / weight
        score = hit.score * coverage
        if score > best.get(hit.key, (0.0, 0.0))[0]:
            best[hit.key] = (score, coverage)
    keys = set(best) | set(answer_part)
    found = [
        Candidate(
            key,
            best.get(key, (0.0, 0.0))[0] + ANSWER_WEIGHT * answer_part.get(key, 0.0),
            best.get(key, (0.0, 0.0))[1],
        )
        for key in keys
    ]
    return sorted(found, key=lambda c: (-c.score, c.key))


ANSWER_WEIGHT = 0.15


@dataclass(frozen=True)
class Thresholds:
    score: float
    margin: float
    """How far the best must lead the second best (as a share of its score)."""
    coverage: float


STAFF = Thresholds(score=2.0, margin=0.0, coverage=0.5)
RESIDENTS = Thresholds(score=3.0, margin=0.3, coverage=0.7)


def decide(candidates: Sequence[Candidate], limits: Thresholds) -> Candidate | None:
    if not candidates:
        return None
    top = candidates[0]
    if top.score < limits.score or top.coverage < limits.coverage:
        return None
    if len(candidates) > 1 and top.score > 0:
        lead = (top.score - candidates[1].score) / top.score
        if lead < limits.margin:
            return None
    return top


def index_rows(entries: Iterable[StoredAnswer], language: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for entry in entries:
        for phrase in entry.phrases:
            if found := terms(phrase, language):
                rows.append((entry.key, "p", " ".join(found)))
        if found := terms(entry.text, language):
            rows.append((entry.key, "a", " ".join(found)))
    return rows


class Finder:
    """The search over the library: its index is rebuilt from the entries on every change,
    and its vocabulary kept in memory for the typo step."""

    def __init__(self, repo: Answers, language: str) -> None:
        self.repo = repo
        self.language = language
        self.vocabulary: dict[str, int] = {}

    async def reindex(self, entries: Iterable[StoredAnswer]) -> None:
        await self.repo.reindex(index_rows(entries, self.language))
        self.vocabulary = await self.repo.vocabulary()

    async def candidates(self, text: str) -> list[Candidate]:
        question = known_terms(terms(text, self.language), self.vocabulary)
        hits = await self.repo.search(question)
        return rank(hits, question, self.vocabulary)
