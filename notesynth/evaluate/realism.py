"""Realism: can a simple classifier tell synthetic notes from the real ones?

A classifier two-sample test. Real notes (label 0) and synthetic notes (label 1) become
TF-IDF vectors of word 1- and 2-grams; a logistic regression is trained and scored with
5-fold cross-validation, grouped by note id so that a real note and its synthetic
version(s) always fall in the same fold (otherwise the classifier could match a test note
to its near-copy in the training folds and the test would measure memorisation, not
style). The score is the ROC AUC of the pooled out-of-fold probabilities:

* about 0.5: the classifier cannot tell the sets apart (the synthetic notes read like
  the real ones, as far as word and word-pair use goes);
* about 1.0: every synthetic note is recognisable (a register, spelling or vocabulary
  the real notes do not have).

The vectoriser is fitted inside each fold on that fold's training notes only. Only
numbers leave this module, never text.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Iterable, Mapping

log = logging.getLogger(__name__)

DEFINITION = ("Classifier two-sample test: ROC AUC of a logistic regression on TF-IDF word 1-2-grams "
              "telling synthetic from original notes, 5-fold cross-validated with folds grouped by note id "
              "(pooled out-of-fold scores). 0.5: indistinguishable; 1.0: every synthetic note is recognisable.")


@dataclass(frozen=True)
class RealismResult:
    auc: float                     # pooled out-of-fold ROC AUC
    auc_folds: list[float] = field(default_factory=list)  # per fold (a fold with one class only is skipped)
    n_real: int = 0
    n_synthetic: int = 0
    n_groups: int = 0
    folds: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _as_pairs(notes: Mapping[str, str | Iterable[str]] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(group id, text) rows from {id: text}, {id: [texts]} or an iterable of (id, text)."""
    rows: list[tuple[str, str]] = []
    items = notes.items() if isinstance(notes, Mapping) else notes
    for key, value in items:
        if isinstance(value, str):
            rows.append((str(key), value))
        else:
            rows.extend((str(key), text) for text in value)
    return rows


def realism_auc(real: Mapping[str, str | Iterable[str]] | Iterable[tuple[str, str]],
                synthetic: Mapping[str, str | Iterable[str]] | Iterable[tuple[str, str]],
                folds: int = 5, seed: int = 0, ngram_max: int = 2, c: float = 1.0) -> RealismResult | None:
    """The classifier two-sample test of ``real`` against ``synthetic`` (see the module text).

    Both are keyed by note id ({id: text}, {id: [texts]} for several syntheses of a note,
    or (id, text) pairs); the id is the cross-validation group. Returns None when there
    are fewer than two groups or one side is empty."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    real_rows, syn_rows = _as_pairs(real), _as_pairs(synthetic)
    if not real_rows or not syn_rows:
        return None
    texts = [t for _, t in real_rows] + [t for _, t in syn_rows]
    labels = np.array([0] * len(real_rows) + [1] * len(syn_rows))
    group_ids = [g for g, _ in real_rows] + [g for g, _ in syn_rows]
    index = {g: n for n, g in enumerate(dict.fromkeys(group_ids))}
    groups = np.array([index[g] for g in group_ids])
    n_splits = min(folds, len(index))
    if n_splits < 2:
        return None
    # GroupKFold (shuffled, seeded) balances group sizes across folds
    try:
        splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    except TypeError:  # scikit-learn < 1.6 has no shuffling GroupKFold
        splitter = GroupKFold(n_splits=n_splits)
    scores = np.zeros(len(texts))
    per_fold: list[float] = []
    for train_idx, test_idx in splitter.split(texts, labels, groups):
        y_train = labels[train_idx]
        if len(set(y_train.tolist())) < 2:
            scores[test_idx] = 0.5
            continue
        vec = TfidfVectorizer(ngram_range=(1, ngram_max), lowercase=True, sublinear_tf=True, dtype=np.float32)
        x_train = vec.fit_transform([texts[i] for i in train_idx])
        x_test = vec.transform([texts[i] for i in test_idx])
        clf = LogisticRegression(C=c, max_iter=2000, random_state=seed)
        clf.fit(x_train, y_train)
        fold_scores = clf.predict_proba(x_test)[:, 1]
        scores[test_idx] = fold_scores
        y_test = labels[test_idx]
        if len(set(y_test.tolist())) == 2:
            per_fold.append(float(roc_auc_score(y_test, fold_scores)))
    auc = float(roc_auc_score(labels, scores))
    log.info("realism: AUC %.3f over %d real and %d synthetic notes (%d groups, %d folds)",
             auc, len(real_rows), len(syn_rows), len(index), n_splits)
    return RealismResult(auc=auc, auc_folds=per_fold, n_real=len(real_rows), n_synthetic=len(syn_rows),
                         n_groups=len(index), folds=n_splits)
