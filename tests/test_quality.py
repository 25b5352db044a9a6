"""Lint, format, types and the Dockerfile, run as part of the suite."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from settings import Settings
from tests.conftest import PYTHON, ROOT


@pytest.mark.parametrize(
    "command",
    [
        [PYTHON, "-m", "ruff", "format", "--check", "."],
        [PYTHON, "-m", "ruff", "check", "."],
        [PYTHON, "-m", "mypy"],
        [str(Path(PYTHON).parent / "hadolint"), "Dockerfile"],
    ],
    ids=["ruff-format", "ruff-check", "mypy", "hadolint"],
)
def test_tool_is_clean(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_two_shards_on_postgresql_and_one_model_server() -> None:
    spec = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = spec["services"]
    assert set(services) == {"postgres", "llm", "bot-0", "bot-1"}
    assert all("test" in service["healthcheck"] for service in services.values())
    assert services["postgres"]["image"] == "postgres:15" and "pgdata" in spec["volumes"]
    assert "llama_cpp.server" in " ".join(services["llm"]["command"])
    shards = []
    for name in ("bot-0", "bot-1"):
        bot = services[name]
        assert {d: c["condition"] for d, c in bot["depends_on"].items()} == {
            "postgres": "service_healthy",
            "llm": "service_healthy",
        }
        environment = {k: re.sub(r"\$\{\w+:-(\w+)\}", r"\1", v) for k, v in bot["environment"].items()}
        settings = Settings.from_env(environ=environment, env_file=None)
        assert settings.database_url.value.endswith("@postgres:5432/stancewatch")
        assert settings.llm_base_url == "http://llm:8000/v1"
        shards.append((settings.shard_count, settings.shard_ids))
    assert shards == [(2, (0,)), (2, (1,))]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        result = subprocess.run([docker, "compose", "config", "--quiet"], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
