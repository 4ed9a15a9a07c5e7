"""Memorisation check: is a synthetic note a near-copy of a training document?

At training time every training document gets a MinHash signature of its word
5-grams (datasketch); the signatures ship beside the model as
``memorization_index.npz``.  At run time a note's signature is compared with all
of them (a vectorised equality count estimates Jaccard similarity); ten
thousand documents take well under a millisecond, so no LSH banding is needed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

INDEX_FILE = "memorization_index.npz"
NUM_PERM = 64
SHINGLE = 5
SEED = 1


def shingles(text: str, n: int = SHINGLE) -> list[bytes]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < n:
        return [" ".join(words).encode()] if words else []
    return [" ".join(words[i:i + n]).encode() for i in range(len(words) - n + 1)]


def signature(text: str, num_perm: int = NUM_PERM) -> np.ndarray | None:
    from datasketch import MinHash

    grams = shingles(text)
    if not grams:
        return None
    mh = MinHash(num_perm=num_perm, seed=SEED)
    mh.update_batch(grams)
    return mh.hashvalues.astype(np.uint32)


@dataclass
class MemorizationIndex:
    signatures: np.ndarray  # [n_docs, num_perm] uint32

    def nearest(self, text: str) -> float:
        """Estimated Jaccard similarity (word 5-grams) to the closest training document."""
        sig = signature(text, self.signatures.shape[1])
        if sig is None or not len(self.signatures):
            return 0.0
        return float((self.signatures == sig).mean(axis=1).max())

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / INDEX_FILE
        np.savez_compressed(path, signatures=self.signatures, num_perm=self.signatures.shape[1], shingle=SHINGLE)
        return path

    @classmethod
    def build(cls, texts: list[str], num_perm: int = NUM_PERM) -> "MemorizationIndex":
        sigs = [s for s in (signature(t, num_perm) for t in texts) if s is not None]
        return cls(np.stack(sigs) if sigs else np.zeros((0, num_perm), dtype=np.uint32))

    @classmethod
    def load(cls, folder: str | Path) -> "MemorizationIndex | None":
        path = Path(folder) / INDEX_FILE
        if not path.exists():
            return None
        with np.load(path) as data:
            return cls(data["signatures"])
