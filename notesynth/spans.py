"""The span type every step speaks: character offsets into a note plus a label."""
from __future__ import annotations

from dataclasses import dataclass

# Labels as in the benchmark data README. HIPAA identifiers first, then the
# institution labels that are not among HIPAA's 18 but still identify.
HIPAA_LABELS = frozenset({
    "NAME", "DATE", "AGE", "GEOGRAPHIC_LOCATION", "PHONE_NUMBER", "FAX_NUMBER",
    "EMAIL_ADDRESS", "MEDICAL_RECORD_NUMBER", "SOCIAL_SECURITY_NUMBER",
    "HEALTH_PLAN_BENEFICIARY_NUMBER", "ACCOUNT_NUMBER", "CERTIFICATE_LICENSE_NUMBER",
    "UNIQUE_IDENTIFIER", "IP_ADDRESS", "URL", "OTHER_ID",
})
INSTITUTION_LABELS = frozenset({"HOSPITAL", "WARD", "ORGANIZATION"})
PHI_LABELS = HIPAA_LABELS | INSTITUTION_LABELS


@dataclass(frozen=True, order=True)
class Span:
    """A half-open character range [start, end) of a note, with a label."""

    start: int
    end: int
    label: str
    score: float = 1.0

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "label": self.label, "score": round(self.score, 4)}


def merge_overlapping(spans: list[Span]) -> list[Span]:
    """Resolve overlaps: the longer (then higher-scoring) span wins, the union is kept."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -(s.end - s.start), -s.score)):
        if out and s.start < out[-1].end:
            last = out[-1]
            keep = last if (last.end - last.start, last.score) >= (s.end - s.start, s.score) else s
            out[-1] = Span(last.start, max(last.end, s.end), keep.label, max(last.score, s.score))
        else:
            out.append(s)
    return out
