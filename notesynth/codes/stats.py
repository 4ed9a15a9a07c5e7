"""Small numeric helpers shared by the evaluation modules (numpy only)."""
from __future__ import annotations

import math

import numpy as np


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r; nan when either side is constant (r is undefined there)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return math.nan
    a, b = a - a.mean(), b - b.mean()
    return float(np.clip((a @ b) / math.sqrt((a @ a) * (b @ b)), -1.0, 1.0))


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula; ties count half."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = average_ranks(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing their mean rank."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    ranks = np.empty(len(x), dtype=np.float64)
    start = 0
    for end in range(1, len(x) + 1):
        if end == len(x) or sorted_x[end] != sorted_x[start]:
            ranks[order[start:end]] = (start + end + 1) / 2  # mean of ranks start+1 .. end
            start = end
    return ranks


def jaccard_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|A and B| / |A or B| between rows of two 0/1 matrices; two empty sets count as identical."""
    a = a.astype(np.float32, copy=False)
    b = b.astype(np.float32, copy=False)
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return sim


def nearest(a: np.ndarray, b: np.ndarray, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """For each row of a: Jaccard distance to its closest row of b, and that row's index."""
    dist = np.empty(len(a), dtype=np.float64)
    idx = np.empty(len(a), dtype=np.int64)
    for i in range(0, len(a), chunk):
        sim = jaccard_similarity(a[i:i + chunk], b)
        idx[i:i + chunk] = sim.argmax(1)
        dist[i:i + chunk] = 1.0 - sim.max(1)
    return dist, idx


def subsample(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if len(x) <= n:
        return x
    return x[np.sort(rng.choice(len(x), n, replace=False))]


def finite(value: float) -> float | None:
    """JSON-safe: nan/inf become None."""
    return None if value is None or not math.isfinite(value) else float(value)
