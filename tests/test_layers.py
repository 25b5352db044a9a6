"""The house's import rules, checked by the tools that enforce them: import-linter's contracts (pyproject.toml),
no import cycle but type-only ones, and bot.py standing between the launcher and the cogs."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import grimp
import pytest

from tests.conftest import PYTHON, ROOT

PACKAGES = ("app", "cli", "cogs", "pipeline", "analysis", "drawing", "delivery", "ingest", "llm", "storage")
PACKAGES += ("settings", "domain")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(PYTHON).parent / "lint-imports"), "--no-cache"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and result.stdout.count("KEPT") >= 5


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("domain/records.py", "import discord", "Only the Discord layer and the launcher know Discord"),
        ("storage/files/tables.py", "from pipeline import watcher", "Layers point one way"),
        ("llm/runtime/engine.py", "from llm.tasks import judge", "The LLM layer: tasks over the runtime"),
        ("storage/postgres/archive.py", "from storage.files import store", "Each storage backend stands alone"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, line: str, contract: str) -> None:
    """The contracts can fail: the same tree with one forbidden import added is refused, naming the contract."""
    copy = tmp_path / "tree"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.gguf", "data"))
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = lint_imports(copy)
    assert result.returncode != 0 and f"{contract} BROKEN" in result.stdout, result.stdout


def test_no_import_cycle_but_type_only_ones() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back and not _package_and_its_own_module(importer, imported):
                cycles.append(" -> ".join((importer, *back)))
    assert not cycles, "\n".join(cycles)


def _package_and_its_own_module(a: str, b: str) -> bool:
    """``pkg/__init__.py`` importing ``pkg.mod`` that imports ``pkg``'s siblings is how packages work, not a cycle."""
    return b.startswith(f"{a}.") or a.startswith(f"{b}.")


def test_bot_py_sits_between_the_launcher_and_the_cogs() -> None:
    """bot.py is a file (import-linter takes packages only): its imports are checked here."""
    tree = ast.parse((ROOT / "bot.py").read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        for node in tree.body
        if isinstance(node, ast.ImportFrom)  # module level only: the __main__ shim's import of cli is the exception
    } | {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    project = imported & {*PACKAGES, "bot"}
    assert "cli" not in project and project <= {"app", "cogs", "domain", "analysis", "ingest", "settings"}, project
