"""Score ``/ask`` on a labelled question set: stance, citations, language, and honesty about what is not stored.

The set (``evals/ask_questions.json``) holds questions over the starter pack, each with the expected stance
(yes / no / mixed / not stored), the evidence ids the answer must cite and those it may also cite, and the
language the answer must be in. Its ``setup`` statements are recorded first, as articles would be, so that some
stances are mixed. Citation precision counts a citation as right when it points at evidence labelled as
supporting the answer; recall, when a required id is cited.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from analysis.ask import AnswerStance, AskResult, ask
from domain.language import detect_language
from domain.records import Article, Judgement, RecordError, Statement
from llm.runtime.backend import LLM
from storage.interfaces import StanceStore

STANCES = ("yes", "no", "mixed", "not stored")


@dataclass(frozen=True)
class AskCase:
    id: str
    question: str
    language: str
    stance: AnswerStance
    cite: frozenset[str]
    may_cite: frozenset[str]


@dataclass(frozen=True)
class AskSet:
    cases: list[AskCase]
    statements: list[tuple[Statement, Judgement]]


def _statement(where: str, row: dict[str, Any]) -> tuple[Statement, Judgement]:
    try:
        judged = row["judged"]
        statement = Statement(
            row["id"], row["person"], row["text"], row["article"], date=row["date"], kind=row["kind"],
            question=row["question"],
        )  # fmt: skip
        verdict = Judgement(
            judged["position"], row["person"], row["text"], judged["verdict"], float(judged["confidence"]),
            "labelled for the /ask evaluation", article=row["article"],
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(
            where, f"a setup statement needs id, person, text, article, date, kind, question and judged ({exc})"
        ) from None
    return statement, verdict


def _case(where: str, row: dict[str, Any]) -> AskCase:
    try:
        case = AskCase(
            str(row["id"]), str(row["question"]), str(row["language"]), row["stance"],
            frozenset(row.get("cite", [])), frozenset(row.get("may_cite", [])),
        )  # fmt: skip
    except (KeyError, TypeError) as exc:
        raise RecordError(where, f"a question needs id, question, language and stance ({exc})") from None
    if case.stance not in STANCES:
        raise RecordError(f"{where}.stance", f"must be one of {', '.join(STANCES)}")
    if case.language not in ("en", "ko"):
        raise RecordError(f"{where}.language", "must be en or ko")
    return case


def load_ask_set(path: Path, limit: int | None = None) -> AskSet:
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = data.get("questions") if isinstance(data, dict) else None
    setup = data.get("setup", []) if isinstance(data, dict) else None
    if not isinstance(rows, list) or not isinstance(setup, list):
        raise RecordError(str(path), "not an /ask question set (an object with a questions list)")
    cases = [_case(f"{path}:questions[{i}]", row) for i, row in enumerate(rows)]
    statements = [_statement(f"{path}:setup[{i}]", row) for i, row in enumerate(setup)]
    return AskSet(cases[:limit] if limit is not None else cases, statements)


def record_setup(store: StanceStore, ask_set: AskSet) -> None:
    """On the store's thread: the set's statements, recorded the way the pipeline records an article's."""
    for statement, judgement in ask_set.statements:
        store.record_article(Article(f"eval:{statement.id}", statement.article), [judgement], [statement])


@dataclass(frozen=True)
class Outcome:
    case: AskCase
    result: AskResult
    seconds: float

    @property
    def cited(self) -> set[str]:
        return {s.id for s in self.result.cited()}

    @property
    def language(self) -> str:
        return detect_language(self.result.text)

    def problems(self) -> list[str]:
        found = []
        if self.result.stance != self.case.stance:
            found.append(f"stance {self.result.stance!r}, expected {self.case.stance!r}")
        if wrong := self.cited - self.case.cite - self.case.may_cite:
            found.append(f"cites {', '.join(sorted(wrong))} (unsupported)")
        if missing := self.case.cite - self.cited:
            found.append(f"does not cite {', '.join(sorted(missing))}")
        if self.language != self.case.language:
            found.append(f"answered in {self.language}")
        return found


@dataclass(frozen=True)
class AskMetrics:
    n: int
    stance_accuracy: float
    citation_precision: float
    citation_recall: float
    language_accuracy: float
    not_stored_honest: float
    """Of the questions the store cannot answer: the share answered "not stored" with no citation."""
    false_not_stored: int
    """Answerable questions answered "not stored"."""
    median_s: float
    p90_s: float

    def line(self) -> str:
        return (
            f"stance_accuracy={self.stance_accuracy:.3f} citation_precision={self.citation_precision:.3f} "
            f"citation_recall={self.citation_recall:.3f} language_accuracy={self.language_accuracy:.3f} "
            f"not_stored_honest={self.not_stored_honest:.3f} false_not_stored={self.false_not_stored} "
            f"median_s={self.median_s:.2f} p90_s={self.p90_s:.2f} n={self.n}"
        )


def score(outcomes: list[Outcome]) -> AskMetrics:
    n = len(outcomes)
    cited = sum(len(o.cited) for o in outcomes)
    supported = sum(len(o.cited & (o.case.cite | o.case.may_cite)) for o in outcomes)
    required = sum(len(o.case.cite) for o in outcomes)
    found = sum(len(o.cited & o.case.cite) for o in outcomes)
    unanswerable = [o for o in outcomes if o.case.stance == "not stored"]
    honest = sum(1 for o in unanswerable if o.result.stance == "not stored" and not o.cited)
    seconds = sorted(o.seconds for o in outcomes)
    return AskMetrics(
        n=n,
        stance_accuracy=sum(o.result.stance == o.case.stance for o in outcomes) / n if n else 0.0,
        citation_precision=supported / cited if cited else 1.0,
        citation_recall=found / required if required else 1.0,
        language_accuracy=sum(o.language == o.case.language for o in outcomes) / n if n else 0.0,
        not_stored_honest=honest / len(unanswerable) if unanswerable else 1.0,
        false_not_stored=sum(1 for o in outcomes if o.case.stance != "not stored" and o.result.stance == "not stored"),
        median_s=statistics.median(seconds) if seconds else 0.0,
        p90_s=seconds[min(n - 1, int(0.9 * n))] if seconds else 0.0,
    )


async def evaluate_ask(store: StanceStore, engine: LLM, cases: list[AskCase], out: TextIO) -> AskMetrics:
    """Ask every question through :func:`analysis.ask.ask`, print each miss, and the figures (last line last)."""
    outcomes = []
    for case in cases:
        started = time.perf_counter()
        result = await ask(store, engine, case.question)
        outcomes.append(Outcome(case, result, time.perf_counter() - started))
    for outcome in outcomes:
        if problems := outcome.problems():
            out.write(
                f"{outcome.case.id} {outcome.case.question}\n  {'; '.join(problems)}\n  -> {outcome.result.text}\n"
            )
    metrics = score(outcomes)
    out.write(f"model={engine.info.model_name}\n{metrics.line()}\n")
    return metrics
