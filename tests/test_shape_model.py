"""The GPU table's tools: a zero-weight model of a model's shape, and the pipeline's model calls recorded and replayed.

The GPU machine cannot hold the weights, so its figures rest on two claims tested here on the tiny model: the shape
model is the source byte for byte in everything but the weights (size, tokenizer, tensor types), and a replay makes
exactly the recorded calls, generating exactly the recorded number of tokens.
"""

from pathlib import Path

import pytest
from gguf import GGUFReader

from benchmarks import trace
from benchmarks.shape_model import write_shape_model
from llm.runtime.engine import LLMEngine
from llm.runtime.locate import embedded_model_path
from llm.runtime.weights import DEFAULT_MODEL, named_model_path
from llm.tasks.summarize import summarize
from settings import Settings
from tests.conftest import judge_for


def test_a_shape_model_is_the_source_less_its_weights(tmp_path: Path) -> None:
    source = embedded_model_path()
    header, total = write_shape_model(source, tmp_path / "zero.gguf")
    assert total == source.stat().st_size == (tmp_path / "zero.gguf").stat().st_size
    original, zero = GGUFReader(source), GGUFReader(tmp_path / "zero.gguf")
    assert zero.data_offset == header
    assert zero.fields["tokenizer.ggml.tokens"].contents() == original.fields["tokenizer.ggml.tokens"].contents()
    assert [(t.name, t.tensor_type, t.shape.tolist()) for t in zero.tensors] == [
        (t.name, t.tensor_type, t.shape.tolist()) for t in original.tensors
    ]
    assert not any(zero.tensors[0].data.tobytes())


def test_a_bigger_shape_widens_every_tensor_and_keeps_the_vocabulary(tmp_path: Path) -> None:
    source = GGUFReader(embedded_model_path())
    arch = str(source.fields["general.architecture"].contents())
    write_shape_model(embedded_model_path(), tmp_path / "7b.gguf", "qwen2.5-7b")
    wide = GGUFReader(tmp_path / "7b.gguf")
    assert wide.fields[f"{arch}.embedding_length"].contents() == 3584
    assert wide.fields[f"{arch}.attention.head_count_kv"].contents() == 4
    shapes = {t.name: t.shape.tolist() for t in wide.tensors}
    vocabulary = len(source.fields["tokenizer.ggml.tokens"].contents())
    assert shapes["token_embd.weight"] == [3584, vocabulary]
    assert shapes["blk.0.attn_k.weight"] == [3584, 512]  # four key/value heads of 128
    assert shapes["blk.0.ffn_down.weight"] == [18944, 3584]


@pytest.mark.model
async def test_a_recorded_pipeline_replays_call_for_call_at_the_recorded_lengths(tmp_path: Path) -> None:
    """Recorded on the tiny model, replayed on the default model's shape: the pair the GPU table rests on (the
    tiny model's token 0 is its end token, so a zero-weight copy of it would stop at once; the default model's is
    "!")."""
    write_shape_model(named_model_path(DEFAULT_MODEL), tmp_path / "zero.gguf")
    recorded = trace.Trace("tiny")
    engine = LLMEngine.load(Settings(model_path=embedded_model_path()))
    try:
        judge = judge_for(engine)
        with trace.record(engine, judge, recorded):
            await summarize(
                engine, "Pause", "Elon Musk signed a letter calling for a pause on giant AI experiments.", "en"
            )
            await judge.judge("We call for a pause on giant AI experiments.", "Twitter bought 10,000 GPUs.")
        assert "chat" not in vars(engine) and "judge" not in vars(judge)  # the instances' own methods are back
    finally:
        engine.close()
    assert {"summarize", "judge"} <= {call.task for call in recorded.calls} and recorded.pairs == 1
    assert {call.kind for call in recorded.calls} == {"chat", "labels"}
    zero = LLMEngine.load(Settings(model_path=tmp_path / "zero.gguf"))
    try:
        replayed = await trace.replay(zero, recorded)
    finally:
        zero.close()
    assert [(c.task, c.kind, c.tokens) for c in replayed.calls] == [(c.task, c.kind, c.tokens) for c in recorded.calls]
    assert all(call.seconds > 0 for call in replayed.calls)
