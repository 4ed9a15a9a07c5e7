"""notesynth codes: EHRDiff-style diffusion over code sets (data, model, sampling, guard, metrics, CLI).

Built on small in-test records so nothing here needs the shared data; a tiny model trains
in a second or two.
"""
from __future__ import annotations

import json
import math
import os
import random
import stat

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from notesynth.codes.cli import app
from notesynth.codes.data import Record, build_vocab, from_matrix, make_record, read_records, to_matrix, truncate_code, write_records
from notesynth.codes.errors import SetupError, UsageError
from notesynth.codes.evaluate import cooccurrence_r, evaluate, mmd_jaccard, nonzero_codes, prevalence_r, size_distances
from notesynth.codes.folder import CodesModel, load_model, save_model
from notesynth.codes.model import EDM, Denoiser, widths
from notesynth.codes.privacy import attribute_inference, exact_copies, membership
from notesynth.codes.sample import CopyGuard, generate
from notesynth.codes.settings import EvalSettings, ModelSettings, RecordFormat, SampleSettings, TrainSettings
from notesynth.codes.stats import roc_auc
from notesynth.codes.train import auto_steps, lr_factor, train

TINY = ModelSettings(outer=64, inner=32, time_dim=32, head=8)
# Distinctive code names, so "no code appears in this text" checks are meaningful.
CODES = [f"QX{i:02d}Z" for i in range(16)]


def profile_records(n: int = 120, seed: int = 0) -> list[Record]:
    """Records from three co-occurrence profiles plus sparse noise: structure a model can learn."""
    rng = random.Random(seed)
    profiles = [CODES[0:4], CODES[4:8], CODES[8:12]]
    out = []
    for i in range(n):
        codes = {c for c in profiles[i % 3] if rng.random() < 0.9}
        codes |= {c for c in CODES[12:] if rng.random() < 0.1}
        out.append(make_record(f"p{i}", codes or {CODES[15]}))
    return out


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These models are tiny: one thread is faster than two fighting other jobs for the cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return profile_records()


@pytest.fixture(scope="module")
def trained(records):
    return train(records, TrainSettings(steps=150, batch_size=64, learning_rate=3e-3, log_every=10, seed=1), TINY)


@pytest.fixture(scope="module")
def codes_model(trained) -> CodesModel:
    return CodesModel(trained.model, trained.vocab, {}, trained.metrics, trained.guard_salt, frozenset(trained.guard_hashes))


# ---------------------------------------------------------------- data

@pytest.mark.parametrize("rule,code,expected", [
    ("icd9-3", "0389", "038"), ("icd9-3", "V4611", "V46"), ("icd9-3", "E9290", "E929"), ("icd9-3", "e929.0", "E929"),
    ("icd9-3", "038.9", "038"), ("icd9-3", "38.9", "038"), ("icd9-3", "25000", "250"), ("icd9-3", "496", "496"),
    ("icd10-3", "I25.10", "I25"), ("icd10-3", "e119", "E11"), ("none", " 25000 ", "25000"), ("none", "I25.10", "I25.10"),
])
def test_truncation_rules(rule, code, expected):
    assert truncate_code(code, rule) == expected


def test_truncation_merges_codes_and_unknown_rule_is_a_usage_error():
    assert make_record("a", ["4280", "42831", "E9290", "E9291"], "icd9-3").codes == ("428", "E929")
    with pytest.raises(UsageError):
        truncate_code("4280", "icd9-4")


def test_csv_long_format_round_trip(tmp_path):
    recs = [Record("a", ("QX01Z", "QX02Z")), Record("b", ()), Record("c", ("QX03Z",))]
    for name, fmt in [("r.csv", RecordFormat()), ("r.tsv", RecordFormat()),
                      ("mimic.csv", RecordFormat(id_column="HADM_ID", code_column="ICD9_CODE"))]:
        write_records(tmp_path / name, recs, fmt)
        assert read_records(tmp_path / name, fmt) == recs, name
    assert (tmp_path / "mimic.csv").read_text().splitlines()[0] == "HADM_ID,ICD9_CODE"
    assert stat.S_IMODE(os.stat(tmp_path / "r.csv").st_mode) == 0o600
    write_records(tmp_path / "r.jsonl", recs)
    assert read_records(tmp_path / "r.jsonl") == recs


def test_csv_groups_rows_and_truncates(tmp_path):
    (tmp_path / "dx.csv").write_text("HADM_ID,ICD9_CODE\n7,4280\n7,42831\n9,V4611\n7,0389\n")
    recs = read_records(tmp_path / "dx.csv", RecordFormat(id_column="HADM_ID", code_column="ICD9_CODE"), "icd9-3")
    assert recs == [Record("7", ("038", "428")), Record("9", ("V46",))]


def test_input_errors_name_the_line_not_the_content(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "codes": ["QX01Z"]}\n{"id": "b", "codes": ["SECRET99", \n')
    with pytest.raises(UsageError, match="line 2") as info:
        read_records(bad)
    assert "SECRET99" not in str(info.value)
    (tmp_path / "x.csv").write_text("pid,dx\n1,SECRET99\n")
    with pytest.raises(UsageError, match="--id-column") as info:
        read_records(tmp_path / "x.csv")
    assert "SECRET99" not in str(info.value)
    with pytest.raises(UsageError, match="no such file"):
        read_records(tmp_path / "missing.jsonl")
    with pytest.raises(UsageError, match="format"):
        read_records(tmp_path / "records.parquet")


def test_vocab_min_count_and_matrix_round_trip(records):
    vocab = build_vocab(records)
    assert vocab == sorted(CODES)
    x = to_matrix(records, vocab)
    assert [r.codes for r in from_matrix(x, vocab)] == [r.codes for r in records]
    rare = [Record("a", ("QX00Z", "QX01Z")), Record("b", ("QX00Z",))]
    assert build_vocab(rare, min_count=2) == ["QX00Z"]


# ---------------------------------------------------------------- model, training, sampling

def test_width_rule_matches_ehrdiff_at_1782_codes_and_scales_down():
    assert widths(1782) == (1024, 384, 512)
    params = sum(p.numel() for p in Denoiser(1782, *widths(1782)).parameters())
    assert 7.0e6 < params < 8.5e6
    assert widths(195) == (256, 128, 128)
    assert widths(50_000)[:2] == (1024, 384)


def test_tiny_model_loss_falls(trained, records):
    m = trained.metrics
    assert m["steps_done"] == 150 and m["stopped_by"] == "steps"
    assert m["fixed_loss_final_ema"] < 0.7 * m["fixed_loss_initial"]
    assert m["loss_curve"][-1]["loss"] < m["loss_curve"][0]["loss"]


def test_default_length_and_schedule():
    assert auto_steps(965, 256) == 5000  # capped
    assert auto_steps(105, 105) == 1500  # small data: ~1,500 passes
    assert lr_factor(0, 100, 10) == pytest.approx(0.1) and lr_factor(9, 100, 10) == pytest.approx(1.0)
    assert lr_factor(100, 100, 10) == pytest.approx(0.0, abs=1e-12)


def test_training_is_deterministic_for_a_seed(records):
    def weights(seed):
        res = train(records, TrainSettings(steps=5, batch_size=32, seed=seed), TINY)
        return torch.cat([p.flatten() for p in res.model.parameters()])

    a, b, c = weights(3), weights(3), weights(4)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_sampling_is_deterministic_and_stays_in_the_vocabulary(codes_model):
    s = SampleSettings(n=50, seed=7, steps=8, batch_size=20)
    a, b = generate(codes_model, s), generate(codes_model, s)
    other = generate(codes_model, SampleSettings(n=50, seed=8, steps=8, batch_size=20))
    assert [r.codes for r in a.records] == [r.codes for r in b.records]
    assert [r.codes for r in a.records] != [r.codes for r in other.records]
    vocab = set(codes_model.vocab)
    assert all(set(r.codes) <= vocab for r in a.records)
    assert len(a.records) + a.dropped == 50


def test_trained_model_learns_the_profiles(codes_model, records):
    """Co-occurrence is what the model must learn: profile codes come together."""
    synth = generate(codes_model, SampleSettings(n=300, seed=0, max_copy_codes=99)).records
    real_x, synth_x = to_matrix(records, codes_model.vocab), to_matrix(synth, codes_model.vocab)
    assert prevalence_r(real_x, synth_x) > 0.8
    assert cooccurrence_r(real_x, synth_x) > 0.8


class _Constant(EDM):
    """A 'model' whose denoised estimate is always one fixed record: Heun lands exactly on it."""

    def __init__(self, target: torch.Tensor):
        super().__init__(Denoiser(len(target), 8, 8, 8))
        self.target = target

    def forward(self, x, sigma):
        return self.target.expand_as(x)


def test_copy_guard_refuses_a_planted_copy(records, trained):
    vocab = trained.vocab
    planted = next(r for r in records if len(r.codes) > 3)
    target = torch.from_numpy(to_matrix([planted], vocab)[0])
    cm = CodesModel(_Constant(target), vocab, {}, {}, trained.guard_salt, frozenset(trained.guard_hashes))
    res = generate(cm, SampleSettings(n=6, max_copy_codes=3, max_redraws=2, steps=4))
    assert res.records == [] and res.dropped == 6 and res.redrawn == 12
    # k at or above the record's size lets it through: small sets are not considered copies
    res = generate(cm, SampleSettings(n=6, max_copy_codes=len(planted.codes), steps=4))
    assert len(res.records) == 6 and res.records[0].codes == planted.codes and res.dropped == 0
    guard = CopyGuard(trained.guard_salt, frozenset(trained.guard_hashes), vocab, 3)
    novel = to_matrix([Record("n", tuple(CODES[0:4]) + tuple(CODES[12:16]))], vocab)
    assert not guard.refused(novel).any()


def test_model_folder_reload_and_card_hold_no_codes(tmp_path, trained):
    folder = save_model(tmp_path / "m", trained)
    cm = load_model(folder)
    assert cm.vocab == trained.vocab and cm.truncate == "none"
    x = torch.rand(4, len(cm.vocab))
    sigma = torch.full((4,), 0.5)
    with torch.no_grad():
        assert torch.equal(cm.model(x, sigma), trained.model(x, sigma))
    for name in ("model.safetensors", "vocab.json", "settings.json", "metrics.json", "guard.json", "README.md"):
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600, name
    for name in ("README.md", "guard.json", "metrics.json", "settings.json"):
        text = (folder / name).read_text()
        assert not any(code in text for code in CODES), name
    (folder / "vocab.json").unlink()
    with pytest.raises(SetupError, match="vocab.json"):
        load_model(folder)
    with pytest.raises(SetupError, match="train one"):
        load_model(tmp_path / "nowhere")


# ---------------------------------------------------------------- metrics

def test_metrics_on_identical_sets(records):
    x = to_matrix(records, CODES)
    assert prevalence_r(x, x) == pytest.approx(1.0)
    assert cooccurrence_r(x, x) == pytest.approx(1.0)
    assert size_distances(x, x)["size_wasserstein"] == 0 and size_distances(x, x)["size_tv"] == 0
    assert mmd_jaccard(x, x) == pytest.approx(0.0, abs=1e-6)
    assert nonzero_codes(x) == 16
    res = evaluate(records, records, settings=EvalSettings(folds=3))
    assert res.fidelity["prevalence_r"] == pytest.approx(1.0) and res.fidelity["size_wasserstein"] == 0
    assert res.privacy is None


def test_discriminator_auc_near_half_on_one_distribution():
    res = evaluate(profile_records(150, seed=1), profile_records(150, seed=2), settings=EvalSettings(folds=3))
    assert abs(res.fidelity["discriminator_auc"] - 0.5) < 0.12


def test_metrics_known_values():
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert roc_auc(np.ones(6), np.array([0, 1, 0, 1, 0, 1])) == 0.5
    one, two = np.zeros((4, 5)), np.zeros((4, 5))
    one[:, 0] = 1
    two[:, :2] = 1
    d = size_distances(one, two)
    assert d["size_wasserstein"] == 1.0 and d["size_tv"] == 1.0
    assert nonzero_codes(two) == 2


def test_discriminator_separates_disjoint_sets():
    real = [Record(f"r{i}", ("QX00Z", CODES[1 + i % 3])) for i in range(60)]
    synth = [Record(f"s{i}", ("QX09Z", CODES[10 + i % 3])) for i in range(60)]
    res = evaluate(real, synth, settings=EvalSettings(folds=3))
    assert res.fidelity["discriminator_auc"] == 1.0
    assert res.fidelity["prevalence_r"] < 0


def test_exact_copies_counted_right():
    train_recs = [Record("t0", tuple(CODES[0:5])), Record("t1", tuple(CODES[5:7])), Record("t2", tuple(CODES[7:12]))]
    synth = [Record("s0", tuple(CODES[0:5])), Record("s1", tuple(CODES[0:5])), Record("s2", tuple(CODES[5:7])),
             Record("s3", tuple(CODES[0:4])), Record("s4", tuple(CODES[12:16]))]
    x_train, x_synth = to_matrix(train_recs, CODES), to_matrix(synth, CODES)
    assert exact_copies(x_synth, x_train) == 3
    assert exact_copies(x_synth, x_train, more_than=3) == 2
    holdout = [Record("h0", tuple(CODES[12:16])), Record("h1", tuple(CODES[1:3]))]
    res = evaluate(holdout, synth, train_recs, EvalSettings(folds=2))
    assert res.privacy["exact_copies_of_train"] == 3
    assert res.privacy["exact_copies_of_train_over_3_codes"] == 2
    assert res.privacy["exact_copies_of_holdout"] == 1


def random_records(n: int, seed: int) -> list[Record]:
    """Six random codes of 16 each: almost no two records alike."""
    rng = random.Random(seed)
    return [make_record(f"r{seed}-{i}", rng.sample(CODES, 6)) for i in range(n)]


def test_membership_sees_copied_training_records():
    members, others = to_matrix(random_records(60, 1), CODES), to_matrix(random_records(60, 2), CODES)
    leaky = membership(members, others, members)  # "synthetic" = the training records themselves
    assert leaky["membership_auc"] > 0.9 and leaky["membership_advantage"] > 0.8
    assert leaky["dcr_members_mean"] == 0.0 and leaky["dcr_train_closer_share"] > 0.9
    fair = membership(members, others, to_matrix(random_records(200, 3), CODES))
    assert abs(fair["membership_advantage"]) < 0.3


def test_attribute_inference_exact_values():
    targets = np.array([[1, 0, 1, 0], [0, 1, 0, 1]])
    known = np.array([True, True, False, False])
    assert attribute_inference(targets, targets, known) == 1.0
    assert attribute_inference(targets, np.array([[1, 0, 0, 1], [0, 1, 1, 0]]), known) == 0.0
    assert math.isnan(attribute_inference(targets, targets, np.ones(4, dtype=bool)))


# ---------------------------------------------------------------- command line

def test_cli_train_sample_eval_end_to_end(tmp_path, records):
    runner = CliRunner()
    split = 96
    write_records(tmp_path / "train.jsonl", records[:split])
    write_records(tmp_path / "held.csv", records[split:])
    model = tmp_path / "model"
    res = runner.invoke(app, ["train", str(tmp_path / "train.jsonl"), "--out", str(model), "--steps", "30",
                              "--outer-width", "64", "--inner-width", "32", "--head-width", "8", "--seed", "2"])
    assert res.exit_code == 0, res.output
    assert "trained 30 steps" in res.output
    res = runner.invoke(app, ["sample", str(model), "--n", "40", "--out", str(tmp_path / "synth.jsonl"), "--steps", "6"])
    assert res.exit_code in (0, 1), res.output
    rows = [json.loads(line) for line in (tmp_path / "synth.jsonl").read_text().splitlines()]
    assert 0 < len(rows) <= 40
    assert all(set(r["codes"]) <= set(CODES) for r in rows)
    res = runner.invoke(app, ["eval", str(tmp_path / "held.csv"), str(tmp_path / "synth.jsonl"), "--report",
                              str(tmp_path / "report"), "--train", str(tmp_path / "train.jsonl"), "--folds", "2"])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["counts"]["real_records"] == len(records) - split
    assert report["counts"]["synthetic_records"] == len(rows)
    assert -1 <= report["privacy"]["membership_advantage"] <= 1
    assert (tmp_path / "report" / "prevalence.png").read_bytes()[:4] == b"\x89PNG"
    assert "prevalence Pearson r" in (tmp_path / "report" / "report.md").read_text()
    # a second train into the same folder needs --overwrite
    res = runner.invoke(app, ["train", str(tmp_path / "train.jsonl"), "--out", str(model), "--steps", "2"])
    assert res.exit_code == 2 and "--overwrite" in res.output


def test_cli_errors_have_exit_codes_and_no_record_contents(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["sample", str(tmp_path / "no-model"), "--n", "3", "--out", str(tmp_path / "s.jsonl")])
    assert res.exit_code == 4 and "codes train" in res.output
    res = runner.invoke(app, ["train", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "no such file" in res.output
    res = runner.invoke(app, ["train", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "m"), "--truncate", "icd9-5"])
    assert res.exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "codes": "SECRET99"}\n')
    res = runner.invoke(app, ["train", str(bad), "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "line 1" in res.output and "SECRET99" not in res.output
    assert not (tmp_path / "m").exists()
