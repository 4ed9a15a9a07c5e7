"""Batched sampling: one set of tensor operations per pass, each note drawing from its own
generator, so the batch size and the company a note keeps never change its output; and
mask-predict re-masking, which replaces a wrong early fill once the model knows better."""
import random
from dataclasses import replace

import pytest
import torch

from notesynth import protect
from notesynth.infill import FillJob, Infiller, InfillSettings
from notesynth.infill.sampling import SCALE
from notesynth.masking import plan
from notesynth.surrogates import SurrogateMaker


def _job(text, seed, ratio=0.5):
    p = plan(text, [], protect.protect(text), ratio, random.Random(seed), SurrogateMaker(seed))
    return FillJob(p, seed)


@pytest.fixture(scope="module")
def infiller(tiny_model):
    return Infiller(str(tiny_model), "cpu", InfillSettings(passes=3, batch_size=8, backend="torch"))


def test_output_is_byte_identical_whatever_the_batch_size(infiller, sample_rows):
    jobs = [_job(r["text"], 100 + i, ratio=0.6) for i, r in enumerate(sample_rows[:6])]
    reference = infiller.fill(jobs)
    for size in (1, 2, 5):
        other = infiller.with_settings(replace(infiller.settings, batch_size=size))
        assert other.fill(jobs) == reference
        # and in other groupings of notes, in another order
        split = other.fill(jobs[3:]) + other.fill(jobs[:3])
        assert split[3:] + split[:3] == reference
    assert all(reference)


def test_left_to_right_samples_only_what_a_pass_commits(tiny_model, sample_rows, monkeypatch):
    inf = Infiller(str(tiny_model), "cpu", InfillSettings(passes=3, strategy="left-to-right", backend="torch"))
    job = _job(sample_rows[0]["text"], 4, ratio=0.6)
    n = len(job.plan.masked_indices())
    drawn = []
    real = inf._sample_rows
    monkeypatch.setattr(inf, "_sample_rows", lambda logits, *a: drawn.append(len(logits)) or real(logits, *a))
    fills = inf.fill([job])[0]
    assert set(fills) == set(job.plan.masked_indices())
    assert sum(drawn) == n                     # every position drawn once, none wasted
    assert drawn[0] == -(-n // 3)              # pass 1 draws only the third it commits


def _reference_draw(logits, allowed_ids, n_logits, u, top_k, top_p):
    """The sampling rule written out for one row, over the whole row."""
    counts = torch.round(torch.exp(logits - torch.logsumexp(logits, 0)) * SCALE).tolist()
    order = sorted(range(len(counts)), key=lambda c: (-counts[c], allowed_ids[c]))[:top_k or len(counts)]
    kept, mass = [], 0
    for c in order:
        if kept and mass >= round(top_p * SCALE):
            break
        kept.append(c)
        mass += counts[c]
    weights = [counts[c] for c in kept] if mass > 0 else [1.0] * len(kept)
    target, acc = u * sum(weights), 0.0
    for c, w in zip(kept, weights):
        acc += w
        if acc > target:
            return allowed_ids[c], counts[c] / SCALE if mass > 0 else 0.0
    return allowed_ids[kept[-1]], counts[kept[-1]] / SCALE


@pytest.mark.parametrize("top_k,top_p", [(40, 0.95), (5, 1.0), (0, 0.9)])
def test_batched_draw_matches_the_rule_row_by_row(infiller, top_k, top_p):
    """The fast path (candidates by logit) gives exactly what the rule gives over the whole
    row, ties included: logits on a coarse grid make many equal rounded probabilities."""
    inf = infiller.with_settings(replace(infiller.settings, top_k=top_k, top_p=top_p))
    columns, _, rev, _ = inf._kinds["whole"]
    gen = torch.Generator().manual_seed(3)
    rows = 64
    logits = torch.round(torch.randn(rows, len(columns), generator=gen) * 3) / 2
    logits[::4] = 0.0                        # flat rows: every probability rounds alike
    logits[1::4, :50] += 9.0                 # peaked rows with 50 tied leaders
    u = torch.rand(rows, generator=gen, dtype=torch.float64)
    tokens, conf = inf._sample_rows(logits, rev, columns, u)
    ids = columns.tolist()
    for r in range(rows):
        token, c = _reference_draw(logits[r], ids, inf.n_logits, float(u[r]), top_k, top_p)
        assert (int(tokens[r]), round(float(conf[r]), 6)) == (token, round(c, 6)), r


class CertainLater:
    """A stand-in model: flat logits everywhere, except that from its second forward pass
    on it is certain of one word at one place (masked there or not)."""

    def __init__(self, place, word_column):
        self.place, self.word_column, self.calls = place, word_column, 0

    def hidden(self, input_ids, attention_mask, positions):
        self.calls += 1
        assert len(input_ids) == 1  # one short note: one window, one forward per pass
        cells = positions[0].nonzero().squeeze(1)
        return ((cells == self.place + 1) & (self.calls > 1)).float().unsqueeze(1)  # +1: [CLS]

    def head(self, hidden, columns):
        logits = torch.zeros(len(hidden), len(columns))
        logits[:, self.word_column] = 40.0 * hidden[:, 0]
        return logits


def test_remask_replaces_a_wrong_early_fill(tiny_model):
    text = "The nurse said that the family visited and the patient slept well after dinner tonight."
    job = _job(text, 9, ratio=1.0)
    outcomes = {}
    for remask in (0.0, 0.2):
        inf = Infiller(str(tiny_model), "cpu", InfillSettings(passes=3, remask=remask, backend="torch"))
        first = inf._encode(job).slots[0]   # committed in pass 1 (flat: ties go to the first positions)
        columns = inf._kinds["whole"][0]
        word = inf.tokenizer.convert_ids_to_tokens(int(columns[-1]))  # never a flat draw (top-k by id)
        inf.backend = CertainLater(first.positions[0], len(columns) - 1)
        fills = inf.fill([job])[0]
        outcomes[remask] = fills[first.segment].lower()
    assert outcomes[0.0] != word   # the pass-1 guess stays
    assert outcomes[0.2] == word   # re-scored in pass 2 (the least likely fill), re-masked, predicted in pass 3


def test_remask_is_deterministic_and_fills_everything(tiny_model, sample_rows):
    inf = Infiller(str(tiny_model), "cpu", InfillSettings(passes=4, remask=0.3, backend="torch"))
    jobs = [_job(r["text"], 30 + i, ratio=0.5) for i, r in enumerate(sample_rows[:3])]
    a = inf.fill(jobs)
    assert a == [inf.fill([j])[0] for j in jobs]
    for job, fills in zip(jobs, a):
        assert set(fills) == set(job.plan.masked_indices())
        assert all(w and "[" not in w for w in fills.values())


def test_remask_setting_checks():
    from notesynth.config import ConfigError, SynthConfig

    SynthConfig(remask=0.25).validate()
    with pytest.raises(ConfigError, match="remask"):
        SynthConfig(remask=0.25, strategy="left-to-right").validate()
    with pytest.raises(ConfigError, match="remask"):
        SynthConfig(remask=1.5).validate()
    with pytest.raises(ConfigError, match="backend"):
        SynthConfig(backend="tensorrt").validate()
