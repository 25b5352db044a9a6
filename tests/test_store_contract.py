"""One contract, two backends: every test here runs unchanged on TinyDB files and on PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.records import (
    Article,
    Feed,
    Judgement,
    Person,
    Position,
    Question,
    RecordError,
    Statement,
    Subscription,
)
from storage import open_store
from storage.interfaces import StanceStore
from storage.operations import HOT_LIMITS

Location = str | Path


@pytest.fixture(params=["tinydb", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    if request.param == "tinydb":
        return tmp_path / "data"
    return str(request.getfixturevalue("database_url"))


@pytest.fixture
def seeded(location: Location) -> Iterator[StanceStore]:
    opened = open_store(location)
    yield opened
    opened.close()


@pytest.fixture
def empty(location: Location) -> Iterator[StanceStore]:
    opened = open_store(location, seed=False)
    yield opened
    opened.close()


def reopened(store: StanceStore, location: Location) -> StanceStore:
    """The same store after a restart: what a commit made durable, and nothing else."""
    store.close()
    return open_store(location)


def position(pid: str, person: str = "elon-musk", **changes: object) -> Position:
    base = Position(
        pid, person, "pause-frontier-ai", "favor", "Signed the pause letter.", "https://example.org/a", "2023-03-29"
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def judgement(pos: str, statement: str, judged_at: str, person: str = "elon-musk") -> Judgement:
    return Judgement(pos, person, statement, "inconsistent", 0.9, "flip", judged_at=judged_at)


# -- stances ------------------------------------------------------------------------------


def test_a_new_store_holds_the_starter_pack_and_finds_people_by_any_name(seeded: StanceStore) -> None:
    musk = seeded.find_person("  ELON musk ")
    assert musk is not None and musk.id == "elon-musk"
    assert seeded.find_person(musk.aliases[0]) == musk if musk.aliases else True
    assert seeded.find_person("nobody at all") is None
    assert seeded.question("pause-frontier-ai") is not None
    assert {p.person for p in seeded.positions()} >= {"elon-musk"}


def test_positions_are_validated_confirmed_and_removed(seeded: StanceStore) -> None:
    with pytest.raises(RecordError, match="unknown person"):
        seeded.add_position(position("p1", person="ghost"))
    with pytest.raises(RecordError, match="unknown question"):
        seeded.add_position(position("p1", question="no-such-question"))
    seeded.add_position(position("p1", status="proposed", stance="mixed"))
    assert seeded.position("p1") is not None and "p1" not in {p.id for p in seeded.positions("elon-musk")}
    assert [p.id for p in seeded.positions("elon-musk", status="proposed")] == ["p1"]
    confirmed = seeded.confirm_position("p1", "against", "mod#1")
    assert confirmed is not None and confirmed.status == "active" and confirmed.stance == "against"
    assert "confirmed by mod#1" in confirmed.origin
    assert seeded.confirm_position("p1", "favor", "mod#2") is None  # only a proposal can be confirmed
    assert seeded.remove_position("p1") and not seeded.remove_position("p1")
    assert seeded.position("p1") is None


def test_a_moderators_question_keeps_its_draft_and_confirmed_sides_across_a_restart(
    seeded: StanceStore, location: Location
) -> None:
    draft = {
        "en": {"supports": "calls for a ban", "opposes": "builds such weapons"},
        "ko": {"supports": "금지를 촉구한다"},
    }
    seeded.save_question(Question("ban-weapons", "Should autonomous weapons be banned?", ["weapon"], draft=draft))
    seeded.flush()
    store = reopened(seeded, location)
    try:
        assert store.question("ban-weapons") == Question(
            "ban-weapons", "Should autonomous weapons be banned?", ["weapon"], draft=draft
        )
        sides = {"ko": {"supports": "금지를 촉구한다", "opposes": "그런 무기를 만든다"}}
        confirmed = dataclasses.replace(
            store.question("ban-weapons"),
            supports="calls for a ban",
            opposes="builds",
            side_translations=sides,
            draft={},
        )
        store.save_question(confirmed)
        store.flush()
        store = reopened(store, location)
        assert store.question("ban-weapons") == confirmed
        store.add_position(position("p-ban", question="ban-weapons"))  # positions may now stand under it
    finally:
        store.close()


def test_the_question_limit_refuses_a_new_question_and_keeps_replacing_old_ones(
    seeded: StanceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(HOT_LIMITS, "questions", len(seeded.questions()))
    with pytest.raises(RecordError, match="at most"):
        seeded.save_question(Question("one-too-many", "Should there be one more question?"))
    kept = dataclasses.replace(seeded.questions()[0], keywords=["changed"])
    seeded.save_question(kept)
    assert seeded.question(kept.id) == kept


def test_an_import_merges_a_person_known_by_another_id(seeded: StanceStore) -> None:
    counts = seeded.import_data(
        {
            "people": [{"id": "musk2", "name": "Musk", "aliases": ["Elon Musk", "일론 머스크", "E. Musk"]}],
            "positions": [dataclasses.asdict(position("imported-1", person="musk2"))],
        }
    )
    assert counts == {"people": 1, "questions": 0, "positions": 1}
    assert seeded.person("musk2") is None
    musk = seeded.person("elon-musk")
    assert musk is not None and musk.name == "Elon Musk" and {"일론 머스크", "Musk", "E. Musk"} <= set(musk.aliases)
    stored = seeded.position("imported-1")
    assert stored is not None and stored.person == "elon-musk"


def test_a_bad_import_changes_nothing(seeded: StanceStore) -> None:
    before = seeded.export_data()
    bad = {
        "people": [{"id": "new-person", "name": "New Person"}],
        "positions": [dataclasses.asdict(position("ok")), {**dataclasses.asdict(position("bad")), "date": "soon"}],
    }
    with pytest.raises(RecordError, match=r"positions\[1\]\.date"):
        seeded.import_data(bad)
    with pytest.raises(RecordError, match="already the id"):
        seeded.import_data({"people": [{"id": "x", "name": "X"}, {"id": "x", "name": "Y"}]})
    too_many = [{"id": f"p{i}", "name": f"Person {i}"} for i in range(HOT_LIMITS["people"] + 1)]
    with pytest.raises(RecordError, match="at most"):
        seeded.import_data({"people": too_many})
    assert seeded.export_data() == before


# -- feeds, identities, inbox -------------------------------------------------------------


def test_feeds_move_and_leave_with_their_subscriptions(seeded: StanceStore) -> None:
    seeded.save_feed(Feed(url="https://old.example/feed", key="https://old.example/feed"))
    seeded.add_subscription(Subscription(1, 9, "feed", "https://old.example/feed"))
    seeded.add_subscription(Subscription(1, 9, "all"))
    moved = seeded.move_feed(seeded.feed("https://old.example/feed") or Feed(url=""), "https://new.example/feed")
    assert moved.key == "https://old.example/feed" and seeded.feed("https://old.example/feed") is None
    assert [f.url for f in seeded.feeds()] == ["https://new.example/feed"]
    assert {s.target for s in seeded.subscriptions(1)} == {"", "https://new.example/feed"}
    assert seeded.remove_feed("https://new.example/feed") and not seeded.remove_feed("https://new.example/feed")
    assert [s.target_kind for s in seeded.subscriptions(1)] == ["all"]


def test_a_leased_feed_is_not_leased_again_until_saved_or_expired(empty: StanceStore) -> None:
    for i, next_poll in enumerate([30.0, 10.0, 20.0, 999.0]):
        empty.save_feed(Feed(url=f"https://f{i}.example/rss", next_poll=next_poll))
    empty.save_feed(Feed(url="https://paused.example/rss", paused=True))
    taken = empty.lease_feeds("a", now=100.0, lease_s=60)
    assert [f.url for f in taken] == ["https://f1.example/rss", "https://f2.example/rss", "https://f0.example/rss"]
    assert empty.lease_feeds("b", now=100.0, lease_s=60) == []
    empty.save_feed(dataclasses.replace(taken[0], next_poll=50.0))  # polled: the lease ends with the save
    assert [f.url for f in empty.lease_feeds("b", now=100.0, lease_s=60)] == ["https://f1.example/rss"]
    assert [f.url for f in empty.lease_feeds("c", now=100.0, lease_s=0.01, limit=1)] == []


async def test_an_expired_lease_is_taken_over(empty: StanceStore) -> None:
    empty.save_feed(Feed(url="https://f.example/rss"))
    assert len(empty.lease_feeds("dead", now=1.0, lease_s=0.2)) == 1
    assert empty.lease_feeds("alive", now=1.0, lease_s=60) == []
    await asyncio.sleep(0.5)
    assert [f.url for f in empty.lease_feeds("alive", now=1.0, lease_s=60)] == ["https://f.example/rss"]


def test_identities_and_the_inbox_survive_a_restart(empty: StanceStore, location: Location) -> None:
    empty.mark_seen(["a", "b", "a"])
    empty.accept([{"identity": "a", "title": "first"}, {"identity": "b", "title": "second"}])
    empty.accept([{"identity": "c", "title": "third"}])
    empty.done("b")
    empty.done("never-accepted")
    empty.flush()
    again = reopened(empty, location)
    try:
        assert again.seen("a") and again.seen("b") and not again.seen("z")
        assert [i["title"] for i in again.inbox()] == ["first", "third"]
    finally:
        again.close()


def test_a_queued_item_is_held_by_one_process_until_done(empty: StanceStore) -> None:
    empty.accept([{"identity": "a"}, {"identity": "b"}], "p1", 60)
    empty.accept([{"identity": "c"}])  # nobody's: free for the first process that looks
    assert [i["identity"] for i in empty.take_inbox("p2", 60)] == ["c"]
    assert empty.take_inbox("p3", 60) == []
    assert empty.take_item("a", "p1", 60) and not empty.take_item("a", "p2", 60)
    empty.done("a")
    assert not empty.take_item("a", "p1", 60)  # finished: nobody processes it again
    assert [i["identity"] for i in empty.inbox()] == ["b", "c"]


async def test_a_dead_processes_items_are_taken_over(empty: StanceStore) -> None:
    empty.accept([{"identity": "a"}, {"identity": "b"}], "dead", 0.2)
    assert empty.take_inbox("alive", 60) == []
    await asyncio.sleep(0.5)
    assert [i["identity"] for i in empty.take_inbox("alive", 60, limit=1)] == ["a"]
    assert not empty.take_item("a", "dead", 60)  # it came back too late: its work is not stored
    assert empty.take_item("b", "dead", 60)  # expired but not taken: still its own


# -- archive ------------------------------------------------------------------------------------


def test_articles_statements_and_judgements_are_recorded_and_reviewed(seeded: StanceStore) -> None:
    article = Article("id-1", "https://news.example/1", fetched="2026-05-02T10:00:00Z", text="body", relevant=True)
    later = Statement("s2", "elon-musk", "bought GPUs", "https://news.example/1", date="2026-05-02")
    earlier = Statement("s1", "elon-musk", "called for a pause", "https://news.example/0", date="2023-03-29")
    first = judgement("pos-a", "bought GPUs", "2026-05-02T10:00:01Z")
    seeded.record_article(article, [first], [later, earlier])
    seeded.record_article(Article("id-2", "https://news.example/2", fetched="2026-06-01T00:00:00Z"), [])
    assert seeded.article("id-1") == article and seeded.article("id-3") is None
    assert [s.id for s in seeded.statements("elon-musk")] == ["s1", "s2"]
    assert seeded.statements("nobody") == []
    redone = dataclasses.replace(first, confidence=0.7, judged_at="2026-05-03T00:00:00Z")
    seeded.record_article(article, [redone, judgement("pos-b", "x", "2026-05-01T00:00:00Z", person="p2")])
    assert [j.position for j in seeded.judgements()] == ["pos-b", "pos-a"]
    assert [j.confidence for j in seeded.judgements("elon-musk")] == [0.7]
    reviewed = seeded.review(first.id, "confirmed", "mod#1")
    assert reviewed is not None and (reviewed.review, reviewed.reviewed_by) == ("confirmed", "mod#1")
    assert seeded.judgement(first.id) == reviewed
    assert seeded.review("unknown:0", "dismissed", "mod#1") is None


def test_an_alert_is_claimed_once(empty: StanceStore) -> None:
    assert not empty.is_alerted("pos:abc")
    assert empty.claim_alert("pos:abc")
    assert not empty.claim_alert("pos:abc")
    assert empty.claim_alert("pos:def")
    assert empty.is_alerted("pos:abc") and not empty.is_alerted("pos:xyz")


# -- delivery ------------------------------------------------------------------------------------


def test_subscriptions_are_added_updated_and_removed(empty: StanceStore) -> None:
    assert empty.add_subscription(Subscription(1, 9, "person", "elon-musk"))
    assert not empty.add_subscription(Subscription(1, 9, "person", "elon-musk", min_confidence=0.5))
    assert empty.add_subscription(Subscription(2, 9))
    assert [s.min_confidence for s in empty.subscriptions(1)] == [0.5]
    assert len(empty.subscriptions()) == 2
    assert empty.remove_subscription(1, "person", "elon-musk")
    assert not empty.remove_subscription(1, "person", "elon-musk")
    assert [s.channel_id for s in empty.subscriptions()] == [2]


def test_the_outbox_keeps_order_and_outcome(empty: StanceStore, location: Location) -> None:
    first = empty.enqueue(7, {"content": "one"})
    second = empty.enqueue(8, {"content": "two", "embeds": [{"title": "한국어"}]})
    third = empty.enqueue(7, {"content": "three"})
    assert [(c, p["content"]) for _, c, p in empty.pending()] == [(7, "one"), (8, "two"), (7, "three")]
    empty.mark_delivered(first, 1234)
    empty.mark_failed(second, "50035 Invalid Form Body")
    assert [i for i, _, _ in empty.pending()] == [third]
    assert empty.outbox_payload(second) == {"content": "two", "embeds": [{"title": "한국어"}]}
    assert empty.outbox_payload(999_999) is None
    empty.flush()
    again = reopened(empty, location)
    try:
        assert [i for i, _, _ in again.pending()] == [third]
        assert again.enqueue(7, {"content": "four"}) not in {first, second, third}
    finally:
        again.close()


def test_each_process_delivers_the_messages_of_its_own_shards(empty: StanceStore) -> None:
    def guild(shard: int) -> int:
        return (3000 + shard) << 22  # Discord's formula: (guild_id >> 22) % shard_count

    ids = [empty.enqueue(10 + k, {"k": k}, guild(k)) for k in range(3)]
    direct = empty.enqueue(99, {"k": "dm"})
    assert [i for i, _, _ in empty.pending(3, [1])] == [ids[1]]
    assert [i for i, _, _ in empty.pending(3, [0, 2])] == [ids[0], ids[2], direct]
    assert [i for i, _, _ in empty.pending()] == [*ids, direct]


# -- the unit of work, retention and copies ------------------------------------------------------


async def test_a_unit_of_work_is_durable_after_commit(empty: StanceStore, location: Location) -> None:
    def article_done() -> bool:
        empty.record_article(Article("id-1", "https://news.example/1"), [judgement("p", "s", "2026-01-01")])
        claimed = empty.claim_alert("p:s")
        empty.enqueue(5, {"content": "alert"})
        empty.done("id-1")
        return claimed

    empty.accept([{"identity": "id-1"}])
    assert await empty.run(article_done)
    await empty.commit()
    again = reopened(empty, location)
    try:
        assert again.article("id-1") is not None and not again.claim_alert("p:s")
        assert [p["content"] for _, _, p in again.pending()] == ["alert"] and again.inbox() == []
    finally:
        again.close()


def test_prune_drops_old_bodies_and_old_delivered_messages(empty: StanceStore) -> None:
    empty.record_article(Article("old", "https://n.example/old", fetched="2001-01-01T00:00:00Z", text="old body"), [])
    empty.record_article(Article("new", "https://n.example/new", fetched="2999-01-01T00:00:00Z", text="new body"), [])
    pruned = empty.prune()
    assert pruned["article_bodies"] == 1
    assert (empty.article("old") or Article("", "")).text == "" and (empty.article("new") or Article("", "")).text
    assert (empty.article("old") or Article("", "")).url == "https://n.example/old"


def test_a_snapshot_restores_into_the_other_backend_unchanged(
    seeded: StanceStore, location: Location, tmp_path: Path, database_url: str
) -> None:
    seeded.save_feed(Feed(url="https://f.example/rss", etag='"v1"', next_poll=5.0))
    seeded.add_subscription(Subscription(3, 4, "question", "pause-frontier-ai", language="ko"))
    seeded.mark_seen(["x", "y"])
    seeded.accept([{"identity": "y", "title": "queued"}], "p1", 60)
    seeded.claim_alert("p:1")
    delivered = seeded.enqueue(3, {"content": "sent"})
    seeded.mark_delivered(delivered, 42)
    seeded.enqueue(3, {"content": "waiting"}, 4 << 22)
    seeded.record_article(
        Article("y", "https://n.example/y", fetched="2026-02-03T00:00:00Z", text="기사 본문"),
        [judgement("pos", "said", "2026-02-03T00:00:01Z")],
        [Statement("st", "elon-musk", "said", "https://n.example/y", date="2026-02-03")],
    )
    seeded.flush()
    other: Location = database_url if isinstance(location, Path) else tmp_path / "other"
    target = open_store(other, seed=False)
    try:
        target.restore(seeded.snapshot())
        target.flush()
        assert canonical(target.snapshot()) == canonical(seeded.snapshot())
        assert target.outbox_payload(delivered) == {"content": "sent"}
    finally:
        target.close()


def canonical(snapshot: dict[str, list[dict[str, object]]]) -> dict[str, list[str]]:
    return {table: sorted(json.dumps(row, sort_keys=True) for row in rows) for table, rows in snapshot.items()}


# -- a record that would not load is never stored (issue 22, crash 1) ------------------------


def test_every_write_path_refuses_a_record_that_would_not_load(seeded: StanceStore, location: Location) -> None:
    """The load rules, applied on the way in: before, each of these was stored and the store then refused to open."""
    bad_writes = [
        lambda: seeded.add_person(Person("", "🤖")),
        lambda: seeded.add_position(position("linkless", source_url="")),
        lambda: seeded.add_position(position("no-date", date="someday")),
        lambda: seeded.add_subscription(Subscription(1, 2, min_confidence=2.0)),
        lambda: seeded.record_article(
            Article("a1", "https://news.example.com/a"), [], [Statement("", "elon-musk", "x", "a1")]
        ),
        lambda: seeded.record_article(
            Article("a2", "https://news.example.com/b"),
            [dataclasses.replace(judgement("musk-pause", "s", "2026-11-01"), confidence=1.5)],
        ),
    ]
    for write in bad_writes:
        with pytest.raises(RecordError):
            asyncio.run(seeded.run(write))
    asyncio.run(seeded.commit())
    again = reopened(seeded, location)
    try:
        assert again.person("") is None and again.position("linkless") is None and again.position("no-date") is None
        assert again.article("a1") is None and again.article("a2") is None
        assert again.subscriptions() == []
    finally:
        again.close()


def test_a_position_from_an_item_without_a_link_names_the_item_instead(seeded: StanceStore, location: Location) -> None:
    linkless = position("proposed-x", source_url="", article="urn:uuid:1234", feed="https://feeds.example.org/a.atom")
    asyncio.run(seeded.run(seeded.add_position, linkless))
    asyncio.run(seeded.commit())
    again = reopened(seeded, location)
    try:
        stored = again.position("proposed-x")
        assert stored is not None and stored.source_url == ""
        assert stored.source() == "urn:uuid:1234 in https://feeds.example.org/a.atom"
        assert again.export_data()["positions"]  # export reads it back through the same rules
    finally:
        again.close()


# -- the outbox carries typed messages; rows queued by the previous release still read ------------


def test_outbox_rows_of_both_releases_read_as_typed_messages(empty: StanceStore) -> None:
    from delivery.messages import (
        ArticleSummary,
        ClashAlert,
        FeedPaused,
        LaidOutAlert,
        Notice,
        from_payload,
        to_payload,
    )
    from tests.test_alerts import clash

    card = {"title": "t", "url": "https://news.example.com/a", "colour": 1, "fields": [], "footer": "f"}
    rows = [
        {"kind": "clash", "card": {**card, "judgements": ["p:1"]}},  # version 1: laid out when queued
        {"kind": "notice", "title": "Feed paused", "text": "Stancewatch stopped polling https://x because y."},
        {"kind": "summary", "title": "T", "url": "https://news.example.com/a", "summary": "S"},
        to_payload(ClashAlert((clash(n=1), clash(n=2)))),
        to_payload(ArticleSummary("T", "https://news.example.com/a", "S")),
        to_payload(FeedPaused("https://feeds.example.org/a", "it failed 10 times")),
    ]
    for row in rows:
        asyncio.run(empty.run(empty.enqueue, 1, row, 9))
    read = [from_payload(payload) for _, _, payload in asyncio.run(empty.run(empty.pending))]
    assert [type(m) for m in read] == [LaidOutAlert, Notice, ArticleSummary, ClashAlert, ArticleSummary, FeedPaused]
    assert read[0].judgement_ids == ["p:1"]  # type: ignore[union-attr]
    assert read[3] == ClashAlert((clash(n=1), clash(n=2)))


# -- hostile text: both backends hold the same (issue 22, item 5) --------------------------------

HOSTILE = ["A\x00B", "\x00", "tab\tand\nline", "👩‍🔬 emoji", "RTL \u202e txt", "ESC\x1b[2J", "'; DROP TABLE people; --"]


@pytest.mark.parametrize("text", HOSTILE, ids=["nul-inside", "nul-only", "whitespace", "emoji", "rtl", "esc", "sql"])
def test_both_backends_store_the_same_hostile_text(seeded: StanceStore, location: Location, text: str) -> None:
    """Before: one NUL made PostgreSQL refuse the whole transaction (a feed failed every poll; an import erred)."""
    expected = text.replace("\x00", "")
    position_ = position("hostile", claim=f"claim {text}", quote=text)
    seeded.add_position(position_)
    seeded.record_article(Article(f"id {text}", "https://news.example.com/a", title=text, text=text), [])
    seeded.mark_seen([f"guid:{text}"])
    seeded.accept(
        [{"identity": f"item {text}", "url": "", "title": text, "text": text, "published": "", "feed_url": ""}]
    )
    seeded.enqueue(1, {"kind": "summary", "version": 2, "title": text, "url": "", "summary": text})
    asyncio.run(seeded.commit())
    again = reopened(seeded, location)
    try:
        stored = again.position("hostile")
        assert stored is not None and stored.quote == expected and stored.claim == f"claim {expected}"
        article = again.article(f"id {expected}")
        assert article is not None and article.title == expected and article.text == expected
        assert again.seen(f"guid:{expected}")
        assert [i["title"] for i in again.inbox()] == [expected]
        assert [p["summary"] for _, _, p in again.pending()] == [expected]
    finally:
        again.close()


def test_an_import_with_a_nul_is_stored_without_it(empty: StanceStore, location: Location) -> None:
    data = {"people": [{"id": "p1", "name": "Ada\x00 Lovelace"}], "questions": [], "positions": []}
    assert empty.import_data(data)["people"] == 1
    empty.flush()
    again = reopened(empty, location)
    try:
        found = again.person("p1")
        assert found is not None and found.name == "Ada Lovelace"
    finally:
        again.close()


# -- limits hold on every write path (issue 22, item 9) ------------------------------------------------


def test_the_position_limit_holds_for_single_writes_too(seeded: StanceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: only imports checked it, so proposals grew a file store past what PostgreSQL could take in a copy."""
    monkeypatch.setitem(HOT_LIMITS, "positions", seeded.position_count() + 1)
    seeded.add_position(position("last-one"))
    with pytest.raises(RecordError, match="the store keeps at most"):
        seeded.add_position(position("one-too-many"))
    seeded.add_position(position("last-one", claim="Replacing a stored one is no new position."))
    assert seeded.position("one-too-many") is None


def test_proposals_are_bounded_per_person_and_question(seeded: StanceStore) -> None:
    from analysis.article import ArticleOutcome, ArticleReport
    from pipeline.update import MAX_PROPOSALS_PER_QUESTION, record_outcome

    for n in range(MAX_PROPOSALS_PER_QUESTION + 5):
        proposal = position(f"proposed-{n:03d}", status="proposed", published=f"2026-01-{n % 28 + 1:02d}T{n:02d}:00")
        report = ArticleReport(f"https://news.example.com/{n}", "t", "en", relevant=True)
        article = Article(f"a{n}", f"https://news.example.com/{n}")
        asyncio.run(seeded.run(record_outcome, seeded, ArticleOutcome(report, article, proposals=[proposal])))
    waiting = [p.id for p in seeded.positions("elon-musk", status="proposed") if p.question == "pause-frontier-ai"]
    assert len(waiting) == MAX_PROPOSALS_PER_QUESTION
    assert "proposed-024" in waiting and "proposed-000" not in waiting  # the oldest made room


# -- one alert per clash --------------------------------------------------------------------


def test_a_later_statement_on_the_same_clash_joins_the_posted_alert(empty: StanceStore, location: Location) -> None:
    """Within a week, on either backend and across a restart: the alert is updated, never a second one started."""
    from delivery.messages import ClashAlert, ClashUpdate, from_payload
    from delivery.routing import route_clashes
    from domain.clash import JOIN_DAYS
    from tests.test_alerts import clash

    day = 86400.0
    korean = dataclasses.replace(clash(), statement="트위터가 GPU 약 1만 개를 구입했다.", position_id="musk-pause")
    english = dataclasses.replace(korean, statement="Twitter bought about 10,000 GPUs.")
    other = dataclasses.replace(korean, statement="Musk opposed SB 1047.", position_id="musk-regulate")
    later = dataclasses.replace(korean, statement="xAI built a supercomputer.")
    start = 1_780_000_000.0

    assert route_clashes(empty, 7, 1, [korean], start) == 1
    [(first, _, payload)] = empty.pending()
    assert isinstance(from_payload(payload), ClashAlert)
    store = reopened(empty, location)
    try:
        assert route_clashes(store, 7, 1, [english, other], start + 2 * day) == 2
        update, alert = (from_payload(p) for _, _, p in store.pending()[1:])
        assert isinstance(update, ClashUpdate) and update.target == first
        assert [c.statement for c in update.clashes] == [korean.statement, english.statement]
        assert isinstance(alert, ClashAlert) and [c.statement for c in alert.clashes] == [other.statement]
        assert route_clashes(store, 7, 1, [english], start + 3 * day) == 0  # already listed: nothing queued
        assert route_clashes(store, 8, 1, [english], start + 3 * day) == 1  # another channel: its own alert
        assert route_clashes(store, 7, 1, [later], start + (JOIN_DAYS + 1) * day) == 1  # past a week: a new one
        last = from_payload(store.pending()[-1][2])
        assert isinstance(last, ClashAlert) and [c.statement for c in last.clashes] == [later.statement]
        posted = store.posted_clash(first)
        assert posted is not None and posted.latest == store.pending()[1][0]
    finally:
        store.close()


# -- review before publishing -------------------------------------------------------------------


def test_a_held_alert_is_posted_once_on_confirm_and_never_on_dismiss(empty: StanceStore, location: Location) -> None:
    """Held in the review channel, across a restart; Confirm posts it once to every waiting channel."""
    from analysis.article import ArticleReport
    from delivery.messages import ClashAlert, HeldAlert, from_payload
    from delivery.routing import release, route_report, withhold
    from tests.test_alerts import clash

    desk, held_a, held_b, direct = 50, 51, 52, 53
    empty.set_review_desk(9, desk)
    for channel in (held_a, held_b):
        empty.add_subscription(Subscription(channel_id=channel, guild_id=9, review="required"))
    empty.add_subscription(Subscription(channel_id=direct, guild_id=9))
    report = ArticleReport("https://news.example.com/a", "A", "en", relevant=True)
    report.clashes.append(clash())
    assert route_report(empty, "https://feeds.example.org/f", report) == 2  # one held, one posted directly
    messages = {channel: from_payload(payload) for _, channel, payload in empty.pending()}
    assert set(messages) == {desk, direct} and isinstance(messages[direct], ClashAlert)
    held = messages[desk]
    assert isinstance(held, HeldAlert) and {c for c, _ in held.channels} == {held_a, held_b}
    [held_id] = [i for i, channel, _ in empty.pending() if channel == desk]

    store = reopened(empty, location)
    try:
        assert store.review_desk(9) is not None and store.review_desk(8) is None
        assert release(store, held, held_id, 1_780_000_000.0) == 2
        assert release(store, held, held_id, 1_780_000_100.0) == 0  # a second Confirm posts nothing more
        posted = [channel for _, channel, payload in store.pending() if from_payload(payload).kind == "clash"]
        assert sorted(posted) == sorted([direct, held_a, held_b])
        unseen = HeldAlert((dataclasses.replace(clash(), statement="A clash never posted anywhere."),), held.channels)
        queued = len(store.pending())
        assert withhold(store, 999) and release(store, unseen, 999, 1_780_000_200.0) == 0  # dismissed: never posted
        assert len(store.pending()) == queued
        store.set_review_desk(9, None)
        assert store.review_desk(9) is None
    finally:
        store.close()


def test_moderator_reviews_are_kept_per_server_across_a_restart(seeded: StanceStore, location: Location) -> None:
    """The same alert reviewed in two servers is two labelled pairs; a second click in one server replaces its own."""
    from domain.records import ModeratorReview

    seeded.record_review(ModeratorReview(1, "j1", "confirmed", "ana (11)", "2026-11-30T10:00:00Z"))
    seeded.record_review(ModeratorReview(2, "j1", "dismissed", "bo (22)", "2026-11-30T09:00:00Z"))
    seeded.record_review(ModeratorReview(1, "j1", "dismissed", "ana (11)", "2026-11-30T11:00:00Z"))
    seeded.flush()
    store = reopened(seeded, location)
    try:
        assert [(r.guild_id, r.verdict) for r in store.moderator_reviews()] == [(2, "dismissed"), (1, "dismissed")]
        assert [r.by for r in store.moderator_reviews(1)] == ["ana (11)"]
        assert store.moderator_reviews(3) == []
    finally:
        store.close()


def test_a_servers_learned_state_and_its_reset_survive_a_restart(seeded: StanceStore, location: Location) -> None:
    from analysis.learning import LEARN_AFTER, reset_marker, server_learning
    from domain.records import ModeratorReview

    pause = seeded.positions("elon-musk")[0]
    for n in range(LEARN_AFTER):
        judgement = judgement_of(pause.id, f"Twitter bought {n} GPUs.")
        seeded.record_article(Article(f"a{n}", f"https://news.example.com/{n}"), [judgement])
        verdict = "confirmed" if n % 3 == 0 else "dismissed"
        seeded.record_review(
            ModeratorReview(5, judgement.id, verdict, f"m{n % 2} ({n % 2})", f"2026-11-30T10:{n:02d}:00Z")
        )  # type: ignore[arg-type]
    seeded.flush()
    store = reopened(seeded, location)
    try:
        learned = server_learning(store, 5)
        confirmed = len(range(0, LEARN_AFTER, 3))
        assert learned.active and learned.reviews == LEARN_AFTER and learned.confirmed == confirmed
        assert len(learned.examples) == LEARN_AFTER
        store.record_review(reset_marker(5, "m0 (0)", "2026-11-30T11:00:00Z"))
        store.flush()
        store = reopened(store, location)
        assert server_learning(store, 5).reviews == 0 and not server_learning(store, 5).active
    finally:
        store.close()


def judgement_of(position_id: str, statement: str) -> Judgement:
    return Judgement(position_id, "elon-musk", statement, "inconsistent", 0.9, "flip")
