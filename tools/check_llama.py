"""Right after set-up: run one tiny generation in a child process, and say plainly why if it dies.

A llama.cpp built for instructions this machine cannot run (``-march=native`` on a VM that advertises AMX or
AVX-512 without enabling it) dies by SIGILL at the first matrix multiplication. Found here, that is one sentence
with the fix; found later, it is a crash in the middle of the demo.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

SMOKE = """
from llama_cpp import Llama
from llm.runtime.locate import embedded_model_path
llama = Llama(model_path=str(embedded_model_path()), n_ctx=256, n_threads=1, verbose=False)
out = llama.create_completion("Hello", max_tokens=4, temperature=0.0)
print("generated", len(out["choices"][0]["text"]), "characters")
"""

# AMX tile instructions: a portable build must hold none (the CPU may advertise them while the OS traps them).
AMX_INSTRUCTIONS = frozenset(
    {"ldtilecfg", "sttilecfg", "tilerelease", "tilezero", "tileloadd", "tileloaddt1", "tilestored"}
    | {"tdpbssd", "tdpbsud", "tdpbusd", "tdpbuud", "tdpbf16ps", "tdpfp16ps"}
)

REBUILD = "run `make llama` with LLAMA_NATIVE and CMAKE_ARGS unset to build the portable default"


def explain(returncode: int, stderr: str) -> str | None:
    """One sentence for a failed check, or None when the child succeeded."""
    if returncode == 0:
        return None
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if name in {"SIGILL", "SIGBUS", "SIGSEGV"}:
            return (
                f"llama.cpp died by {name} in its first generation: it was built for instructions that this "
                f"machine's CPU advertises but cannot run (a native build on a VM, for example); {REBUILD}."
            )
        return f"llama.cpp was killed by {name} during its first generation; {REBUILD} and try again."
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {returncode}"
    return f"llama.cpp could not run one tiny generation ({last})."


def amx_instructions(library: Path) -> set[str]:
    """The AMX mnemonics in ``library``'s machine code (``objdump -d``)."""
    listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(library)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise OSError(f"objdump could not read {library}: {listing.stderr.strip()}")
    found = set()
    for line in listing.stdout.splitlines():
        _, tab, instruction = line.partition(":\t")
        if tab and instruction.split(maxsplit=1)[0] in AMX_INSTRUCTIONS:
            found.add(instruction.split(maxsplit=1)[0])
    return found


def check(command: list[str]) -> int:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    problem = explain(result.returncode, result.stderr)
    if problem is None:
        print(f"llama.cpp check passed ({result.stdout.strip()}).")
        return 0
    print(problem, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(check([sys.executable, "-c", SMOKE]))
