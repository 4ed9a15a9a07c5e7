"""Drawing word-pieces from the model's scores, batched and reproducible.

Probabilities are rounded to 1/SCALE before anything is chosen and top-k breaks ties by
token id (``rev`` ranks the smaller id higher), so a draw depends on the row's scores and
its uniform only: not on the batch, the chunking, the device or the backend's last bits.
"""
from __future__ import annotations

import torch

SCALE = 10_000          # probabilities are rounded to 1/SCALE before top-k, top-p and the draw
SAMPLE_CHUNK = 256      # rows per sampling step (bounds memory: rows x vocabulary)


def scaled(logits: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Temperature-scaled logits and their log-normaliser: probability = exp(x - lse)."""
    x = logits.float()
    if temperature != 1.0:
        x = x / temperature
    return x, torch.logsumexp(x, dim=1, keepdim=True)


def sample_rows(logits, rev, columns_cpu, u, *, n_logits: int, temperature: float, top_k: int,
                top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One draw per row among the allowed columns: probabilities rounded to 1/SCALE,
    top-k in canonical order (larger rounded probability, then smaller token id),
    top-p over that order, then the row's uniform picks by cumulative weight."""
    n_cols = logits.shape[1]
    k = min(top_k or n_cols, n_cols)
    wide = min(n_cols, k + 24)   # candidates by raw logit: enough unless rounding ties run past them
    limit = round(top_p * SCALE)
    tokens, confs = [], []
    for a in range(0, len(logits), SAMPLE_CHUNK):
        x, lse = scaled(logits[a:a + SAMPLE_CHUNK], temperature)
        top = torch.topk(x, wide, dim=1)
        counts = torch.round(torch.exp(top.values - lse) * SCALE)
        key = counts.to(rev.dtype) * n_logits + rev[top.indices]
        order = torch.topk(key, k, dim=1).indices
        index, cnt = top.indices.gather(1, order), counts.gather(1, order)
        # counts fall with the logit, so the k largest are among the candidates; the order is
        # exact unless a tie at the k-th count may reach past them, or every count rounds to 0
        exact = (counts[:, 0] > 0) & ((counts[:, wide - 1] < counts[:, k - 1]) | (counts[:, k - 1] == 0)
                                      | torch.tensor(wide == n_cols, device=x.device))
        if not bool(exact.all()):
            redo = (~exact).nonzero().squeeze(1)
            full = torch.round(torch.exp(x[redo] - lse[redo]) * SCALE)
            order = torch.topk(full.to(rev.dtype) * n_logits + rev, k, dim=1).indices
            index[redo], cnt[redo] = order, full.gather(1, order)
        index, cnt = index.cpu(), cnt.double().cpu()
        before = torch.cumsum(cnt, dim=1) - cnt
        keep = before < limit
        keep[:, 0] = True
        weight = cnt * keep
        total = weight.sum(dim=1)
        flat = total <= 0   # every kept piece rounds to 0: draw uniformly among them
        if bool(flat.any()):
            weight[flat] = keep[flat].double()
            total = weight.sum(dim=1)
        target = u[a:a + SAMPLE_CHUNK] * total
        choice = (torch.cumsum(weight, dim=1) <= target.unsqueeze(1)).sum(dim=1).clamp(max=k - 1)
        picked = index.gather(1, choice.unsqueeze(1)).squeeze(1)
        tokens.append(columns_cpu[picked])
        confs.append(cnt.gather(1, choice.unsqueeze(1)).squeeze(1) / SCALE)
    return torch.cat(tokens), torch.cat(confs)


def score_rows(logits, current, *, temperature: float) -> torch.Tensor:
    """Rounded probability of each row's committed piece, given its (visible) context."""
    out = []
    for a in range(0, len(logits), SAMPLE_CHUNK):
        x, lse = scaled(logits[a:a + SAMPLE_CHUNK], temperature)
        picked = x.gather(1, current[a:a + SAMPLE_CHUNK].to(x.device).unsqueeze(1))
        out.append(torch.round(torch.exp(picked - lse) * SCALE).squeeze(1).double().cpu() / SCALE)
    return torch.cat(out)
