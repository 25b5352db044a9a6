"""Lint, format, types and the Dockerfile, run as part of the suite."""

import subprocess
from pathlib import Path

import pytest

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
