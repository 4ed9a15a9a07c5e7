"""Privacy rules that do not depend on a detector finding every mention: note-level
propagation, the unknown-word rule, and detection on text with accents, other scripts
and invisible characters."""
from __future__ import annotations

import json
import re

import pytest

from notesynth.phi.normalise import normalise_for_detection
from notesynth.phi.propagation import propagate
from notesynth.spans import Span
from notesynth.unknown import is_known, unknown_word_spans


def _texts(text, spans, label=None):
    return [text[s.start:s.end] for s in spans if label is None or s.label == label]


def test_a_name_found_once_is_found_everywhere_in_every_case_and_part():
    text = ("Family meeting with Zbigniew Kowalczyk. ZBIGNIEW asked about the plan; "
            "Kowalczyk's daughter called. kowalczyk aware. Signed Z.K.")
    found = propagate(text, [Span(text.index("Zbigniew"), text.index("Zbigniew") + len("Zbigniew Kowalczyk"), "NAME")])
    got = _texts(text, found, "NAME")
    assert "Zbigniew Kowalczyk" in got
    assert "ZBIGNIEW" in got
    assert "Kowalczyk's" in got
    assert "kowalczyk" in got
    assert "Z.K." in got


def test_propagation_leaves_common_words_that_are_not_written_as_names():
    text = "Rose Brown visited. BP rose overnight; secretions brown. Rose called."
    found = propagate(text, [Span(0, len("Rose Brown"), "NAME")])
    got = [(s.start, text[s.start:s.end]) for s in found]
    assert (text.index("Rose called"), "Rose") in got
    assert all(t not in ("rose", "brown") for _, t in got)


def test_propagation_repeats_dates_and_numbers_verbatim():
    text = "Extubated 7-18. Plan reviewed 7-18 with team. Line placed 7-19."
    first = text.index("7-18")
    found = propagate(text, [Span(first, first + 4, "DATE")])
    assert _texts(text, found) == ["7-18", "7-18"]


@pytest.mark.parametrize("raw, plain", [
    ("José Núñez", "Jose Nunez"),
    ("Jo\u200bhn Smith", "John Smith"),
    ("Ma\u00adria Lopez", "Maria Lopez"),
    ("An\x00na Berg", "Anna Berg"),
    ("Jose\u0301 Nun\u0303ez", "Jose Nunez"),   # decomposed accents
    ("Иван Петров", "Ivan Petrov"),
])
def test_detection_view_maps_back_to_the_original(raw, plain):
    view = normalise_for_detection(raw)
    assert view.text == plain
    start, end = view.to_source(0, len(view.text))
    assert (start, end) == (0, len(raw))
    first_end = view.text.index(" ")
    a, b = view.to_source(0, first_end)
    assert raw[a:b].split()[0] == raw[a:b]  # the first word, invisible characters included
    assert normalise_for_detection("plain ascii").origin is None


@pytest.mark.parametrize("name", ["José Núñez", "Jo\u200bhn Smith", "Ma\u00adria Lopez", "Jose\u0301 Nun\u0303ez"])
def test_detector_finds_names_with_accents_and_invisible_characters(detector, name):
    text = f"Patient {name} is a 67 yo man admitted for chest pain. Seen by Dr. Adams."
    spans = detector.detect(text)
    start = text.index(name)
    covered = [s for s in spans if s.start <= start and s.end >= start + len(name)]
    assert covered and covered[0].label == "NAME", _texts(text, spans)


def test_unknown_words_are_marked_and_ordinary_medical_and_short_words_are_not():
    text = ("PT TOLERATING TF, SX'D Q 4 FOR THICK TAN SECRETIONS. SON TO SPEAK WITH ZBIGNIEW "
            "KOWALCZYK. Metoprolal given; Nguyenova called.")
    got = _texts(text, unknown_word_spans(text, []))
    assert got == ["ZBIGNIEW", "KOWALCZYK", "Nguyenova"]
    assert is_known("metoprolal")           # a misspelled drug is a medical fact: kept
    assert not is_known("Brzęczyszczykiewicz")
    assert is_known("SX'D") and is_known("pt")


def test_unknown_words_inside_phi_or_protected_spans_are_left_to_them():
    text = "Seen by Zbigniew today."
    start = text.index("Zbigniew")
    assert unknown_word_spans(text, [Span(start, start + 8, "NAME")]) == []


def test_a_made_up_surname_no_detector_finds_never_survives_synth(tiny_model, detector, tmp_path):
    from notesynth import SynthConfig, Synthesizer

    surname = "Qwyxtrondel"
    text = (f"Pt resting comfortably overnight. {surname} at bedside, asked about plan. "
            f"Lungs clear, sats 98% on 2L. Will continue to monitor. {surname.upper()} updated.")
    assert not any(surname.lower() in text[s.start:s.end].lower() for s in detector.detect(text))
    for seed in range(3):
        res = Synthesizer(SynthConfig(model=str(tiny_model), seed=seed), detector=detector).synthesize(text, "n1")
        if res.status == "written":
            assert surname.lower() not in res.text.lower()
    off = Synthesizer(SynthConfig(model=str(tiny_model), seed=0, mask_ratio=0.0, mask_unknown_words=False,
                                  check_overlap=False), detector=detector).synthesize(text, "n1")
    assert off.status == "written" and surname in off.text  # the rule, not chance, removed it


MONTHS = {"December", "March", "January", "August", "October", "May", "June"}
VISIT_NOTE = ("HISTORY: Mr. Kowalczyk is a 58-year-old man seen with his wife. He had an onset of anemia in "
              "December, a bone marrow transplant at the end of March, and he married in January. Fevers in "
              "August and October, a rash in May, a fall in June. He had a "
              "catheterization in 2001 and a biopsy in 2003; he saw Dr. Ostrander between 1997 and 1999. He "
              "works on Monday and Friday, and on Wednesday he rests. He gave the month as June instead of May. "
              "PLAN: Mr. Kowalczyk will follow up with Dr. Ostrander in two weeks.")


def test_a_dictated_visit_note_with_many_dates_is_written_without_its_names(tiny_model):
    """Issue 11, item 6: one date shift for the whole note moves its months, years and weekdays onto
    each other (seven months: any shift puts one on another, "December" on "March"); the checker
    took that for a leak and held the note after every retry.  A bare month, year or weekday leaks now only where
    the pipeline did not place it, so such a note is written, and its names never are."""
    from notesynth import SynthConfig, Synthesizer
    from notesynth.phi import DetectorConfig, PhiDetector

    detector = PhiDetector(DetectorConfig(use_tagger=True))  # synth's default: the taggers read bare months
    months = [s for s in detector.detect(VISIT_NOTE) if s.label == "DATE" and VISIT_NOTE[s.start:s.end] in MONTHS]
    assert len(months) >= 7
    for seed in range(3):
        res = Synthesizer(SynthConfig(model=str(tiny_model), seed=seed), detector=detector).synthesize(VISIT_NOTE, "v1")
        assert res.status == "written", res.report.reasons if res.report else res.error
        assert not re.search(r"(?i)kowalczyk|ostrander", res.text)


DIAGNOSIS_NOTE = (
    "HISTORY: Mr. Kowalczyk was brought over from the nursing home by his daughter, who stayed with him "
    "through the afternoon and answered every question about the recent weeks at home. He has been more "
    "tired and has eaten little since the last visit.\n\nDISCHARGE DIAGNOSES: 1. Right hemicolectomy. "
    "2. Anemia. 3. Hospital acquired pneumonia. 4. Hypertension. 5. Congestive heart failure. 6. Seizure "
    "disorder. 7. Chronic kidney disease. 8. Hyperlipidemia.\n\nPROCEDURES PERFORMED: 1. Colonoscopy. "
    "2. Right hemicolectomy.\n\nLABS: Sodium 134, potassium 4.0, chloride 101, bicarb 26, BUN 19, "
    "creatinine 1.0, glucose 73, calcium 8.4, INR 0.96, TSH 0.74.\n\nPLAN: Mr. Kowalczyk will return "
    "to the clinic with his daughter in two weeks.")


def test_a_note_written_around_its_kept_diagnoses_is_not_held_as_a_copy(tiny_model, tmp_path):
    """Issue 11, item 6: a list of diagnoses and a lab panel are kept verbatim by design, and the
    overlap check read them as copying (a verbatim run of 30 words whatever the fills) and held the
    note after every retry.  They count no more (``count_kept_facts``, off by default); set on in
    a config file, the note is held as before.  Through the CLI, without the name."""
    from typer.testing import CliRunner

    from notesynth.cli import app

    notes = tmp_path / "in"
    notes.mkdir()
    (notes / "d1.txt").write_text(DIAGNOSIS_NOTE)
    runner = CliRunner()
    strict = tmp_path / "strict.toml"
    strict.write_text("count_kept_facts = true\n")
    status = {}
    for name, extra in (("default", []), ("strict", ["--config", str(strict)])):
        out = tmp_path / name
        res = runner.invoke(app, ["synth", str(notes), str(out), "--model", str(tiny_model), "--seed", "0", *extra])
        rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
        status[name] = rows[0]["status"]
        assert res.exit_code == (0 if status[name] == "written" else 1), res.output[-1000:]
        if status[name] == "written":
            assert "kowalczyk" not in (out / "d1.txt").read_text().lower()
        else:
            assert rows[0]["risk"]["reasons"][0].startswith("source overlap"), rows[0]["risk"]
    assert status == {"default": "written", "strict": "held"}


DATES = ["extubated 7-18", "returned to OR on 4-4", "seen 15.7.2023", "on 7.15.2023", "DOB 18/7/2023",
         "admitted 15-07-23", "started Jul-15", "on 15-Jul", "July 15th", "the 15th of July", "7/18/23",
         "2023-07-15", "on 7/18", "15 July 2023", "since 04-18", "s/p AMI 1-30", "CABG 3-12"]
CLINICAL_VALUES = ["CVP 8-12", "PAD 18-20", "HR 80-90", "RR 12-18", "pain 3/10", "q4-6h", "PEEP 5/5", "PS 10/5",
                   "BP 120/80", "I/O 1200/800", "on 10-12 L NC", "given 2-3 mg", "vent 14/5", "x 3-4 days",
                   "sats 92-95%", "pacer 72-90", "CA 8-9"]


@pytest.mark.parametrize("text", DATES)
def test_every_common_date_format_is_a_date(text):
    from notesynth.phi.recognizers.dates import DateRecognizer

    value = text.split(" ", 1)[1] if text.split(" ", 1)[0].islower() and " " in text else text
    hits = [text[a:b] for a, b, _, _ in DateRecognizer().find(text)]
    assert any(value.endswith(h) or h.endswith(value.split()[-1]) for h in hits), hits


@pytest.mark.parametrize("text", CLINICAL_VALUES)
def test_clinical_ranges_and_scores_are_not_dates(text):
    from notesynth.phi.recognizers.dates import DateRecognizer

    assert list(DateRecognizer().find(text)) == []
