"""The model folder: everything `codes sample` needs, and a card a reviewer can read.

    model.safetensors  EMA weights
    vocab.json         the code vocabulary (codes seen in >= min_code_count training records)
    settings.json      architecture, training settings, format version
    metrics.json       training counts and loss curve
    guard.json         salted hashes of the training records' code sets (copy guard; no codes)
    README.md          model card: counts only, never the codes of a record
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from notesynth.codes.errors import SetupError
from notesynth.codes.files import atomic_write_bytes, atomic_write_json, atomic_write_text
from notesynth.codes.model import EDM, model_from_arch, settings_dict
from notesynth.codes.train import TrainResult
from notesynth.codes.train import settings_dict as train_settings_dict

log = logging.getLogger("notesynth.codes")

FORMAT_VERSION = 1
FILES = ("model.safetensors", "vocab.json", "settings.json", "metrics.json", "guard.json", "README.md")


@dataclass
class CodesModel:
    model: EDM
    vocab: list[str]
    settings: dict
    metrics: dict
    guard_salt: str
    guard_hashes: frozenset[str]

    @property
    def truncate(self) -> str:
        return self.settings["train"]["truncate"]


def has_model(folder: str | Path) -> bool:
    return any((Path(folder) / name).exists() for name in FILES[:5])


def save_model(folder: str | Path, result: TrainResult) -> Path:
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SetupError(f"cannot create {folder}: {exc.strerror}; choose a writable --out") from exc
    tensors = {k: v.detach().cpu().contiguous() for k, v in result.model.state_dict().items()}
    atomic_write_bytes(folder / "model.safetensors", save_safetensors(tensors, metadata={"format": "notesynth-codes"}))
    atomic_write_json(folder / "vocab.json", {"codes": result.vocab})
    settings = {"format_version": FORMAT_VERSION, "arch": result.arch,
                "train": train_settings_dict(result.settings), "model": settings_dict(result.model_settings)}
    atomic_write_json(folder / "settings.json", settings)
    atomic_write_json(folder / "metrics.json", result.metrics)
    atomic_write_json(folder / "guard.json", {"salt": result.guard_salt, "hashes": result.guard_hashes})
    atomic_write_text(folder / "README.md", model_card(result.metrics, settings))
    log.info("model written to %s", folder)
    return folder


def load_model(folder: str | Path) -> CodesModel:
    folder = Path(folder)
    if not folder.is_dir():
        raise SetupError(f"model folder {folder} not found; train one with `notesynth codes train RECORDS --out {folder}`")
    missing = [name for name in FILES[:5] if not (folder / name).is_file()]
    if missing:
        raise SetupError(f"model folder {folder} lacks {', '.join(missing)}; it is not a complete `codes train` output, train again")
    try:
        settings = json.loads((folder / "settings.json").read_text())
        vocab = json.loads((folder / "vocab.json").read_text())["codes"]
        metrics = json.loads((folder / "metrics.json").read_text())
        guard = json.loads((folder / "guard.json").read_text())
        if settings.get("format_version") != FORMAT_VERSION:
            raise ValueError("format version")
        model = model_from_arch(settings["arch"])
        state = load_safetensors((folder / "model.safetensors").read_bytes())
        model.load_state_dict(state)
        if settings["arch"]["vocab_size"] != len(vocab):
            raise ValueError("vocabulary size")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise SetupError(f"model folder {folder} is unreadable or corrupt ({type(exc).__name__}); train it again") from None
    model.eval()
    return CodesModel(model, list(vocab), settings, metrics, guard["salt"], frozenset(guard["hashes"]))


def model_card(metrics: dict, settings: dict) -> str:
    """Counts and settings only: no code of any record appears here."""
    arch, tr = settings["arch"], settings["train"]
    curve = metrics.get("loss_curve") or [{"loss": float("nan")}]
    return f"""# notesynth codes model (EHRDiff-style diffusion over code sets)

Generates synthetic patient records as sets of codes. Trained by `notesynth codes train`;
sample with `notesynth codes sample THIS_FOLDER --n 1000 --out synthetic.jsonl`.

## Training data (counts only)

| | |
|---|---|
| records | {metrics['records']} |
| codes in the vocabulary | {metrics['vocab_size']} (codes in >= {tr['min_code_count']} records) |
| mean codes per record | {metrics['mean_codes_per_record']:.2f} |
| code truncation | {tr['truncate']} |
| distinct code sets guarded against copying | {metrics.get('guarded_sets', 'see guard.json')} |

## Model and training

| | |
|---|---|
| denoiser | MLP {arch['vocab_size']}-{arch['outer']}-{arch['inner']}-{arch['inner']}-{arch['inner']}-{arch['outer']}-{arch['vocab_size']}, time embedding {arch['time_dim']}, per-code head {arch.get('head', 0) or 'none (plain EHRDiff MLP)'} |
| parameters | {metrics['parameters']:,} |
| preconditioning | EDM (Karras 2022), sigma_data {arch['sigma_data']} |
| steps | {metrics['steps_done']} of {metrics['steps_planned']} (stopped by {metrics['stopped_by']}) in {metrics['minutes']:.2f} min on {metrics['device']} |
| optimiser | AdamW, learning rate {tr['learning_rate']}, batch {tr['batch_size']}, cosine schedule with {tr['warmup_share']:.0%} warm-up, EMA {tr['ema_decay']} |
| seed | {tr['seed']} |
| loss at fixed noise | {metrics['fixed_loss_initial']:.4f} before, {metrics['fixed_loss_final_ema']:.4f} after (EMA weights) |
| last logged training loss | {curve[-1]['loss']:.4f} |

## Privacy

- The vocabulary (vocab.json) lists every code seen in at least {tr['min_code_count']} training record(s); a
  code seen in one record tells that some patient had it. Raise `--min-code-count` to drop rare codes.
- guard.json holds salted SHA-256 hashes of the training records' code sets, so `codes sample`
  can refuse exact copies without storing codes. Small sets (a few codes) can still be found by
  trying every combination of vocabulary codes with the salt: share this folder only with those
  who may see the training data's statistics.
- Exact copies with more than `--max-copy-codes` codes are re-drawn, then dropped, at sampling.
  This does not guarantee privacy: evaluate with `notesynth codes eval ... --train`.
"""
