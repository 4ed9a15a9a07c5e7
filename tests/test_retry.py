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
