"""Shared fixtures: a tiny masked LM trained inside the test session, and the real detector."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SHARED = ROOT.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def sample_rows() -> list[dict]:
    return [json.loads(line) for line in (DATA / "sample_notes_gold.jsonl").read_text().splitlines()]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A real BERT masked LM, from scratch, small enough to train in seconds.

    Its weights differ between CPUs (floating-point order), so tests must hold
    for any such model: NOTESYNTH_TEST_MODEL_SEED trains a different one to
    check that they do.
    """
    from notesynth.train import TrainConfig, train

    out = tmp_path_factory.mktemp("models") / "tiny"
    cfg = TrainConfig(corpus=(str(DATA / "sample_notes"),), out=str(out), from_scratch=True, size="tiny",
                      max_steps=30, batch_size=8, seq_len=64, learning_rate=5e-3, warmup_steps=0,
                      eval_steps=1000, save_steps=1000, logging_steps=5, eval_share=0.1,
                      seed=int(os.environ.get("NOTESYNTH_TEST_MODEL_SEED", "1")))
    metrics = train(cfg)
    (out / "test_metrics.json").write_text(json.dumps(metrics))
    return out


@pytest.fixture(scope="session")
def detector():
    from notesynth.phi import DetectorConfig, PhiDetector

    return PhiDetector(DetectorConfig())


@pytest.fixture(scope="session")
def synthesizer(tiny_model, detector):
    from notesynth import SynthConfig, Synthesizer

    return Synthesizer(SynthConfig(model=str(tiny_model), seed=0), detector=detector)
