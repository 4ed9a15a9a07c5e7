"""How close synthetic code records are to held-out real ones, and what they leak.

Fidelity compares synthetic records with *held-out* real records (not the training
ones, which a copying model would match perfectly); privacy needs the training
records too. All metrics work on 0/1 matrices over the union of codes seen anywhere.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from notesynth.codes.data import Record, to_matrix
from notesynth.codes.discriminator import discriminator_auc
from notesynth.codes.errors import UsageError
from notesynth.codes.privacy import privacy_report
from notesynth.codes.settings import EvalSettings
from notesynth.codes.stats import finite, jaccard_similarity, pearson, subsample

log = logging.getLogger("notesynth.codes")


@dataclass
class EvalResult:
    counts: dict
    fidelity: dict
    privacy: Optional[dict]
    real_prevalence: np.ndarray = field(repr=False)
    synth_prevalence: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        clean = lambda d: {k: (finite(v) if isinstance(v, float) else v) for k, v in d.items()}  # noqa: E731
        return {"counts": self.counts, "fidelity": clean(self.fidelity),
                "privacy": clean(self.privacy) if self.privacy is not None else None}


# ---------------------------------------------------------------- fidelity metrics

def prevalence_r(real: np.ndarray, synth: np.ndarray) -> float:
    """Pearson r between the codes' shares of records (dimension-wise prevalence)."""
    return pearson(real.mean(0), synth.mean(0))


def nonzero_codes(x: np.ndarray) -> int:
    """NZC: codes present in at least one record."""
    return int((x.sum(0) > 0).sum())


def cooccurrence_r(real: np.ndarray, synth: np.ndarray) -> float:
    """Pearson r between the rates at which each pair of codes appears together."""
    iu = np.triu_indices(real.shape[1], k=1)
    c_real = (real.T.astype(np.float32) @ real.astype(np.float32)) / len(real)
    c_synth = (synth.T.astype(np.float32) @ synth.astype(np.float32)) / len(synth)
    return pearson(c_real[iu], c_synth[iu])


def size_distances(real: np.ndarray, synth: np.ndarray) -> dict:
    """Codes-per-record distributions: Wasserstein-1 (in codes) and total variation."""
    a, b = real.sum(1).astype(np.int64), synth.sum(1).astype(np.int64)
    top = int(max(a.max(initial=0), b.max(initial=0))) + 1
    pa = np.bincount(a, minlength=top) / max(len(a), 1)
    pb = np.bincount(b, minlength=top) / max(len(b), 1)
    return {"size_wasserstein": float(np.abs(np.cumsum(pa) - np.cumsum(pb)).sum()),
            "size_tv": float(0.5 * np.abs(pa - pb).sum()),
            "size_mean_real": float(a.mean()) if len(a) else math.nan,
            "size_mean_synth": float(b.mean()) if len(b) else math.nan}


def mmd_jaccard(real: np.ndarray, synth: np.ndarray) -> float:
    """Maximum mean discrepancy with the Jaccard (Tanimoto) kernel, biased estimate, sqrt.

    0 for identical samples; the kernel suits sparse sets better than an RBF on vectors.
    """
    k_rr = jaccard_similarity(real, real).mean()
    k_ss = jaccard_similarity(synth, synth).mean()
    k_rs = jaccard_similarity(real, synth).mean()
    return float(math.sqrt(max(0.0, k_rr + k_ss - 2 * k_rs)))


# ---------------------------------------------------------------- the whole evaluation

def evaluate(real: Sequence[Record], synthetic: Sequence[Record], train: Sequence[Record] | None = None,
             settings: EvalSettings | None = None) -> EvalResult:
    s = settings or EvalSettings()
    if not real:
        raise UsageError("no real records to compare with; give the held-out real records first")
    if not synthetic:
        raise UsageError("no synthetic records to evaluate")
    space = sorted({c for group in (real, synthetic, train or ()) for r in group for c in r.codes})
    xr, xs = to_matrix(real, space), to_matrix(synthetic, space)
    rng = np.random.default_rng(s.seed)
    counts = {"real_records": len(real), "synthetic_records": len(synthetic),
              "train_records": len(train) if train is not None else None, "codes_compared": len(space),
              "real_nonzero_codes": nonzero_codes(xr)}
    auc, fold_aucs = discriminator_auc(xr, xs, folds=s.folds, seed=s.seed, max_per_class=s.max_records)
    fidelity = {
        "prevalence_r": prevalence_r(xr, xs),
        "nzc": nonzero_codes(xs),
        "cooccurrence_r": cooccurrence_r(xr, xs),
        **size_distances(xr, xs),
        "discriminator_auc": auc,
        "discriminator_auc_fold_std": float(np.std(fold_aucs)) if fold_aucs else math.nan,
        "mmd_jaccard": mmd_jaccard(subsample(xr, s.max_records, rng), subsample(xs, s.max_records, rng)),
    }
    privacy = None
    if train is not None:
        xt = to_matrix(train, space)
        privacy = privacy_report(xt, xr, xs, s.max_copy_codes, s.known_share, s.seed)
    log.info("evaluated %d synthetic vs %d real records: prevalence r %.3f, discriminator AUC %.3f",
             len(synthetic), len(real), fidelity["prevalence_r"], auc)
    return EvalResult(counts, fidelity, privacy, xr.mean(0), xs.mean(0))
