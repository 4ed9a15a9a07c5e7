"""Draw synthetic records from a trained model, with a guard against copies of training records.

Sampling is EDM's deterministic Heun solver (Karras 2022, Algorithm 1): start from
Gaussian noise at sigma_max, integrate the probability-flow ODE down to 0, then clip to
[0, 1] and round. The only randomness is the starting noise, drawn from a seeded CPU
generator, so a seed gives the same records on any device up to float rounding.
"""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from notesynth.codes.data import Record, code_set_hash, from_matrix
from notesynth.codes.errors import UsageError
from notesynth.codes.folder import CodesModel
from notesynth.codes.model import EDM, resolve_device
from notesynth.codes.settings import SampleSettings

log = logging.getLogger("notesynth.codes")


@dataclass
class SampleResult:
    records: list[Record]
    requested: int
    redrawn: int  # refused copies replaced by a fresh draw
    dropped: int  # refused copies still copies after max_redraws rounds: not written
    empty: int  # written records without any code


def noise_levels(steps: int, sigma_min: float, sigma_max: float, rho: float) -> torch.Tensor:
    """EDM schedule: sigma_i = (max^(1/rho) + i/(N-1) (min^(1/rho) - max^(1/rho)))^rho, then 0."""
    i = torch.arange(steps, dtype=torch.float64)
    inv = 1.0 / rho
    sig = (sigma_max ** inv + i / max(steps - 1, 1) * (sigma_min ** inv - sigma_max ** inv)) ** rho
    return torch.cat([sig, torch.zeros(1, dtype=torch.float64)])


@torch.no_grad()
def heun(model: EDM, noise: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """Deterministic 2nd-order solve from noise*sigma_max to the data (EDM Algorithm 1)."""
    x = noise * float(sigmas[0])
    ones = torch.ones(x.shape[0], device=x.device)
    for s_cur, s_next in zip(sigmas[:-1].tolist(), sigmas[1:].tolist()):
        d = (x - model(x, ones * s_cur)) / s_cur
        x_next = x + (s_next - s_cur) * d
        if s_next > 0:
            d2 = (x_next - model(x_next, ones * s_next)) / s_next
            x_next = x + (s_next - s_cur) * 0.5 * (d + d2)
        x = x_next
    return x


def draw(model: EDM, n: int, gen: torch.Generator, s: SampleSettings, device: torch.device) -> np.ndarray:
    """n binary code vectors (uint8)."""
    sigmas = noise_levels(s.steps, s.sigma_min, s.sigma_max, s.rho)
    noise = torch.randn((n, model.net.layers[-1].out_features), generator=gen).to(device)
    x = heun(model, noise, sigmas).clamp(0.0, 1.0)
    return (x >= s.threshold).to(torch.uint8).cpu().numpy()


class CopyGuard:
    """Refuses code sets that equal a training record's and have more than k codes."""

    def __init__(self, salt: str, hashes: frozenset[str], vocab: list[str], max_copy_codes: int):
        self.salt, self.hashes, self.vocab, self.k = salt, hashes, vocab, max_copy_codes

    def refused(self, x: np.ndarray) -> np.ndarray:
        """Boolean mask over rows of a 0/1 matrix."""
        out = np.zeros(x.shape[0], dtype=bool)
        for i, row in enumerate(x):
            cols = np.flatnonzero(row)
            if len(cols) > self.k:
                out[i] = code_set_hash([self.vocab[j] for j in cols], self.salt) in self.hashes
        return out


def generate(cm: CodesModel, settings: SampleSettings | None = None) -> SampleResult:
    s = settings or SampleSettings()
    _check(s)
    device = resolve_device(s.device)
    model = cm.model.to(device).eval()
    guard = CopyGuard(cm.guard_salt, cm.guard_hashes, cm.vocab, s.max_copy_codes)
    gen = torch.Generator().manual_seed(s.seed)
    show = s.progress if s.progress is not None else sys.stderr.isatty()
    kept, redrawn, dropped = [], 0, 0
    with tqdm(total=s.n, desc="sampling", unit="rec", disable=not show, leave=False) as bar:
        for start in range(0, s.n, s.batch_size):
            x = draw(model, min(s.batch_size, s.n - start), gen, s, device)
            bad = guard.refused(x)
            for _ in range(s.max_redraws):
                if not bad.any():
                    break
                redrawn += int(bad.sum())
                x[bad] = draw(model, int(bad.sum()), gen, s, device)
                bad = guard.refused(x)
            dropped += int(bad.sum())
            kept.append(x[~bad])
            bar.update(len(x))
    x = np.concatenate(kept) if kept else np.zeros((0, len(cm.vocab)), dtype=np.uint8)
    records = from_matrix(x, cm.vocab, prefix=s.id_prefix)
    empty = int((x.sum(1) == 0).sum())
    log.info("sampled %d records: %d refused copies re-drawn, %d dropped after %d re-draw rounds, %d without codes",
             len(records), redrawn, dropped, s.max_redraws, empty)
    return SampleResult(records, s.n, redrawn, dropped, empty)


def _check(s: SampleSettings) -> None:
    if s.n < 1:
        raise UsageError("--n must be at least 1")
    if s.steps < 1 or s.batch_size < 1:
        raise UsageError("--steps and --batch-size must be at least 1")
    if s.max_copy_codes < 0 or s.max_redraws < 0:
        raise UsageError("--max-copy-codes and --max-redraws must be 0 or more")
    if not 0 < s.sigma_min < s.sigma_max:
        raise UsageError("need 0 < --sigma-min < --sigma-max")
