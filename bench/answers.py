"""How well does the answer library find the right prepared answer?

    .venv/bin/python bench/answers.py [--sweep]

Runs the matcher (``bot.services.answer_match``) over the labelled resident questions of
``tests/data/answers/questions.yaml`` against the 18-entry library of
``tests/data/answers/library.yaml`` — on the German machine translation stored beside each
question not in German, as the bot would see it — and prints precision and recall of the
suggestions to staff and of the offers to residents, overall and per language. With
``--sweep`` it also prints the figures for other thresholds (to calibrate them).
tests/test_answers.py asserts the goals on the same set.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.services.answer_match import RESIDENTS, STAFF, Candidate, Finder, Thresholds, decide
from storage import Storage
from storage.answers import StoredAnswer

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "answers"


@dataclass
class Figures:
    asked: int = 0
    answerable: int = 0
    given: int = 0
    right: int = 0

    @property
    def precision(self) -> float:
        return self.right / self.given if self.given else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.answerable if self.answerable else 1.0


@dataclass
class Report:
    staff: dict[str, Figures] = field(default_factory=dict)
    residents: dict[str, Figures] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)


def load_library(path: Path = DATA / "library.yaml") -> list[StoredAnswer]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        StoredAnswer(e["key"], e["text"], tuple(e.get("phrases", ())), e.get("translations", {}))
        for e in data["answers"]
    ]


def load_questions(path: Path = DATA / "questions.yaml") -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["questions"])


async def rank_all(tmp: Path) -> list[tuple[dict[str, Any], list[Candidate]]]:
    storage = Storage(tmp / "answers.sqlite3")
    await storage.open()
    try:
        finder = Finder(storage.answers, "de")
        await finder.reindex(load_library())
        return [(q, await finder.candidates(q.get("de") or q["text"])) for q in load_questions()]
    finally:
        await storage.close()


def score(
    ranked: list[tuple[dict[str, Any], list[Candidate]]],
    staff: Thresholds = STAFF,
    residents: Thresholds = RESIDENTS,
) -> Report:
    report = Report()
    for question, candidates in ranked:
        accepted = set(str(question["key"]).split("|")) - {"none"}
        for name, limits, table in (
            ("staff", staff, report.staff),
            ("residents", residents, report.residents),
        ):
            chosen = decide(candidates, limits)
            for lang in (question["lang"], "all"):
                figures = table.setdefault(lang, Figures())
                figures.asked += 1
                figures.answerable += bool(accepted)
                if chosen is not None:
                    figures.given += 1
                    figures.right += chosen.key in accepted
            if chosen is not None and chosen.key not in accepted:
                report.wrong.append(
                    f"{name}: {question['lang']} {question['key']} -> {chosen.key}"
                    f" ({chosen.score:.2f}, {chosen.coverage:.2f}): {question.get('de') or question['text']}"
                )
    return report


def table(report: Report) -> str:
    lines = [
        f"{'language':<9} {'n':>4}  {'staff P':>8} {'staff R':>8}  {'res. P':>8} {'res. R':>8}"
    ]
    for lang in sorted(report.staff, key=lambda k: (k == "all", k)):
        s, r = report.staff[lang], report.residents[lang]
        lines.append(
            f"{lang:<9} {s.asked:>4}  {s.precision:>8.2f} {s.recall:>8.2f}  {r.precision:>8.2f} {r.recall:>8.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        ranked = asyncio.run(rank_all(Path(tmp)))
    report = score(ranked)
    print("goals: staff P >= 0.90 at R >= 0.70; residents P >= 0.97 at R >= 0.50")
    print(f"staff: {STAFF}\nresidents: {RESIDENTS}\n")
    print(table(report))
    for line in report.wrong:
        print("wrong", line)
    if "--sweep" in sys.argv:
        for s in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0):
            for c in (0.0, 0.3, 0.5, 0.6, 0.8):
                for m in (0.0, 0.2, 0.3, 0.5):
                    limits = Thresholds(s, m, c)
                    rep = score(ranked, limits, limits)
                    a = rep.staff["all"]
                    print(f"score {s} cov {c} margin {m}: P {a.precision:.3f} R {a.recall:.3f}")
    if "--show" in sys.argv:
        for q, found in ranked:
            top = ", ".join(f"{x.key} {x.score:.2f}/{x.coverage:.2f}" for x in found[:3])
            print(f"{q['lang']} {q['key']:<12} | {top} | {q.get('de') or q['text']}")


if __name__ == "__main__":
    main()
