"""The article pipeline: relevance, summary, who said what, and a judgement for every candidate pair.

Used alike by the Discord bot, ``scan`` and ``demo``; it knows nothing of Discord.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from models.backend import LLM
from models.extract import Statement, extract_statements
from models.judge import ClashJudge, topic_words
from models.prompts import PROMPT_VERSION
from models.summarize import summarize
from pipeline.alerts import Clash, subscription_wants
from pipeline.feeds import FeedItem
from pipeline.language import detect_language
from pipeline.people import mentioned_people
from pipeline.relevance import RelevanceConfig, is_relevant
from storage.interfaces import StanceStore
from storage.records import Article, Judgement, Person, Position, Question, judgement_id, validate
from storage.records import Statement as StatementRecord

log = logging.getLogger(__name__)
CANDIDATES_PER_STATEMENT = 3
TITLE_TOKENS = 96
"""A title is a line, not a document: a hostile feed's 1 MB title reaches no prompt whole."""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class ArticleReport:
    url: str
    title: str
    language: str
    relevant: bool
    summary: str = ""
    translations: dict[str, str] = field(default_factory=dict)
    """Summaries in the other languages that subscribed channels read, by language code."""
    people: list[str] = field(default_factory=list)
    statements: list[dict[str, str]] = field(default_factory=list)
    judgements: list[dict[str, Any]] = field(default_factory=list)
    clashes: list[Clash] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["clashes"]
        return data


def rank_positions(
    statement: str, positions: list[Position], questions: dict[str, Question], person: Person | None = None
) -> list[Position]:
    """Positions sharing topic words or question keywords with the statement, best match first.

    The person's own names do not count (every statement and claim about them names
    them). A position that shares nothing is about another question: it is never
    sent to the judge.
    """
    names = set().union(*(topic_words(n) for n in person.names())) if person else set()
    words = topic_words(statement) - names
    lowered = statement.casefold()

    def score(pos: Position) -> int:
        question = questions.get(pos.question)
        keywords = question.keywords if question else []
        overlap = len(words & (topic_words(pos.claim) | topic_words(question.text if question else "")))
        return overlap + 2 * sum(1 for k in keywords if k.casefold() in lowered)

    scored = [(score(pos), pos) for pos in positions]
    return [pos for s, pos in sorted(scored, key=lambda sp: -sp[0]) if s > 0]


class ArticlePipeline:
    def __init__(
        self,
        engine: LLM,
        store: StanceStore,
        judge: ClashJudge,
        *,
        record: bool = True,
        relevance: RelevanceConfig | None = None,
    ) -> None:
        """With ``record=False`` (``scan``) the store is only read: nothing is saved and no alert is claimed."""
        self.engine = engine
        self.store = store
        self.judge = judge
        self.record = record
        self.relevance = relevance or RelevanceConfig()

    async def process(self, item: FeedItem, finish: Callable[[ArticleReport], None] | None = None) -> ArticleReport:
        """Run the article through the model and record what it found.

        ``finish`` (the watcher's: outbox messages, inbox completion) runs in the same store call as the records
        and alert claims, so that no commit can persist a claim without the message it leads to.
        """
        text = f"{item.title}\n{item.text}"
        people = mentioned_people(text, await self.store.run(self.store.people))
        language = detect_language(text)
        report = ArticleReport(item.url, item.title, language, relevant=False, people=[p.name for p in people])
        title = self.engine.truncate(item.title, TITLE_TOKENS)  # article bodies are cut where they are used
        report.relevant = await is_relevant(
            self.engine, title, item.text, names_tracked_person=bool(people), config=self.relevance
        )
        questions = {q.id: q for q in await self.store.run(self.store.questions)}
        statements: list[Statement] = []
        judgements: list[Judgement] = []
        if report.relevant:
            report.summary = await summarize(self.engine, title, item.text, language)
            for other in await self.store.run(self._summary_languages, item.feed_url):
                if other != language:
                    translated = await summarize(self.engine, title, item.text, other)
                    if detect_language(translated) == other:  # a small model may answer in the wrong language
                        report.translations[other] = translated
            statements = await extract_statements(self.engine, title, item.text, people)
            judgements = await self._judge_all(report, item, statements, people, questions)
        if self.record:
            await self.store.run(self._record, item, report, judgements, statements, questions, finish)
        return report

    async def _judge_all(
        self,
        report: ArticleReport,
        item: FeedItem,
        statements: list[Statement],
        people: list[Person],
        questions: dict[str, Question],
    ) -> list[Judgement]:
        names = {p.id: p.name for p in people}
        by_id = {p.id: p for p in people}
        judgements: list[Judgement] = []
        for statement in statements:
            report.statements.append(
                {"person": names[statement.person], "text": statement.text, "origin": statement.origin}
            )
            positions = await self.store.run(self.store.positions, statement.person)
            ranked = rank_positions(statement.text, positions, questions, by_id.get(statement.person))
            for position in ranked[:CANDIDATES_PER_STATEMENT]:
                judgements.append(await self._judge(report, item, statement, position, questions, names))
        return judgements

    async def _judge(
        self,
        report: ArticleReport,
        item: FeedItem,
        statement: Statement,
        position: Position,
        questions: dict[str, Question],
        names: dict[str, str],
    ) -> Judgement:
        question = questions.get(position.question)
        result = await self.judge.judge(position.claim, statement.text, question=question, stance=position.stance)
        record = Judgement(
            position=position.id,
            person=statement.person,
            statement=statement.text,
            verdict=result.verdict,
            confidence=round(result.confidence, 4),
            reason=result.reason,
            article=item.url,
            probabilities={k: round(v, 4) for k, v in result.probabilities.items()},
            model=self.engine.info.model_name,
            prompt_version=PROMPT_VERSION,
            profile=self.judge.profile.name,
            subtype=result.subtype,
            severity=result.severity,
            judged_at=_now(),
        )
        report.judgements.append(
            {
                "person": names[statement.person],
                "position": position.claim,
                "position_id": position.id,
                "statement": statement.text,
                "verdict": result.verdict,
                "confidence": record.confidence,
                "reason": result.reason,
            }
        )
        if self.judge.is_alert(result):
            report.clashes.append(
                Clash(
                    person_id=statement.person,
                    person=names[statement.person],
                    question_id=position.question,
                    question=question.text if question else position.question,
                    position_id=position.id,
                    position_claim=position.claim,
                    position_date=position.date,
                    position_source=position.source(),
                    statement=statement.text,
                    statement_quote=statement.quote,
                    article_url=item.url,
                    article_title=item.title,
                    article_date=item.published,
                    verdict=result.verdict,
                    confidence=record.confidence,
                    reason=result.reason,
                    model=record.model,
                    prompt_version=PROMPT_VERSION,
                    profile=record.profile,
                    subtype=result.subtype,
                    severity=result.severity,
                )
            )
        return record

    def _summary_languages(self, feed_url: str) -> set[str]:
        """The languages of the channels that will receive this article's summary."""
        return {s.language for s in self.store.subscriptions() if subscription_wants(s, feed_url=feed_url)}

    def _record(
        self,
        item: FeedItem,
        report: ArticleReport,
        judgements: list[Judgement],
        statements: list[Statement],
        questions: dict[str, Question],
        finish: Callable[[ArticleReport], None] | None,
    ) -> None:
        """Store the article, what it attributes to whom and every judgement; keep only new clashes.

        A statement on a known question is also proposed as a position, which waits
        for a moderator's ``/manage-stances confirm``: the memory grows, but the model never
        writes history alone. Nothing is flushed here: the caller commits these changes
        together with the outbox messages they lead to, so a crash keeps both or neither.
        """
        date = item.published[:10] or _now()[:10]
        stored = [
            StatementRecord(
                id=hashlib.sha256(f"{s.person}\n{s.text}\n{item.url}".encode()).hexdigest()[:16],
                person=s.person,
                text=s.text,
                article=item.url,
                quote=s.quote,
                date=date,
                kind="did" if s.kind == "did" else "said",
                question=best_question(s.text, questions),
            )
            for s in statements
        ]
        article = Article(
            identity=item.identity,
            url=item.url,
            feed=item.feed_url,
            title=item.title,
            language=report.language,
            published=item.published,
            fetched=_now(),
            relevant=report.relevant,
            summary=report.summary,
            people=report.people,
            text=item.text,
        )
        proposals = [
            self._proposal(item, s) for s in stored if s.question and self.store.position(f"proposed-{s.id}") is None
        ]
        for record in (article, *judgements, *stored, *proposals):  # decided whole before anything is written
            validate(record)
        self.store.record_article(article, judgements, stored)
        for proposal in proposals:
            self.store.add_position(proposal)
        report.clashes = [c for c in report.clashes if self.store.claim_alert(judgement_id(c.position_id, c.statement))]
        if finish is not None:
            finish(report)

    def _proposal(self, item: FeedItem, statement: StatementRecord) -> Position:
        return Position(
            id=f"proposed-{statement.id}",
            person=statement.person,
            question=statement.question,
            stance="mixed",  # the moderator who confirms it says which way it goes
            claim=statement.text,
            source_url=item.url if item.url.startswith(("http://", "https://")) else "",
            date=statement.date,
            quote=statement.quote,
            outlet=urlsplit(item.url).hostname or urlsplit(item.feed_url).hostname or "",
            published=item.published,
            origin=f"extracted by {self.engine.info.model_name} with prompts {PROMPT_VERSION}",
            status="proposed",
            article=item.identity,
            feed=item.feed_url,
        )


def best_question(text: str, questions: dict[str, Question]) -> str:
    """The question whose keywords the text names most, or "" when it names none."""
    lowered = text.casefold()
    hits = {q.id: sum(1 for k in q.keywords if k.casefold() in lowered) for q in questions.values()}
    best = max(hits, key=lambda q: hits[q], default="")
    return best if best and hits[best] > 0 else ""
