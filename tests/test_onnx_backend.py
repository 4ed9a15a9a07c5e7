"""The int8 ONNX Runtime fill backend: export, same top-1 words as torch, determinism, and
clear behaviour when the exported file is missing or stale."""
import logging
import random
import shutil

import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from notesynth import protect
from notesynth.infill import FillJob, Infiller, InfillSettings, ModelLoadError
from notesynth.infill.backend import ONNX_FILE, TorchBackend, make_backend
from notesynth.masking import plan
from notesynth.surrogates import SurrogateMaker

TEXT = ("Patient resting comfortably overnight with family at the bedside. Nurse reports that the "
        "patient ate a small dinner and walked in the hall twice this evening without any help.")


def _job(text, seed, ratio=0.5):
    p = plan(text, [], protect.protect(text), ratio, random.Random(seed), SurrogateMaker(seed))
    return FillJob(p, seed)


@pytest.fixture(scope="module")
def exported(tiny_model, tmp_path_factory):
    """A copy of the tiny model with its int8 encoder, written by the CLI command."""
    from typer.testing import CliRunner

    from notesynth.cli import app

    folder = tmp_path_factory.mktemp("onnx") / "tiny"
    shutil.copytree(tiny_model, folder)
    result = CliRunner().invoke(app, ["export-onnx", str(folder)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and (folder / ONNX_FILE).is_file()
    return folder


def _inputs(tokenizer, text, every=4):
    ids = tokenizer(text)["input_ids"]
    masked = list(range(1, len(ids) - 1, every))
    for q in masked:
        ids[q] = tokenizer.mask_token_id
    input_ids = torch.tensor([ids])
    select = torch.zeros_like(input_ids, dtype=torch.bool)
    select[0, masked] = True
    return input_ids, torch.ones_like(input_ids), select


def test_onnx_and_torch_fill_the_same_top1_words(exported):
    onnx_inf = Infiller(str(exported), "cpu", InfillSettings(backend="onnx"))
    torch_inf = Infiller(str(exported), "cpu", InfillSettings(backend="torch"))
    assert (onnx_inf.backend.name, torch_inf.backend.name) == ("onnx", "torch")
    input_ids, attention, select = _inputs(onnx_inf.tokenizer, TEXT)
    columns = onnx_inf._kinds["whole"][0]
    with torch.no_grad():
        a = onnx_inf.backend.logits(input_ids, attention, select, columns)
        b = torch_inf.backend.logits(input_ids, attention, select, columns)
    assert a.shape == b.shape and len(a) >= 8
    top2 = b.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1]) > 0.05 * b.std(dim=1)  # not a near-tie in fp32 itself
    assert bool(clear.any())
    assert torch.equal(a.argmax(1)[clear], b.argmax(1)[clear])
    assert (a - b).abs().max() < 0.25 * b.abs().max()


def test_onnx_fill_is_deterministic_and_batch_independent(exported, sample_rows):
    inf = Infiller(str(exported), "cpu", InfillSettings(passes=3, batch_size=4))  # auto: finds the file
    assert inf.backend.name == "onnx"
    jobs = [_job(r["text"], 50 + i) for i, r in enumerate(sample_rows[:4])]
    together = inf.fill(jobs)
    assert together == [inf.fill([j])[0] for j in jobs]
    assert together == inf.fill(jobs)
    for job, fills in zip(jobs, together):
        assert set(fills) == set(job.plan.masked_indices())


def _at_each_thread_count(exported, inf, run) -> list:
    """``run(backend)`` with an OnnxBackend built at 1 and at 2 torch threads."""
    from notesynth.infill.onnx import OnnxBackend

    out = []
    before = torch.get_num_threads()
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            backend = OnnxBackend(inf.model, exported / ONNX_FILE)
            assert backend.threads == threads
            out.append(run(backend))
    finally:
        torch.set_num_threads(before)
    return out


def test_onnx_hidden_states_do_not_depend_on_the_thread_count(exported):
    inf = Infiller(str(exported), "cpu", InfillSettings(backend="torch"))
    input_ids, attention, select = _inputs(inf.tokenizer, TEXT * 3, every=3)
    out = _at_each_thread_count(exported, inf, lambda backend: backend.hidden(input_ids, attention, select))
    assert torch.equal(out[0], out[1])


def test_backend_onnx_without_the_file_is_a_clear_error(tiny_model):
    with pytest.raises(ModelLoadError, match="export-onnx"):
        Infiller(str(tiny_model), "cpu", InfillSettings(backend="onnx"))


def test_auto_without_the_file_uses_torch_and_says_so(tiny_model, caplog):
    with caplog.at_level(logging.INFO, logger="notesynth.infill.backend"):
        inf = Infiller(str(tiny_model), "cpu", InfillSettings(backend="auto"))
    assert inf.backend.name == "torch"
    assert "export-onnx" in caplog.text


def test_synth_cli_backend_onnx_without_the_file_exits_with_setup_error(tiny_model, tmp_path):
    from typer.testing import CliRunner

    from notesynth.cli import app
    from notesynth.exits import ExitCode

    notes = tmp_path / "in.jsonl"
    notes.write_text('{"id": "a", "text": "Patient slept well."}\n')
    result = CliRunner().invoke(app, ["synth", str(notes), str(tmp_path / "out.jsonl"), "--model", str(tiny_model),
                                      "--backend", "onnx", "--quiet"])
    assert result.exit_code == ExitCode.SETUP
    assert "export-onnx" in result.output


def test_stale_export_is_refused_or_skipped(exported, tmp_path, caplog):
    """Weights retrained after the export: onnx refuses, auto falls back to torch."""
    folder = tmp_path / "retrained"
    shutil.copytree(exported, folder)
    weights = next(p for p in folder.iterdir() if p.suffix == ".safetensors")
    from safetensors.torch import load_file, save_file

    tensors = load_file(weights)
    name = next(iter(tensors))
    tensors[name] = tensors[name] + 0.01
    save_file(tensors, weights, metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match="other weights"):
        Infiller(str(folder), "cpu", InfillSettings(backend="onnx"))
    with caplog.at_level(logging.WARNING, logger="notesynth.infill.backend"):
        inf = Infiller(str(folder), "cpu", InfillSettings(backend="auto"))
    assert inf.backend.name == "torch" and "other weights" in caplog.text


def test_onnx_backend_is_cpu_only(exported):
    inf = Infiller(str(exported), "cpu", InfillSettings(backend="torch"))
    with pytest.raises(ModelLoadError, match="CPU only"):
        make_backend("onnx", str(exported), inf.model, "cuda")
    assert isinstance(make_backend("auto", str(exported), inf.model, "cpu"), TorchBackend) is False


def test_onnx_int8_head_does_not_depend_on_threads_or_batch_mates(exported):
    """The int8 vocabulary product is exact integer arithmetic: the same rows give the same
    logits with 1 or 2 threads; and it stays close to the fp32 product."""
    inf = Infiller(str(exported), "cpu", InfillSettings(backend="torch"))
    input_ids, attention, select = _inputs(inf.tokenizer, TEXT * 3, every=3)
    columns = inf._kinds["whole"][0]
    hidden = inf.backend.hidden(input_ids, attention, select)  # the same rows for every head
    out = _at_each_thread_count(exported, inf, lambda backend: backend.head(hidden, columns))
    assert torch.equal(out[0], out[1])
    fp32 = TorchBackend(inf.model, "cpu").head(hidden, columns)
    assert (out[0] - fp32).abs().max() < 0.1 * fp32.abs().max()
