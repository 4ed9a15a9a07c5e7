"""Fill calibration: the per-word bias moves fills toward the words the masks took away."""
from __future__ import annotations

import json
import random
import shutil
from collections import Counter

from notesynth.infill.calibration import (CALIBRATION_FILE, MAX_BIAS, count_fills, distance, load_calibration,
                                          update_bias, write_calibration)


def test_update_moves_over_used_words_down_and_under_used_up():
    original = Counter({"cont": 30, "given": 10, "pt": 60})
    filled = Counter({"cont": 5, "given": 45, "pt": 50})
    bias = update_bias({}, original, filled, ["cont", "given", "pt"])
    assert bias["cont"] > 1.0 and bias["given"] < -1.0 and abs(bias.get("pt", 0.0)) < 0.3
    # rounds add up, within the cap
    again = update_bias(bias, original, filled, ["cont", "given", "pt"])
    assert again["cont"] > bias["cont"] and again["cont"] <= MAX_BIAS
    # a word never masked nor filled gets no bias; the distance falls to 0 when counts agree
    assert "rare" not in update_bias({}, original, filled, ["cont", "given", "pt", "rare"])
    assert distance(original, original, ["cont", "given", "pt"]) == 0.0
    assert distance(original, filled, ["cont", "given", "pt"]) > 0.3


def test_count_fills_pairs_each_masked_word_with_its_fill():
    from notesynth.masking import plan
    from notesynth.surrogates import SurrogateMaker

    text = "Pt given lasix overnight and tolerating feeds well"
    p = plan(text, [], [], 1.0, random.Random(0), SurrogateMaker(0))
    fills = {i: "word" for i in p.masked_indices()}
    original, filled = count_fills([p], [fills])
    assert original["given"] == 1 and original["pt"] == 1 and filled["word"] == len(p.masked_indices())


def test_the_calibration_file_biases_the_fills(tiny_model, tmp_path):
    """A strong bias for one word makes the fills write it far more often (same seed, same plans)."""
    from notesynth.infill import FillJob, Infiller, InfillSettings
    from notesynth.masking import plan
    from notesynth.surrogates import SurrogateMaker

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    text = ("Pt resting comfortably overnight, tolerating tube feeds at goal, family visited this evening "
            "and was updated on the plan of care by the team. ") * 3

    def fills_of(folder, settings=InfillSettings()):
        infiller = Infiller(str(folder), "cpu", settings)
        word = infiller.whole_pieces[len(infiller.whole_pieces) // 2]
        plans = [plan(text, [], [], 0.5, random.Random(s), SurrogateMaker(s)) for s in range(4)]
        out = infiller.fill([FillJob(p, s) for s, p in enumerate(plans)])
        return word, Counter(w.lower() for f in out for w in f.values())

    word, before = fills_of(model)
    write_calibration(model, {word: MAX_BIAS}, {"test": True})
    assert load_calibration(model) == {word: MAX_BIAS}
    assert json.loads((model / CALIBRATION_FILE).read_text())["meta"] == {"test": True}
    _, after = fills_of(model)
    assert after[word] > before[word] + 3
    # off by setting: the file is ignored, the fills are those without it
    assert fills_of(model, InfillSettings(fill_calibration=False))[1] == before
