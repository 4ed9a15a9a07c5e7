"""The PHI tagger's int8 ONNX graph: exported by the CLI, picked by `auto`, refused when stale."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notesynth.cli import app
from notesynth.phi.tagger import PhiTagger, TaggerConfig, TaggerUnavailable, default_tagger_path
from notesynth.phi.tagger.onnx import ONNX_FILE

SENTENCES = [
    "Plan of care discussed per MD Zorvatheen Quillibrand, family updated at bedside.",
    "Pt extubated 7-18 and returned to OR on 4-4; wife called (617) 555-0134 this am.",
    "Seen at Mercy General Hospital on 03/14/2021 by Dr. Okonkwo, MRN 4481920.",
]


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    """The shipped tagger's weights without any ONNX graph."""
    folder = tmp_path_factory.mktemp("tagger") / "plain"
    shutil.copytree(default_tagger_path(), folder, ignore=shutil.ignore_patterns("*.onnx"))
    return folder


@pytest.fixture(scope="module")
def exported(plain, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tagger") / "exported"
    shutil.copytree(plain, folder)
    result = CliRunner().invoke(app, ["export-onnx", str(folder)])
    assert result.exit_code == 0, result.output
    assert "tag probabilities" in result.output
    return folder


def _spans(tagger: PhiTagger, text: str):
    return {(s.start, s.end, s.label) for s in tagger.predict(text)}


def test_auto_picks_the_exported_graph_and_tags_as_torch_does(exported):
    onnx = PhiTagger.load(str(exported), TaggerConfig(threads=1))
    torch_ = PhiTagger.load(str(exported), TaggerConfig(threads=1, backend="torch"))
    assert onnx.backend == "onnx" and torch_.backend == "torch"
    for text in SENTENCES:
        assert _spans(onnx, text) == _spans(torch_, text), text
    names = [text for text in SENTENCES[:1] for s in onnx.predict(text) if s.label == "NAME"]
    assert names, "the int8 tagger finds the unseen name"


def test_onnx_spans_do_not_depend_on_the_batch(exported):
    tagger = PhiTagger.load(str(exported), TaggerConfig(threads=1))
    alone = [tagger.predict_many([t])[0] for t in SENTENCES]
    assert tagger.predict_many(SENTENCES) == alone


def test_backend_onnx_without_the_graph_is_a_clear_error(plain):
    with pytest.raises(TaggerUnavailable, match="export-onnx"):
        PhiTagger.load(str(plain), TaggerConfig(threads=1, backend="onnx"))


def test_auto_without_the_graph_uses_torch_and_says_so(plain, caplog):
    with caplog.at_level(logging.INFO, logger="notesynth.phi.tagger.model"):
        tagger = PhiTagger.load(str(plain), TaggerConfig(threads=1))
    assert tagger.backend == "torch" and ONNX_FILE in caplog.text


def test_stale_graph_is_refused_or_skipped(exported, tmp_path, caplog):
    """Weights retrained after the export: onnx refuses, auto falls back to torch."""
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "retrained"
    shutil.copytree(exported, folder)
    weights = folder / "model.safetensors"
    tensors = load_file(weights)
    name = next(iter(tensors))
    tensors[name] = tensors[name] + 0.01
    save_file(tensors, weights, metadata={"format": "pt"})
    with pytest.raises(TaggerUnavailable, match="other weights"):
        PhiTagger.load(str(folder), TaggerConfig(threads=1, backend="onnx"))
    with caplog.at_level(logging.WARNING, logger="notesynth.phi.tagger.model"):
        tagger = PhiTagger.load(str(folder), TaggerConfig(threads=1))
    assert tagger.backend == "torch" and "other weights" in caplog.text
