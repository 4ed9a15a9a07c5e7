"""Evaluation metrics on hand-made pairs, the report writer, and eval/sweep through the CLI."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from notesynth import evaluate as ev
from notesynth.cli.evaluate import register

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "data" / "sample_notes_gold.jsonl"

A = ("Patient given aspirin 81 mg daily for chest pain. BP 120/80, HR 72. "
     "Seen by Dr. Smith at Boston General on 3/4. No shortness of breath.")
B = "Kittens chase yellow string under quiet wooden tables while rain falls outside."


def _runner_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test app"""

    register(app)
    return app


@pytest.fixture(scope="module")
def scorer(tiny_model):
    return ev.BertScorer(str(tiny_model))


# ---------------------------------------------------------------- fidelity

def test_rouge_identical_and_disjoint():
    same = ev.rouge(A, A)
    assert same == pytest.approx({"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0})
    assert ev.rouge(A, B) == pytest.approx({"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}, abs=0.05)
    half = ev.rouge("a b c d", "a b x y")
    assert half["rouge1"] == pytest.approx(0.5)
    assert half["rouge2"] == pytest.approx(1 / 3)


def test_bertscore_identical_is_one_and_unrelated_is_lower(scorer):
    (p, r, f), other = scorer.score([A, B], [A, A])
    assert p == pytest.approx(1.0, abs=1e-4) and r == pytest.approx(1.0, abs=1e-4) and f == pytest.approx(1.0, abs=1e-4)
    assert other[2] < f - 0.01  # the tiny test model embeds every text alike, so the gap is small
    assert scorer.score([""], [A]) == [None]


def test_bertscore_long_texts_use_windows(tiny_model):
    small = ev.BertScorer(str(tiny_model), max_tokens=16)
    long_text = " ".join([A] * 5)
    assert small.score([long_text], [long_text])[0][2] == pytest.approx(1.0, abs=1e-4)


def test_length_ratio_and_medical_terms_kept():
    assert ev.length_ratio(A, A) == 1.0
    assert ev.length_ratio("one two three four", "one two") == 0.5
    kept, n = ev.medical_kept(A, A)
    assert kept == 1.0 and n >= 4
    assert ev.medical_kept(A, B)[0] == 0.0
    # "aspirin" twice in the original, once in the output: one of two kept
    kept, n = ev.medical_kept("aspirin then aspirin", "aspirin then nothing")
    assert (kept, n) == (0.5, 2)


def test_medical_kept_leaves_out_gold_phi():
    """A date that reads as a measure ("3/14") is PHI: replacing it is not losing a fact."""
    original = "Seen 3/14 for aspirin 81 mg."
    synthetic = "Seen 5/02 for aspirin 81 mg."
    kept, n = ev.medical_kept(original, synthetic)
    assert n == 3 and kept == pytest.approx(2 / 3)
    date = {"start": 5, "end": 9, "label": "DATE"}
    assert original[5:9] == "3/14"
    assert ev.medical_kept(original, synthetic, [date]) == (1.0, 2)
    row = ev.evaluate_pair("n1", original, synthetic, gold_spans=[date])
    assert row["medical_kept"] == 1.0 and row["phi_survival"] == 0.0


def test_fidelity_dataclass(scorer):
    f = ev.fidelity(A, A, scorer)
    assert f.rougeL == 1.0 and f.bertscore_f1 == pytest.approx(1.0, abs=1e-4) and f.length_ratio == 1.0
    assert ev.fidelity(A, B).bertscore_f1 is None


# ---------------------------------------------------------------- diversity

def test_self_bleu():
    assert ev.self_bleu([A, A, A]) == pytest.approx(100.0)
    assert ev.self_bleu([A]) is None
    assert ev.self_bleu([A, B]) < 5


def test_distinct_n_known_example():
    texts = ["a b a", "a c"]
    assert ev.distinct_n(texts, 1) == pytest.approx(3 / 5)   # a b a a c -> a, b, c
    assert ev.distinct_n(texts, 2) == pytest.approx(1.0)     # (a b) (b a) (a c)
    assert ev.distinct_n(["the the the the"], 2) == pytest.approx(1 / 3)
    assert ev.distinct_n([""], 1) is None


def test_words_changed():
    assert ev.words_changed(A, A) == 0.0
    assert ev.words_changed(A, B) == pytest.approx(1.0)
    assert ev.words_changed("one two three four", "one TWO five four") == pytest.approx(0.25)


def test_readability_scores():
    r = ev.readability(A)
    assert set(r) == {"fre", "fkgl", "smog"}
    assert ev.readability("The cat sat. The dog ran. It is fun.")["fre"] > r["fre"]


# ---------------------------------------------------------------- privacy

def test_phi_survival_constructed_case():
    spans = [{"start": A.index("Smith"), "end": A.index("Smith") + 5, "label": "NAME"},
             {"start": A.index("Boston General"), "end": A.index("Boston General") + 14, "label": "HOSPITAL"},
             {"start": A.index("3/4"), "end": A.index("3/4") + 3, "label": "DATE"}]
    out = A.replace("Smith", "Jones").replace("3/4", "5/6").replace("Boston General", "BOSTON\n general")
    assert ev.phi_survival(A, out, spans) == (pytest.approx(1 / 3), 3)   # case and whitespace ignored
    assert ev.phi_survival(A, "Smithers was here", spans[:1]) == (0.0, 1)  # whole words only
    assert ev.phi_survival(A, A, spans) == (1.0, 3)
    assert ev.phi_survival(A, A, []) == (None, 0)


def test_privacy_summary_of_manifest_rows():
    rows = [{"id": "a", "status": "written", "risk": {"risk": 0.2, "passed": True, "leaked_phi": 0}},
            {"id": "b", "status": "held", "risk": {"risk": 1.0, "passed": False, "leaked_phi": 2}},
            {"id": "c", "status": "written", "risk": {"risk": 0.3, "passed": True}},
            {"id": "d", "status": "error"}]
    s = ev.privacy_summary(rows)
    assert s["mean_risk"] == pytest.approx(0.5) and s["max_risk"] == 1.0
    assert s["held_share"] == 0.25 and s["error_share"] == 0.25 and s["leaked_phi"] == 2
    assert ev.privacy_summary([{"risk": 0.4, "passed": True}])["mean_risk"] == 0.4


# ---------------------------------------------------------------- summary and report

def test_summarise_and_write_report(tmp_path):
    per_note = [ev.evaluate_pair("n1", A, A, gold_spans=[{"start": 0, "end": 7}], report={"risk": 0.1}),
                ev.evaluate_pair("n2", A, B, gold_spans=[], report={"risk": 0.3}),
                ev.evaluate_pair("n3", A, A.replace("daily", "nightly"), report={"risk": 0.5})]
    summary = ev.summarise(per_note)
    m = summary["metrics"]
    assert summary["n_notes"] == 3
    assert m["risk"]["mean"] == pytest.approx(0.3) and m["risk"]["median"] == pytest.approx(0.3)
    assert m["rouge1"]["max"] == 1.0 and m["phi_survival"]["n"] == 1
    assert "id" not in m
    summary["privacy"] = ev.privacy_summary([{"risk": 0.1, "passed": True}])
    paths = ev.write_report(tmp_path / "rep", summary, per_note)
    folder = tmp_path / "rep"
    assert json.loads((folder / "metrics.json").read_text())["n_notes"] == 3
    assert len((folder / "per_note.jsonl").read_text().splitlines()) == 3
    report = (folder / "report.md").read_text()
    assert "## Definitions" in report and "**rougeL**" in report and "**phi_survival**" in report
    assert (folder / "hist_rougeL.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "hist_risk.png").exists()
    assert all(Path(p).exists() for p in paths["plots"])


# ---------------------------------------------------------------- CLI

def _secret_strings(rows) -> list[str]:
    return [row["text"][s["start"]:s["end"]] for row in rows for s in row["spans"]
            if len(row["text"][s["start"]:s["end"]].strip()) >= 4]


def test_eval_command(tiny_model, tmp_path):
    rows = [json.loads(line) for line in GOLD.read_text().splitlines()][:4]
    syn_dir = tmp_path / "syn"
    syn_dir.mkdir()
    for row in rows:  # PHI blanked out, every 5th word changed
        text = row["text"]
        for s in sorted(row["spans"], key=lambda s: -s["start"]):
            text = text[:s["start"]] + "XXXX" + text[s["end"]:]
        n = [0]

        def swap(m):
            n[0] += 1
            return "word" if n[0] % 5 == 0 else m.group()
        (syn_dir / f"{row['id']}.txt").write_text(re.sub(r"[A-Za-z]+", swap, text))
    (syn_dir / "manifest.jsonl").write_text("".join(
        json.dumps({"id": r["id"], "status": "written", "risk": {"risk": 0.25, "passed": True}}) + "\n" for r in rows))
    originals = tmp_path / "orig.jsonl"
    originals.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in rows))

    result = CliRunner().invoke(_runner_app(), ["eval", str(originals), str(syn_dir), "--report", str(tmp_path / "rep"),
                                                "--score-model", str(tiny_model), "--gold", str(GOLD)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    m = metrics["metrics"]
    assert m["rougeL"]["n"] == 4 and 0.5 < m["rougeL"]["mean"] < 1.0
    assert 0.5 < m["bertscore_f1"]["mean"] < 1.0
    assert m["phi_survival"]["max"] == 0.0
    assert metrics["privacy"]["mean_risk"] == pytest.approx(0.25)
    assert "rougeL" in result.output and "phi_survival" in result.output
    for secret in _secret_strings(rows):
        assert secret not in result.output
    assert (tmp_path / "rep" / "report.md").exists()


def test_eval_command_errors(tmp_path):
    result = CliRunner().invoke(_runner_app(), ["eval", str(tmp_path / "nope"), str(tmp_path), "--report",
                                                str(tmp_path / "r"), "--no-bertscore"])
    assert result.exit_code == 2
    result = CliRunner().invoke(_runner_app(), ["eval", str(GOLD), str(GOLD), "--report", str(tmp_path / "r"),
                                                "--score-model", str(tmp_path / "missing")])
    assert result.exit_code == 4


def test_sweep_command(tiny_model, tmp_path):
    rows = [json.loads(line) for line in GOLD.read_text().splitlines()][:2]
    result = CliRunner().invoke(_runner_app(), [
        "sweep", str(GOLD), "--mask-ratios", "0.3,0.7", "--strategies", "confidence,left-to-right", "--k", "2", "--limit", "2", "--model", str(tiny_model),
        "--retries", "0", "--gold", str(GOLD), "--report", str(tmp_path / "sweep"), "--quiet"],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "sweep" / "metrics.json").read_text())
    settings = metrics["settings"]
    assert [(s["strategy"], s["mask_ratio"]) for s in settings] == [
        ("confidence", 0.3), ("confidence", 0.7), ("left-to-right", 0.3), ("left-to-right", 0.7)]
    for s in settings:
        assert s["n_notes"] == 2 and s["k"] == 2
        assert s["written"] + round(s["held_share"] * 4) + round(s["error_share"] * 4) == 4
        assert 0 <= s["mean_risk"] <= 1
    written = [s for s in settings if s["written"]]
    assert all(0 < s["rougeL"] <= 1 for s in written)
    assert (tmp_path / "sweep" / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    report = (tmp_path / "sweep" / "report.md").read_text()
    assert "| confidence | 0.300 |" in report and "| left-to-right | 0.700 |" in report
    assert "## Definitions" in report and "**self_bleu**" in report
    for secret in _secret_strings(rows):
        assert secret not in result.output
