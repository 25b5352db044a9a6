import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.article import rank_positions
from analysis.judge_eval import gate_share
from analysis.pairs import load_pairs
from cli.evals import starter_questions
from domain.errors import StorageError
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
    from_dict,
    judgement_id,
)
from storage.exchange import MAX_IMPORT_BYTES, dump_export, read_import, record_line, with_line
from storage.files import month_archive
from storage.files.durable import DurableJSONStorage
from storage.files.identities import IdentityLog
from storage.files.journal import Journal
from storage.files.month_archive import ArticleArchive
from storage.files.store import Store
from storage.operations import HOT_LIMITS, load_starter_pack

POSITION = {
    "id": "p", "person": "elon-musk", "question": "pause-frontier-ai", "stance": "favor", "claim": "c",
    "source_url": "https://e.com", "date": "2023-03-22",
}  # fmt: skip
JUDGEMENT = {
    "position": "p",
    "person": "x",
    "statement": "s",
    "verdict": "inconsistent",
    "confidence": 0.5,
    "reason": "",
}


def test_starter_pack_has_the_reference_case(store: Store) -> None:
    assert len(store.people()) >= 8
    assert len(store.positions()) >= 20
    musk = store.find_person("머스크")
    assert musk is not None and musk.id == "elon-musk"
    pause = [p for p in store.positions("elon-musk") if p.question == "pause-frontier-ai"]
    assert pause and pause[0].date == "2023-03-22" and "futureoflife.org" in pause[0].source_url


def test_changes_survive_reopening(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.add_subscription(Subscription(channel_id=1, guild_id=2))
    store.mark_seen(["guid:a"])
    store.close()
    again = Store.open(tmp_path)
    assert again.subscriptions(1) and again.seen("guid:a")


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(tmp_path)
    before = (tmp_path / "stancewatch.json").read_text(encoding="utf-8")
    store.save_feed(Feed(url="https://example.com/feed"))

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(StorageError, match="previous file is unchanged"):
        store.flush()
    assert (tmp_path / "stancewatch.json").read_text(encoding="utf-8") == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_full_disk_during_an_append_loses_nothing_already_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(tmp_path, seed=False)
    store.mark_seen(["link:a"])
    store.flush()
    store.mark_seen(["link:b"])
    real_fsync = os.fsync

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StorageError, match=r"identities\.log: No space left on device; the last commit was not saved"):
        store.flush()
    monkeypatch.setattr(os, "fsync", real_fsync)
    store.mark_seen(["link:c"])
    store.flush()  # space is back: what failed is written now, after a clean line end
    reopened = Store.open(tmp_path, seed=False)
    assert all(reopened.seen(i) for i in ["link:a", "link:b", "link:c"])


def test_torn_journal_line_is_dropped(tmp_path: Path) -> None:
    store = Store.open(tmp_path, seed=False)
    store.mark_seen(["link:a"])
    store.flush()
    with (tmp_path / "identities.log").open("a", encoding="utf-8") as handle:
        handle.write('{"day": "2026-11-28", "ids": ["link:b"')  # the process died mid-append
    reopened = Store.open(tmp_path, seed=False)
    assert reopened.seen("link:a") and not reopened.seen("link:b")
    reopened.mark_seen(["link:c"])
    reopened.flush()
    assert Store.open(tmp_path, seed=False).seen("link:c")


@pytest.mark.parametrize("torn", ['{"identity": "link:b", "fe', '{"format": "stancewatch-inbox", "ver'])
def test_an_append_after_a_torn_line_starts_on_a_clean_line(tmp_path: Path, torn: str) -> None:
    """Once, the next append joined onto the torn line, and the next start failed on that line."""
    journal = Journal(tmp_path / "inbox.log", "inbox")
    if torn.startswith('{"identity"'):
        journal.append([{"identity": "link:a"}])
    with journal.path.open("a", encoding="utf-8") as handle:
        handle.write(torn)  # the process died mid-append
    journal.append([{"identity": "link:c"}])
    records, was_torn = journal.load()
    assert not was_torn
    assert [r["identity"] for r in records] == (["link:a", "link:c"] if torn.startswith('{"identity"') else ["link:c"])
    assert journal.path.read_text(encoding="utf-8").startswith('{"format": "stancewatch-inbox"')


def test_corrupt_file_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "stancewatch.json").write_text('{"people": {', encoding="utf-8")
    with pytest.raises(StorageError, match=r"stancewatch.json is not valid JSON \(line 1"):
        Store.open(tmp_path)


def test_an_alerted_id_that_is_not_text_is_a_storage_error(tmp_path: Path) -> None:
    """Found by the loader's fuzz test: a list as an id crashed start-up with a TypeError."""
    document = {"_meta": {"schema": {"version": 2}}, "alerted": {"1": {"id": [1]}}}
    (tmp_path / "stancewatch.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(StorageError, match="the alerted table holds an id that is not text"):
        Store.open(tmp_path)


def test_writes_are_batched_until_flush(tmp_path: Path) -> None:
    storage = DurableJSONStorage(tmp_path / "x.json")
    storage.write({"t": {"1": {"a": 1}}})
    assert not (tmp_path / "x.json").exists()
    storage.flush()
    assert json.loads((tmp_path / "x.json").read_text())["t"] == {"1": {"a": 1}}


def test_bad_import_changes_nothing(store: Store) -> None:
    data = load_starter_pack()
    data["positions"].append({**data["positions"][0], "id": "new-one", "date": "March 2023"})
    before = len(store.positions())
    with pytest.raises(RecordError, match=r"positions\[22\]\.date"):
        store.import_data(data)
    assert len(store.positions()) == before


def test_an_alert_is_claimed_once(store: Store) -> None:
    assert store.claim_alert(judgement_id("pos", "statement"))
    assert not store.claim_alert(judgement_id("pos", "statement"))


def test_outbox_keeps_undelivered_messages(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    first = store.enqueue(10, {"kind": "summary"})
    store.enqueue(11, {"kind": "summary"})
    store.mark_delivered(first, 999)
    store.close()
    pending = Store.open(tmp_path).pending()
    assert [channel for _, channel, _ in pending] == [11]


# -- crash safety ---------------------------------------------------------------------


def test_sigkill_during_heavy_writes_leaves_old_or_new_state(tmp_path: Path) -> None:
    """Kill a writer at random moments, 25 times; every time, every file must load and agree."""
    data = tmp_path / "data"
    seeded = Store.open(data, seed=False)
    for i in range(1500):  # a hot file of several hundred KB, so that kills land mid-write
        seeded.save_feed(Feed(url=f"https://feeds.example.com/{i}", last_error="x" * 200))
    seeded.close()
    rng = random.Random(1)
    last = 0
    for _ in range(25):
        writer = subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "crash_writer.py"), str(data)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # it is writing
        time.sleep(rng.uniform(0.0, 0.3))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        store = Store.open(data, seed=False)
        marker = store.feed("generation")
        assert marker is not None
        generation = int(marker.last_error)
        assert generation >= last  # never older than what a previous round found committed
        last = generation
        # Files are flushed in order (identities, archive, hot file): the others may be one round ahead.
        assert all(store.seen(f"id:{g}:{i}") for g in range(1, generation + 1) for i in (0, 49))
        assert not store.seen(f"id:{generation + 2}:0")
        assert all(store.article(f"a:{g}") is not None for g in range(1, generation + 1))
        assert len(store.feeds()) == 1501
        store.close()
    assert last > 0


# -- schema migration, backups, clear errors -------------------------------------------


def test_schema_1_store_is_migrated_after_a_backup(tmp_path: Path) -> None:
    yesterday = time.time() - 86400
    hot = {
        "_meta": {"schema": {"version": 1}},
        "people": {"1": {"id": "elon-musk", "name": "Elon Musk", "aliases": ["Musk"]}},
        "feeds": {"1": {"url": "https://example.com/feed", "body_hash": "abc"}},
        "seen": {"1": {"id": "guid:1", "at": yesterday}, "2": {"id": "link:https://e.com/2", "at": yesterday}},
        "alerted": {"1": {"position": "musk-fli-pause-2023", "statement": "Musk bought GPUs."}},
    }
    cold = {
        "articles": {"1": {"url": "https://e.com/2", "title": "GPUs", "language": "en", "relevant": True}},
        "judgements": {
            "1": {
                "position": "musk-fli-pause-2023",
                "person": "elon-musk",
                "statement": "Musk bought GPUs.",
                "verdict": "inconsistent",
                "confidence": 0.8,
                "reason": "r",
                "article": "https://e.com/2",
            }
        },
    }
    (tmp_path / "stancewatch.json").write_text(json.dumps(hot), encoding="utf-8")
    (tmp_path / "articles.json").write_text(json.dumps(cold), encoding="utf-8")
    store = Store.open(tmp_path, seed=False)
    assert store.seen("guid:1") and store.seen("link:https://e.com/2")
    assert not store.claim_alert(judgement_id("musk-fli-pause-2023", "Musk bought GPUs."))  # never alerted twice
    assert [j.verdict for j in store.judgements("elon-musk")] == ["inconsistent"]
    assert store.article("link:https://e.com/2") is not None
    assert store.feed("https://example.com/feed") is not None
    [backup] = (tmp_path / "backups").glob("schema-1-*")
    assert json.loads((backup / "stancewatch.json").read_text(encoding="utf-8")) == hot
    assert json.loads((backup / "articles.json").read_text(encoding="utf-8")) == cold
    assert json.loads((tmp_path / "stancewatch.json").read_text(encoding="utf-8"))["_meta"]["schema"]["version"] == 2
    assert not (tmp_path / "articles.json").exists()


def test_unreadable_file_names_the_last_good_copy(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    (tmp_path / "stancewatch.json").write_text('{"people": {', encoding="utf-8")
    with pytest.raises(StorageError, match=r"not valid JSON .* last good copy of stancewatch\.json is .*last-good"):
        Store.open(tmp_path)


# -- retention -------------------------------------------------------------------------


def test_article_bodies_are_pruned_after_the_retention(tmp_path: Path) -> None:
    store = Store(tmp_path, body_days=90)
    old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120 * 86400))
    new = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    verdict = Judgement("p", "elon-musk", "s", "inconsistent", 0.9, "r", judged_at=old)
    store.record_article(Article("link:old", "https://e.com/old", fetched=old, text="body"), [verdict])
    store.record_article(Article("link:new", "https://e.com/new", fetched=new, text="body"), [])
    assert store.prune()["article_bodies"] == 1
    store.close()
    reopened = Store(tmp_path)
    old_article, new_article = reopened.article("link:old"), reopened.article("link:new")
    assert old_article is not None and old_article.text == "" and old_article.url == "https://e.com/old"
    assert new_article is not None and new_article.text == "body"
    assert reopened.judgement(verdict.id) is not None  # judgements are kept: alerts cite them


def test_identities_expire_after_a_year(tmp_path: Path) -> None:
    log = IdentityLog(tmp_path / "identities.log", keep_days=365)
    log.add(["guid:ancient"], day="2020-01-01")
    log.add(["guid:recent"])
    log.flush()
    reloaded = IdentityLog(tmp_path / "identities.log", keep_days=365)
    assert "guid:recent" in reloaded and "guid:ancient" not in reloaded


# -- positions, reviews, import ----------------------------------------------------------


def test_proposed_positions_wait_for_confirmation(store: Store) -> None:
    proposed = Position(
        "musk-new", "elon-musk", "open-weights", "favor", "Musk backed open weights.", "https://e.com/x", "2026-11",
        date_precision="month", origin="extracted by test.gguf with prompts v1", status="proposed",
    )  # fmt: skip
    store.add_position(proposed)
    assert "musk-new" not in {p.id for p in store.positions("elon-musk")}
    confirmed = store.confirm_position("musk-new", "favor", "moderator")
    assert (
        confirmed is not None and confirmed.status == "active" and confirmed.origin.endswith("confirmed by moderator")
    )
    assert "musk-new" in {p.id for p in store.positions("elon-musk")}
    assert store.confirm_position("nope", "favor", "moderator") is None
    assert store.confirm_position("musk-new", "against", "moderator") is None  # only once


def test_reviews_are_stored(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    verdict = Judgement("musk-fli-pause-2023", "elon-musk", "Musk bought GPUs.", "inconsistent", 0.9, "r")
    store.record_article(Article("link:a", "https://e.com/a"), [verdict])
    reviewed = store.review(verdict.id, "dismissed", "moderator#1")
    assert reviewed is not None and reviewed.review == "dismissed"
    store.close()
    again = Store.open(tmp_path).judgement(verdict.id)
    assert again is not None and (again.review, again.reviewed_by) == ("dismissed", "moderator#1")


def test_import_merges_a_person_known_by_alias(store: Store) -> None:
    data = {
        "people": [{"id": "musk", "name": "Elon R. Musk", "aliases": ["머스크", "Elon Reeve Musk"]}],
        "positions": [
            {
                "id": "musk-imported", "person": "musk", "question": "regulate-ai", "stance": "favor",
                "claim": "Musk called for AI regulation.", "source_url": "https://e.com/r", "date": "2023",
                "date_precision": "year",
            }
        ],
    }  # fmt: skip
    store.import_data(data)
    assert store.person("musk") is None
    musk = store.person("elon-musk")
    assert musk is not None and "Elon Reeve Musk" in musk.aliases and "Elon R. Musk" in musk.aliases
    position = store.position("musk-imported")
    assert position is not None and position.person == "elon-musk"


def test_import_errors_name_the_line(tmp_path: Path) -> None:
    text = dump_export(
        {
            "format": "stancewatch-stances/1",
            "people": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
            "positions": [{"id": "p1"}, {"id": "p2", "date": "soon"}],
        }
    )
    assert record_line(text, "people", 1) == 5
    assert record_line(text, "positions", 1) == 9
    assert record_line(text, "positions", 2) is None
    error = with_line(RecordError("positions[1].date", "must be YYYY"), tmp_path / "f.json", text)
    assert str(error) == f"{tmp_path / 'f.json'} line 9: positions[1].date: must be YYYY"


def test_export_import_round_trip_without_loss(store: Store, tmp_path: Path) -> None:
    verdict = Judgement(
        "musk-fli-pause-2023", "elon-musk", "Musk bought GPUs.", "inconsistent", 0.9, "r", review="confirmed"
    )
    store.record_article(Article("link:a", "https://e.com/a"), [verdict])
    superseded = store.position("lecun-pause-2023")
    assert superseded is not None
    store.add_position(dataclasses.replace(superseded, status="superseded"))
    path = tmp_path / "export.json"
    store.export_file(path)
    other = Store.open(tmp_path / "other", seed=False)
    other.import_data(json.loads(path.read_text(encoding="utf-8")))
    assert other.export_data() == store.export_data()


# -- record validation and candidate ranking --------------------------------------------


@pytest.mark.parametrize(
    ("cls", "data", "where"),
    [
        (Person, {"id": "", "name": "X"}, r"person\.id: must not be empty"),
        (Person, {"id": "x", "name": "X", "aliases": "Musk"}, r"person\.aliases: must be a list of strings"),
        (Question, {"id": "q", "text": "Q?", "colour": "red"}, r"question: unknown field\(s\) colour"),
        (Position, {**POSITION, "stance": "maybe"}, r"position\.stance: must be one of favor, against, mixed"),
        (Position, {**POSITION, "date": "22/03/2023"}, r"position\.date: must be YYYY, YYYY-MM or YYYY-MM-DD"),
        (Position, {**POSITION, "status": "gone"}, r"position\.status: must be one of active, proposed"),
        (Statement, {"id": "s", "person": "p", "text": "t", "article": "a", "kind": "wrote"}, r"statement\.kind"),
        (Judgement, {**JUDGEMENT, "confidence": 1.5}, r"judgement: confidence must be between 0 and 1"),
        (Judgement, {**JUDGEMENT, "severity": "flip"}, r"judgement\.severity: must be one of"),
        (Judgement, {**JUDGEMENT, "review": "maybe"}, r"judgement\.review: must be one of"),
        (Article, {"identity": "i", "url": "u", "relevant": "yes"}, r"article\.relevant: must be true or false"),
        (Subscription, {"channel_id": "12", "guild_id": 1}, r"subscription\.channel_id: must be a whole number"),
        (Feed, {"url": "u", "failures": 1.5}, r"feed\.failures: must be a whole number"),
    ],
)
def test_every_record_validates_its_fields(cls: type, data: dict[str, object], where: str) -> None:
    with pytest.raises(RecordError, match=where):
        from_dict(cls, data, cls.__name__.lower())


def test_candidates_are_ranked_by_question_match(store: Store) -> None:
    questions = {q.id: q for q in store.questions()}
    musk, person = store.positions("elon-musk"), store.person("elon-musk")
    statement = "Musk bought 10,000 GPUs for a generative AI project after the pause letter."
    assert rank_positions(statement, musk, questions, person)[0].id == "musk-fli-pause-2023"
    assert rank_positions("Elon Musk launched a rocket.", musk, questions, person) == []  # shares nothing


@pytest.mark.parametrize(
    "statement",
    [
        "Elon Musk is developing Twitter AI.",  # what the published seed article yields on the page-fetch path
        "머스크의 xAI는 그록 모델을 훈련하기 위해 슈퍼컴퓨터 콜로서스를 구축했다.",
        "머스크가 이끄는 xAI는 더 큰 AI 모델을 훈련하기 위해 60억 달러를 투자받았다.",
    ],
)
def test_an_action_the_questions_other_side_describes_reaches_the_judge(store: Store, statement: str) -> None:
    """No word in common with "signed the pause letter", yet building, training and funding AI is the other side."""
    questions = {q.id: q for q in store.questions()}
    musk, person = store.positions("elon-musk"), store.person("elon-musk")
    assert "musk-fli-pause-2023" in [p.id for p in rank_positions(statement, musk, questions, person)]


def test_every_labelled_clash_of_the_ai_policy_set_reaches_the_judge() -> None:
    pairs = load_pairs(Path(__file__).resolve().parent.parent / "evals" / "ai_policy_pairs.jsonl")
    through, clashes = gate_share(pairs, starter_questions())
    assert clashes >= 20 and through == clashes


def test_removing_a_feed_removes_the_subscriptions_that_followed_it(store: Store) -> None:
    store.save_feed(Feed(url="https://e.com/rss"))
    store.add_subscription(Subscription(channel_id=1, guild_id=9, target_kind="feed", target="https://e.com/rss"))
    store.add_subscription(Subscription(channel_id=1, guild_id=9))
    assert store.remove_feed("https://e.com/rss") and not store.remove_feed("https://e.com/rss")
    assert [s.target_kind for s in store.subscriptions()] == ["all"]


def test_duplicate_ids_in_one_import_name_both_lines(tmp_path: Path) -> None:
    """Once merged silently, last one winning, with a count that did not match what was stored."""
    text = (
        '{"people": [\n'
        '  {"id": "p1", "name": "One"},\n'
        '  {"id": "p2", "name": "Two"},\n'
        '  {"id": "p1", "name": "Again"}\n'
        "]}\n"
    )
    store = Store.open(tmp_path / "data", seed=False)
    with pytest.raises(RecordError) as caught:
        store.import_data(json.loads(text))
    error = with_line(caught.value, tmp_path / "people.json", text)
    assert "people.json line 4: people[2].id" in str(error) and "people[0] (line 2)" in str(error)
    assert store.people() == []


@pytest.mark.parametrize("value", [5, None, "x", {"id": "p"}])
def test_a_section_that_is_not_a_list_is_one_sentence(tmp_path: Path, value: object) -> None:
    store = Store.open(tmp_path / "data", seed=False)
    with pytest.raises(RecordError, match="people: must be a list of records"):
        store.import_data({"people": value})


@pytest.mark.parametrize("crash_at", ["inbox.log", "identities.log"])
def test_a_kill_between_the_journal_writes_never_loses_an_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_at: str
) -> None:
    """Once identities.log came first: killed between the appends, an item was seen but never queued."""
    store = Store.open(tmp_path, seed=False)
    store.mark_seen(["link:a"])
    store.accept([{"identity": "link:a", "title": "A"}])
    real_append = Journal.append

    def killed(journal: Journal, records: list[dict[str, object]]) -> None:
        if journal.path.name == crash_at:
            raise KeyboardInterrupt("killed")  # the process dies here: nothing after this point is written
        real_append(journal, records)

    monkeypatch.setattr(Journal, "append", killed)
    with pytest.raises(KeyboardInterrupt):
        store.flush()
    monkeypatch.setattr(Journal, "append", real_append)
    reopened = Store.open(tmp_path, seed=False)
    queued = [item["identity"] for item in reopened.inbox()]
    # Either the item is queued (and so counts as seen), or nothing was written and the next poll accepts it again.
    assert (queued == ["link:a"] and reopened.seen("link:a")) or (queued == [] and not reopened.seen("link:a"))


def test_the_hot_file_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(HOT_LIMITS, "people", 3)
    store = Store.open(tmp_path / "data", seed=False)
    store.import_data({"people": [{"id": f"p{i}", "name": f"Person {i}"} for i in range(3)]})
    with pytest.raises(RecordError, match="people: would hold 4 records; the store keeps at most 3"):
        store.import_data({"people": [{"id": "p9", "name": "One too many"}]})
    store.import_data({"people": [{"id": "p1", "name": "Person One, renamed"}]})  # a replacement adds nothing


def test_an_oversized_import_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_IMPORT_BYTES + 1))
    with pytest.raises(RecordError, match="larger than the 5 MiB import limit"):
        read_import(big)


def test_a_korean_statement_reaches_a_moderators_question_through_its_confirmed_korean_sides() -> None:
    """A moderator's question is described in Korean only by its sides (``/manage-stances sides``): the gate reads
    them, matching Korean words whatever particle follows (무기에 ~ 무기)."""
    from domain.records import Question

    sides = {"supports": "자율 살상 무기의 금지를 촉구한다", "opposes": "무기나 군사용 AI를 개발하거나 공급한다"}
    question = Question(
        "weapons",
        "Should lethal autonomous weapons be banned?",
        supports="calls for a ban on lethal autonomous weapons",
        opposes="builds or supplies AI for weapons or the military",
        side_translations={"ko": sides},
    )
    position = Position("p", "google", "weapons", "favor", "Google pledged not to use AI for weapons.", "", "2018-06")
    statement = "구글은 2025년 2월 AI를 무기에 쓰지 않겠다는 약속을 AI 원칙에서 삭제했다."
    assert rank_positions(statement, [position], {"weapons": question}) == [position]
    without = dataclasses.replace(question, side_translations={})
    assert rank_positions(statement, [position], {"weapons": without}) == []


# -- the month archive: appended, compacted, replayed ------------------------------------------------------


def archived(directory: Path, n: int, judged_at: str = "2026-11-02T00:00:00Z") -> ArticleArchive:
    """An archive with ``n`` articles of November 2026, each with one judgement, flushed article by article."""
    archive = ArticleArchive(directory)
    for i in range(n):
        article = Article(identity=f"a:{i}", url=f"https://e.com/{i}", text="body", fetched="2026-11-02T00:00:00Z")
        judgement = Judgement("p", "elon-musk", f"statement {i}", "consistent", 0.9, "", judged_at=judged_at)
        archive.record(article, [judgement])
        archive.flush()
    return archive


def test_a_commit_appends_to_the_months_journal_instead_of_rewriting_the_month(tmp_path: Path) -> None:
    """Before: each commit rewrote the month's file whole, so 5,000 new articles took 48.7 s (quadratic)."""
    archived(tmp_path, 5)
    assert not (tmp_path / "2026-11.json").exists()
    lines = (tmp_path / "2026-11.log").read_text().splitlines()
    assert len(lines) == 1 + 5 * 2  # a header, then each article and its judgement
    reopened = ArticleArchive(tmp_path)
    assert len(reopened) == 5 and reopened.article("a:4") is not None and len(reopened.judgements("elon-musk")) == 5


def test_a_month_is_compacted_once_its_journal_outgrows_it_and_a_crash_between_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(month_archive, "COMPACT_AFTER", 4)
    archive = archived(tmp_path, 3)  # inserts only: as many lines as records, never compacted
    assert not (tmp_path / "2026-11.json").exists()
    emptied: list[bytes] = []
    rewrite = Journal.rewrite
    monkeypatch.setattr(Journal, "rewrite", lambda j, r: (emptied.append(j.path.read_bytes()), rewrite(j, r)))
    for i in range(3):
        archive.review(judgement_id("p", f"statement {i}"), "confirmed", "ana (1)")
    archive.add_judgements([Judgement("p", "elon-musk", "statement 0", "inconsistent", 0.8, "moved")], "2026-12")
    archive.flush()  # 10 lines for 6 records: appended, then compacted
    assert (tmp_path / "2026-11.json").exists() and len((tmp_path / "2026-11.log").read_text().splitlines()) == 1
    before = {j.id: j for j in ArticleArchive(tmp_path).judgements()}
    assert before[judgement_id("p", "statement 0")].verdict == "inconsistent" and len(before) == 3
    assert before[judgement_id("p", "statement 1")].review == "confirmed"
    # Killed after the compacted file was written and before the journal was emptied, then again mid-append:
    [full] = emptied
    (tmp_path / "2026-11.log").write_bytes(full + b'{"table": "articles", "rec')
    after = ArticleArchive(tmp_path)
    assert {j.id: j for j in after.judgements()} == before and len(after) == 3


def test_an_archive_journal_line_that_names_no_table_is_a_clear_error(tmp_path: Path) -> None:
    archived(tmp_path, 1)
    with (tmp_path / "2026-11.log").open("a") as log:
        log.write('{"table": "people", "removed": "x"}\n')
    with pytest.raises(StorageError, match=r"2026-11.log line 4 names no archive table"):
        ArticleArchive(tmp_path)
