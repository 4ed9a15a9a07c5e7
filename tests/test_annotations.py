"""Label-preserving synthesis: annotated spans are never masked and are re-offset in the output."""
import json
import random
import re

from typer.testing import CliRunner

from notesynth import protect as medical
from notesynth.cli import app
from notesynth.masking import plan, remap_spans, render
from notesynth.surrogates import SurrogateMaker
from notesynth.spans import Span

TEXT = "Mr Smith has a history of breast cancer and was seen by Dr Wu for Parkinson disease today."


def _spans(*words_labels):
    return [Span(TEXT.index(w), TEXT.index(w) + len(w), label) for w, label in words_labels]


def test_remap_across_longer_and_shorter_surrogates_and_masked_words():
    phi = _spans(("Smith", "NAME"), ("Wu", "NAME"))
    ann = _spans(("breast cancer", "DISEASE"), ("Parkinson disease", "DISEASE"))
    for seed in range(6):
        p = plan(TEXT, phi, medical.protect(TEXT) + ann, 1.0, random.Random(seed), SurrogateMaker(seed))
        fills = {i: "w" * (seed + 1) for i in p.masked_indices()}  # fills of many lengths
        out, placed = render(p, fills)
        mapped = remap_spans(p, fills, ann)
        assert [out[m.start:m.end] for m in mapped] == ["breast cancer", "Parkinson disease"]
        assert all(m.label == "DISEASE" for m in mapped)
        assert "Smith" not in out and " Wu " not in out


def test_annotation_overlapping_phi_is_dropped_not_leaked():
    phi = _spans(("Smith", "NAME"))
    ann = _spans(("Mr Smith", "PERSON_MENTION"), ("cancer", "DISEASE"))
    p = plan(TEXT, phi, medical.protect(TEXT) + ann, 0.5, random.Random(1), SurrogateMaker(1))
    out, _ = render(p, {i: "x" for i in p.masked_indices()})
    mapped = remap_spans(p, {i: "x" for i in p.masked_indices()}, ann)
    assert mapped[0] is None
    assert out[mapped[1].start:mapped[1].end] == "cancer"


def test_cli_annotations_round_trip(tiny_model, tmp_path, sample_rows):
    src = tmp_path / "in.jsonl"
    ann = tmp_path / "ann.jsonl"
    with open(src, "w") as fh, open(ann, "w") as fa:
        for r in sample_rows[:3]:
            fh.write(json.dumps({"id": r["id"], "text": r["text"]}) + "\n")
            words = [(m.start(), m.end()) for m in re.finditer(r"\b[a-z]{5,}\b", r["text"])
                     if not any(g["start"] < m.end() and m.start() < g["end"] for g in r["spans"])][:4]
            fa.write(json.dumps({"id": r["id"], "spans": [{"start": a, "end": b, "label": "TERM"} for a, b in words]}) + "\n")
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(app, ["synth", str(src), str(out), "--model", str(tiny_model), "--annotations", str(ann),
                                   "--mask-ratio", "0.6", "--max-risk", "1.0", "-q"])
    assert res.exit_code in (0, 1), res.output
    originals = {r["id"]: r["text"] for r in sample_rows}
    gold = {json.loads(x)["id"]: json.loads(x)["spans"] for x in ann.read_text().splitlines()}
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows
    for row in rows:
        expected = [originals[row["id"]][s["start"]:s["end"]] for s in gold[row["id"]]]
        got = [row["text"][s["start"]:s["end"]] for s in row["spans"]]
        assert got == expected
    bad = CliRunner().invoke(app, ["synth", str(src), str(tmp_path / "folder"), "--model", str(tiny_model),
                                   "--annotations", str(ann)])
    assert bad.exit_code == 2 and "JSONL output" in bad.output


def test_conll_round_trip(tiny_model, tmp_path):
    from notesynth.batch import conll

    src = tmp_path / "in.conll"
    src.write_text("The\tO\npatient\tO\nhas\tO\nbreast\tB-Disease\ncancer\tI-Disease\nand\tO\nwas\tO\n"
                   "seen\tO\ntoday\tO\n.\tO\n\nShe\tO\nalso\tO\nreports\tO\nmild\tO\nasthma\tB-Disease\n"
                   "since\tO\nchildhood\tO\n.\tO\n")
    notes = conll.to_notes(conll.read_sentences(src))
    assert [notes[0][1][s.start:s.end] for s in notes[0][2]] == ["breast cancer", "asthma"]
    out = tmp_path / "out.conll"
    res = CliRunner().invoke(app, ["synth", str(src), str(out), "--model", str(tiny_model), "--mask-ratio", "0.9",
                                   "--max-risk", "1.0", "-q"])
    assert res.exit_code in (0, 1), res.output
    lines = [x.split("\t") for x in out.read_text().splitlines() if x]
    tagged = [(t, g) for t, g in lines if g != "O"]
    assert tagged == [("breast", "B-Disease"), ("cancer", "I-Disease"), ("asthma", "B-Disease")]
    assert (tmp_path / "out.conll.manifest.jsonl").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".notesynth-conll-")]
