"""What synthetic records give away about the training records.

- exact copies: synthetic code sets equal to a training record's;
- membership inference: an attacker holding a real record guesses "it was in the
  training data" when some synthetic record is close to it; advantage = 2 AUC - 1
  (0: no better than a coin; 1: always right), members vs held-out records;
- distance to closest record (DCR): share of synthetic records whose nearest real
  record (from equal-sized training and held-out samples) is a training one (0.5 ideal);
- attribute inference: an attacker knows a record's common codes (present or absent),
  finds the nearest synthetic record on those, and predicts the rare codes from it;
  F1 on training records vs held-out records (a gap is leakage).
"""
from __future__ import annotations

import numpy as np

from notesynth.codes.stats import nearest, roc_auc, subsample


def exact_copies(synth: np.ndarray, reference: np.ndarray, more_than: int = 0) -> int:
    """Synthetic rows equal to some reference row and with more than `more_than` codes."""
    ref = {row.tobytes() for row in reference.astype(np.uint8)}
    synth = synth.astype(np.uint8)
    return int(sum(1 for row in synth if int(row.sum()) > more_than and row.tobytes() in ref))


def membership(train: np.ndarray, holdout: np.ndarray, synth: np.ndarray, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    m = min(len(train), len(holdout))
    if m == 0 or len(synth) == 0:
        return {}
    members, others = subsample(train, m, rng), subsample(holdout, m, rng)
    d_members, _ = nearest(members, synth)
    d_others, _ = nearest(others, synth)
    auc = roc_auc(-np.concatenate([d_members, d_others]), np.r_[np.ones(m), np.zeros(m)])
    # DCR: for each synthetic record, is its nearest real record a training one?
    d_to_train, _ = nearest(synth, members)
    d_to_hold, _ = nearest(synth, others)
    share = float(np.mean((d_to_train < d_to_hold) + 0.5 * (d_to_train == d_to_hold)))
    return {
        "membership_auc": auc, "membership_advantage": 2 * auc - 1,
        "dcr_members_mean": float(d_members.mean()), "dcr_holdout_mean": float(d_others.mean()),
        "dcr_train_closer_share": share, "membership_records_per_side": m,
    }


def attribute_inference(targets: np.ndarray, synth: np.ndarray, known: np.ndarray) -> float:
    """Micro F1 of rare codes predicted from the nearest synthetic records on the known codes.

    Distance is Hamming on the known columns; ties are all used (a code is predicted
    when at least half of the tied neighbours have it), so synthetic order doesn't matter.
    """
    hidden = ~known
    if not hidden.any() or len(targets) == 0 or len(synth) == 0:
        return float("nan")
    tk, sk = targets[:, known].astype(np.float32), synth[:, known].astype(np.float32)
    sh = synth[:, hidden].astype(np.float32)
    tp = fp = fn = 0.0
    for i in range(0, len(tk), 512):
        a = tk[i:i + 512]
        ham = a.sum(1)[:, None] + sk.sum(1)[None, :] - 2 * a @ sk.T
        ties = (ham == ham.min(1, keepdims=True)).astype(np.float32)
        pred = (ties @ sh) / ties.sum(1, keepdims=True) >= 0.5
        truth = targets[i:i + 512][:, hidden].astype(bool)
        tp += float((pred & truth).sum())
        fp += float((pred & ~truth).sum())
        fn += float((~pred & truth).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")


def known_columns(train: np.ndarray, share: float) -> np.ndarray:
    """The attacker knows the most prevalent `share` of the codes (by training prevalence)."""
    k = int(round(share * train.shape[1]))
    order = np.argsort(-train.mean(0), kind="mergesort")
    mask = np.zeros(train.shape[1], dtype=bool)
    mask[order[:k]] = True
    return mask


def privacy_report(train: np.ndarray, holdout: np.ndarray, synth: np.ndarray, max_copy_codes: int = 3,
                   known_share: float = 0.5, seed: int = 0) -> dict:
    out = {
        "exact_copies_of_train": exact_copies(synth, train),
        f"exact_copies_of_train_over_{max_copy_codes}_codes": exact_copies(synth, train, max_copy_codes),
        "exact_copies_of_holdout": exact_copies(synth, holdout),
        "synthetic_records": len(synth),
    }
    out["exact_copy_share"] = out["exact_copies_of_train"] / max(1, len(synth))
    out.update(membership(train, holdout, synth, seed))
    known = known_columns(train, known_share)
    out["attr_f1_train"] = attribute_inference(train, synth, known)
    out["attr_f1_holdout"] = attribute_inference(holdout, synth, known)
    out["attr_f1_gap"] = out["attr_f1_train"] - out["attr_f1_holdout"]
    out["attr_known_codes"] = int(known.sum())
    return out
