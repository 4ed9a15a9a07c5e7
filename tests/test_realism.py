"""The realism score: a classifier two-sample test, cross-validated with folds grouped by note."""
import json
import random
from pathlib import Path

import pytest

from notesynth.evaluate.realism import realism_auc

DATA = Path(__file__).resolve().parents[1] / "data"

WORDS = ("patient resting comfortably overnight tolerating tube feeds secretions suctioned lungs coarse "
         "pain controlled family visited plan continue monitor sats stable afebrile heart rate sinus "
         "rhythm urine output adequate skin intact turned every two hours").split()


def _notes(n: int, seed: int, words=WORDS, length: int = 40) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(length)) for _ in range(n)]


def test_identical_sets_score_one_half():
    texts = _notes(60, 0)
    real = {f"n{i}": t for i, t in enumerate(texts)}
    res = realism_auc(real, dict(real))
    # identical pairs share a fold, so the classifier cannot tell them apart: exactly 0.5;
    # a split that separated a note from its copy would push the AUC far below 0.5
    assert res.auc == pytest.approx(0.5, abs=0.05)
    assert res.n_real == res.n_synthetic == 60 and res.folds == 5 and res.n_groups == 60


def test_same_distribution_scores_near_one_half():
    real = {f"n{i}": t for i, t in enumerate(_notes(80, 1))}
    syn = {f"n{i}": t for i, t in enumerate(_notes(80, 2))}
    assert abs(realism_auc(real, syn).auc - 0.5) < 0.15


def test_trivially_different_sets_score_near_one():
    real = {f"n{i}": t for i, t in enumerate(_notes(50, 3))}
    other = ("assessment history reviewed examination impression recommended consultation discussed "
             "findings noted plan patient").split()
    syn = {f"n{i}": t for i, t in enumerate(_notes(50, 4, WORDS[:10] + other))}
    assert realism_auc(real, syn).auc > 0.95


def test_several_syntheses_per_note_and_pair_input():
    texts = _notes(30, 5)
    real = [(f"n{i}", t) for i, t in enumerate(texts)]
    syn = {f"n{i}": [t, t] for i, t in enumerate(texts)}
    res = realism_auc(real, syn)
    assert res.n_synthetic == 60 and res.n_groups == 30
    assert res.auc == pytest.approx(0.5, abs=0.05)


def test_grouping_keeps_a_note_and_its_copy_together(monkeypatch):
    """Every fold's test set holds all rows of its groups (never a note without its synthetic)."""
    import sklearn.model_selection as ms

    seen = []
    original = ms.GroupKFold.split

    def spy(self, x, y=None, groups=None):
        for train_idx, test_idx in original(self, x, y, groups):
            seen.append((set(groups[train_idx].tolist()), set(groups[test_idx].tolist())))
            yield train_idx, test_idx

    monkeypatch.setattr(ms.GroupKFold, "split", spy)
    texts = _notes(25, 6)
    realism_auc({f"n{i}": t for i, t in enumerate(texts)}, {f"n{i}": t + " x" for i, t in enumerate(texts)})
    assert len(seen) == 5
    for train_groups, test_groups in seen:
        assert not train_groups & test_groups
    assert set().union(*(t for _, t in seen)) == set(range(25))


def test_too_few_notes_gives_none():
    assert realism_auc({"a": "x y"}, {"a": "x z"}) is None
    assert realism_auc({}, {"a": "x"}) is None


def test_eval_reports_realism(tmp_path):
    from notesynth.evaluate import write_report
    from notesynth.evaluate.loops import evaluate_run

    orig = {f"n{i}": t for i, t in enumerate(_notes(20, 7))}
    syn = {i: t.replace("overnight", "reviewed") + " assessment" for i, t in orig.items()}
    summary, _ = evaluate_run(orig, syn)
    assert summary["realism"]["auc"] > 0.9 and summary["realism"]["n_groups"] == 20
    write_report(tmp_path, summary, [])
    assert "## Realism" in (tmp_path / "report.md").read_text()
    assert json.loads((tmp_path / "metrics.json").read_text())["realism"]["folds"] == 5


def test_sweep_has_a_realism_column(tiny_model, tmp_path):
    from typer.testing import CliRunner

    from notesynth.cli import app

    res = CliRunner().invoke(app, ["sweep", str(DATA / "sample_notes_gold.jsonl"), "--mask-ratios", "0.5", "--k", "1",
                                   "--model", str(tiny_model), "--retries", "0", "--max-risk", "1.0",
                                   "--no-bertscore", "--report", str(tmp_path / "sweep"), "--quiet"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "realism" in res.stdout
    (row,) = json.loads((tmp_path / "sweep" / "metrics.json").read_text())["settings"]
    assert 0.0 <= row["realism_auc"] <= 1.0
    assert "realism_auc" in (tmp_path / "sweep" / "report.md").read_text()
