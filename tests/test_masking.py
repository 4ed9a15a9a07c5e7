import random

from notesynth import protect as medical
from notesynth.masking import plan, render
from notesynth.surrogates import SurrogateMaker
from notesynth.spans import Span

TEXT = ("Pt seen by Dr. Jones today. She was given lasix 40 mg IV with good effect and her "
        "breathing seemed much better after the dose was given in the evening by the nurse.")


def _plan(ratio, seed=0, text=TEXT):
    phi = [Span(text.index("Jones"), text.index("Jones") + 5, "NAME")]
    return plan(text, phi, medical.protect(text), ratio, random.Random(seed), SurrogateMaker(seed))


def test_phi_always_replaced_and_measures_never_masked():
    p = _plan(1.0)
    out, placed = render(p, {i: "X" for i in p.masked_indices()})
    assert "Jones" not in out
    assert "40 mg" in out and "lasix" in out and "IV" in out
    assert len(placed) == 1 and out[placed[0].start:placed[0].end] != "Jones"


def test_mask_ratio_is_respected():
    p = _plan(0.3)
    assert p.n_masked == round(0.3 * p.n_words)
    assert _plan(0.0).n_masked == 0


def test_plan_is_deterministic_per_seed():
    assert _plan(0.5, seed=1) == _plan(0.5, seed=1)
    assert _plan(0.5, seed=1) != _plan(0.5, seed=2)


def test_segments_rebuild_the_text_when_nothing_is_filled():
    p = _plan(0.5)
    rebuilt = "".join(s.text if s.kind != "surrogate" else "Jones" for s in p.segments)
    assert rebuilt == TEXT


def test_protect_keeps_medical_facts():
    text = "HPI: BP 120/80, HR 88. Gave metoprolol 25mg PO. Denies chest pain. Cr 1.2"
    kinds = {text[s.start:s.end]: s.label for s in medical.protect(text)}
    assert "HPI" in kinds and "metoprolol" in kinds and "Denies" in kinds
    covered = lambda word: any(s.start <= text.index(word) < s.end for s in medical.protect(text))
    for word in ["120/80", "25mg", "1.2", "88", "pain"]:
        assert covered(word), word
    assert not covered("Gave")


def test_units_and_shorthand_after_slashes_are_never_masked():
    text = "Dopamine 2-15mcg/kg titrated w/ care, s/p fall, x-ray done and the patient was resting quietly today."
    p = plan(text, [], medical.protect(text), 1.0, random.Random(0), SurrogateMaker(0))
    masked = {s.text for s in p.segments if s.kind == "mask"}
    assert not masked & {"kg", "w", "s", "p", "x", "ray"}
    assert "resting" in masked


def _longest_gap(chosen, n):
    return max(b - a - 1 for a, b in zip([-1] + chosen, chosen + [n]))


def test_masks_are_spread_so_no_long_stretch_is_copied():
    """One mask per equal stretch of candidates: the longest unmasked stretch stays under
    two stretches, where a uniform sample of the same size leaves far longer ones."""
    from notesynth.masking import spread_sample

    candidates = list(range(300))
    spread, uniform = [], []
    for seed in range(20):
        chosen = spread_sample(candidates, 90, random.Random(seed))
        assert len(set(chosen)) == 90 and chosen == sorted(chosen)
        spread.append(_longest_gap(chosen, 300))
        uniform.append(_longest_gap(sorted(random.Random(seed).sample(candidates, 90)), 300))
    assert max(spread) <= 2 * (300 // 90) < max(uniform)
    assert spread_sample(candidates, 0, random.Random(0)) == []


def test_assertion_and_direction_words_are_never_masked():
    """'within normal limits', 'HR elevated', 'left arm': masking the word would change the finding."""
    text = "Lungs within normal limits, HR elevated, left arm weak, pain worse, cough improved, abd soft."
    p = plan(text, [], medical.protect(text), 1.0, random.Random(0), SurrogateMaker(0))
    masked = {s.text.lower() for s in p.segments if s.kind == "mask"}
    assert masked and not masked & {"normal", "elevated", "left", "worse", "improved"}
    assert {"within", "arm", "weak"} & masked or {"soft", "cough"} & masked


def test_a_retry_spreads_masks_over_the_note_to_break_long_kept_runs():
    """Where protected words leave few maskable ones, masks spread over the candidates leave
    long verbatim runs there (the overlap check fails the note again); spread over the
    note's words, every maskable word of the sparse stretch is taken first."""
    from notesynth.masking import spread_sample

    words = list(range(300))
    candidates = [w for w in words if w < 150 or w % 10 == 0]  # the second half: mostly protected
    for seed in range(10):
        by_candidates = spread_sample(candidates, 90, random.Random(seed))
        by_words = spread_sample(candidates, 90, random.Random(seed), positions=words)
        assert len(set(by_words)) == 90 and by_words == sorted(by_words) and set(by_words) <= set(candidates)
        assert {w for w in candidates if w >= 150} <= set(by_words)
        assert _longest_gap(by_words, 300) < _longest_gap(by_candidates, 300)


def test_no_surrogate_reads_as_another_phi_value_of_the_note():
    """A date shift of a few days moves "08/02" onto the note's other date "08/05", and a year
    shift moves "1993" onto "1996": the surrogates are re-drawn (new seed) until none does."""
    from notesynth.spans import Span
    from notesynth.surrogates import SurrogateMaker

    text = "In CCU until 08/02, then 08/05. Dialysis since 1993, transplant 1994."
    phi = [Span(m.start(), m.end(), "DATE") for m in __import__("re").finditer(r"\d\d/\d\d|\d{4}", text)]
    originals = {text[s.start:s.end] for s in phi}
    collided = 0
    for seed in range(200):
        p = plan(text, phi, [], 0.0, random.Random(seed), SurrogateMaker(seed))
        values = {seg.text.strip() for seg in p.segments if seg.kind == "surrogate"}
        assert not values & originals, seed
        first = {SurrogateMaker(seed).surrogate("DATE", v) for v in originals}
        collided += bool(first & originals)
    assert collided > 20  # the first maker often collides here: the re-seeding is what prevents it
