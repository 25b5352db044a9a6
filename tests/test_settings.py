import logging
from pathlib import Path

import pytest

from analysis.relevance import RelevanceConfig
from cli import RedactSecrets
from pipeline.watcher import WatchPolicy
from settings import ConfigError, Settings


def test_defaults_and_parsing(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nN_CTX=2048\nDISCORD_TOKEN='abc.def'\n", encoding="utf-8")
    settings = Settings.from_env({"POLL_INTERVAL_MINUTES": "5", "ALLOW_PRIVATE_FEEDS": "yes"}, env_file)
    assert settings.n_ctx == 2048
    assert settings.poll_interval_minutes == 5
    assert settings.allow_private_feeds is True
    assert settings.discord_token.value == "abc.def"
    assert "abc.def" not in repr(settings) and "abc.def" not in str(settings.discord_token)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"POLL_INTERVAL_MINUTES": "1"}, "at least 2"),
        ({"N_CTX": "lots"}, "N_CTX must be a whole number"),
        ({"ALERT_THRESHOLD": "2"}, "between 0 and 1"),
        ({"ALLOW_PRIVATE_FEEDS": "maybe"}, "true or false"),
        ({"FEED_WORKERS": "0"}, "FEED_WORKERS must be at least 1"),
        ({"FEED_INITIAL_ITEMS": "-1"}, "FEED_INITIAL_ITEMS must be at least 0"),
        ({"RELEVANCE_MODEL": "perhaps"}, "RELEVANCE_MODEL must be true or false"),
        ({"POLL_FLOOR_MINUTES": "1"}, "POLL_FLOOR_MINUTES must be at least 2"),
        ({"WEBSUB_CALLBACK_URL": "bot.example.net/hook"}, "WEBSUB_CALLBACK_URL must be an http"),
        ({"WEBSUB_LISTEN": "8080"}, "WEBSUB_LISTEN must be host:port"),
        ({"WEBSUB_LISTEN": "0.0.0.0:99999"}, "WEBSUB_LISTEN must be host:port"),
    ],
)
def test_bad_settings_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env, None)


def test_websub_settings() -> None:
    settings = Settings.from_env(
        {"WEBSUB_CALLBACK_URL": "https://bot.example.net/", "WEBSUB_LISTEN": "[::]:9000"}, None
    )
    assert settings.websub_callback_url == "https://bot.example.net" and settings.websub_listen == ("::", 9000)
    assert Settings.from_env({}, None).websub_callback_url == ""  # unset: no feed is pushed


def test_feed_and_relevance_settings() -> None:
    settings = Settings.from_env(
        {
            "FEED_PAUSE_AFTER": "3",
            "FEED_INITIAL_ITEMS": "5",
            "FEED_MAX_NEW_PER_POLL": "7",
            "FEED_WORKERS": "4",
            "RELEVANCE_MODEL": "false",
            "RELEVANCE_TERMS": "딥페이크, deepfake ,",
        },
        None,
    )
    policy = WatchPolicy.from_settings(settings)
    assert (policy.pause_after, policy.initial_items, policy.max_new_per_poll, policy.workers) == (3, 5, 7, 4)
    assert policy.interval_s == 600
    relevance = RelevanceConfig.from_settings(settings)
    assert relevance == RelevanceConfig(prefilter=True, model=False, extra_terms=("딥페이크", "deepfake"))


def test_secrets_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env({"DISCORD_TOKEN": "MTk.secret.token", "LLM_API_KEY": "sk-remote-key"}, None)
    assert "sk-remote-key" not in repr(settings) and "MTk.secret.token" not in repr(settings)
    logger = logging.getLogger("stancewatch.test-secrets")
    logger.addFilter(RedactSecrets([settings.discord_token.value, settings.llm_api_key.value]))
    with caplog.at_level(logging.INFO, logger="stancewatch.test-secrets"):
        logger.info("connecting with %s and key %s", "MTk.secret.token", "sk-remote-key")
    assert caplog.records[0].getMessage() == "connecting with ******** and key ********"
