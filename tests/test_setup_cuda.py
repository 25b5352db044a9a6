"""Set-up's one sentence for a CUDA build on a machine with nvcc but without cuBLAS (CMake would stop at
configure with ``CUDA::cublas`` not found, after minutes and pages of output)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tools.llama_build import CUBLAS_MISSING, cublas_problem

CUDA = "-DGGML_CUDA=on -DGGML_NATIVE=OFF"


@pytest.fixture
def nvcc_on_path(tmp_path: Path) -> dict[str, str]:
    """A PATH whose first folder holds an ``nvcc`` (a stand-in: only its presence is read)."""
    folder = tmp_path / "toolkit" / "bin"
    folder.mkdir(parents=True)
    nvcc = folder / "nvcc"
    nvcc.write_text("#!/bin/sh\necho 'Cuda compilation tools, release 12.4'\n")
    nvcc.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def test_a_cuda_build_without_cublas_is_one_sentence_naming_the_fix(
    tmp_path: Path, nvcc_on_path: dict[str, str]
) -> None:
    toolkit = tmp_path / "toolkit"
    assert cublas_problem(CUDA, nvcc_on_path, roots=[toolkit]) == CUBLAS_MISSING
    assert "libcublas-dev" in CUBLAS_MISSING and "CUDA::cublas" in CUBLAS_MISSING
    (toolkit / "include").mkdir()
    (toolkit / "include" / "cublas_v2.h").write_text("")
    assert cublas_problem(CUDA, nvcc_on_path, roots=[toolkit]) == CUBLAS_MISSING  # headers without the library
    (toolkit / "targets" / "x86_64-linux" / "lib").mkdir(parents=True)
    (toolkit / "targets" / "x86_64-linux" / "lib" / "libcublas.so.12").write_text("")
    assert cublas_problem(CUDA, nvcc_on_path, roots=[toolkit]) is None
    assert cublas_problem("-DGGML_NATIVE=OFF", nvcc_on_path, roots=[tmp_path]) is None  # no CUDA build asked for
    assert cublas_problem(CUDA, {"PATH": str(tmp_path)}, roots=[tmp_path]) is None  # no nvcc: CMake says so itself


def test_set_up_stops_before_building_and_exits_2(tmp_path: Path, nvcc_on_path: dict[str, str]) -> None:
    if cublas_problem(CUDA, nvcc_on_path) is None:
        pytest.skip("this machine has cuBLAS: set-up would start a real CUDA build")
    env = {**os.environ, **nvcc_on_path, "CMAKE_ARGS": "-DGGML_CUDA=on", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "llama_build.py"), "install"],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.strip() == CUBLAS_MISSING
    assert "Building llama-cpp-python" not in done.stdout
