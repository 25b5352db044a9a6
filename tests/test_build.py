"""The llama.cpp build: portable flags by default, no AMX in the installed library, a post-install check that
names the cause when the child dies by a signal."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import llama_cpp
import pytest

from tools import check_llama, llama_build

LIB = Path(llama_cpp.__file__).parent / "lib"


def test_the_default_flags_are_portable_and_the_user_s_own_win() -> None:
    default = llama_build.cmake_args("x86_64", {}).split()
    assert "-DGGML_NATIVE=OFF" in default and "-DGGML_AVX2=ON" in default
    assert "-DGGML_AMX_INT8=OFF" in default and "-DGGML_AVX512=OFF" in default
    assert llama_build.cmake_args("aarch64", {}) == "-DGGML_NATIVE=OFF"
    assert llama_build.cmake_args("x86_64", {"LLAMA_NATIVE": "1"}) == "-DGGML_NATIVE=ON"
    cuda = llama_build.cmake_args("x86_64", {"CMAKE_ARGS": "-DGGML_CUDA=on", "LLAMA_NATIVE": "1"})
    assert cuda == "-DGGML_CUDA=on -DGGML_NATIVE=OFF"
    assert llama_build.cmake_args("x86_64", {"CMAKE_ARGS": "-DGGML_NATIVE=ON"}) == "-DGGML_NATIVE=ON"


def test_wheels_built_with_other_flags_live_in_other_folders() -> None:
    env = {"XDG_CACHE_HOME": "/cache"}
    portable = llama_build.wheel_dir(llama_build.cmake_args("x86_64", {}), env)
    native = llama_build.wheel_dir(llama_build.cmake_args("x86_64", {"LLAMA_NATIVE": "1"}), env)
    assert portable != native and portable.parent == native.parent == Path("/cache/stancewatch/wheels")


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) is not installed")
def test_the_installed_cpu_backend_has_no_amx_instructions() -> None:
    recorded = Path(sys.prefix) / "llama-cmake-args.txt"
    assert recorded.is_file(), "set-up records the flags llama-cpp-python was built with (tools/llama_build.py)"
    flags = recorded.read_text().strip()
    if llama_build.is_native(flags):
        pytest.skip("a native build was asked for (LLAMA_NATIVE=1 or CMAKE_ARGS)")
    libraries = sorted(LIB.glob("libggml-cpu*.so")) or sorted(LIB.glob("libggml*.so"))
    assert libraries, f"no libggml library under {LIB}"
    for library in libraries:
        found = check_llama.amx_instructions(library)
        assert not found, f"{library.name} holds AMX instructions {sorted(found)}: it was not built portably"


@pytest.mark.skipif(shutil.which("objdump") is None or shutil.which("gcc") is None, reason="needs objdump and gcc")
def test_the_amx_scan_finds_tile_instructions_in_a_library_that_has_them(tmp_path: Path) -> None:
    source = tmp_path / "amx.c"
    source.write_text("#include <immintrin.h>\nvoid clear(void) { _tile_zero(4); _tile_release(); }\n")
    library = tmp_path / "libamx.so"
    subprocess.run(["gcc", "-O2", "-mamx-tile", "-shared", "-fPIC", str(source), "-o", str(library)], check=True)
    assert {"tilezero", "tilerelease"} <= check_llama.amx_instructions(library)


def test_a_child_killed_by_sigill_gives_one_sentence_and_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    suicide = "import os, signal; os.kill(os.getpid(), signal.SIGILL)"
    assert check_llama.check([sys.executable, "-c", suicide]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "SIGILL" in err and "cannot run" in err and "make llama" in err


def test_the_check_passes_on_this_build(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_llama.check([sys.executable, "-c", check_llama.SMOKE]) == 0
    assert "check passed" in capsys.readouterr().out
