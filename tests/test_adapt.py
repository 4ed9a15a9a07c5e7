"""Site adaptation: PHI replaced before training, the loss falls, the folder works, a run resumes."""
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notesynth.train import adapt as adapt_mod
from notesynth.train.adapt import AdaptConfig, adapt, prepare_corpus

runner = CliRunner()


def _fast(tiny_model, notes, out, **kw) -> AdaptConfig:
    base = dict(notes=str(notes), out=str(out), base=str(tiny_model), max_minutes=None, batch_size=4, seq_len=64,
                learning_rate=5e-3, warmup_steps=0, save_steps=4, logging_steps=2, seed=3, fp16_weights=False)
    base.update(kw)
    return AdaptConfig(**base)


@pytest.fixture(scope="module")
def notes_file(sample_rows, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("site") / "site_notes.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in sample_rows))
    return path


def _phi_strings(detector, row) -> set[str]:
    found = set()
    for s in detector.detect(row["text"]):
        value = row["text"][s.start:s.end].strip()
        if len(value) >= 4:  # shorter values ("12", "Jan") also occur as ordinary text
            found.add(value)
    return found


def _occurs(value: str, text: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(value) + r"(?!\w)", text) is not None


def _leaks(detector, rows, texts) -> list[str]:
    """Detected PHI strings of a note found in that note's prepared text.  (Across notes a
    surrogate may by chance equal another note's original, e.g. a common surname.)"""
    by_id = dict(zip([r["id"] for r in rows], texts))
    return [v for r in rows for v in _phi_strings(detector, r) if _occurs(v, by_id[r["id"]])]


@pytest.fixture(scope="module")
def adapted(tiny_model, notes_file, detector, tmp_path_factory):
    """One adaptation run, recording the texts the trainer was given."""
    from notesynth.train import trainer

    seen = {}
    real_train = trainer.train

    def spy(cfg, texts=None):
        seen.setdefault("texts", texts)
        return real_train(cfg, texts)

    out = tmp_path_factory.mktemp("adapted") / "site"
    mp = pytest.MonkeyPatch()
    mp.setattr(trainer, "train", spy)
    try:
        metrics = adapt(_fast(tiny_model, notes_file, out, max_steps=24), detector=detector)
    finally:
        mp.undo()
    return out, metrics, seen["texts"]


def test_prepared_corpus_holds_no_detected_phi(sample_rows, detector):
    from notesynth.batch.readers import Note

    notes = [Note(r["id"], r["text"], "test") for r in sample_rows]
    corpus = prepare_corpus(notes, detector, seed=3)
    assert len(corpus.texts) == len(sample_rows) and sum(corpus.phi_replaced.values()) > 0
    assert corpus.ids == [r["id"] for r in sample_rows]
    leaked = _leaks(detector, sample_rows, corpus.texts)
    assert not leaked, f"{len(leaked)} detected PHI strings reached the corpus"
    # the gold PHI of the sample notes: everything the detector finds is gone, and the sample's
    # names, ids and places are all found (dates and ages may stay as ordinary words elsewhere)
    gold = [(n, r["text"][s["start"]:s["end"]].strip()) for n, r in enumerate(sample_rows) for s in r["spans"]
            if s["label"] in ("NAME", "PATIENT", "DOCTOR", "ID", "PHONE", "HOSPITAL")]
    assert not [g for n, g in gold if len(g) >= 4 and _occurs(g, corpus.texts[n])]
    # only PHI changes: the same note with no PHI is untouched
    plain = Note("x", "Pt resting comfortably overnight, tolerating tube feeds.", "test")
    assert prepare_corpus([plain], detector).texts == [plain.text]


def test_adapt_trains_on_surrogates_only(adapted, sample_rows, detector):
    out, metrics, texts = adapted
    (source, docs), = texts.items()
    assert len(docs) == len(sample_rows)
    assert not _leaks(detector, sample_rows, docs)
    curve = metrics["loss_curve"]
    assert len(curve) >= 4 and all(c == c and c < 20 for c in curve), curve  # it trained, on finite losses
    # (that the shared training loop lowers the loss is tests/test_train.py's job: fine-tuning the
    # already-fitted tiny model for 24 steps moves its loss by less than the masking noise)


def test_adapted_folder_reloads_with_card_index_and_progress(adapted, sample_rows, tiny_model, detector):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from notesynth.check.memorization import MemorizationIndex

    out, metrics, texts = adapted
    AutoModelForMaskedLM.from_pretrained(str(out))
    # the base vocabulary, plus the notes' frequent split words: known words (never a name or a
    # medical term) in at least 5 of the surrogate notes, none a detected PHI string
    from notesynth.unknown import is_known

    vocab, base_vocab = (AutoTokenizer.from_pretrained(str(p)).get_vocab() for p in (out, tiny_model))
    added = set(vocab) - set(base_vocab)
    assert {t: i for t, i in vocab.items() if t in base_vocab} == base_vocab
    assert len(vocab) == AutoModelForMaskedLM.from_pretrained(str(out)).config.vocab_size
    docs = list(texts.values())[0]
    for word in added:
        assert is_known(word) and sum(_occurs(word, d.lower()) for d in docs) >= 5, word
    phi = {v.lower() for r in sample_rows for v in _phi_strings(detector, r)}
    assert not added & phi
    # the site words file (unknown.find_site_words) is written and counted on the card
    from notesynth.unknown import SITE_WORDS_FILE, site_words

    assert (out / SITE_WORDS_FILE).read_text().startswith("# notesynth site words")
    assert metrics["adaptation"]["site_words"] == len(site_words(str(out)))
    assert not site_words(str(out)) & phi
    card = (out / "README.md").read_text()
    assert "Site adaptation" in card and "PHI spans replaced" in card
    for r in sample_rows:  # counts only: no text of any note, original or surrogate
        for line in r["text"].splitlines():
            if len(line.strip()) > 25:
                assert line.strip() not in card
    index = MemorizationIndex.load(out)
    base_index = MemorizationIndex.load(tiny_model)
    assert len(index.signatures) == len(base_index.signatures) + len(sample_rows)
    (doc,) = list(texts.values())[0][:1]
    assert index.nearest(doc) == 1.0  # an adapted document is in the index
    assert json.loads((out / "progress.json").read_text())["status"] == "done"
    assert metrics["adaptation"]["documents"] == len(sample_rows)
    assert list((out / "checkpoints").glob("checkpoint-*"))


def test_frequent_split_words_become_tokens(tiny_model, notes_file, sample_rows, detector, tmp_path):
    """A base whose vocabulary lacks some frequent words of the notes (renamed to unused slots
    here) gets them back as tokens of their own, in those slots; the model stays its size."""
    import shutil

    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from notesynth.infill.vocabulary import fill_allowed
    from notesynth.unknown import is_known

    base = tmp_path / "base"
    shutil.copytree(tiny_model, base)
    data = json.loads((base / "tokenizer.json").read_text())
    vocab = data["model"]["vocab"]
    texts = [r["text"].lower() for r in sample_rows]
    frequent = sorted(w for w in vocab if w.isalpha() and len(w) >= 4 and is_known(w) and fill_allowed(w)
                      and sum(_occurs(w, t) for t in texts) >= 7)[:6]
    assert len(frequent) >= 3
    slots = {w: vocab.pop(w) for w in frequent}
    for k, (w, i) in enumerate(slots.items()):
        vocab[f"[unused{k}]"] = i
    (base / "tokenizer.json").write_text(json.dumps(data))
    assert all(len(AutoTokenizer.from_pretrained(str(base)).tokenize(w)) > 1 for w in frequent)

    out = tmp_path / "site"
    adapt(_fast(base, notes_file, out, max_steps=2, site_vocab_min_docs=5), detector=detector)
    adapted = AutoTokenizer.from_pretrained(str(out)).get_vocab()
    assert {w: adapted.get(w) for w in frequent} == slots  # each word back, in a former unused slot
    assert len(adapted) == len(vocab)
    assert AutoModelForMaskedLM.from_pretrained(str(out)).config.vocab_size == len(vocab)
    assert not [t for t in adapted if t.startswith("[unused")]


def test_synth_uses_the_adapted_model(adapted, tmp_path):
    from notesynth.cli import app

    out, _, _ = adapted
    text = "Pt resting comfortably overnight. Tolerating tube feeds at goal. Family visited this evening."
    res = runner.invoke(app, ["synth", "-", "-", "--model", str(out), "--seed", "1", "--quiet", "--max-risk", "1.0"],
                        input=text, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert res.stdout.strip()


def test_interrupted_run_resumes(tiny_model, notes_file, detector, tmp_path):
    out = tmp_path / "site"
    adapt(_fast(tiny_model, notes_file, out, max_steps=4), detector=detector)  # "interrupted" at step 4
    assert (out / "checkpoints" / "checkpoint-4").exists()
    metrics = adapt(_fast(tiny_model, notes_file, out, max_steps=8), detector=detector)
    assert metrics["resumed_from_step"] == 4 and metrics["steps"] == 8
    # checkpoints of another job are not resumed silently
    with pytest.raises(ValueError, match="different adaptation"):
        adapt(_fast(tiny_model, notes_file, out, max_steps=8, seed=4), detector=detector)
    metrics = adapt(_fast(tiny_model, notes_file, out, max_steps=2, seed=4, resume=False), detector=detector)
    assert metrics["resumed_from_step"] == 0


def test_adapt_command(tiny_model, notes_file, tmp_path, monkeypatch, detector):
    from notesynth.cli import app

    monkeypatch.setattr("notesynth.phi.shared_detector", lambda threshold=None: detector)
    out = tmp_path / "site"
    res = runner.invoke(app, ["adapt", str(notes_file), "--out", str(out), "--base", str(tiny_model),
                              "--max-steps", "2", "--batch-size", "4", "--save-steps", "2"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "PHI spans replaced" in res.stdout and (out / "model.safetensors").exists()
    res = runner.invoke(app, ["adapt", str(tmp_path / "missing.jsonl"), "--out", str(out)])
    assert res.exit_code == 2


def test_adapt_refuses_its_base_as_output(tiny_model, notes_file):
    with pytest.raises(ValueError, match="differ"):
        adapt(AdaptConfig(notes=str(notes_file), out=str(tiny_model), base=str(tiny_model)), detector=object())


def test_module_imports_no_cli():
    assert "notesynth.cli" not in Path(adapt_mod.__file__).read_text()


def test_a_time_budget_alone_sets_the_length_of_adaptation():
    """A fixed epoch count ended a 15-minute run after 6 minutes: with a budget and no
    --epochs/--max-steps, the budget ends the run and the rate does not decay toward a
    step count nobody knows."""
    from notesynth.train.adapt import DEFAULT_EPOCHS, UNBOUNDED_EPOCHS, AdaptConfig, budget_epochs

    assert budget_epochs(AdaptConfig("n", "o", max_minutes=15)) == (UNBOUNDED_EPOCHS, "constant_with_warmup")
    assert budget_epochs(AdaptConfig("n", "o", max_minutes=15, epochs=2.0)) == (2.0, "linear")
    assert budget_epochs(AdaptConfig("n", "o", max_minutes=15, max_steps=100)) == (DEFAULT_EPOCHS, "linear")
    assert budget_epochs(AdaptConfig("n", "o", max_minutes=None)) == (DEFAULT_EPOCHS, "linear")
