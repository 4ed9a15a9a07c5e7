"""A retry re-generates the kept words where the last attempt failed the check (retry.py)."""
import random

from notesynth.check.risk import RiskReport
from notesynth.masking import plan, render
from notesynth.retry import words_to_regenerate
from notesynth.spans import Span
from notesynth.surrogates import SurrogateMaker

TEXT = "Packed with Ray-Tec by Dr. Lane. Gross inspection normal. Ray-Tec count correct, trays ok."


def _plan(forced=()):
    phi = [Span(TEXT.index("Ray-Tec"), TEXT.index("Ray-Tec") + 7, "NAME"), Span(27, 31, "NAME")]
    return phi, plan(TEXT, phi, [], 0.0, random.Random(1), SurrogateMaker(1), forced=list(forced))


def test_residual_phi_on_kept_text_is_masked_next_time():
    phi, p = _plan()
    out, _ = render(p, {})
    at = out.index("Gross")
    report = RiskReport(passed=False, residual_at=((at, at + 5),))
    words = words_to_regenerate(TEXT, p, {}, report, phi)
    assert [TEXT[w.start:w.end] for w in words] == ["Gross"]
    again = plan(TEXT, phi, [], 0.0, random.Random(2), SurrogateMaker(2), forced=words)
    assert [s.text for s in again.segments if s.kind == "mask"] == ["Gross"]


def test_residual_phi_on_a_surrogate_or_fill_masks_nothing_kept():
    phi, p = _plan()
    out, placed = render(p, {})
    report = RiskReport(passed=False, residual_at=((placed[0].start, placed[0].end),))
    assert words_to_regenerate(TEXT, p, {}, report, phi) == []


def test_a_leaked_value_is_masked_wherever_it_was_kept():
    phi, p = _plan()
    report = RiskReport(passed=False, leaked_at=((phi[0].start, phi[0].end),))
    words = words_to_regenerate(TEXT, p, {}, report, phi)
    # the second "Ray-Tec" (kept: the detector found only the first) (and its plural); "trays" is another word
    assert [TEXT[w.start:w.end] for w in words] == ["Ray", "Tec"]
    assert all(w.start > TEXT.index("Gross") for w in words)


def test_overlap_of_the_kept_words_never_exceeds_the_filled_output(sample_rows):
    """Why a plan that fails the overlap check on its kept words alone is not filled: whatever
    the fills (the original word put back included), the output's overlap is at least as high."""
    from notesynth.check.risk import RiskSettings, distinctive_overlap, longest_verbatim_run, overlap_risk
    from notesynth.masking import render_kept

    settings = RiskSettings()
    rng = random.Random(5)
    checked = 0
    for row in sample_rows[:12]:
        text = row["text"]
        for ratio in (0.05, 0.3):
            p = plan(text, [], [], ratio, random.Random(checked), SurrogateMaker(checked))
            kept = render_kept(p)
            masked = p.masked_indices()
            words = text.split()
            fills = {i: (p.segments[i].text if rng.random() < 0.5 else rng.choice(words)) for i in masked}
            out, _ = render(p, fills)
            before = overlap_risk(distinctive_overlap(text, kept, [], lambda w: False),
                                  longest_verbatim_run(text, kept), settings)
            after = overlap_risk(distinctive_overlap(text, out, [], lambda w: False),
                                 longest_verbatim_run(text, out), settings)
            assert before <= after + 1e-9, (row["id"], ratio)
            checked += 1
    assert checked == 2 * len(sample_rows[:12]) >= 10


def test_a_plan_failing_on_its_kept_words_is_not_filled(synthesizer, sample_rows):
    """Attempts whose kept words alone fail the overlap check skip the fill and spread the next
    masks; the last attempt is always filled and checked, so a held note's report is the full one."""
    from dataclasses import replace as dc_replace

    from notesynth.pipeline import Synthesizer

    cfg = dc_replace(synthesizer.config, mask_ratio=0.02, retry_ratio_step=0.0, retries=2, mask_unknown_words=False)
    synth = Synthesizer(cfg, detector=synthesizer.detector, infiller=synthesizer.infiller)
    calls = []
    fill = synth.infiller.fill
    synth._infiller = type("Counting", (), {"fill": lambda self, jobs: calls.append(len(jobs)) or fill(jobs),
                                            "tokenizer": synth.infiller.tokenizer})()
    long_note = max(sample_rows, key=lambda r: len(r["text"]))["text"]
    res = synth.synthesize(long_note, "long")
    assert res.status == "held" and res.attempts == 3
    assert calls == [1]  # only the last attempt was filled
    assert not any("before the fill" in reason for reason in res.report.reasons)
    assert any(reason.startswith("source overlap") for reason in res.report.reasons)
