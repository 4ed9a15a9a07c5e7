"""Can a classifier tell real from synthetic records? Cross-validated AUC of a small MLP.

0.5: indistinguishable; 1.0: always told apart. An MLP (not a linear model) is used
because a linear model can't see co-occurrence: independent codes at the right
prevalences would fool it.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from notesynth.codes.stats import roc_auc, subsample


def discriminator_auc(real: np.ndarray, synth: np.ndarray, folds: int = 5, seed: int = 0, hidden: int = 64,
                      epochs: int = 200, lr: float = 3e-3, weight_decay: float = 1e-3,
                      max_per_class: int = 5000) -> tuple[float, list[float]]:
    """Mean held-out-fold AUC over stratified folds, classes balanced by subsampling."""
    rng = np.random.default_rng(seed)
    m = min(len(real), len(synth), max_per_class)
    if m < folds:
        return float("nan"), []
    x = np.concatenate([subsample(real, m, rng), subsample(synth, m, rng)]).astype(np.float32)
    y = np.concatenate([np.ones(m), np.zeros(m)]).astype(np.float32)
    fold_of = np.empty(2 * m, dtype=np.int64)
    for cls in (slice(0, m), slice(m, 2 * m)):  # stratified: each class spread evenly over folds
        fold_of[cls] = rng.permutation(m) % folds
    aucs = []
    for k in range(folds):
        test = fold_of == k
        scores = _fit_predict(x[~test], y[~test], x[test], seed + k, hidden, epochs, lr, weight_decay)
        aucs.append(roc_auc(scores, y[test]))
    return float(np.mean(aucs)), aucs


def _fit_predict(x_train, y_train, x_test, seed, hidden, epochs, lr, weight_decay) -> np.ndarray:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(x_train.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, 1))
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(epochs):  # full batch: deterministic, and fast at these sizes
        opt.zero_grad()
        loss_fn(net(xt).squeeze(1), yt).backward()
        opt.step()
    with torch.no_grad():
        return net(torch.from_numpy(x_test)).squeeze(1).numpy()
