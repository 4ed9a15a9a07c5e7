"""Fill calibration: one-piece fills as often as the site writes each word where masks fall.

A small masked LM sampled at temperature 1 still writes some words far more often than the
notes do at the positions it fills ("given", "remains", "and") and others far less; those
frequency shifts are what a classifier tells synthetic notes by (bench/realism.py --telling).
The correction is a per-piece bias on the one-piece fill logits:

    bias(w) += log((original(w) + a) / (filled(w) + a))

where ``original`` counts the words the masks took away and ``filled`` the words the model put
there, over the model's own training notes (never the notes it is measured on), repeated for a
few rounds with the bias in place.  ``fill_calibration.json`` in the model folder holds pieces
and one number each, never text of a note.
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from notesynth.infill.folder_files import read_folder_json, write_folder_json

CALIBRATION_FILE = "fill_calibration.json"
FORMAT = "notesynth-fill-calibration/1"
SMOOTHING = 3.0   # a: pseudo-count, so rare words move little
MAX_BIAS = 3.0    # |bias| cap: a correction, never a ban or a forced word


def count_fills(plans, fills) -> tuple[Counter, Counter]:
    """(original words, filled words) at the masked segments of ``plans`` (lower-cased)."""
    original: Counter = Counter()
    filled: Counter = Counter()
    for plan_, fill in zip(plans, fills):
        for i in plan_.masked_indices():
            original[plan_.segments[i].text.lower()] += 1
            if i in fill:
                filled[fill[i].lower()] += 1
    return original, filled


def update_bias(bias: dict[str, float], original: Counter, filled: Counter, pieces: list[str],
                smoothing: float = SMOOTHING) -> dict[str, float]:
    """One round: each one-piece fill word moves by the log ratio of its counts (capped)."""
    scale = sum(original[p] for p in pieces) / max(1, sum(filled[p] for p in pieces))
    out = dict(bias)
    for p in pieces:
        step = math.log((original[p] + smoothing) / (filled[p] * scale + smoothing))
        value = max(-MAX_BIAS, min(MAX_BIAS, out.get(p, 0.0) + step))
        if abs(value) > 1e-3:
            out[p] = round(value, 4)
        else:
            out.pop(p, None)
    return out


def write_calibration(folder: str | Path, bias: dict[str, float], meta: dict) -> Path:
    return write_folder_json(folder, CALIBRATION_FILE, FORMAT, {"meta": meta, "bias": bias})


def load_calibration(folder: str | Path) -> dict[str, float] | None:
    data = read_folder_json(folder, CALIBRATION_FILE, FORMAT)
    return None if data is None else data["bias"]


def distance(original: Counter, filled: Counter, pieces: list[str]) -> float:
    """Total variation distance between the two word distributions over the fill pieces."""
    o = sum(original[p] for p in pieces) or 1
    f = sum(filled[p] for p in pieces) or 1
    return 0.5 * sum(abs(original[p] / o - filled[p] / f) for p in pieces)


def calibrate(model: str, notes: list[str], rounds: int = 3, seed: int = 13, config=None, detector=None,
              log=None, batch: int = 32) -> tuple[dict[str, float], list[float]]:
    """Mask and fill ``notes`` as ``synth``'s first attempt does (``Synthesizer.prepare`` and
    ``plan_attempt``), ``rounds`` times with a new seed each, updating the bias after each;
    returns (bias, the distance of each round before its update)."""
    from dataclasses import replace

    from notesynth.config import SynthConfig
    from notesynth.infill.loop import FillJob, Infiller, InfillSettings
    from notesynth.pipeline import Synthesizer

    cfg = replace(config or SynthConfig(), model=model)
    infiller = Infiller(model, "cpu", InfillSettings.from_config(cfg, fill_calibration=True))
    synth = Synthesizer(cfg, detector=detector, infiller=infiller)
    jobs = []
    for i in range(0, len(notes), batch):
        jobs += synth.prepare([(f"c{i + k}", text) for k, text in enumerate(notes[i:i + batch])])
    pieces = infiller.whole_pieces
    bias: dict[str, float] = {}
    history = []
    for r in range(rounds):
        infiller.set_calibration(bias)
        round_synth = Synthesizer(replace(cfg, seed=seed * 1_000_003 + r), detector=detector, infiller=infiller)
        original: Counter = Counter()
        filled: Counter = Counter()
        for i in range(0, len(jobs), batch):
            chunk = jobs[i:i + batch]
            for job in chunk:
                round_synth.plan_attempt(job, 0)
            o, f = count_fills([j.plan for j in chunk], infiller.fill([FillJob(j.plan, j.seed) for j in chunk]))
            original += o
            filled += f
        history.append(round(distance(original, filled, pieces), 4))
        if log:
            log(f"round {r + 1}: distance between masked and filled words {history[-1]:.4f}")
        bias = update_bias(bias, original, filled, pieces)
    return bias, history
