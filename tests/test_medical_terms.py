"""The measured keep-list (issue #6): clinical words are protected, ordinary words and names are not."""
import subprocess
import sys
from importlib import resources

import pytest

from notesynth import protect as medical


def _protected(text: str) -> dict[str, str]:
    """Protected words of ``text`` -> label."""
    return {text[s.start:s.end]: s.label for s in medical.protect(text)}


def test_the_lists_load_with_every_source():
    sources = medical.term_sources()
    assert set(sources) == {"hand", "clinical-ratio", "ncbi-disease", "negation", "dosing"}
    assert len(sources["clinical-ratio"]) > 2000 and len(sources["ncbi-disease"]) > 200
    assert len(sources["hand"]) > 300
    merged = medical.medical_terms()
    assert merged == frozenset().union(*sources.values())
    assert all(w == w.lower() and " " not in w and w for w in merged)


def test_resource_states_how_it_was_built_and_the_licences():
    header = resources.files("notesynth.resources").joinpath("clinical_terms.txt").read_text(encoding="utf-8")
    for needed in ("build_keep_list.py", "CC BY-SA 4.0", "CC BY 4.0", "CC0", "public domain", "train split"):
        assert needed in header, needed


@pytest.mark.parametrize("word, source", [
    ("tachycardia", "clinical-ratio"),
    ("furosemide", "clinical-ratio"),
    ("hypokalemia", "clinical-ratio"),
    ("adrenoleukodystrophy", "ncbi-disease"),  # a disease of the NCBI train split
    ("duchenne", "ncbi-disease"),
])
def test_known_clinical_words_are_in_the_measured_list_and_protected(word, source):
    assert word in medical.term_sources()[source]
    text = f"She was seen again today with {word} and her daughter went home after lunch."
    assert _protected(text).get(word) == "MEDICAL"
    assert _protected(text.upper()).get(word.upper()) == "MEDICAL"  # all-caps nursing notes too


@pytest.mark.parametrize("word", ["the", "went", "family", "because", "morning", "daughter", "happy", "states"])
def test_ordinary_words_are_not_protected(word):
    assert not medical.is_term(word, medical.medical_terms())
    text = f"Her {word} visit was long. Tachycardia resolved."
    assert word not in _protected(text)


@pytest.mark.parametrize("name", ["john", "mary", "michael", "smith", "jones", "wilson", "thomas",
                                  "garcia", "huntington", "seattle", "portland"])
def test_person_and_place_names_are_not_in_the_list(name):
    assert name not in medical.medical_terms()


@pytest.mark.parametrize("cue", ["no", "not", "denies", "without", "negative", "didn't", "unlikely", "never"])
def test_negation_cues_are_protected(cue):
    text = f"Patient {cue} chest pain today."
    assert _protected(text).get(cue) == "NEGATION"
    assert _protected(text.upper()).get(cue.upper()) == "NEGATION"


def test_doses_units_and_routes_are_protected_even_in_all_caps_notes():
    text = "GAVE LASIX 40 MG IV BID AND KCL 20 MEQ PO. HR 88, BP 120/80, NEURO: ALERT."
    kinds = _protected(text)
    for word in ("LASIX", "IV", "BID", "PO", "KCL", "HR", "BP"):
        assert word in kinds, word
    assert any(v.startswith("40") for v in kinds) and "120/80" in kinds
    assert "GAVE" not in kinds and "AND" not in kinds


def test_plurals_and_possessives_match_but_short_words_do_not_shrink():
    terms = frozenset({"lung", "abscess", "pvc", "stat", "u", "wa"})
    assert medical.is_term("lungs", terms) and medical.is_term("Abscesses", terms)
    assert medical.is_term("PVCs", terms) and medical.is_term("lung's", terms)
    assert not medical.is_term("states", terms)  # "stat" + "es" is not a plural
    assert not medical.is_term("us", terms) and not medical.is_term("was", terms)


def test_a_word_inside_a_measure_is_not_a_second_span():
    spans = medical.protect("Dopamine 5mcg/kg/min.")
    covered = [(s.start, s.end) for s in spans]
    assert len(covered) == len(set(covered))
    assert not any(a < d and c < b for i, (a, b) in enumerate(covered) for (c, d) in covered[i + 1:])


def test_runtime_needs_no_wordfreq_and_no_shared_data():
    code = ("import sys; from notesynth import protect as medical; medical.protect('No fever. Tachycardia.'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('wordfreq', 'faker', 'spacy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_date_shaped_value_keeps_the_words_that_make_it_a_value():
    """"scale of 1-10", "Strength 2/5": a fill in place of the cue could make the kept value read
    as a date ("history of 1-10"), and the checker would hold the note.  The cue is kept, and is
    not counted as medical content."""
    from notesynth.evaluate.metrics import medical_kept
    from notesynth.protect import protect

    text = "He rates the pain 7 on a scale of 1-10.\nNEUROLOGIC: Strength 2/5 in the right hand. BP 120 systolic."
    cues = [text[s.start:s.end] for s in protect(text) if s.label == "CUE"]
    assert cues == ["scale", "of", "NEUROLOGIC", "Strength"]
    with_cues = medical_kept(text, text, [])
    without = medical_kept(text, text.replace("scale of", "xx yy").replace("Strength", "Zz"), [])
    assert with_cues == without  # the cue words are no medical term kept or lost
