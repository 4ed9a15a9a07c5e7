import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from notesynth import protect as medical
from notesynth.infill import FillJob, Infiller, InfillSettings, ModelLoadError
from notesynth.infill.loop import window_spans
from notesynth.text import match_case
from notesynth.masking import plan, render
from notesynth.spans import Span
from notesynth.surrogates import SurrogateMaker


def _job(text, seed, ratio=0.5):
    p = plan(text, [], medical.protect(text), ratio, random.Random(seed), SurrogateMaker(seed))
    return FillJob(p, seed)


@pytest.fixture(scope="module")
def infiller(tiny_model):
    return Infiller(str(tiny_model), "cpu", InfillSettings(passes=3, batch_size=4))


def test_fills_every_mask_with_a_word(infiller, sample_rows):
    job = _job(sample_rows[0]["text"], 1)
    fills = infiller.fill([job])[0]
    assert set(fills) == set(job.plan.masked_indices())
    assert all(w and w.replace("'", "").isalpha() for w in fills.values())
    out, _ = render(job.plan, fills)
    assert len(out) > 0.5 * len(sample_rows[0]["text"])


def test_same_seed_same_fill_other_seed_differs(infiller, sample_rows):
    text = sample_rows[1]["text"]
    a = infiller.fill([_job(text, 7)])[0]
    b = infiller.fill([_job(text, 7)])[0]
    c = infiller.fill([FillJob(_job(text, 7).plan, 8)])[0]
    assert a == b
    assert a != c


def test_output_independent_of_batch_company(infiller, sample_rows):
    jobs = [_job(r["text"], 11 + i) for i, r in enumerate(sample_rows[:5])]
    together = infiller.fill(jobs)
    alone = [infiller.fill([j])[0] for j in jobs]
    assert together == alone


def test_long_note_uses_overlappingwindow_spans(infiller, sample_rows):
    text = " ".join(r["text"] for r in sample_rows)  # far beyond one 256-token window
    job = _job(text, 3, ratio=0.3)
    fills = infiller.fill([job])[0]
    assert set(fills) == set(job.plan.masked_indices())


def test_left_to_right_strategy(tiny_model, sample_rows):
    inf = Infiller(str(tiny_model), "cpu", InfillSettings(passes=2, strategy="left-to-right"))
    job = _job(sample_rows[2]["text"], 5)
    assert set(inf.fill([job])[0]) == set(job.plan.masked_indices())


def test_windows_cover_all_tokens():
    wins = window_spans(1000, 256)
    covered = set()
    for a, b in wins:
        assert b - a == 254
        covered.update(range(a, b))
    assert covered == set(range(1000))
    assert window_spans(10, 256) == [(0, 10)]


def test_case_matching():
    assert match_case("PATIENT", "woman", title=True) == "WOMAN"
    assert match_case("Patient", "woman", title=True) == "Woman"
    assert match_case("patient", "Woman", title=True) == "woman"


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        Infiller(str(tmp_path / "nope"))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="could not load"):
        Infiller(str(tmp_path / "broken"))


def test_multi_piece_words_are_filled_as_whole_words(tiny_model):
    inf = Infiller(str(tiny_model), "cpu", InfillSettings(passes=2, max_pieces_per_word=4))
    text = "The extraordinarily uncooperative gentleman was transported downstairs yesterday afternoon."
    job = _job(text, 2, ratio=1.0)
    state = inf._encode(job)
    assert any(len(slot.positions) > 1 for slot in state.slots)  # long words get several pieces
    fills = inf.fill([job])[0]
    assert all(w.isalpha() and "#" not in w for w in fills.values())


def test_fills_never_write_negations_or_lone_letters(infiller, sample_rows):
    from notesynth.infill.vocabulary import BANNED_FILLS

    for i, row in enumerate(sample_rows[:4]):
        fills = infiller.fill([_job(row["text"], 40 + i, ratio=0.8)])[0]
        for word in fills.values():
            assert word.lower() not in BANNED_FILLS and not medical.is_medical_word(word)
            assert len(word) > 1 or word.lower() == "a"


THREAD_SPLIT_PROBE = """
import sys, torch
import notesynth  # sets the reproducibility mode before the first matrix product
from transformers import BertConfig, BertForMaskedLM
from notesynth.infill.model import masked_only_logits
torch.manual_seed(0)
# MiniLM-sized layers: the tiny test model is too small for MKL to split its products
model = BertForMaskedLM(BertConfig(vocab_size=3000, hidden_size=384, num_hidden_layers=1,
                                   num_attention_heads=6, intermediate_size=1536)).eval()
differing = 0
for trial in range(12):
    rows, length = 1 + trial % 6, (32, 64)[trial % 2]
    ids = torch.randint(5, 3000, (rows, length))
    mask = torch.ones_like(ids)
    select = torch.rand(rows, length) < 0.2
    out = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with torch.inference_mode():
            out.append(masked_only_logits(model, ids, mask, select))
    differing += not torch.equal(out[0], out[1])
print(differing)
"""


def test_logits_do_not_depend_on_the_thread_count():
    """Why `--workers` cannot change the output: one process with 2 threads and two
    with 1 thread each must compute bit-identical logits."""
    env = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR", "OMP_NUM_THREADS")}
    res = subprocess.run([sys.executable, "-c", THREAD_SPLIT_PROBE], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "0"


def test_fills_never_write_titles_dates_or_placeholders(infiller):
    """A written "Dr"/"Monday"/"ABC" would read as PHI in the output and fail the check."""
    from notesynth.infill.vocabulary import IDENTITY_FILLS

    vocab = infiller.tokenizer.get_vocab()
    present = [w for w in IDENTITY_FILLS if w in vocab]
    assert present, "the test model's vocabulary should hold some identity words"
    assert not any(bool(infiller.start_ok[vocab[w]]) for w in present)
    assert bool(infiller.start_ok[vocab["the"]])  # ordinary words stay allowed
    assert {"inc", "llc"} <= IDENTITY_FILLS  # "Ancef Inc" reads as a company (residual ORGANIZATION)


def test_fills_never_write_first_names_or_months(infiller):
    """A fill that writes "Richard" or "may" before a kept "2005" puts a name or a date in the
    output the checker must hold; first names that are ordinary words ("mark", "hope") stay."""
    from notesynth.infill.vocabulary import fill_allowed, first_name_fills

    assert {"richard", "mary", "taylor", "ray"} <= first_name_fills()
    assert not any(fill_allowed(w) for w in ("richard", "Mary", "may", "march", "june"))
    assert all(fill_allowed(w) for w in ("mark", "hope", "the", "family"))
    vocab = infiller.tokenizer.get_vocab()
    names = [w for w in first_name_fills() if w in vocab]
    assert names, "the test model's vocabulary should hold some first names"
    assert not any(bool(infiller.start_ok[vocab[w]]) for w in names)


def test_a_fill_never_writes_a_word_of_its_notes_phi(infiller, sample_rows):
    """``FillJob.banned`` (the words of the note's PHI, ``vocabulary.phi_words``): a surrogate
    replaced "Mr. Case", and a fill may not write "case" back elsewhere.  Banning the words the
    same fill wrote without the ban changes every one of them."""
    from notesynth.infill.vocabulary import phi_words

    text = sample_rows[2]["text"]
    free = infiller.fill([_job(text, 5, ratio=0.6)])[0]
    written = frozenset(w.lower() for w in free.values())
    assert len(written) >= 5
    banned = infiller.fill([FillJob(_job(text, 5, ratio=0.6).plan, 5, written)])[0]
    assert set(banned) == set(free)
    assert not {w.lower() for w in banned.values()} & written
    note = "Mr. Case Hart seen with Dr. O'Neil on 3/4."
    phi = [Span(note.index("Case"), note.index(" seen"), "NAME"),
           Span(note.index("O'Neil"), note.index(" on"), "NAME"),
           Span(note.index("3/4"), note.index("3/4") + 3, "DATE")]
    assert phi_words(note, phi) == {"case", "hart", "neil"}


@pytest.mark.parametrize("pieces", [1, 3])
def test_fills_never_write_medical_words(tiny_model, sample_rows, pieces):
    """Masks only cover words that were not protected, so a fill that writes "pneumonia"
    would invent a clinical fact (and an unlabelled entity in a labelled corpus).  With
    several pieces per word, pieces drawn one at a time can still assemble one ("to" +
    "##es"): such a word is drawn again, and every written fill is a known word."""
    from notesynth.unknown import known_words

    infiller = Infiller(str(tiny_model), "cpu", InfillSettings(passes=3, batch_size=4, max_pieces_per_word=pieces))
    vocab = infiller.tokenizer.get_vocab()
    medical_in_vocab = [w for w in vocab if w.isalpha() and medical.is_medical_word(w)]
    assert len(medical_in_vocab) >= 5, "the test model's vocabulary should hold medical words"
    assert not any(bool(infiller.start_ok[vocab[w]]) for w in medical_in_vocab)
    multi = 0
    for i, row in enumerate(sample_rows[:6]):
        job = _job(row["text"], 70 + i, ratio=0.9)
        multi += sum(len(s.positions) > 1 for s in infiller._encode(job).slots)
        fills = infiller.fill([job])[0]
        assert fills
        assert not [w for w in fills.values() if medical.is_medical_word(w)]
        assert all(w.lower() in known_words() for w in fills.values())
    assert (multi > 0) == (pieces > 1)


def test_medical_word_rule_matches_the_masker():
    text = "Started metoprolol for tachycardia; abdomen soft, the family visited."
    protected = {text[s.start:s.end] for s in medical.protect(text) if s.label == "MEDICAL"}
    for word in ("metoprolol", "tachycardia", "abdomen"):
        assert medical.is_medical_word(word) and word in protected
    for word in ("family", "visited", "the"):
        assert not medical.is_medical_word(word) and word not in protected


@pytest.fixture(scope="module")
def shipped():
    from notesynth.config import default_model_path

    return Infiller(default_model_path(), "cpu", InfillSettings())


NURSING = ("Pt resting comfortably in bed overnight with no complaints of pain. Lungs clear, "
           "sats stable on room air. Tolerating diet well, voiding in commode. Family in to visit "
           "this evening and updated on plan of care. Will continue to monitor closely overnight.")


def test_a_masked_word_is_never_filled_with_itself(shipped):
    """The model predicts many of the masked words back; with new_words_only every one changes."""
    same = {True: 0, False: 0}
    for new_only in (True, False):
        inf = shipped.with_settings(InfillSettings(new_words_only=new_only))
        for seed in range(6):
            job = _job(NURSING, seed, ratio=0.6)
            for i, fill in inf.fill([job])[0].items():
                same[new_only] += fill.lower() == job.plan.segments[i].text.lower()
    assert same[False] > 0, "the model never predicted a masked word back: the test proves nothing"
    assert same[True] == 0


def test_one_piece_fills_are_words_synth_would_keep(shipped, sample_rows):
    """No half-words: a one-piece fill is a known word, not a first piece such as 'con' (cont)."""
    from notesynth.unknown import known_words

    known = known_words()
    for n, row in enumerate(sample_rows[:4]):
        for fill in shipped.fill([_job(row["text"], n, ratio=0.6)])[0].values():
            assert fill.lower() in known, fill


def test_word_end_prior_counts_whole_words_and_first_pieces():
    """"con" is a whole word once and the first piece of "cont" three times; "secret" only starts
    "secretions": the prior then weighs "con" by 2/5 and "secret" by 1/3 (add-one)."""
    import math

    from transformers import AutoTokenizer

    from notesynth.infill.prior import count_word_starts

    tok = AutoTokenizer.from_pretrained(str(Path(__file__).resolve().parents[1] / "models" / "default"))
    counts = count_word_starts(["cont cont. Cont con", "secretions thick"], tok)
    assert counts["con"] == [1, 3] and counts["secret"] == [0, 1]
    assert "thick" not in counts  # starts no longer word here: prior 0
    assert math.isclose(math.log((1 + 1) / (1 + 3 + 1)), math.log(2 / 5))


def test_a_piece_never_written_alone_is_not_a_one_piece_fill(tiny_model, sample_rows, tmp_path):
    """With the model folder's prior, a piece its text only ever writes as the start of a longer
    word is not written as a word; with fill_prior off, the fills are the model's own again."""
    import dataclasses
    import json
    import shutil
    from collections import Counter

    from notesynth.infill.prior import FORMAT, PRIOR_FILE

    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    (folder / PRIOR_FILE).unlink(missing_ok=True)
    settings = InfillSettings(passes=2, batch_size=4)
    jobs = lambda: [_job(row["text"], 90 + i, ratio=0.9) for i, row in enumerate(sample_rows[:6])]  # noqa: E731
    plain = Infiller(str(folder), "cpu", settings).fill(jobs())
    top = Counter(w.lower() for fills in plain for w in fills.values()).most_common(1)[0][0]
    (folder / PRIOR_FILE).write_text(json.dumps({"format": FORMAT, "counts": {top: [0, 10 ** 9]}}))
    weighed = Infiller(str(folder), "cpu", settings)
    assert top not in {w.lower() for fills in weighed.fill(jobs()) for w in fills.values()}
    assert weighed.with_settings(dataclasses.replace(settings, fill_prior=False)).fill(jobs()) == plain
