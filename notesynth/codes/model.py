"""The EHRDiff denoiser: an MLP over the code vector, wrapped in EDM preconditioning.

Karras et al. 2022 (EDM) scale the network's input and output by the noise level so
that one network works from sigma=80 (pure noise) down to sigma~0.002 (the data);
EHRDiff (Yuan et al. 2023) uses it with a time-conditioned MLP for binary code vectors.
"""
from __future__ import annotations

import math
from dataclasses import asdict

import torch
from torch import nn

from notesynth.codes.errors import SetupError
from notesynth.codes.settings import ModelSettings

# Widths EHRDiff uses for ~1,800 codes; smaller vocabularies scale them down (see `widths`).
REFERENCE_VOCAB, REFERENCE_OUTER, REFERENCE_INNER = 1782, 1024, 384


def widths(vocab_size: int, settings: ModelSettings | None = None) -> tuple[int, int, int]:
    """(outer, inner, time) widths for a vocabulary.

    Rule: scale EHRDiff's 1024/384 by vocab_size/1782, round to a multiple of 64 (outer)
    or 32 (inner), and keep them within [256, 1024] and [128, 384]. The floor keeps
    small vocabularies (Synthea's 195 codes) from a needlessly thin network; the cap keeps
    large ones (10k ICD codes) at EHRDiff's size. Time embedding: outer / 2.
    """
    s = settings or ModelSettings()
    scale = vocab_size / REFERENCE_VOCAB
    outer = s.outer or min(REFERENCE_OUTER, max(256, 64 * round(REFERENCE_OUTER * scale / 64)))
    inner = s.inner or min(REFERENCE_INNER, max(128, 32 * round(REFERENCE_INNER * scale / 32)))
    time_dim = s.time_dim or max(32, outer // 2)
    return outer, inner, time_dim


def sinusoidal(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sin/cos features of a scalar at geometrically spaced frequencies 1 ... 1/10000."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / max(half - 1, 1))
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


class Denoiser(nn.Module):
    """MLP V -> outer -> inner -> inner -> inner -> outer -> V, plus an optional per-code head.

    Each block adds a projection of the time embedding to its input, then ReLU and a
    Linear, so every layer knows the noise level (EHRDiff). The per-code head (not in
    EHRDiff) combines, for each code j, the MLP's output h_j with the code's own noisy
    value x_j through a small MLP shared by all codes. By Bayes, the clean value's log-odds
    are a context term from the other codes plus an evidence term (x_j - 1/2) / sigma^2
    from x_j alone. An MLP with a bottleneck narrower than the vocabulary can't carry every
    x_j through to its own output, and an additive time signal can't give the evidence its
    noise-dependent slope, so the head's first layer is scaled by the time embedding (FiLM).
    Without the head, the sampled values stay between 0 and 1 and rare codes are averaged away.
    """

    def __init__(self, vocab_size: int, outer: int, inner: int, time_dim: int, head: int = 0):
        super().__init__()
        dims = [vocab_size, outer, inner, inner, inner, outer, vocab_size]
        self.time_dim = time_dim
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.time_proj = nn.ModuleList(nn.Linear(time_dim, d) for d in dims[:-1])
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.head = head
        if head:
            self.head_in = nn.Linear(2, head)
            self.head_scale = nn.Linear(time_dim, head)  # slope by noise level, starts at 1
            nn.init.zeros_(self.head_scale.weight)
            nn.init.zeros_(self.head_scale.bias)
            self.head_time = nn.Linear(time_dim, head)
            self.head_out = nn.Linear(head, 1)

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        temb = self.time_mlp(sinusoidal(noise, self.time_dim))
        h = x
        for proj, layer in zip(self.time_proj, self.layers):
            h = layer(torch.relu(h + proj(temb)))
        if not self.head:
            return h
        # relu((W [h_j, x_j] + b) * (1 + scale(t)) + shift(t)), folded into per-sample
        # coefficients so the (batch, codes, head) tensor is built in two fused passes
        scale = 1 + self.head_scale(temb)  # (batch, head)
        a = (self.head_in.weight[:, 0] * scale)[:, None, :]
        b = (self.head_in.weight[:, 1] * scale)[:, None, :]
        c = (self.head_in.bias * scale + self.head_time(temb))[:, None, :]
        z = torch.relu(torch.addcmul(torch.addcmul(c, h[:, :, None], a), x[:, :, None], b))
        return h + self.head_out(z).squeeze(-1)


class EDM(nn.Module):
    """D(x; sigma) = c_skip x + c_out F(c_in x, c_noise): the denoised estimate of x."""

    def __init__(self, net: Denoiser, sigma_data: float = 0.14):
        super().__init__()
        self.net = net
        self.sigma_data = float(sigma_data)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        sd = self.sigma_data
        sigma = sigma.reshape(-1, 1).to(x.dtype)
        c_skip = sd ** 2 / (sigma ** 2 + sd ** 2)
        c_out = sigma * sd / (sigma ** 2 + sd ** 2).sqrt()
        c_in = 1.0 / (sigma ** 2 + sd ** 2).sqrt()
        c_noise = sigma.log().flatten() / 4
        return c_skip * x + c_out * self.net(c_in * x, c_noise)


def build_model(vocab_size: int, settings: ModelSettings | None = None) -> tuple[EDM, dict]:
    """The model and the architecture dict the model folder stores to rebuild it."""
    s = settings or ModelSettings()
    outer, inner, time_dim = widths(vocab_size, s)
    arch = {"vocab_size": vocab_size, "outer": outer, "inner": inner, "time_dim": time_dim, "head": s.head,
            "sigma_data": s.sigma_data}
    return model_from_arch(arch), arch


def model_from_arch(arch: dict) -> EDM:
    return EDM(Denoiser(arch["vocab_size"], arch["outer"], arch["inner"], arch["time_dim"], arch.get("head", 0)),
               arch["sigma_data"])


def edm_loss(model: EDM, x0: torch.Tensor, generator: torch.Generator, p_mean: float = -1.2, p_std: float = 1.2) -> torch.Tensor:
    """EDM training loss: ln sigma ~ N(p_mean, p_std^2), weight (s^2+sd^2)/(s sd)^2.

    Noise is drawn on the CPU generator and moved, so a seed gives the same draws on any device.
    """
    n = x0.shape[0]
    ln_sigma = torch.randn(n, generator=generator) * p_std + p_mean
    noise = torch.randn(x0.shape, generator=generator)
    sigma = ln_sigma.exp().to(x0.device)
    noise = noise.to(x0.device)
    return weighted_loss(model, x0, sigma, noise)


def weighted_loss(model: EDM, x0: torch.Tensor, sigma: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    sd = model.sigma_data
    denoised = model(x0 + noise * sigma[:, None], sigma)
    weight = (sigma ** 2 + sd ** 2) / (sigma * sd) ** 2
    return (weight[:, None] * (denoised - x0) ** 2).mean()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def resolve_device(name: str) -> torch.device:
    """cpu, cuda or auto (cuda when there is one)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise SetupError("--device cuda: no CUDA device is visible to torch; use --device cpu or auto")
        return torch.device(name)
    from notesynth.codes.errors import UsageError

    raise UsageError(f"unknown device {name!r}; use cpu, cuda or auto")


def settings_dict(settings: ModelSettings) -> dict:
    return asdict(settings)
