"""The answer library's search: stems, typos, compounds, and the calibrated goals on the
labelled test set (tests/data/answers/questions.yaml; figures per language: bench/answers.py)."""

from __future__ import annotations

from pathlib import Path

from bench.answers import rank_all, score, table
from bot.services.answer_match import (
    RESIDENTS,
    STAFF,
    Candidate,
    Thresholds,
    decide,
    known_terms,
    terms,
)


def test_terms_are_stems_without_filler_words() -> None:
    assert terms("Hallo, ich möchte Wohngeld beantragen!") == ["wohngeld", "beantrag"]
    assert terms("Für die Kinder") == terms("fur die kinder") == ["kind"]


def test_typos_and_compounds_become_known_words() -> None:
    vocabulary = {"kindergeld": 2, "kita": 3, "platz": 1}
    assert known_terms(["kindergelt"], vocabulary) == ["kindergeld"]
    assert known_terms(["kitaplatz"], vocabulary) == ["kita", "platz"]
    assert known_terms(["nachbar"], vocabulary) == []


def test_decide_needs_score_coverage_and_lead() -> None:
    limits = Thresholds(score=2.0, margin=0.3, coverage=0.5)
    assert decide([], limits) is None
    assert decide([Candidate("a", 5.0, 1.0)], limits) == Candidate("a", 5.0, 1.0)
    assert decide([Candidate("a", 1.9, 1.0)], limits) is None
    assert decide([Candidate("a", 5.0, 0.4)], limits) is None
    assert decide([Candidate("a", 5.0, 1.0), Candidate("b", 4.0, 1.0)], limits) is None


async def test_goals_on_the_labelled_questions(tmp_path: Path) -> None:
    ranked = await rank_all(tmp_path)
    assert len(ranked) >= 100
    assert len({q["lang"] for q, _ in ranked}) >= 6
    report = score(ranked, STAFF, RESIDENTS)
    staff, residents = report.staff["all"], report.residents["all"]
    figures = table(report)
    assert staff.precision >= 0.9 and staff.recall >= 0.7, figures
    assert residents.precision >= 0.97 and residents.recall >= 0.5, figures
