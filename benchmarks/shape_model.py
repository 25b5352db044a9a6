"""A model file of a model's exact shape with every weight zero: speed figures where the weights cannot travel.

    python benchmarks/shape_model.py MODEL.gguf OUT.gguf                    # the same shape
    python benchmarks/shape_model.py MODEL.gguf OUT.gguf --shape qwen2.5-7b  # a 7B model's dimensions, same types

llama.cpp's kernels do the same work whatever the weights' values, so generation and prompt speeds measured on this
file are the real model's; the text it writes is meaningless (every logit is zero, so greedy decoding repeats token
0 and never ends early). OUT keeps MODEL's metadata, tokenizer and chat template, and each tensor's quantization
type; its data is a sparse run of zeros (a few MB on disk until read), which is what lets it be sent to a GPU
machine that only a small upload reaches: copy its first ``--header-bytes`` and ``truncate -s`` it there.
Needs the ``gguf`` package (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGUFReader, GGUFValueType, GGUFWriter

# Qwen2.5's published dimensions (config.json of each model); layers and vocabulary are the same as the 1.5B's.
SHAPES: dict[str, dict[str, int]] = {
    "qwen2.5-7b": {"embedding_length": 3584, "feed_forward_length": 18944, "head_count": 28, "head_count_kv": 4},
}


def _dimension_map(reader: GGUFReader, arch: str, target: dict[str, int]) -> dict[int, int]:
    """Old size -> new size for each dimension a tensor can have (embedding, feed-forward, key/value width)."""
    value = {k: int(reader.fields[f"{arch}.{k}"].contents()) for k in ("embedding_length", "feed_forward_length")}
    heads = {k: int(reader.fields[f"{arch}.attention.{k}"].contents()) for k in ("head_count", "head_count_kv")}
    head_dim = value["embedding_length"] // heads["head_count"]
    new_head_dim = target["embedding_length"] // target["head_count"]
    return {
        value["embedding_length"]: target["embedding_length"],
        value["feed_forward_length"]: target["feed_forward_length"],
        head_dim * heads["head_count_kv"]: new_head_dim * target["head_count_kv"],
    }


def _overrides(arch: str, target: dict[str, int]) -> dict[str, int]:
    return {
        f"{arch}.embedding_length": target["embedding_length"],
        f"{arch}.feed_forward_length": target["feed_forward_length"],
        f"{arch}.attention.head_count": target["head_count"],
        f"{arch}.attention.head_count_kv": target["head_count_kv"],
    }


def write_shape_model(source: Path, out: Path, shape: str | None = None) -> tuple[int, int]:
    """Write OUT; returns (header bytes, total bytes). Raises KeyError for an unknown ``shape``."""
    reader = GGUFReader(source)
    arch = str(reader.fields["general.architecture"].contents())
    target = SHAPES[shape] if shape else None
    dims = _dimension_map(reader, arch, target) if target else {}
    overrides: dict[str, object] = dict(_overrides(arch, target)) if target else {}
    writer = GGUFWriter(out, arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, overrides.get(field.name, field.contents()), kind, sub_type=sub)
    data = 0
    for tensor in reader.tensors:
        ggml_shape = [dims.get(int(d), int(d)) for d in tensor.shape]
        block, size = GGML_QUANT_SIZES[tensor.tensor_type]
        nbytes = math.prod(ggml_shape) // block * size
        writer.add_tensor_info(tensor.name, ggml_shape[::-1], np.dtype(np.float32), nbytes, tensor.tensor_type)
        data += GGUFWriter.ggml_pad(nbytes, writer.data_alignment)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    assert writer.fout is not None
    header = GGUFWriter.ggml_pad(writer.fout[0].tell(), writer.data_alignment)
    writer.close()
    os.truncate(out, header + data)
    return header, header + data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--shape", choices=sorted(SHAPES), help="another model's dimensions (default: MODEL's own)")
    args = parser.parse_args()
    if not args.model.is_file():
        sys.exit(f"No model file at {args.model}.")
    header, total = write_shape_model(args.model, args.out, args.shape)
    print(f"{args.out}: {total:,} bytes, of which the first {header:,} (--header-bytes) hold everything but zeros")


if __name__ == "__main__":
    main()
