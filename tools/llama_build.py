"""Build and install llama-cpp-python for a portable instruction set, cached by its build flags.

llama.cpp builds with ``GGML_NATIVE=ON`` by default (``-march=native``): it then compiles in whatever the build
machine's CPUID reports, AMX included, and a VM that advertises AMX without enabling its tile state dies with
SIGILL at the first matrix multiplication.  We build for an explicit target chosen from the machine type instead,
and keep each wheel in a folder named after its flags, because pip's own wheel cache ignores ``CMAKE_ARGS``.

Precedence: the user's ``CMAKE_ARGS`` (kept as they are, with only ``GGML_NATIVE=OFF`` added when it says nothing
of it), then ``LLAMA_NATIVE=1`` (a native build), then the portable default for ``uname -m``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

LLAMA_VERSION = "0.3.36"

# x86-64-v3 (Haswell and later, Zen 1 and later): the widest set nearly every x86 server and laptop of the
# last decade runs. AVX-512 and AMX stay off: many CPUs lack them and some hypervisors advertise but trap them.
X86_64_PORTABLE = (
    "-DGGML_NATIVE=OFF",
    "-DGGML_AVX=ON",
    "-DGGML_AVX2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DGGML_BMI2=ON",
    "-DGGML_AVX_VNNI=OFF",
    "-DGGML_AVX512=OFF",
    "-DGGML_AVX512_VBMI=OFF",
    "-DGGML_AVX512_VNNI=OFF",
    "-DGGML_AVX512_BF16=OFF",
    "-DGGML_AMX_TILE=OFF",
    "-DGGML_AMX_INT8=OFF",
    "-DGGML_AMX_BF16=OFF",
)
# On ARM, llama.cpp's non-native default is the architecture baseline (armv8-a, NEON), which every aarch64 CPU runs.
GENERIC_PORTABLE = ("-DGGML_NATIVE=OFF",)


def cmake_args(machine: str, env: dict[str, str]) -> str:
    """The CMake flags for this build, by the precedence in the module docstring."""
    user = env.get("CMAKE_ARGS", "").strip()
    if user:
        return user if "GGML_NATIVE" in user else f"{user} -DGGML_NATIVE=OFF"
    if env.get("LLAMA_NATIVE", "") == "1":
        return "-DGGML_NATIVE=ON"
    flags = X86_64_PORTABLE if machine.lower() in {"x86_64", "amd64"} else GENERIC_PORTABLE
    return " ".join(flags)


CUBLAS_MISSING = (
    "llama.cpp's CUDA build needs cuBLAS (cublas_v2.h and libcublas), which this machine lacks beside nvcc, so CMake "
    "would stop with 'CUDA::cublas' not found: install the cuBLAS development package of your CUDA version (e.g. "
    "libcublas-dev-12-4, or the full CUDA toolkit) and run set-up again."
)


def wants_cuda(args: str) -> bool:
    return any(flag.upper() in {"-DGGML_CUDA=ON", "-DGGML_CUDA=1"} for flag in args.split())


def cuda_roots(env: dict[str, str]) -> list[Path]:
    """Where a CUDA toolkit may live: CUDA_HOME / CUDA_PATH, nvcc's own folder's parent, and the usual places."""
    roots = [Path(env[name]) for name in ("CUDA_HOME", "CUDA_PATH") if env.get(name)]
    nvcc = shutil.which("nvcc", path=env.get("PATH"))
    if nvcc:
        roots.append(Path(nvcc).resolve().parent.parent)
    return [*roots, Path("/usr/local/cuda"), Path("/usr")]


def cublas_problem(args: str, env: dict[str, str], roots: list[Path] | None = None) -> str | None:
    """One sentence when a CUDA build is asked for on a machine with nvcc but without cuBLAS; None otherwise
    (no CUDA build, no nvcc at all: CMake's own message is clear then, or cuBLAS found)."""
    if not wants_cuda(args) or not shutil.which("nvcc", path=env.get("PATH")):
        return None
    roots = cuda_roots(env) if roots is None else roots
    headers = [root / "include" for root in roots] + [p for root in roots for p in root.glob("targets/*/include")]
    libraries = [root / name for root in roots for name in ("lib64", "lib", "lib/x86_64-linux-gnu")]
    libraries += [p for root in roots for p in root.glob("targets/*/lib")]
    has_header = any((folder / "cublas_v2.h").is_file() for folder in headers)
    has_library = any(any(folder.glob("libcublas.so*")) or (folder / "cublas.lib").is_file() for folder in libraries)
    return None if has_header and has_library else CUBLAS_MISSING


def is_native(args: str) -> bool:
    return "-DGGML_NATIVE=ON" in args.split()


def cache_root(env: dict[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stancewatch"


def wheel_dir(args: str, env: dict[str, str]) -> Path:
    """One folder per (version, flags): a wheel built with other flags is never reused by mistake."""
    key = hashlib.sha256(f"{LLAMA_VERSION}\0{args}\0{platform.python_version()}".encode()).hexdigest()[:16]
    return cache_root(env) / "wheels" / f"llama-cpp-python-{LLAMA_VERSION}-{key}"


def install(python: str, env: dict[str, str]) -> Path:
    """Build the wheel for the flags in force unless it is cached, then install exactly that wheel."""
    args = cmake_args(platform.machine(), env)
    folder = wheel_dir(args, env)
    wheels = sorted(folder.glob("llama_cpp_python-*.whl"))
    if not wheels and (problem := cublas_problem(args, env)):
        raise SetupError(problem)
    if not wheels:
        print(f"Building llama-cpp-python {LLAMA_VERSION} with CMAKE_ARGS={args!r} (about ten minutes on two cores)")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "CMAKE_ARGS").write_text(args + "\n")
        build_env = {**env, "CMAKE_ARGS": args}
        pip = [python, "-m", "pip"]
        cmd = [
            *pip,
            "wheel",
            "--no-deps",
            "--no-cache-dir",
            "--wheel-dir",
            str(folder),
            f"llama-cpp-python=={LLAMA_VERSION}",
        ]
        subprocess.run(cmd, check=True, env=build_env)
        wheels = sorted(folder.glob("llama_cpp_python-*.whl"))
    else:
        print(f"Using the llama-cpp-python wheel built with CMAKE_ARGS={args!r} ({folder})")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--force-reinstall", str(wheels[-1])], check=True)
    # Recorded in the environment, so that the tests know whether a native build was asked for.
    prefix = subprocess.run([python, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, check=True)
    (Path(prefix.stdout.strip()) / "llama-cmake-args.txt").write_text(args + "\n")
    return wheels[-1]


class SetupError(Exception):
    """What set-up cannot do here, in one sentence."""


def main() -> int:
    env = dict(os.environ)
    if sys.argv[1:] == ["flags"]:
        print(cmake_args(platform.machine(), env))
        return 0
    if sys.argv[1:] != ["install"]:
        print("usage: llama_build.py install | flags", file=sys.stderr)
        return 2
    try:
        install(sys.executable, env)
    except SetupError as exc:
        print(exc, file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"Building llama-cpp-python failed (exit {exc.returncode}); the output above says why.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
