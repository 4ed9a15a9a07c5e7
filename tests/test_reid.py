"""The re-identification checker: each check on constructed cases, then the policy end to end.

Unit cases build the PHI spans by hand (no detector) so each check is tested on its own;
the CLI cases run the real detector and the session's tiny model.
"""
from __future__ import annotations

import json
import logging
import random
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notesynth.cli import app
from notesynth.check.memorization import INDEX_FILE, MemorizationIndex
from notesynth.check.risk import (RiskSettings, distinctive_overlap, leaked_spans, longest_verbatim_run,
                            residual_spans, score)
from notesynth.protect import protect
from notesynth.spans import Span

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "sample_notes"
runner = CliRunner()


def _span(text: str, value: str, label: str, nth: int = 0) -> Span:
    """The span of the nth occurrence of ``value`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(value, start + 1)
    return Span(start, start + len(value), label)


def _manifest(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ------------------------------------------------------------------ 1. leaked PHI
ORIG = "Seen by Dr. John Smith on 4/19 for chest pain; wife at bedside."
PHI = [_span(ORIG, "Dr. John Smith", "NAME"), _span(ORIG, "4/19", "DATE")]


@pytest.mark.parametrize("output", [
    "Seen by Dr. John Smith on 5/2 for chest pain.",   # verbatim
    "Seen by DR. SMITH on 5/2.",                       # case
    "Seen by smith, on 5/2.",                          # punctuation beside it
    "Seen by  Smith\n\non 5/2.",                       # spacing
    "Seen by Dr. Smithe on 5/2.",                      # fuzzy: one letter added (ratio 91 >= 90)
    "Called John about results.",                      # a short name part, exact
])
def test_name_in_output_is_a_leak(output):
    leaks = leaked_spans(ORIG, output, PHI)
    assert [s.label for s in leaks] == ["NAME"]


@pytest.mark.parametrize("output", [
    "Seen by Dr. Adams on 5/2 for chest pain; wife at bedside.",  # title alone
    "Seen by Dr. on 5/2.",
    "Seen by Dr. Jon Smyth-Baker on 5/2.",  # 'jon'/'smyth': short parts are never fuzzy-matched; smyth ratio 80
    "Seen by Dr. Mary Snow on 5/2 for chest pain; wife at bedside.",  # surrogates only
])
def test_title_alone_or_surrogates_are_not_a_leak(output):
    assert leaked_spans(ORIG, output, PHI) == []


def test_fuzzy_name_match_follows_the_configured_threshold():
    orig = "Pt Wilbur Thistlewood admitted overnight."
    phi = [_span(orig, "Wilbur Thistlewood", "NAME")]
    transposed = "Pt Peter Thistelwood admitted overnight."  # 'thistelwood': two letters swapped, ratio 90.9
    assert leaked_spans(orig, transposed, phi, name_fuzz=90)
    assert not leaked_spans(orig, transposed, phi, name_fuzz=95)
    # a 5-letter name with two letters swapped (ratio 80): a leak only at a looser setting
    orig5 = "Pt Smith admitted overnight."
    phi5 = [_span(orig5, "Smith", "NAME")]
    assert not leaked_spans(orig5, "Pt Smiht admitted.", phi5, name_fuzz=90)
    assert leaked_spans(orig5, "Pt Smiht admitted.", phi5, name_fuzz=80)
    # a 4-letter name is only ever matched exactly, whatever the setting
    orig4 = "Pt Ross admitted overnight."
    phi4 = [_span(orig4, "Ross", "NAME")]
    assert not leaked_spans(orig4, "Pt Rosa admitted.", phi4, name_fuzz=50)
    assert leaked_spans(orig4, "Pt ROSS admitted.", phi4, name_fuzz=100)


def test_names_in_other_scripts_and_with_accents_leak():
    orig = "Pt Núñez seen with daughter 王伟 today."
    phi = [_span(orig, "Núñez", "NAME"), _span(orig, "王伟", "NAME")]
    assert [orig[s.start:s.end] for s in leaked_spans(orig, "Pt NUNEZ seen.", phi)] == ["Núñez"]
    assert [orig[s.start:s.end] for s in leaked_spans(orig, "Daughter 王伟 called.", phi)] == ["王伟"]
    assert leaked_spans(orig, orig, phi) == phi
    assert leaked_spans(orig, "Pt Garcia seen with daughter 李娜 today.", phi) == []


def test_span_offsets_hold_when_lower_casing_changes_the_length():
    # 'İ'.lower() is two characters: the PHI must be blanked at the offsets of the text as given
    orig = "İİİ clinic: Dx COPD in 94, smoker. Sat 91% on 2L."
    phi = [_span(orig, "94", "DATE")]
    assert [s.label for s in leaked_spans(orig, "Sat 94% today.", phi)] == ["DATE"]
    orig2 = "İİİ clinic: Mr Zorblax given quintessa daily"
    phi2 = [_span(orig2, "Zorblax", "NAME")]
    assert distinctive_overlap(orig2, orig2, phi2, _is_common) == 1.0


@pytest.mark.parametrize("output,leak", [
    ("Follow-up on 4-19 in clinic.", True),
    ("Follow-up on 4.19 in clinic.", True),
    ("Follow-up on 4 / 19 in clinic.", True),
    ("Follow-up on 4/21 in clinic.", False),
    ("Follow-up on 14/19 in clinic.", False),  # '14 19' is not '4 19'
])
def test_dates_are_compared_normalised(output, leak):
    leaks = leaked_spans(ORIG, output, PHI)
    assert [s.label for s in leaks] == (["DATE"] if leak else [])


def test_other_phi_compared_normalised():
    orig = "MRN 8842193, phone (617) 555-0199, email bw@example.org."
    phi = [_span(orig, "8842193", "MEDICAL_RECORD_NUMBER"), _span(orig, "(617) 555-0199", "PHONE_NUMBER"),
           _span(orig, "bw@example.org", "EMAIL_ADDRESS")]
    out = "MRN 5550000, phone 617-555-0199, email bw.example.org"
    assert sorted(s.label for s in leaked_spans(orig, out, phi)) == ["EMAIL_ADDRESS", "PHONE_NUMBER"]
    assert leaked_spans(orig, "MRN 1234567, phone (508) 555-0100, email x@y.org", phi) == []


def test_two_digit_value_leaks_only_beyond_its_uses_outside_phi():
    orig = "Dx COPD in 94, smoker. Today sat 94% on 2L."
    phi = [_span(orig, "94", "DATE", nth=0)]
    assert orig[phi[0].start:phi[0].end] == "94" and orig[phi[0].start - 3:phi[0].start] == "in "
    assert leaked_spans(orig, "Dx COPD in 1988, smoker. Today sat 94% on 2L.", phi) == []
    assert leaked_spans(orig, "Dx COPD years ago. Today sat 94% on 2L.", phi) == []
    assert [s.label for s in leaked_spans(orig, "Dx COPD in 94, smoker. Today sat 94% on 2L.", phi)] == ["DATE"]
    assert [s.label for s in leaked_spans(orig, "Dx COPD in 94, smoker. Today sat 91% on 2L.", phi)] == []
    # with no other use of '94' in the original, one '94' in the output is the leak
    orig2 = "Dx COPD in 94, smoker. Today sat 91% on 2L."
    phi2 = [_span(orig2, "94", "DATE")]
    assert [s.label for s in leaked_spans(orig2, "Sat 94% today.", phi2)] == ["DATE"]


# ------------------------------------------------------------------ 2. residual PHI
def test_residual_spans_are_those_not_on_a_placed_surrogate():
    placed = [Span(10, 20, "NAME"), Span(40, 45, "DATE")]
    on_surrogate = Span(12, 18, "NAME")
    straddling = Span(38, 41, "DATE")
    touching = Span(20, 25, "NAME")     # half-open spans: [20, 25) does not overlap [10, 20)
    elsewhere = Span(60, 70, "HOSPITAL")
    found = [on_surrogate, straddling, touching, elsewhere]
    assert residual_spans(found, placed) == [touching, elsewhere]
    assert residual_spans(found, []) == found
    assert residual_spans([], placed) == []


@pytest.mark.parametrize("output,value,counts", [
    ("Abdomen soft. Gross with normal bowel sounds.", "Gross", False),  # an English word the note never used
    ("Plan discussed. Le for this. Follow up.", "Le", False),
    ("Seen by Dr. Quillibrand today.", "Quillibrand", True),            # no English word: a name
    ("Discussed with daughter Mary today.", "Mary", True),              # not at a sentence start
    ("Abdomen soft. Mary Brown called.", "Mary Brown", True),           # two words: a person's name
    ("Abdomen soft. Mary called twice.", "Mary", True),                 # a first name
    ("Abdomen soft. Gross with normal bowel sounds.", "Gross", True),   # ... and one the original capitalises (below)
    ("Cranial nerves IX, White, and XII intact.", "White", False),      # the fill's word in mid-sentence
    ("Cranial nerves IX, White Hill, and XII.", "White Hill", True),    # two surnames: a person's name
    ("Seen by Dr Miller today.", "Miller", True),                       # a surname where a name goes
    ("Abdomen soft. Miller called back twice.", "Miller", True),
    ("Abdomen soft. Plan discussed with son mark.", "mark", True),      # a first name in lower case
    ("Abdomen soft. Plan discussed with all grandchildren.", "grandchildren", False),
    ("Abdomen soft. Plan discussed with the patient.", "patient", False),  # lower case in a note with capitals
    ("Abdomen soft. Plan discussed with the Patient.", "Patient", False),  # the original writes "PATIENT" only
    ("Abdomen soft. Plan discussed with Sal Reyes.", "Sal Reyes", True),  # no English words
])
def test_a_residual_name_of_words_the_original_never_uses_is_the_fill_models_own(output, value, counts):
    """The fill model writes ordinary words and no first names; one read as a name is no one's
    identity in this note.  Kept text keeps its case, so a capitalised word the original never
    capitalises (or a lower-case one it never uses) was the fill's.  A word the original writes
    so, a word no vocabulary holds and a first name still count (a model adapted on a site's notes
    could have learned a name the detector missed there)."""
    original = "Abdomen soft, nontender. Plan discussed with the patient. No white patches on exam. PATIENT ID."
    if value == "Gross" and counts:
        original += " Mr. Gross called."
    found = [_span(output, value, "NAME")]
    assert residual_spans(found, [], original, output) == (found if counts else [])
    assert residual_spans(found, [], None, None) == found  # without the texts: every span counts
    if not counts and value.islower() and value in original:  # a lower-case note: its case says nothing
        assert residual_spans(found, [], original.lower(), output.lower()) == found


def test_an_institution_of_dictionary_words_is_neither_residual_nor_a_leak():
    """"Memorial Hospital" (generic words), "All health" (the fill model's words, not written like
    a name): no place in the name, and no HIPAA identifier; "Stoneman Clinic" and "Rose Medical
    Center" name one place each and still count."""
    original = "Born at Memorial Hospital, seen at Stoneman Clinic, then at Rose Medical Center."
    phi = [_span(original, v, "HOSPITAL") for v in ("Memorial Hospital", "Stoneman Clinic", "Rose Medical Center")]
    output = "Born at Memorial Hospital, seen at Stoneman Clinic, then Rose Medical Center. All health systems reviewed."
    leaks = {original[s.start:s.end] for s in leaked_spans(original, output, phi)}
    assert leaks == {"Stoneman Clinic", "Rose Medical Center"}  # dictionary words, but a name of one place
    found = [_span(output, v, "HOSPITAL") for v in ("All health", "Stoneman Clinic", "Rose Medical Center")]
    assert residual_spans(found, [], original, output) == found[1:]
    written = "Sent on to Good Samaritan Hospital."  # one place's name, of ordinary words
    assert residual_spans([_span(written, "Good Samaritan Hospital", "HOSPITAL")], [], original, written)


@pytest.mark.parametrize("output,leaked", [
    ("Pt received from Ames hospital, transferred to Kell MICU. Luxor called.", {"Luxor hospital"}),
    ("Pt received from Ames hospital, transferred to Kell MICU; LISANTI aware.", {"Lisanti MICU"}),
    ("Pt received from Ames hospital, transferred to Kell MICU. The hospital called.", set()),
    ("Pt received from Raton clinic.", {"BOCA RATON MEDICAL"}),
])
def test_a_place_leaks_by_a_word_of_its_own(output, leaked):
    """A planted "Luxor" of "Luxor hospital" is the place without its noun; the whole-string test
    missed it.  Its nouns ("hospital", "MICU") are no one's."""
    original = "Pt received from Luxor hospital, transferred to Lisanti MICU. Seen at BOCA RATON MEDICAL."
    phi = [_span(original, v, "HOSPITAL") for v in ("Luxor hospital", "Lisanti MICU", "BOCA RATON MEDICAL")]
    assert {original[s.start:s.end] for s in leaked_spans(original, output, phi)} == leaked


@pytest.mark.parametrize("output,placed_values,leaks", [
    ("In May 2001 he had a CABG, in May 2005 a biopsy.", ["May 2001", "May 2005"], False),  # where the shift put them
    ("In 2001 he had a CABG, in 2003 a biopsy.", ["2001"], True),   # "2003" outside the surrogates
    ("In March he may need a CABG.", ["March"], False),              # "may" the verb is not the month
    ("In June he had a CABG in May.", ["June"], True),
    ("In June he had a CABG in MAY.", ["June"], True),               # any case but the verb's
])
def test_a_bare_year_month_or_weekday_leaks_only_outside_the_placed_surrogates(output, placed_values, leaks):
    """One date shift cannot keep a note's years, months and weekdays off each other; a bare one
    the shift wrote stands for another date of the note.  Written outside the surrogates (or,
    without ``placed``, anywhere) it leaks."""
    original = "In 2001 he had a CABG, in 2003 a biopsy; seen in May."
    phi = [_span(original, "2001", "DATE"), _span(original, "2003", "DATE"), _span(original, "May", "DATE")]
    placed = [_span(output, v, "DATE") for v in placed_values]
    got = {original[s.start:s.end] for s in leaked_spans(original, output, phi, placed=placed)}
    assert bool(got & {"2003", "May"}) is leaks
    assert leaked_spans(original, "In May 2001 he had a CABG.", phi)  # no placed surrogates known: strict


# ------------------------------------------------------------------ 3. distinctive overlap
RARE = {"zorblax", "quintessa", "vexmoril"}


def _is_common(word: str) -> bool:
    return word not in RARE


def test_distinctive_overlap_identical_and_all_changed():
    orig = "the patient was seen today and zorblax was given for pain then quintessa at night"
    assert distinctive_overlap(orig, orig, [], _is_common) == 1.0
    assert distinctive_overlap(orig, orig.upper().replace(" ", "  "), [], _is_common) == 1.0
    changed = orig.replace("zorblax", "aspirin").replace("quintessa", "tylenol")
    assert distinctive_overlap(orig, changed, [], _is_common) == 0.0


def test_trigrams_of_common_words_do_not_count():
    orig = "the patient was seen today and zorblax was given for pain"
    out = "the patient was seen today and aspirin was given for pain"
    # 6 all-common trigrams survive, the 3 with 'zorblax' do not
    assert distinctive_overlap(orig, out, [], _is_common) == 0.0
    assert distinctive_overlap(orig, out, [], lambda w: False) == pytest.approx(6 / 9)
    # no distinctive trigram at all: nothing to keep, overlap 0
    assert distinctive_overlap(orig, orig, [], lambda w: True) == 0.0
    # digits are never distinctive
    assert distinctive_overlap("bp 120 80 hr 90", "bp 120 80 hr 90", [], lambda w: False) == 1.0
    assert distinctive_overlap("120 80 90 100", "120 80 90 100", [], lambda w: False) == 0.0


def test_partial_overlap_and_phi_words_excluded():
    orig = "zorblax given then quintessa given then vexmoril given"
    # grams with a rare word: (zorblax given then) (given then quintessa) (then quintessa given)
    # (quintessa given then) (given then vexmoril) (then vexmoril given) -> 6; 'given then' alone is common
    out = "zorblax given then aspirin given then vexmoril given"
    # kept: (zorblax given then), (given then vexmoril), (then vexmoril given) -> 3 / 6
    assert distinctive_overlap(orig, out, [], _is_common) == pytest.approx(3 / 6)


def test_phi_is_left_out_and_no_trigram_bridges_it():
    orig = "Mr Zorblax given quintessa daily"
    phi = [_span(orig, "Zorblax", "NAME")]
    # outside PHI there are two stretches, 'mr' and 'given quintessa daily': one trigram
    assert distinctive_overlap(orig, orig, phi, _is_common) == 1.0          # a copy keeps it all
    assert distinctive_overlap(orig, "Mr Adams given quintessa daily", phi, _is_common) == 1.0  # surrogate only
    # 'mr given quintessa' was never three adjacent words of the original
    assert distinctive_overlap(orig, "mr given quintessa", phi, _is_common) == 0.0
    assert distinctive_overlap(orig, "Mr Adams given aspirin daily", phi, _is_common) == 0.0


# ------------------------------------------------------------------ 4. longest verbatim run
def test_longest_verbatim_run_known_values():
    shared = "pt tolerated tube feeds at goal overnight"
    a = f"Neuro intact. {shared}. Plan wean vent."
    b = f"Afebrile, {shared.upper()}; family updated by phone"
    assert longest_verbatim_run(a, b) == 7
    assert longest_verbatim_run(b, a) == 7
    assert longest_verbatim_run("alpha bravo charlie", "delta echo foxtrot") == 0
    assert longest_verbatim_run("", "anything") == 0 and longest_verbatim_run("anything", "") == 0
    assert longest_verbatim_run(a, a) == len(re.findall(r"\w+", a))
    # repeated words do not inflate the run
    assert longest_verbatim_run("a a a a b", "a a c a a a") == 3


def _brute_run(a: str, b: str, facts: list = ()) -> int:
    """The run counting only the original's words outside ``facts``, by the quadratic table."""
    tokens = list(re.finditer(r"\w+", a))
    x = [m.group().lower() for m in tokens]
    w = [0 if any(f.start <= m.start() < f.end for f in facts) else 1 for m in tokens]
    y = re.findall(r"\w+", b.lower())
    best = 0
    prev = [0] * (len(y) + 1)
    for i in range(1, len(x) + 1):
        cur = [0] * (len(y) + 1)
        for j in range(1, len(y) + 1):
            if x[i - 1] == y[j - 1]:
                cur[j] = prev[j - 1] + w[i - 1]  # weights are 0 or 1: a run's weight grows with it
                best = max(best, cur[j])
        prev = cur
    return best


def _random_pairs(seed: int):
    rng = random.Random(seed)
    vocab = ["pt", "bp", "stable", "on", "vent", "the", "and", "given"]
    for _ in range(150):
        yield rng, *(" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 30))) for _ in range(2))


def test_longest_verbatim_run_matches_brute_force():
    for _, a, b in _random_pairs(7):
        assert longest_verbatim_run(a, b) == _brute_run(a, b) == longest_verbatim_run(b, a), (a, b)


def test_longest_verbatim_run_without_the_kept_facts_matches_brute_force():
    for rng, a, b in _random_pairs(11):
        starts = [m.start() for m in re.finditer(r"\w+", a)]
        facts = [Span(i, i + 2, "MEDICAL") for i in starts if rng.random() < 0.4]
        assert longest_verbatim_run(a, b, facts) == _brute_run(a, b, facts), (a, b, facts)


LISTS = ("DISCHARGE DIAGNOSES: 1. Right hemicolectomy. 2. Anemia. 3. Hospital acquired pneumonia. "
         "4. Hypertension. 5. Congestive heart failure. 6. Seizure disorder. PROCEDURES PERFORMED: "
         "1. Colonoscopy. 2. Right hemicolectomy. LABS: Sodium 134, potassium 4.0, chloride 101, "
         "bicarb 26, BUN 19, creatinine 1.0, glucose 73, calcium 8.4, INR 0.96.")
STORY = ("The patient was brought over from the nursing home by her daughter, who stayed with her "
         "through the afternoon and answered every question about the recent weeks at home.")
RETOLD = ("The woman was sent in from the care home by her niece, who sat with her all through the "
          "evening and told us each thing about the last days she spent there.")


def test_kept_medical_facts_do_not_count_in_the_overlap_unless_asked():
    """A list of diagnoses and a lab panel are kept verbatim by design (protect.py): a note
    re-written around them passes; a copy of its narrative still fails, and with
    ``count_kept_facts`` the kept list fails the note as before."""
    original = f"{STORY} {LISTS}"
    synthetic = f"{RETOLD} {LISTS}"
    facts = protect(original)
    assert longest_verbatim_run(original, synthetic) >= 40
    assert longest_verbatim_run(original, synthetic, facts) <= 6
    rare = lambda w: False  # noqa: E731  every word distinctive
    assert score(original, synthetic, [], [], RiskSettings(), rare).passed
    strict = score(original, synthetic, [], [], RiskSettings(count_kept_facts=True), rare)
    assert not strict.passed and strict.overlap_failed
    copy = score(original, f"{STORY} {LISTS}", [], [], RiskSettings(), rare)
    assert not copy.passed and copy.overlap_failed


# ------------------------------------------------------------------ 5. score
# no medical word among them ("echo" is one: kept facts do not count in the overlap)
WORDS = ("alpha bravo charlie delta ember foxtrot golf hotel india juliet kilo lima mike november "
         "oscar papa quebec romeo sierra tango uniform victor").split()
NEW = "one two three four five six seven eight nine ten".split()  # digits spelt: still words
assert len(WORDS) == 22


def _overlap_case():
    """22 distinct words (20 trigrams); the output keeps the first 12: overlap 10/20, run 12."""
    return " ".join(WORDS), " ".join(WORDS[:12] + [w + "x" for w in NEW])


def test_score_leak_is_risk_one_and_names_the_label_not_the_phi():
    orig = "Pt Bartholomew Wigglesworth seen on 03/14/2021 with dyspnea."
    phi = [_span(orig, "Bartholomew Wigglesworth", "NAME"), _span(orig, "03/14/2021", "DATE")]
    out = "Pt Henry WIGGLESWORTH seen on 05/01/2020 with dyspnea."
    rep = score(orig, out, phi, [], RiskSettings(max_risk=1.0))
    assert rep.risk == 1.0 and not rep.passed
    assert rep.leaked_phi == 1 and rep.leaked_labels == ("NAME",)
    blob = json.dumps(rep.to_dict()).lower()
    assert "NAME" in " ".join(rep.reasons) and "leaked PHI" in " ".join(rep.reasons)
    for value in ("bartholomew", "wigglesworth", "03/14/2021", "2021"):
        assert value not in blob
    clean = score(orig, "Pt Henry Adams seen on 05/01/2020 with dyspnea.", phi, [], RiskSettings(max_risk=1.0))
    assert clean.passed and clean.leaked_phi == 0 and clean.risk < 1.0


def test_score_residual_phi_fails_only_when_configured():
    orig, out = _overlap_case()
    residual = [Span(0, 5, "HOSPITAL")]
    rep = score(orig, out, [], residual, RiskSettings(fail_on_residual_phi=True), lambda w: False)
    assert not rep.passed and rep.risk == 1.0
    assert rep.residual_phi == 1 and rep.residual_labels == ("HOSPITAL",)
    assert any("residual PHI" in r and "HOSPITAL" in r for r in rep.reasons)
    rep = score(orig, out, [], residual, RiskSettings(fail_on_residual_phi=False), lambda w: False)
    assert rep.passed and rep.risk < 1.0 and rep.residual_phi == 1 and rep.reasons == ()


def test_score_risk_formula():
    orig, out = _overlap_case()
    assert longest_verbatim_run(orig, out) == 12
    rep = score(orig, out, [], [], RiskSettings(max_risk=1.0, run_scale=40), lambda w: False)
    assert rep.distinctive_overlap == pytest.approx(10 / 20)
    assert rep.longest_verbatim_run == 12
    assert rep.risk == pytest.approx(0.5 * 0.5 + 0.5 * 12 / 40)
    assert rep.passed
    # the run term saturates at run_scale
    rep = score(orig, out, [], [], RiskSettings(max_risk=1.0, run_scale=8), lambda w: False)
    assert rep.risk == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    # with every word common only the run counts
    rep = score(orig, out, [], [], RiskSettings(max_risk=1.0), lambda w: True)
    assert rep.distinctive_overlap == 0.0 and rep.risk == pytest.approx(0.5 * 12 / 40)
    # overlap off (redaction): nothing counted
    rep = score(orig, out, [], [], RiskSettings(max_risk=0.0, check_overlap=False), lambda w: False)
    assert rep.risk == 0.0 and rep.longest_verbatim_run == 0 and rep.passed


def test_score_max_risk_turns_a_pass_into_a_source_overlap_fail():
    orig, out = _overlap_case()
    expected = 0.5 * 0.5 + 0.5 * 12 / 40
    passing = score(orig, out, [], [], RiskSettings(max_risk=0.5), lambda w: False)
    assert passing.passed and passing.reasons == ()
    at = score(orig, out, [], [], RiskSettings(max_risk=passing.risk), lambda w: False)
    assert at.passed  # "above" the maximum fails, equal does not
    failing = score(orig, out, [], [], RiskSettings(max_risk=0.3), lambda w: False)
    assert not failing.passed
    assert failing.risk == pytest.approx(expected)  # the threshold does not change the score
    assert len(failing.reasons) == 1 and failing.reasons[0].startswith("source overlap")


def test_score_memorization_at_threshold_fails():
    orig, out = _overlap_case()
    settings = RiskSettings(max_risk=1.0, memorization_threshold=0.8)
    rep = score(orig, out, [], [], settings, lambda w: False, memorization=0.8)
    assert not rep.passed and rep.risk == 1.0 and any("near-copy" in r for r in rep.reasons)
    rep = score(orig, out, [], [], settings, lambda w: False, memorization=0.79)
    assert rep.passed and rep.risk < 1.0 and rep.memorization == 0.79
    assert score(orig, out, [], [], settings, lambda w: False).memorization is None


# ------------------------------------------------------------------ 6. memorisation index
def _sample_texts() -> list[str]:
    return [p.read_text() for p in sorted(SAMPLES.glob("*.txt"))]


def test_memorization_index_near_copy_scores_high_unrelated_low(tmp_path):
    texts = _sample_texts()
    train, unseen = texts[:4], texts[4:]
    index = MemorizationIndex.build(train)
    assert index.signatures.shape[0] == 4
    threshold = RiskSettings().memorization_threshold
    # case and punctuation do not change the shingles
    assert index.nearest(re.sub(r"[^\w\s]", " ", train[1].upper())) == 1.0
    # one word replaced near the end of a training note: a near-copy
    words = train[2].split()
    words[-3] = "zzqx"
    assert index.nearest(" ".join(words)) >= threshold
    for text in unseen:
        assert index.nearest(text) < 0.2
    assert index.nearest("") == 0.0
    # save / load round trip
    path = index.save(tmp_path)
    assert path.name == INDEX_FILE and path.exists()
    loaded = MemorizationIndex.load(tmp_path)
    assert loaded is not None and (loaded.signatures == index.signatures).all()
    assert loaded.nearest(" ".join(words)) == index.nearest(" ".join(words))
    assert MemorizationIndex.load(tmp_path / "nowhere") is None
    assert MemorizationIndex.build([]).nearest(train[0]) == 0.0


def test_trained_model_ships_an_index_the_synthesizer_uses(synthesizer):
    index = synthesizer.memorization_index
    assert index is not None and len(index.signatures) >= 5
    best = max(index.nearest(t) for t in _sample_texts())
    assert best == 1.0  # a training note is its own nearest document


# ------------------------------------------------------------------ 7. policy through the CLI
PHI_NOTES = {
    "held-a": ("Patient Bartholomew Wigglesworth (MRN 8842193) was seen on 03/14/2021 at Saint Ignatius Hospital "
               "by Dr. Philippa Thistlewood for worsening dyspnea. Wife Griselda Wigglesworth can be reached at "
               "(617) 555-0199. Lives at 42 Larkspur Lane, Framingham MA 01701. BP 132/84, HR 90, afebrile. "
               "Continues metoprolol 25 mg twice daily and furosemide 40 mg daily. Follow up on 04/02/2021.\n"),
    "held-b": ("Mrs. Euphemia Oglethorpe, a retired schoolteacher, was admitted on 11/02/2019 to Mercy Vale "
               "Medical Center after a fall at home on Quillfeather Road in Tewksbury. Her son Ambrose Oglethorpe "
               "called from 978-555-0143. Hip films showed no fracture. Pain controlled with acetaminophen, "
               "physical therapy to evaluate gait tomorrow. Seen by Dr. Cornelius Vandersloot.\n"),
    "held-c": ("Mr. Leopold Fairweather-Crisp, SSN 123-45-6789, email lfcrisp@example.org, presented to "
               "Brookhollow Community Hospital on 07/21/2020 with chest pain radiating to the left arm. "
               "Troponin negative times two, ECG without acute changes. Daughter Marigold Fairweather at bedside. "
               "Plan stress test in the morning, aspirin and atorvastatin continued. Dr. Thaddeus Pemberton aware.\n"),
}
PHI_STRINGS = ["Bartholomew", "Wigglesworth", "8842193", "03/14/2021", "Ignatius", "Philippa", "Thistlewood",
               "Griselda", "555-0199", "Larkspur", "Framingham", "01701", "04/02/2021",
               "Euphemia", "Oglethorpe", "11/02/2019", "Mercy Vale", "Quillfeather", "Tewksbury", "Ambrose",
               "978-555-0143", "Cornelius", "Vandersloot",
               "Leopold", "Fairweather", "123-45-6789", "lfcrisp", "Brookhollow", "07/21/2020", "Marigold",
               "Thaddeus", "Pemberton"]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _assert_no_note_text(blob: str) -> None:
    low = blob.lower()
    for phi in PHI_STRINGS:
        assert phi.lower() not in low, phi
    # no 8-word run of any note (a held note's text, even without its PHI)
    blob_grams = {tuple(g) for g in _ngrams(_words(blob), 8)}
    for note_id, text in PHI_NOTES.items():
        for g in _ngrams(_words(text), 8):
            assert tuple(g) not in blob_grams, (note_id, " ".join(g))


def _ngrams(words: list[str], n: int):
    return (words[i:i + n] for i in range(len(words) - n + 1))


@pytest.fixture
def phi_folder(tmp_path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    for note_id, text in PHI_NOTES.items():
        (folder / f"{note_id}.txt").write_text(text)
    return folder


@pytest.fixture
def restore_logging():
    """In-process CLI runs change the root logger; undo that afterwards.  Before, clear the
    level another in-process command may have left on notesynth's loggers (``notesynth sweep``
    sets notesynth.pipeline to WARNING and never restores it)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    ours = {name: lg.level for name, lg in logging.root.manager.loggerDict.items()
            if name.startswith("notesynth") and isinstance(lg, logging.Logger)}
    for name in ours:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for name, lvl in ours.items():
        logging.getLogger(name).setLevel(lvl)
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    for h in handlers:
        if h not in root.handlers:
            root.addHandler(h)
    root.setLevel(level)


def _exit_codes_from_help() -> dict[str, int]:
    res = runner.invoke(app, ["synth", "--help"], terminal_width=200)
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    epilog = text[text.index("Exit codes:") + len("Exit codes:"):]
    return {desc.strip().rstrip("."): int(code) for code, desc in re.findall(r"(\d+) ([^;]+)", epilog)}


@pytest.mark.parametrize("on_fail", ["hold", "error"])
def test_policy_retry_then_hold_or_error_through_the_cli(tiny_model, phi_folder, tmp_path, on_fail,
                                                       restore_logging):
    out = tmp_path / "out"
    log_file = tmp_path / "log.txt"
    res = runner.invoke(app, ["synth", str(phi_folder), str(out), "--model", str(tiny_model), "--seed", "3",
                              "--max-risk", "0.0", "--retries", "2", "--on-fail", on_fail,
                              "--verbose", "--log-file", str(log_file)])
    codes = _exit_codes_from_help()
    if on_fail == "hold":
        expected = next(c for d, c in codes.items() if "held back" in d)
        assert expected == 1
    else:  # --on-fail error: "count as an error" -> the documented code for failed inputs
        expected = next(c for d, c in codes.items() if "failed" in d and "inputs" in d)
        assert expected == 3
    assert res.exit_code == expected, res.output[-2000:]

    rows = {r["id"]: r for r in _manifest(out / "manifest.jsonl")}
    assert set(rows) == set(PHI_NOTES)
    for note_id, row in rows.items():
        assert row["status"] == ("held" if on_fail == "hold" else "error"), row
        assert row["attempts"] == 3, row            # first try + 2 retries
        # the row is the last attempt's: mask ratio + 2 retry steps (0.2 + 2 * 0.15 = 0.5; the first
        # try masks ~0.2)
        from notesynth import SynthConfig

        last = SynthConfig().mask_ratio + 2 * SynthConfig().retry_ratio_step
        assert row["masked_words"] >= (last - 0.1) * row["words"], row
        assert row["error"].startswith("privacy check failed: ") and len(row["error"]) > 24, row
        assert row["risk"]["passed"] is False and row["risk"]["reasons"]
        assert not (out / f"{note_id}.txt").exists()
    assert not list(out.rglob("*.txt"))
    log_text = log_file.read_text()
    # the retries really happened, and the log says so without text
    for note_id in PHI_NOTES:
        for attempt in (1, 2, 3):
            assert f"note {note_id} attempt {attempt} failed the privacy check" in log_text

    blob = [res.output, res.stderr, log_text]
    for path in out.rglob("*"):
        if path.is_file():
            blob.append(path.read_text(errors="replace"))
    _assert_no_note_text("\n".join(blob))


def test_the_leak_sweep_itself_can_fail():
    """Guard: the sweep used above does catch PHI and note runs."""
    text = PHI_NOTES["held-b"]
    with pytest.raises(AssertionError):
        _assert_no_note_text("log: " + "Vandersloot")
    with pytest.raises(AssertionError):
        _assert_no_note_text("Hip films showed no fracture. Pain controlled with")  # 8 words, no PHI
    _assert_no_note_text("hip films showed no fracture pain controlled")  # 7 words are allowed


# ------------------------------------------------------------------ 8. notesynth score
SURROGATES = {
    "Bartholomew Wigglesworth": "Henry Castellano", "8842193": "5501276", "03/14/2021": "06/02/2020",
    "Saint Ignatius Hospital": "Riverside Regional Hospital", "Philippa Thistlewood": "Laura Okafor",
    "Griselda Wigglesworth": "Maria Castellano", "(617) 555-0199": "(508) 555-0142",
    "42 Larkspur Lane": "17 Birch Street", "Framingham": "Worcester", "01701": "01602",
    "04/02/2021": "07/20/2020",
}


def test_score_command_pairs_by_id(tiny_model, tmp_path, restore_logging):
    originals = tmp_path / "orig"
    originals.mkdir()
    note = PHI_NOTES["held-a"]
    surrogate = note
    for real, fake in SURROGATES.items():
        assert real in surrogate
        surrogate = surrogate.replace(real, fake)
    (originals / "copy.txt").write_text(note)
    (originals / "surr.txt").write_text(note)
    (originals / "lonely.txt").write_text(PHI_NOTES["held-c"])  # no synthetic partner
    synthetic = tmp_path / "synthetic.jsonl"
    # ids out of order, one synthetic without an original
    rows = [{"id": "surr", "text": surrogate}, {"id": "stray", "text": "Unrelated note."},
            {"id": "copy", "text": note}]
    synthetic.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = tmp_path / "report.jsonl"
    res = runner.invoke(app, ["score", str(originals), str(synthetic), "--model", str(tiny_model),
                              "--output", str(report), "--max-risk", "0.9"])
    assert res.exit_code == 1, res.output[-2000:]  # one pair fails
    got = {r["id"]: r for r in _manifest(report)}
    assert sorted(got) == ["copy", "surr"]
    copy, surr = got["copy"], got["surr"]
    assert copy["risk"] == 1.0 and copy["passed"] is False and copy["leaked_phi"] >= 5
    assert "NAME" in copy["leaked_labels"] and "DATE" in copy["leaked_labels"]
    assert surr["passed"] is True and surr["leaked_phi"] == 0 and surr["risk"] < copy["risk"]
    assert copy["distinctive_overlap"] == 1.0  # every trigram outside PHI survives a copy
    assert surr["distinctive_overlap"] > 0.5 and 0 < surr["longest_verbatim_run"] < copy["longest_verbatim_run"]
    assert "1 failing pair(s), 1 original(s) without a synthetic match" in res.stderr
    table = {line.split()[0]: line.split() for line in res.stdout.splitlines()[1:]}
    assert table["copy"][-1] == "FAIL" and table["surr"][-1] == "pass"
    for phi in PHI_STRINGS:
        assert phi.lower() not in (res.output + report.read_text()).lower(), phi


def test_checker_thresholds_come_from_the_config(tmp_path):
    from notesynth.check import settings_from_config
    from notesynth.config import ConfigError, SynthConfig, build_config, load_toml

    cfg_file = tmp_path / "n.toml"
    cfg_file.write_text("[notesynth]\nname_fuzz = 95\nrun_scale = 20\nmemorization_threshold = 0.9\n")
    cfg = build_config(load_toml(cfg_file))
    settings = settings_from_config(cfg)
    assert (settings.name_fuzz, settings.run_scale, settings.memorization_threshold) == (95, 20, 0.9)
    with pytest.raises(ConfigError):
        SynthConfig(run_scale=0).validate()


def test_initials_leak_only_beyond_their_uses_outside_phi():
    from notesynth.check.risk import leaked_spans
    from notesynth.spans import Span

    original = "TO MEET C.G. Navarro TODAY. Pt c pain."
    phi = [Span(8, 20, "NAME")]
    assert leaked_spans(original, "TO MEET K.L. Smith TODAY. Pt c pain.", phi) == []  # "c" = with, kept
    assert leaked_spans(original, "TO MEET K.L. Smith TODAY. C.G. Pt c pain.", phi) == phi  # put back
    assert leaked_spans(original, "TO MEET K.G. Smith TODAY. Pt c pain.", phi) == phi  # "G" was only a name's


def test_a_surrogate_that_reads_as_another_original_value_is_a_leak():
    """Years move together: "1993" -> "1996" while the note also had "1996".  The output shows a
    real date of this patient, so it counts (masking re-seeds the surrogates to avoid it)."""
    orig = "Dialysis since 1993; transplant in 1996."
    phi = [Span(15, 19, "DATE"), Span(35, 39, "DATE")]
    assert [orig[s.start:s.end] for s in leaked_spans(orig, "Dialysis since 1996; transplant in 1999.", phi)] == ["1996"]
    assert leaked_spans(orig, "Dialysis since 1994; transplant in 1997.", phi) == []


def test_a_medical_word_taken_for_a_name_leaks_only_beyond_its_uses_outside_phi():
    """A tagger read the exam heading "Foot:" as a name; the kept "foot" elsewhere is the body
    part, not the name put back.  One more "Foot" than the original has outside PHI is a leak."""
    orig = "Foot: warm. Left foot pulses 2+, right foot cool."
    phi = [Span(0, 4, "NAME")]
    assert leaked_spans(orig, "Exam: warm. Left foot pulses 2+, right foot cool.", phi) == []
    assert leaked_spans(orig, "Foot: warm. Left foot pulses 2+, right foot cool.", phi) == phi
    orig2 = "Seen by Dr. Foote. Foote to follow."  # an ordinary surname still leaks on any mention
    phi2 = [Span(12, 17, "NAME"), Span(19, 24, "NAME")]
    assert leaked_spans(orig2, "Seen by Dr. Lane. Foote to follow.", phi2)


def test_a_name_part_leaks_on_any_mention_and_a_number_is_no_name_part():
    """A found name's part leaks wherever the output writes it, an ordinary word too: in a
    capitals note propagation skips "SILVER" (a common word), and the kept second mention must
    fail the check so that the retry re-generates it (fills never write the note's PHI words).
    A number in a name span ("gravida 1", a tagger's) is no one's name."""
    orig = "PATIENT: JOHN SILVER\nHPI: SILVER REPORTS PAIN SINCE MONDAY."
    phi = [_span(orig, "JOHN SILVER", "NAME")]
    assert leaked_spans(orig, "PATIENT: MARK LEE\nHPI: SILVER REPORTS PAIN SINCE FRIDAY.", phi) == phi
    orig2 = "He further stated that the pain was worse."
    phi2 = [_span(orig2, "further", "NAME")]
    assert leaked_spans(orig2, "She then stated that the pain was worse. No further studies.", phi2) == phi2
    orig4 = "Seen with Dr. At'machyan. He agreed at once."  # a two-letter part: by count, like an initial
    phi4 = [_span(orig4, "At'machyan", "NAME"), _span(orig4, "He", "NAME")]
    assert leaked_spans(orig4, "Seen with Dr. Lane. She agreed at once.", phi4) == []
    assert leaked_spans(orig4, "Seen with Dr. Lane at Machyan. She agreed at once.", phi4) == phi4[:1]
    orig3 = "A 35-year-old gravida 1, para 1, seen today."  # a tagger read "gravida 1" as a name
    phi3 = [Span(orig3.index("gravida"), orig3.index(", para"), "NAME")]
    assert leaked_spans(orig3, "A 35-year-old Smith, para 1, seen 1/1/2001.", phi3) == []  # numbers are no name


def test_a_near_spelling_of_a_name_part_is_a_leak_unless_it_is_an_ordinary_or_medical_word():
    """A tagger read "tympani" as a name: the kept "tympanic membrane" is not it put back (fuzzy
    ratio 93); a near-spelling no vocabulary holds still is ("Wiggleswortth")."""
    orig = "Care to avoid the chorda tympani. Seen by Dr. Wigglesworth with Ann Millers."
    phi = [_span(orig, v, "NAME") for v in ("tympani", "Wigglesworth", "Ann Millers")]
    assert leaked_spans(orig, "Care to avoid the tympanic membrane. Seen by Dr. Lane with Kim Ruiz.", phi) == []
    assert leaked_spans(orig, "Care to avoid the nerve. Seen by Dr. Wiggleswortth with Kim Ruiz.", phi) == phi[1:2]
    # a near-spelling that is a name of the lists counts, ordinary word or not
    assert leaked_spans(orig, "Care to avoid the nerve. Seen by Dr. Lane with Miller.", phi) == phi[2:]


def test_a_numeric_date_leaks_only_beyond_its_other_written_forms_outside_phi():
    """"2/5" found as a date, and "2.5 mg" kept: once normalised both read "2 5"; the kept dose
    is no leak, "2/5" written again is."""
    orig = "Seen 2/5 for follow up. Gave lorazepam 2.5 mg at night."
    phi = [_span(orig, "2/5", "DATE")]
    assert leaked_spans(orig, "Seen 3/9 for follow up. Gave lorazepam 2.5 mg at night.", phi) == []
    assert leaked_spans(orig, "Seen 3/9 for follow up on 2/5. Gave lorazepam 2.5 mg at night.", phi) == phi
    orig2 = "Admitted 3/14. Pt returned 3.14 for labs. CT 03 14 2019 negative."  # no unit: the date again
    phi2 = [_span(orig2, "3/14", "DATE")]
    assert leaked_spans(orig2, "Admitted 5/2. Pt returned 3.14 for labs. CT 03 14 2019 negative.", phi2) == phi2


def test_check_many_is_check_per_note_with_one_detection_pass():
    """The pipeline checks a batch's outputs together (one spaCy pipe): each report must be
    the one the note alone gets, and the detector must run once for the batch."""
    from notesynth.check import Checker
    from notesynth.phi import shared_detector

    detector = shared_detector(None, False, False)
    checker = Checker(detector, RiskSettings())
    outputs = ["Seen by Dr. John Smith on 5/2 for chest pain.",   # leak
               "Seen by Dr. Lane on 5/2; called Mary Jones at 617-555-0199.",  # residual
               "Seen on 5/2 for chest pain; husband at bedside."]  # clean
    items = [(ORIG, out, PHI, [_span(out, "5/2", "DATE")]) for out in outputs]
    calls = []
    many = detector.detect_many
    checker.detector = type("Counting", (), {"detect": detector.detect,
                                             "detect_many": lambda self, t: calls.append(len(t)) or many(t)})()
    reports = checker.check_many(items)
    assert calls == [3]
    alone = [Checker(detector, RiskSettings()).check(*item) for item in items]
    assert reports == alone
    assert [r.passed for r in reports] == [False, False, True]
