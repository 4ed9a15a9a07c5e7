"""The learned PHI tagger (notesynth.phi.tagger) and its model folder models/phi-tagger."""
from __future__ import annotations

import re
import socket
from pathlib import Path

import numpy as np
import pytest

from notesynth.phi.tagger import (KIND_TO_LABEL, LABEL_TO_KIND, SHIPPED_TAGGERS, TAGS, PhiTagger, TaggerRecognizer,
                                  TaggerUnavailable, default_tagger_path, default_tagger_paths, label_of,
                                  load_tagger)
from notesynth.phi.tagger.train_sources import SYLLABLES, TRAIN_NAME_LOCALES, faker_person_names, made_up_maker
from notesynth.spans import PHI_LABELS

ROOT = Path(__file__).resolve().parents[1]
# made up; test_unseen_name_is_in_no_training_generator checks it
UNSEEN_FIRST, UNSEEN_LAST = "Zorvatheen", "Quillibrand"


class _NoNetwork(RuntimeError):
    pass


def _refuse(*args, **kwargs):
    raise _NoNetwork("network use in a test that must run offline")


@pytest.fixture(scope="module")
def tagger():
    """Loaded with the hub switched off and every socket connection refused."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        mp.setattr(socket.socket, "connect", _refuse)
        mp.setattr(socket.socket, "connect_ex", _refuse)
        mp.setattr(socket, "create_connection", _refuse)
        t = load_tagger(default_tagger_path(), threads=1)
        yield t


def test_default_path_is_the_shipped_folder():
    path = Path(default_tagger_path())
    assert path == ROOT / "models" / "phi-tagger"
    assert (path / "config.json").exists(), "models/phi-tagger is part of the project (scripts/train_phi_tagger.py)"
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    assert size <= 60 * 2**20


def test_missing_folder_raises_clear_error(tmp_path):
    with pytest.raises(TaggerUnavailable, match="no PHI tagger"):
        PhiTagger.load(str(tmp_path / "absent"))
    with pytest.raises(TaggerUnavailable):
        TaggerRecognizer(path=str(tmp_path))


def test_label_mapping():
    assert set(KIND_TO_LABEL.values()) <= PHI_LABELS
    assert set(LABEL_TO_KIND) == PHI_LABELS
    assert label_of("B-LOC") == "GEOGRAPHIC_LOCATION" and label_of("I-ID") == "OTHER_ID"
    assert label_of("PHONE") == "PHONE_NUMBER" and label_of("B-MRN") == "MEDICAL_RECORD_NUMBER"
    assert LABEL_TO_KIND["FAX_NUMBER"] == "PHONE" and LABEL_TO_KIND["SOCIAL_SECURITY_NUMBER"] == "ID"
    assert TAGS[0] == "O" and len(TAGS) == 1 + 2 * len(KIND_TO_LABEL)


def test_model_tags_match(tagger):
    assert tagger.tags == TAGS


def test_unseen_name_is_in_no_training_generator():
    first, last = faker_person_names(TRAIN_NAME_LOCALES)
    pool = {n.lower() for n in first + last}
    for name in (UNSEEN_FIRST, UNSEEN_LAST):
        assert name.lower() not in pool
        # nor can the syllable maker (2-3 syllables) build it
        assert not re.fullmatch(f"(?:{'|'.join(SYLLABLES)}){{2,3}}", name.lower())


def test_made_up_training_names_are_syllables_or_letter_strings():
    import random

    syllabic = re.compile(f"(?:{'|'.join(SYLLABLES)}){{2,3}}")
    rng = random.Random(3)
    shipped = [made_up_maker(0.0)(rng, "last") for _ in range(200)]
    assert all(syllabic.fullmatch(n.lower()) for n in shipped)  # the shipped tagger's recipe
    letters = [made_up_maker(1.0)(rng, "last") for _ in range(200)]
    assert all(n.isalpha() and 3 <= len(n) <= 10 and n[0].isupper() for n in letters)
    assert sum(not syllabic.fullmatch(n.lower()) for n in letters) > 150  # not the syllable maker's


def test_finds_unseen_name_from_context(tagger):
    text = ("Pt resting comfortably, VSS. Plan of care discussed per MD "
            f"{UNSEEN_FIRST} {UNSEEN_LAST}, family updated at bedside.")
    spans = tagger.predict(text)
    names = [s for s in spans if s.label == "NAME"]
    for word in (UNSEEN_FIRST, UNSEEN_LAST):  # one span or two (first / last), both words covered
        start = text.index(word)
        assert any(s.start <= start and s.end >= start + len(word) for s in names), \
            [(s.label, text[s.start:s.end]) for s in spans]
    # clinical words are not names
    assert not any("comfortably" in text[s.start:s.end] or "bedside" in text[s.start:s.end] for s in spans)


def test_offsets_map_back_exactly(tagger):
    # non-ASCII before the spans, an accented name (the uncased tokenizer strips accents),
    # runs of spaces: offsets must still index the original string
    text = ("  Ünïcode hdr — ÷ \n\nNP  Zorvathéen Quillibrand  notified; extubated 7-18, "
            "seen 15.7.2023 at St. Quillibrand Infirmary.")
    spans = tagger.predict(text)
    assert spans, "expected PHI in the text"
    for s in spans:
        piece = text[s.start:s.end]
        assert piece == piece.strip() and piece
        assert s.start == 0 or not (text[s.start - 1].isalnum() and piece[0].isalnum()), "span starts mid-word"
        assert s.end == len(text) or not (text[s.end].isalnum() and piece[-1].isalnum()), "span ends mid-word"
    found = {(s.label, text[s.start:s.end]) for s in spans}
    assert ("DATE", "7-18") in found, found
    assert ("DATE", "15.7.2023") in found, found


def test_long_note_windows_cover_every_part(tagger):
    filler = "Lungs clear bilat, abd soft, foley draining clear yellow urine. " * 40
    text = filler + f"Son {UNSEEN_FIRST} called at 14:00. " + filler + "Extubated on 03/14/2021. " + filler
    spans = tagger.predict(text)
    assert tagger.tokenizer(text, add_special_tokens=False, return_length=True, verbose=False)["length"][0] > 3 * tagger.config.window
    assert any(text[s.start:s.end] == UNSEEN_FIRST and s.label == "NAME" for s in spans)
    assert any(text[s.start:s.end] == "03/14/2021" and s.label == "DATE" for s in spans)
    assert tagger.predict_many(["", "   ", text])[:2] == [[], []]


def test_decode_merges_bio_and_maps_labels(tagger):
    """Decoding on a hand-made probability matrix, independent of what the model learned."""
    text = "call Ann Lee 617-555-0100 now"
    offsets = [(0, 4), (5, 8), (9, 12), (13, 16), (16, 17), (17, 20), (20, 21), (21, 25), (26, 29)]
    tags = ["O", "B-NAME", "I-NAME", "B-PHONE", "I-PHONE", "I-PHONE", "I-PHONE", "I-PHONE", "O"]
    mat = np.full((len(offsets), len(TAGS)), 0.001)
    for j, t in enumerate(tags):
        mat[j, TAGS.index(t)] = 0.99
    spans = tagger._decode(text, offsets, mat)
    assert [(s.label, text[s.start:s.end]) for s in spans] == [("NAME", "Ann Lee"), ("PHONE_NUMBER", "617-555-0100")]
    # a B tag right after a span of the same kind starts a new span
    tags[2] = "B-NAME"
    mat = np.full((len(offsets), len(TAGS)), 0.001)
    for j, t in enumerate(tags):
        mat[j, TAGS.index(t)] = 0.99
    assert [text[s.start:s.end] for s in tagger._decode(text, offsets, mat)][:2] == ["Ann", "Lee"]


def test_recognizer_returns_presidio_results(tagger):
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    rec = TaggerRecognizer(tagger=tagger)
    assert isinstance(rec, EntityRecognizer)
    assert "NAME" in rec.supported_entities and "DATE" in rec.supported_entities
    text = f"Discussed with HO {UNSEEN_LAST}, will follow up 7-18."
    results = rec.analyze(text, entities=rec.supported_entities)
    assert results and all(isinstance(r, RecognizerResult) for r in results)
    assert all(r.entity_type in PHI_LABELS and 0 < r.score <= 1 for r in results)
    assert any(r.entity_type == "NAME" and text[r.start:r.end] == UNSEEN_LAST for r in results)
    only_dates = rec.analyze(text, entities=["DATE"])
    assert only_dates and {r.entity_type for r in only_dates} == {"DATE"}
    rec.prefetch([text])
    assert [(r.start, r.end) for r in rec.analyze(text, entities=["DATE"])] == [(r.start, r.end) for r in only_dates]


def test_resurrogate_keeps_offsets_and_case():
    """The re-surrogation shared by training and the held-out bench: exact offsets, case style kept."""
    import random

    from notesynth.phi.tagger.augment import resurrogate

    values = {"NAME": "Quillibrand-Oyelaran", "DATE": "15.7.2023", "PHONE_NUMBER": "1 (212) 555-0100"}

    def maker(label, original, rng):
        return values[label]

    caps = "PT SEEN BY DR SMITH ON 7/18. SON CALLED 617-555-0100, ALL AWARE."
    spans = [{"start": caps.index("SMITH"), "end": caps.index("SMITH") + 5, "label": "NAME"},
             {"start": caps.index("7/18"), "end": caps.index("7/18") + 4, "label": "DATE"},
             {"start": caps.index("617"), "end": caps.index("617") + 12, "label": "PHONE_NUMBER"}]
    text, new = resurrogate(caps, spans, maker, random.Random(0))
    assert [text[s["start"]:s["end"]] for s in new] == [s["text"] for s in new]
    assert [s["text"] for s in new] == ["QUILLIBRAND-OYELARAN", "15.7.2023", "1 (212) 555-0100"]
    assert text == "PT SEEN BY DR QUILLIBRAND-OYELARAN ON 15.7.2023. SON CALLED 1 (212) 555-0100, ALL AWARE."
    lower = "seen by dr smith, son aware"
    span = {"start": 11, "end": 16, "label": "NAME"}
    text, new = resurrogate(lower, [span], maker, random.Random(0), keep=lambda s: False)
    assert new[0]["text"] == "quillibrand-oyelaran" and text.endswith(", son aware")
    text, new = resurrogate(lower, [span], maker, random.Random(0), keep=lambda s: True)
    assert text == lower and new[0]["text"] == "smith"

def test_consistent_resurrogation_redraws_a_repeated_value_once():
    """The held-out bench re-draws a value repeated in a note once (as the dev file's own
    surrogates are), each word of a name too; per mention, each gets its own draw."""
    import itertools
    import random

    from notesynth.phi.tagger.augment import resurrogate

    counter = itertools.count()

    def maker(label, original, rng):
        n = next(counter)
        return f"Ines{n} Okafor{n}" if " " in original else f"Okafor{n}"

    text = "Met Darlene Snow. Snow agrees; SNOW to call. Fernandez aware."

    def spans(t):
        return [{"start": m.start(), "end": m.end(), "label": "NAME"}
                for m in __import__("re").finditer(r"Darlene Snow|\bSnow\b|SNOW|Fernandez", t)]

    out, new = resurrogate(text, spans(text), maker, random.Random(0), consistent=True)
    assert [s["text"] for s in new] == ["Ines0 Okafor0", "Okafor0", "OKAFOR0", "Okafor1"]
    out, new = resurrogate(text, spans(text), maker, random.Random(0))
    assert len({s["text"].lower() for s in new}) == 4


def test_phi_tagger_setting_puts_the_tagger_in_the_synthesizer_detector(tmp_path):
    """`phi_tagger` (on by default; TOML or --no-phi-tagger) builds the detector with the tagger
    in its registry; a name in a context the rules do not know is then found."""
    from typer.testing import CliRunner

    from notesynth.cli import app
    from notesynth.config import SynthConfig
    from notesynth.pipeline import Synthesizer

    synth = Synthesizer(SynthConfig(phi_tagger=True))
    with_tagger = synth.detector
    assert with_tagger.config.use_tagger
    assert not synth.checker.detector.config.use_tagger  # the output is checked with the precise rules
    assert any(isinstance(r, TaggerRecognizer) for r in with_tagger.registry.recognizers)
    assert SynthConfig().phi_tagger  # on by default
    assert not Synthesizer(SynthConfig(phi_tagger=False)).detector.config.use_tagger
    # spaCy's NER runs only without the tagger (the tagger finds what it added); neither the
    # tagger's detector nor the output check loads it, and saying so explicitly still wins
    assert not with_tagger.config.spacy_ner and not synth.checker.detector.config.spacy_ner
    assert "ner" not in with_tagger.nlp_engine.get_nlp("en").pipe_names
    assert Synthesizer(SynthConfig(phi_tagger=False)).detector.config.spacy_ner
    from notesynth.phi import DetectorConfig
    assert DetectorConfig(use_tagger=True, use_spacy_ner=True).spacy_ner
    assert not DetectorConfig(use_spacy_ner=False).spacy_ner

    note = tmp_path / "n.txt"
    note.write_text(f"Pt seen. {UNSEEN_FIRST.upper()} {UNSEEN_LAST.upper()} AT BEDSIDE, UPDATED ON PLAN.\n")
    res = CliRunner().invoke(app, ["detect", str(note), "-q"])
    assert res.exit_code == 0, res.output
    spans = __import__("json").loads(res.output.splitlines()[-1])["spans"]
    start = note.read_text().index(UNSEEN_FIRST.upper())
    assert any(s["label"] == "NAME" and s["start"] <= start < s["end"] for s in spans), spans


# made-up names where the shipped members disagree: the first member misses the first, the
# second member reads the last one's context differently (as found when the ensemble was built)
ENSEMBLE_NOTES = ["Pt stable overnight. Mkrtsch at bedside most of the day. Will continue to monitor.",
                  "Pt stable overnight. Family meeting with Vuorkal and team. Will continue to monitor.",
                  "Pt stable overnight. Seen by Dzhindo this am. Will continue to monitor."]


def test_the_detector_keeps_a_span_either_shipped_tagger_finds():
    """Both shipped members load from models/ (offline, checked above for the first) and run in
    the default detector; its spans are the union of what each member finds with the rules, so a
    name only the second member tags ("Mkrtsch at bedside") is found.  Running the members side by
    side (detect_many) gives the same spans as one note at a time (detect)."""
    from notesynth.phi import DetectorConfig, PhiDetector

    paths = default_tagger_paths()
    assert [Path(p).name for p in paths] == list(SHIPPED_TAGGERS) == ["phi-tagger", "phi-tagger-2"]
    assert all((Path(p) / "README.md").exists() and (Path(p) / "model.int8.onnx").exists() for p in paths)
    both = PhiDetector(DetectorConfig(use_tagger=True))
    assert sorted(r.name for r in both.registry.recognizers if isinstance(r, TaggerRecognizer)) == [
        "PhiTaggerRecognizer[phi-tagger-2]", "PhiTaggerRecognizer[phi-tagger]"]
    members = [PhiDetector(DetectorConfig(use_tagger=True, tagger_path=p)) for p in paths]
    assert all(sum(isinstance(r, TaggerRecognizer) for r in m.registry.recognizers) == 1 for m in members)

    def words(detector, texts, many=True):
        found = detector.detect_many(texts) if many else [detector.detect(t) for t in texts]
        return [{t[s.start:s.end] for s in spans} for t, spans in zip(texts, found)]

    union = words(both, ENSEMBLE_NOTES)
    first, second = (words(m, ENSEMBLE_NOTES) for m in members)
    assert "Mkrtsch" not in first[0] and "Mkrtsch" in second[0] and "Mkrtsch" in union[0]
    assert all(a | b <= u for a, b, u in zip(first, second, union))
    assert words(both, ENSEMBLE_NOTES, many=False) == union
