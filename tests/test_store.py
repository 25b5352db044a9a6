import json
import os
from pathlib import Path

import pytest

from storage.durable import DurableJSONStorage, StorageError
from storage.records import Feed, Position, RecordError, Subscription, judgement_id
from storage.store import Store, load_starter_pack


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


def test_corrupt_file_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "stancewatch.json").write_text('{"people": {', encoding="utf-8")
    with pytest.raises(StorageError, match=r"stancewatch.json is not valid JSON \(line 1"):
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


def test_export_import_round_trip(store: Store, tmp_path: Path) -> None:
    store.add_position(
        Position("p1", "elon-musk", "open-weights", "favor", "Open weights are good.", "https://example.com", "2024")
    )
    path = tmp_path / "export.json"
    store.export_file(path)
    other = Store.open(tmp_path / "other", seed=False)
    other.import_data(json.loads(path.read_text(encoding="utf-8")))
    assert other.export_data() == store.export_data()


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
