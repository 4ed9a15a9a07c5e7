"""Re-surrogated benchmark rows: every gold span replaced by a value from a held-out source
(shared by bench/phi_heldout.py and bench/privacy.py --resurrogate)."""
from __future__ import annotations

from heldout.sources import heldout_maker, seed_rng
from notesynth.phi.tagger.augment import resurrogate


def make_dataset(rows, source: str, audited: set, seed: int, consistent: bool = True, shapes: str = "bench"):
    """Rows with text and spans re-surrogated from `source` (orig: unchanged). Every span
    gets "audited": True/False; audited spans keep their text.  `consistent` (the default
    since the ninth session): a value repeated in a note is re-drawn once, as the dev file's own
    surrogates are ("Fernandez" three times stays one name); before, each mention got its own
    name, which no note-level propagation could relate.  `shapes`: the institution shapes
    (heldout.sources.SHAPES)."""
    out = []
    maker = None if source == "orig" else heldout_maker(source, shapes)
    for r in rows:
        spans = [{**s, "audited": (r["id"], s["start"], s["end"]) in audited} for s in r["spans"]]
        if maker is None:
            out.append({"id": r["id"], "text": r["text"], "spans": spans})
            continue
        rng = seed_rng(seed, f"{source}:{r['id']}")
        text, new = resurrogate(r["text"], spans, maker, rng, keep=lambda s: s["audited"],
                                consistent=consistent)
        out.append({"id": r["id"], "text": text, "spans": new})
    return out


def set_aside(rows):
    return [{**r, "spans": [s for s in r["spans"] if not s.get("audited")]} for r in rows]
