"""The command line end to end: real model, real feed server, real store files."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import signal
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from PIL import Image

from tests.conftest import KOREAN_ARTICLE, PAIRS, PYTHON, ROOT, TINY, FeedServer, Route, rss


async def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> tuple[int, str, str]:
    full_env = {**os.environ, "LOG_LEVEL": "WARNING", "DISCORD_TOKEN": "", **TINY, **(env or {})}
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "tests.public_dns", str(ROOT / "bot.py"), *args, cwd=ROOT, env=full_env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def korean_feed(base: str) -> bytes:
    title, _, body = KOREAN_ARTICLE.read_text(encoding="utf-8").partition("\n")
    item = (
        f"<item><title>{escape(title)}</title><link>{base}/article/musk</link><guid>musk-ko</guid>"
        f"<pubDate>Mon, 17 Apr 2023 09:00:00 GMT</pubDate><description>{escape(body)}</description></item>"
    )
    channel = f"<channel><title>Tech42</title>{item}</channel>"
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.mark.model  # a child process runs the tiny model
async def test_scan_finds_musk_by_korean_alias_and_judges_the_pause_letter(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/ko.xml"] = Route(
        korean_feed(feed_server.base), headers={"Content-Type": "application/rss+xml"}
    )
    env = {"ALLOW_PRIVATE_FEEDS": "true", "DATA_DIR": str(tmp_path / "data")}
    code, out, err = await run_cli("scan", feed_server.url("/ko.xml"), "--json", env=env)
    assert code == 0, err
    [article] = [json.loads(line) for line in out.splitlines()]
    assert article["relevant"] is True and "Elon Musk" in article["people"]
    assert article["summary"]
    musk = [j for j in article["judgements"] if j["person"] == "Elon Musk"]
    assert any(j["position_id"] == "musk-fli-pause-2023" for j in musk)
    for j in musk:
        assert j["verdict"] in {"consistent", "unrelated", "inconsistent"} and 0 <= j["confidence"] <= 1
    assert not (tmp_path / "data" / "articles.json").exists()  # scan only reads the store


async def test_scan_refuses_a_private_feed_in_one_sentence(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/ko.xml"] = Route(korean_feed(feed_server.base))
    code, out, err = await run_cli("scan", feed_server.url("/ko.xml"), env={"DATA_DIR": str(tmp_path)})
    assert code != 0 and out == ""
    assert err.strip().count("\n") == 0 and "private or local address" in err


async def test_scan_of_a_broken_redirect_is_one_sentence(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/moved.xml"] = Route(b"", 301, {"Location": "http://[::1"})
    env = {"DATA_DIR": str(tmp_path), "ALLOW_PRIVATE_FEEDS": "true"}
    code, out, err = await run_cli("scan", feed_server.url("/moved.xml"), env=env)
    assert code == 2 and out == "" and err.count("\n") == 1 and "not a valid URL" in err, err


@pytest.mark.model  # a child process runs the tiny model
async def test_scan_is_capped_like_the_watcher(feed_server: FeedServer, tmp_path: Path) -> None:
    """Once, one feed of 100,000 items made scan fetch 42,538 articles in 90 s."""
    off_topic = [(f"g{i}", f"Bicycle lanes {i}", "The council voted to add bicycle lanes downtown.") for i in range(25)]
    feed_server.routes["/many.xml"] = Route(rss(*off_topic))
    env = {"DATA_DIR": str(tmp_path), "ALLOW_PRIVATE_FEEDS": "true", "FEED_MAX_NEW_PER_POLL": "5"}
    code, out, err = await run_cli("scan", feed_server.url("/many.xml"), "--json", env=env)
    assert code == 0, err
    assert len(out.strip().splitlines()) == 5 and "lists 25 items; scanning the newest 5" in err


@pytest.mark.model  # a child process runs the tiny model
async def test_scan_with_a_stances_file(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/ko.xml"] = Route(korean_feed(feed_server.base))
    stances = tmp_path / "stances.json"
    stances.write_text(
        json.dumps(
            {
                "people": [{"id": "musk", "name": "Elon Musk", "aliases": ["머스크"]}],
                "questions": [{"id": "pause", "text": "Should AI be paused?", "keywords": ["중단"]}],
                "positions": [],
            }
        ),
        encoding="utf-8",
    )
    env = {"ALLOW_PRIVATE_FEEDS": "1", "DATA_DIR": str(tmp_path / "unused")}
    code, out, err = await run_cli("scan", feed_server.url("/ko.xml"), "--stances", str(stances), "--json", env=env)
    assert code == 0, err
    article = json.loads(out)
    assert article["people"] == ["Elon Musk"] and article["judgements"] == []  # no positions to judge against


@pytest.mark.model  # a child process runs the tiny model
async def test_demo_runs_offline_end_to_end(tmp_path: Path) -> None:
    code, out, err = await run_cli("demo", "--data-dir", str(tmp_path / "demo"))
    assert code == 0, err
    assert "summary:" in out and "judged [" in out
    assert "일론 머스크" in out and "not about AI policy" in out
    assert re.search(r"Done: 3 articles, \d+ judgements, alerts posted: \d+", out)
    assert "What channel #1 receives" in out
    picture = tmp_path / "demo" / "timeline-elon-musk.png"
    assert f"Timeline of Elon Musk: {picture}" in out
    assert Image.open(picture).size == (1000, 500)


async def test_timeline_draws_a_person_from_the_command_line(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "data")}
    out = tmp_path / "musk.png"
    code, stdout, err = await run_cli("timeline", "일론 머스크", "--out", str(out), "--language", "ko", env=env)
    assert code == 0, err
    assert stdout.strip() == f"Wrote Elon Musk's timeline to {out}."
    assert Image.open(out).size == (1000, 500)
    code, _, err = await run_cli("timeline", "Nobody", "--out", str(out), env=env)
    assert code == 2 and err.strip() == "timeline: name: no tracked person is called 'Nobody'"


@pytest.mark.model  # a child process runs the tiny model
async def test_eval_prints_the_metrics_line() -> None:
    code, out, err = await run_cli("eval", str(PAIRS), "--limit", "20")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert re.fullmatch(r"accuracy=\d\.\d{3} macro_f1=\d\.\d{3} n=20", lines[-1])
    assert re.fullmatch(r"alert_precision=\d\.\d{3} alert_recall=\d\.\d{3} false_alert_rate=\d\.\d{3}", lines[-2])
    assert "confusion" in out and "\r" not in out  # no progress bar when piped


@pytest.mark.model  # a child process runs the tiny model
async def test_eval_tune_writes_a_profile_that_eval_then_uses(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    lines = (ROOT / "evals" / "ai_policy_pairs.jsonl").read_text(encoding="utf-8").splitlines()
    pairs.write_text("\n".join(lines[:6] + lines[30:36] + lines[60:66]) + "\n", encoding="utf-8")
    env = {"DATA_DIR": str(tmp_path / "data")}
    code, out, err = await run_cli("eval", str(pairs), "--tune", env=env)
    assert code == 0, err
    written = list((tmp_path / "data" / "profiles").glob("*.json"))
    assert len(written) == 1 and f"to {written[0]}" in out
    profile = json.loads(written[0].read_text())
    assert "pairs.jsonl" in profile["tuned_on"]["stance"]
    code, out, err = await run_cli("eval", str(pairs), env=env)
    assert code == 0, err
    assert f"profile={profile['name']} " in out
    assert f"stance {profile['stance_threshold']:.2f}" in out


async def test_eval_rejects_a_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text1": "a", "text2": "b", "label": "maybe"}\n', encoding="utf-8")
    code, _, err = await run_cli("eval", str(bad))
    assert code == 2 and "bad.jsonl:1.label" in err


async def test_stances_export_and_import(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "data")}
    exported = tmp_path / "stances.json"
    code, _, err = await run_cli("stances", "export", str(exported), env=env)
    assert code == 0, err
    text = exported.read_text(encoding="utf-8")
    assert len(json.loads(text)["positions"]) >= 20
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if '"id": "musk-fli-pause-2023"' in line)
    lines[number - 1] = lines[number - 1].replace('"https://futureoflife.org', '"futureoflife.org')
    broken = tmp_path / "broken.json"
    broken.write_text("\n".join(lines), encoding="utf-8")
    code, _, err = await run_cli("stances", "import", str(broken), env=env)
    assert code == 2
    assert re.search(rf"broken\.json line {number}: positions\[\d+\]\.source_url: must be an http\(s\) URL", err), err
    code, out, err = await run_cli("stances", "import", str(exported), env={"DATA_DIR": str(tmp_path / "other")})
    assert code == 0 and "positions" in out, err


async def test_run_without_token_says_so() -> None:
    code, _, err = await run_cli("run")
    assert code == 2 and "DISCORD_TOKEN is not set" in err


async def test_a_second_writer_is_refused_while_a_reader_may_run(tmp_path: Path) -> None:
    """Once, an import beside a running bot printed "Imported …" and the bot's next flush erased it."""
    data = tmp_path / "data"
    hold = (
        "import sys, time, pathlib; from storage.files.store import Store; "
        "Store.open(pathlib.Path(sys.argv[1])); print('open', flush=True); time.sleep(60)"
    )
    holder = await asyncio.create_subprocess_exec(
        PYTHON, "-c", hold, str(data), cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )  # fmt: skip
    assert holder.stdout is not None and await holder.stdout.readline() == b"open\n"
    try:
        people = tmp_path / "people.json"
        people.write_text('{"people": [{"id": "new-person", "name": "New Person"}]}', encoding="utf-8")
        code, out, err = await run_cli("stances", "import", str(people), env={"DATA_DIR": str(data)})
        assert code == 2 and "Imported" not in out
        assert err.count("\n") == 1 and f"in use by process {holder.pid}" in err and "Traceback" not in err
        assert "/manage-stances and /manage-people" in err  # the commands that write, not the read-only ones
        code, out, err = await run_cli("stances", "export", str(tmp_path / "out.json"), env={"DATA_DIR": str(data)})
        assert code == 0, err
    finally:
        holder.kill()
        await holder.wait()
    code, out, err = await run_cli("stances", "import", str(people), env={"DATA_DIR": str(data)})
    assert code == 0 and "Imported 1 people" in out, err  # the kernel dropped the dead holder's lock


async def test_an_emptied_store_file_is_an_error_not_a_fresh_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"DATA_DIR": str(data)}
    people = tmp_path / "people.json"
    people.write_text('{"people": [{"id": "custom", "name": "Custom Person"}]}', encoding="utf-8")
    assert (await run_cli("stances", "import", str(people), env=env))[0] == 0
    good = (data / "backups" / "last-good" / "stancewatch.json").read_bytes()
    assert b"Custom Person" in good
    (data / "stancewatch.json").write_bytes(b"")
    for command in (["stances", "export", str(tmp_path / "x.json")], ["stances", "import", str(people)]):
        code, _, err = await run_cli(*command, env=env)
        assert code == 2 and "stancewatch.json is empty" in err and "last good copy" in err, err
    assert (data / "stancewatch.json").read_bytes() == b""  # nothing re-seeded over it
    assert (data / "backups" / "last-good" / "stancewatch.json").read_bytes() == good


STORE_DAMAGE = {
    "wrong types in _meta": ("stancewatch.json", b'{"_meta": []}', "table '_meta' is not an object"),
    "a table that is a list": ("stancewatch.json", b'{"people": []}', "table 'people' is not an object"),
    "a non-numeric document id": (
        "stancewatch.json", b'{"people": {"abc": {"id": "p", "name": "n"}}}', "document 'abc' is not a numbered"
    ),
    "invalid UTF-8": ("stancewatch.json", b'{"people": {"1": {"id": "p", "name": "\xff"}}}', "is not UTF-8 text"),
    "a bad inbox record": (
        "inbox.log", b'{"format": "stancewatch-inbox", "version": 1}\n[1, 2]\n', "line 2 is not a record"
    ),
}  # fmt: skip


@pytest.mark.parametrize("damage", STORE_DAMAGE, ids=list(STORE_DAMAGE))
async def test_a_damaged_store_is_one_sentence_naming_the_file(tmp_path: Path, damage: str) -> None:
    name, content, expected = STORE_DAMAGE[damage]
    env = {"DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "nothing.json").write_text("{}", encoding="utf-8")
    assert (await run_cli("stances", "import", str(tmp_path / "nothing.json"), env=env))[0] == 0
    (tmp_path / "data" / name).write_bytes(content)
    code, _, err = await run_cli("stances", "export", str(tmp_path / "x.json"), env=env)
    assert code == 2 and expected in err and name in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


IMPORT_DAMAGE = {
    "people is a number": (b'{"people": 5}', "people: must be a list of records"),
    "people is null": (b'{"people": null}', "people: must be a list of records"),
    "Latin-1 bytes": (b'{"people": [{"id": "p", "name": "\xe9"}]}', "not UTF-8 text"),
    "a lone surrogate": (b'{"people": [{"id": "p", "name": "\\ud800"}]}', "people[0].name: holds a lone surrogate"),
}


@pytest.mark.parametrize("damage", IMPORT_DAMAGE, ids=list(IMPORT_DAMAGE))
async def test_a_bad_import_file_is_one_sentence(tmp_path: Path, damage: str) -> None:
    content, expected = IMPORT_DAMAGE[damage]
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    code, _, err = await run_cli("stances", "import", str(bad), env={"DATA_DIR": str(tmp_path / "data")})
    assert code == 2 and expected in err and err.count("\n") == 1, err


async def test_a_directory_as_the_import_file_is_one_sentence(tmp_path: Path) -> None:
    code, _, err = await run_cli("stances", "import", str(tmp_path), env={"DATA_DIR": str(tmp_path / "data")})
    assert code == 2 and "cannot be read" in err and err.count("\n") == 1, err


async def test_store_copy_round_trips_through_postgresql_and_verifies(tmp_path: Path, database_url: str) -> None:
    source = {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": ""}
    code, _, err = await run_cli("stances", "import", str(ROOT / "storage" / "starter_stances.json"), env=source)
    assert code == 0, err
    code, out, err = await run_cli("store", "copy", "--to", database_url, env=source)
    assert code == 0, err
    assert out.startswith("Copied TinyDB files in") and "verified every record" in out and "people" in out
    code, _, err = await run_cli("store", "copy", "--to", database_url, env=source)
    assert code == 2 and "already holds records" in err and len(err.strip().splitlines()) == 1
    back = tmp_path / "back"
    code, out, err = await run_cli("store", "copy", "--to", str(back), env={"DATABASE_URL": database_url})
    assert code == 0 and out.startswith("Copied PostgreSQL database"), err
    exported = []
    for env in (source, {"DATA_DIR": str(back), "DATABASE_URL": ""}, {"DATABASE_URL": database_url}):
        target = tmp_path / f"export-{len(exported)}.json"
        code, _, err = await run_cli("stances", "export", str(target), env=env)
        assert code == 0, err
        data = json.loads(target.read_text(encoding="utf-8"))
        exported.append({k: sorted(map(json.dumps, v)) if isinstance(v, list) else v for k, v in data.items()})
    assert exported[0] == exported[1] == exported[2]


async def test_a_wrong_database_url_is_one_sentence() -> None:
    code, _, err = await run_cli("stances", "export", "/dev/null", env={"DATABASE_URL": "mysql://x@127.0.0.1/db"})
    assert code == 2 and "DATABASE_URL must be a postgresql:// URL" in err and len(err.strip().splitlines()) == 1
    env = {"DATABASE_URL": "postgresql://bot:secret@127.0.0.1:1/none"}
    code, _, err = await run_cli("stances", "export", "/dev/null", env=env)
    assert code == 2 and "Cannot connect to PostgreSQL database none on 127.0.0.1:1" in err and "secret" not in err


@pytest.mark.model  # a child process runs the tiny model
async def test_ask_prints_the_answer_then_its_numbered_sources(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "data")}
    code, out, err = await run_cli("ask", "Did Elon Musk support pausing AI development?", env=env)
    assert code == 0, err
    lines = out.strip().splitlines()
    sources = [line for line in lines if re.match(r"\[\d+\] Elon Musk, \d{4}", line)]
    assert sources and lines[-len(sources) :] == sources  # the answer, then its sources
    assert any("futureoflife.org" in line for line in sources)  # the pause letter is retrieved
    assert re.fullmatch(
        r"\(stance (yes|no): the model read which way the question points with probability 0\.\d\d\)", lines[1]
    )
    code, _, err = await run_cli("ask", "   ", env=env)
    assert code == 2 and err.strip() == "ask: question: give a question of 1 to 500 characters"


@pytest.mark.model  # a child process runs the tiny model
async def test_eval_ask_scores_the_set_on_a_throwaway_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out, err = await run_cli("eval-ask", "evals/ask_questions.json", "--limit", "4", env={"DATA_DIR": str(data)})
    assert code == 0, err
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"stance_accuracy=[\d.]+ citation_precision=[\d.]+ citation_recall=[\d.]+ language_accuracy=[\d.]+ "
        r"not_stored_honest=[\d.]+ false_not_stored=\d+ median_s=[\d.]+ p90_s=[\d.]+ n=4",
        last,
    )
    assert not data.exists()  # the user's store is never touched
    broken = tmp_path / "broken.json"
    broken.write_text("[]")
    code, _, err = await run_cli("eval-ask", str(broken))
    assert (
        code == 2 and err.strip() == f"eval-ask: {broken}: not an /ask question set (an object with a questions list)"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot:S3cr%zzPW@127.0.0.1/test",  # a percent sign that encodes nothing
        "postgresql://bot:S3cr/etPW@127.0.0.1/test",  # a slash ends the host part early
        "postgresql://bot:S3cr#etPW@127.0.0.1/test",  # a hash starts a fragment
        "postgresql://bot:S3cr?etPW@127.0.0.1:99999/test",  # a port out of range
        "postgresql://bot:S3cretPW@[::1/test",  # an unclosed bracket
        "postgresql://bot:S3cretPW@127.0.0.1:9/test",  # well formed, nobody listening
    ],
)
async def test_a_database_password_never_reaches_any_output(url: str) -> None:
    """Before: a malformed DATABASE_URL printed its password, in every command and in compose's health check."""
    for level in ("INFO", "DEBUG"):
        code, out, err = await run_cli(
            "stances", "export", "/tmp/x.json", env={"DATABASE_URL": url, "LOG_LEVEL": level}
        )
        assert code == 2 and len(err.strip().splitlines()) >= 1
        for fragment in ("S3cr", "etPW", "zzPW"):
            assert fragment not in out + err, (url, level, out + err)


async def test_a_schema_version_written_as_text_is_one_sentence(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "stancewatch.json").write_text('{"_meta": {"schema": {"version": "2"}}, "people": {}}', encoding="utf-8")
    code, _, err = await run_cli("stances", "export", str(tmp_path / "out.json"), env={"DATA_DIR": str(data)})
    assert code == 2 and "schema version '2' is not a whole number" in err and "unexpected" not in err


async def test_an_unreachable_discord_is_one_sentence() -> None:
    """The real bot, its Discord on a host that does not resolve (the fake model: no weights needed)."""
    env = {**os.environ, "DISCORD_TOKEN": "a.b.c", "LOG_LEVEL": "CRITICAL", "DATA_DIR": tempfile.mkdtemp()}
    child = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "tests.bot_child", "http://discord.invalid", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(child.communicate(), 120)
    lines = err.decode().strip().splitlines()
    assert child.returncode == 2 and lines and "Discord could not be reached" in lines[-1], err.decode()
    assert "unexpected" not in err.decode()


def test_compose_refuses_to_start_without_a_database_password() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "POSTGRES_PASSWORD:-" not in compose and compose.count("${POSTGRES_PASSWORD:?") == 2


def test_the_docker_image_leaves_secrets_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for pattern in (".env", ".env.*", "secrets/", ".pgpass", "*.pem", "*.key", "id_rsa*", "id_ed25519*"):
        assert pattern in ignored, pattern
    assert "!.env.example" in ignored


def big_store(data: Path, articles: int = 3000) -> None:
    """A file store large enough that copying it takes a moment to interrupt."""
    from domain.records import Article, Judgement
    from storage.files.store import Store

    store = Store.open(data)
    for i in range(articles):
        article = Article(f"link:https://news.example.com/{i}", f"https://news.example.com/{i}", text="x " * 200)
        judgement = Judgement(
            "musk-pause", "elon-musk", f"statement {i}", "unrelated", 0.5, "r", judged_at="2026-11-01"
        )
        store.record_article(dataclasses.replace(article, fetched="2026-11-01T00:00:00Z"), [judgement])
    store.close()


def _ctrl_c_as_in_a_terminal() -> None:
    """A test run started in the background by a script inherits SIGINT ignored (POSIX shells do that to background
    jobs), and so would the copy; a user's terminal delivers it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def staged(folder: Path) -> list[Path]:
    """The staging folders ``store copy --to folder/copy`` writes before the copy is whole."""
    return [p for p in folder.iterdir() if p.name.startswith(".copy") and ".copying-" in p.name]


@pytest.mark.parametrize("how", ["ctrl-c", "killed"])
async def test_an_interrupted_copy_to_a_directory_leaves_no_store_that_opens(tmp_path: Path, how: str) -> None:
    """Before: a Ctrl-C flushed 2,104 of 5,000 articles into a folder that then opened as a normal store.

    The signal is sent as soon as the copy is under way; a copy that still finished first (a fast store, a slow
    signal) must then be whole, and the test tries again with a store twice the size, so the interrupted path is
    always the one checked."""
    for attempt, articles in enumerate((3000, 6000, 12000)):
        data, target = tmp_path / f"data{attempt}", tmp_path / f"copy{attempt}"
        big_store(data, articles)
        env = {**os.environ, "DATA_DIR": str(data), "DATABASE_URL": "", "LOG_LEVEL": "WARNING"}
        child = await asyncio.create_subprocess_exec(
            PYTHON, "bot.py", "store", "copy", "--to", str(target), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, preexec_fn=_ctrl_c_as_in_a_terminal,
        )  # fmt: skip
        while not [p for p in staged(tmp_path) if (p / "COPY-IN-PROGRESS").exists()]:
            assert child.returncode is None, "the copy ended before it could be interrupted"
            await asyncio.sleep(0.01)
        child.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
        _, err = await child.communicate()
        if child.returncode == 0:  # the copy won the race: whole, never partial
            code, _, _ = await run_cli("stances", "export", str(tmp_path / "x.json"), env={"DATA_DIR": str(target)})
            assert code == 0 and not staged(tmp_path)
            continue
        assert not target.exists()
        if how == "ctrl-c":
            assert child.returncode == 2 and err.decode().strip() == (
                "store: interrupted; nothing was copied (the partial copy was removed)."
            )
            assert not staged(tmp_path)
            return
        [staging] = staged(tmp_path)
        code, _, err2 = await run_cli("stances", "export", str(tmp_path / "x.json"), env={"DATA_DIR": str(staging)})
        assert code == 2 and "holds a copy that never finished" in err2
        return
    pytest.fail("every copy finished before the signal reached it")


async def test_copying_onto_a_file_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "file.json").write_text("{}", encoding="utf-8")
    env = {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": ""}
    code, _, err = await run_cli("store", "copy", "--to", str(tmp_path / "file.json"), env=env)
    assert (
        code == 2
        and err.strip() == f"store: {tmp_path / 'file.json'} is a file; name a new or empty directory to copy into."
    )


def test_the_terminal_never_receives_control_characters() -> None:
    from cli.terminal import printable

    assert (
        printable("Title\x1b[2J\x1b]0;pwned\x07 end\u202eevil\nnext\tcol") == "Title[2J]0;pwned end" + "evil\nnext\tcol"
    )


@pytest.mark.model  # a child process runs the tiny model
async def test_scan_strips_terminal_escapes_from_feed_text(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss(("e1", "Clear &#27;[2J screen", "Text &#27;]0;title&#7; here. " * 3)))
    code, out, err = await run_cli("scan", str(feed))
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err and "Clear [2J screen" in out


async def test_reviews_export_writes_each_servers_reviews_as_pairs_eval_reads(tmp_path: Path) -> None:
    from analysis.pairs import load_pairs
    from domain.records import Article, Judgement, ModeratorReview
    from storage import open_store

    store = open_store(tmp_path / "data")
    position = store.positions("elon-musk")[0]
    bought = Judgement(position.id, "elon-musk", "Twitter bought 10,000 GPUs.", "inconsistent", 0.9, "flip")
    rocket = Judgement(position.id, "elon-musk", "Musk launched a rocket.", "inconsistent", 0.6, "flip")
    store.record_article(Article("a1", "https://news.example.com/a1"), [bought, rocket])
    store.record_review(ModeratorReview(7, bought.id, "confirmed", "ana (1)", "2026-11-30T10:00:00Z"))
    store.record_review(ModeratorReview(7, rocket.id, "dismissed", "bo (2)", "2026-11-30T11:00:00Z"))
    store.record_review(ModeratorReview(8, rocket.id, "confirmed", "cy (3)", "2026-11-30T12:00:00Z"))
    store.flush()
    store.close()
    out = tmp_path / "reviews.jsonl"
    code, text, err = await run_cli(
        "reviews", "export", str(out), "--guild", "7", env={"DATA_DIR": str(tmp_path / "data")}
    )
    assert code == 0, err
    assert text.strip() == f"Wrote 2 labelled pairs from 2 reviews of server 7 to {out}."
    pairs = load_pairs(out)
    assert [(p.later, p.label) for p in pairs] == [(bought.statement, "inconsistent"), (rocket.statement, "consistent")]
    assert pairs[0].question is not None and pairs[0].stance == position.stance and pairs[0].earlier == position.claim
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["guild_id"] for r in rows} == {7} and rows[1]["reviewed_by"] == "bo (2)"
    code, _, err = await run_cli("reviews", "export", str(tmp_path / "missing" / "x.jsonl"))
    assert code == 2 and err.strip().endswith("is not a folder; the export needs one to write into.")


@pytest.mark.model  # a child process runs the tiny model
async def test_eval_learning_replays_reviews_in_folds_and_draws_the_curve(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    lines = (ROOT / "evals" / "ai_policy_pairs.jsonl").read_text(encoding="utf-8").splitlines()
    pairs.write_text("\n".join(lines[:7]) + "\n", encoding="utf-8")
    env = {"DATA_DIR": str(tmp_path / "data")}
    code, _, err = await run_cli("eval-learning", str(pairs), "--points", "0,2", env=env)
    assert code == 2 and "sets no stance_check_threshold" in err  # the tiny model's profile has no second look
    public = tmp_path / "public.jsonl"
    public.write_text("\n".join(PAIRS.read_text(encoding="utf-8").splitlines()[:6]) + "\n", encoding="utf-8")
    code, out, err = await run_cli("eval-learning", str(public), "--points", "0,2", "--folds", "1", env=env)
    assert code == 0, err  # no question, no stance: the pair method, which needs no second look
    assert "6 pairs replayed by the pair method, shipped threshold 0.5000" in out
    assert re.findall(r"fold (\d) reviews +(\d+):.*\(unseen (\d+)\)", out) == [("1", "0", "4"), ("1", "2", "4")]
    shipped = json.loads((ROOT / "llm/tasks/profiles/smollm2-135m.json").read_text())
    (tmp_path / "data" / "profiles").mkdir(parents=True)
    mine = {**shipped, "name": "with a second look", "stance_check_threshold": 0.05}
    (tmp_path / "data" / "profiles" / "tiny.json").write_text(json.dumps(mine))
    picture, scores = tmp_path / "curve.png", tmp_path / "scores.jsonl"
    args = ("eval-learning", str(pairs), "--points", "0,3", "--picture", str(picture), "--scores", str(scores))
    code, out, err = await run_cli(*args, env=env)
    assert code == 0, err
    assert re.findall(r"fold (\d) reviews +(\d+):", out) == [(f, k) for f in "12" for k in ("0", "3")]
    assert "(unseen 4)" in out and f"Drew the curve to {picture}." in out
    assert Image.open(picture).size == (800, 420)
    rows = [json.loads(line) for line in scores.read_text().splitlines()]
    assert [(r["fold"], r["reviews"], len(r["reviewed"]), len(r["unseen"])) for r in rows] == [
        (f, k, k, 4) for f in (1, 2) for k in (0, 3)
    ]
    code, _, err = await run_cli("eval-learning", str(pairs), "--scores", str(tmp_path / "no" / "s.jsonl"), env=env)
    assert code == 2 and err.startswith("eval-learning: cannot write") and "No such file" in err
