"""The analysis of one article: relevance, summary, who said what, and a judgement for every candidate pair.

It decides and returns an :class:`ArticleOutcome`; it writes nothing (``pipeline.update`` does, in one unit of work).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from analysis.learning import LearnedJudges, ServerLearning
from analysis.relevance import RelevanceConfig, is_relevant
from delivery.routing import subscription_wants
from domain.clash import Clash
from domain.language import detect_language
from domain.names import mentioned_people
from domain.records import Article, FeedItem, Judgement, Person, Position, Question, validate
from domain.records import Statement as StatementRecord
from domain.words import korean_stems, mentions_ai, side_groups, topic_words
from llm.runtime.backend import LLM
from llm.tasks.extract import ExtractedStatement, extract_statements
from llm.tasks.judge import ClashJudge, Ruling
from llm.tasks.prompts import PROMPT_VERSION
from llm.tasks.summarize import summarize
from storage.interfaces import StanceStore

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
    them). An action or thing the question's side descriptions name counts in either
    language (:func:`domain.words.side_groups`), so "xAI가 슈퍼컴퓨터를 구축했다" reaches a
    question whose other side "builds … computing power". Korean words count by their
    stem (:func:`domain.words.korean_stems`: 무기에 ~ 무기), against a Korean claim and a
    moderator's confirmed Korean sides. A position that shares nothing is about another
    question: it is never sent to the judge.
    """
    names = set().union(*(topic_words(n) for n in person.names())) if person else set()
    korean_names = set().union(*(korean_stems(n) for n in person.names())) if person else set()
    words, stems = topic_words(statement) - names, korean_stems(statement) - korean_names
    lowered = statement.casefold()
    about_ai = mentions_ai(statement)
    groups = side_groups(statement) if about_ai else frozenset()

    def score(pos: Position) -> int:
        question = questions.get(pos.question)
        keywords = question.keywords if question else []
        overlap = len(words & (topic_words(pos.claim) | topic_words(question.text if question else "")))
        overlap += len(stems & korean_stems(f"{pos.claim} {_korean_question(question, about_ai)}"))
        sides = side_groups(f"{question.supports} {question.opposes}") if question else frozenset()
        return overlap + 2 * sum(1 for k in keywords if k.casefold() in lowered) + len(groups & sides)

    scored = [(score(pos), pos) for pos in positions]
    return [pos for s, pos in sorted(scored, key=lambda sp: -sp[0]) if s > 0]


def _korean_question(question: Question | None, with_sides: bool) -> str:
    """A moderator's question's confirmed Korean sides (``/manage-stances sides``), for a statement about AI
    (``with_sides``): its only Korean description. The question's translation is left out: its generic words
    (개발, 최첨단) would send every Korean statement to every question, and each pair judged costs model time."""
    if question is None or not with_sides:
        return ""
    return " ".join(question.side_translations.get("ko", {}).values())


@dataclass
class ArticleOutcome:
    """What the analysis of one article decided, with nothing of it written yet.

    :func:`pipeline.update.commit_article` writes it whole, in one unit of work: the article, its statements and
    judgements, the proposals not stored yet, the clashes whose alert it claims first, and their messages.
    """

    report: ArticleReport
    article: Article
    statements: list[StatementRecord] = field(default_factory=list)
    judgements: list[Judgement] = field(default_factory=list)
    proposals: list[Position] = field(default_factory=list)
    """Statements on a known question, as positions a moderator may confirm (``/manage-stances confirm``)."""


class ArticleAnalysis:
    """Relevance, summary, who said what, and a judgement for every candidate pair; it reads the store, never writes.

    Used alike by the bot (through the watcher), ``scan`` and ``demo``; it knows nothing of Discord.
    """

    def __init__(
        self, engine: LLM, store: StanceStore, judge: ClashJudge, *, relevance: RelevanceConfig | None = None
    ) -> None:
        self.engine = engine
        self.store = store
        self.judge = judge
        self.relevance = relevance or RelevanceConfig()
        self._learned: dict[int, ServerLearning] = {}
        self.learning = LearnedJudges()
        """Each server's learned judge: its reviews, measured effect and re-fitted threshold."""

    async def analyse(self, item: FeedItem) -> ArticleOutcome:
        """Run the article through the model; the outcome says what to record and whom to alert."""
        text = f"{item.title}\n{item.text}"
        people = mentioned_people(text, await self.store.run(self.store.people))
        language = detect_language(text)
        report = ArticleReport(item.url, item.title, language, relevant=False, people=[p.name for p in people])
        title = self.engine.truncate(item.title, TITLE_TOKENS)  # article bodies are cut where they are used
        report.relevant = await is_relevant(
            self.engine, title, item.text, names_tracked_person=bool(people), config=self.relevance
        )
        questions = {q.id: q for q in await self.store.run(self.store.questions)}
        statements: list[ExtractedStatement] = []
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
        return self._outcome(item, report, judgements, statements, questions)

    async def _judge_all(
        self,
        report: ArticleReport,
        item: FeedItem,
        statements: list[ExtractedStatement],
        people: list[Person],
        questions: dict[str, Question],
    ) -> list[Judgement]:
        names = {p.id: p.name for p in people}
        by_id = {p.id: p for p in people}
        self._learned = {} if not statements else await self.store.run(self.learning.active, self.store)
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
        statement: ExtractedStatement,
        position: Position,
        questions: dict[str, Question],
        names: dict[str, str],
    ) -> Judgement:
        """The judgement record, with its line in the report and, above the alert threshold, its clash candidate."""
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
        person = names[statement.person]
        report.judgements.append(
            {
                "person": person,
                "position": position.claim,
                "position_id": position.id,
                "statement": record.statement,
                "verdict": record.verdict,
                "confidence": record.confidence,
                "reason": record.reason,
                "flagged": result.flagged,
            }
        )
        alert, alert_in = self.judge.is_alert(result), None
        if self._learned and (result.checks or result.method == "pair"):
            alert_in = await self._servers_alerted(result, position, question, statement.text, alert)
            alert = alert if alert_in is None else bool(alert_in)
        if alert:
            clash = Clash.of(
                record,
                person,
                position,
                question,
                item,
                quote=statement.quote,
                translation=statement.translation,
                flagged=result.flagged,
                alert_in=alert_in or (),
            )
            report.clashes.append(clash)
        return record

    async def _servers_alerted(
        self, result: Ruling, position: Position, question: Question | None, statement: str, shipped: bool
    ) -> tuple[int, ...] | None:
        """The servers that get this would-be alert when some learned judge differs from the shipped one (None when
        every learned judge agrees with it): each learned server by its own reading at its re-fitted threshold,
        the rest by the shipped one."""
        own = {}
        for guild, state in self._learned.items():
            effect = self.learning.effect(self.judge, state)  # the shipped threshold until the re-fit is measured
            threshold = effect.threshold_for(result.method) if effect is not None else None
            own[guild] = await self.judge.alerts_with(
                result, position.claim, statement, state.examples, threshold, question=question, stance=position.stance
            )
        if all(decision == shipped for decision in own.values()):
            return None
        guilds = {s.guild_id for s in await self.store.run(self.store.subscriptions)} | set(own)
        return tuple(sorted(guild for guild in guilds if own.get(guild, shipped)))

    def _summary_languages(self, feed_url: str) -> set[str]:
        """The languages of the channels that will receive this article's summary."""
        return {s.language for s in self.store.subscriptions() if subscription_wants(s, feed_url=feed_url)}

    def _outcome(
        self,
        item: FeedItem,
        report: ArticleReport,
        judgements: list[Judgement],
        statements: list[ExtractedStatement],
        questions: dict[str, Question],
    ) -> ArticleOutcome:
        """The records the article leads to, each validated now, so that nothing is written that would not load."""
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
        article = Article.of(
            item,
            _now(),
            language=report.language,
            relevant=report.relevant,
            summary=report.summary,
            people=report.people,
            text=item.text if report.relevant else "",  # an irrelevant article keeps its metadata, not its body
        )
        proposals = [self._proposal(item, s) for s in stored if s.question]
        for record in (article, *judgements, *stored, *proposals):
            validate(record)
        return ArticleOutcome(report, article, stored, judgements, proposals)

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
