"""One frozen dataclass of settings, readable from a TOML file and CLI flags."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(ValueError):
    """A setting is unknown or out of range; the message says which and what is allowed."""


def default_model_path() -> str:
    """The model that ships with the project (models/default beside the package)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "models" / "default", here.parent / "models" / "default"):
        if (candidate / "config.json").exists():
            return str(candidate)
    return str(here.parent / "models" / "default")


@dataclass(frozen=True)
class SynthConfig:
    model: str = ""                 # local HF folder or hub id; "" = the shipped default
    mask_ratio: float = 0.3         # share of non-PHI words re-generated
    seed: int = 0
    device: str = "cpu"             # cpu | cuda | auto
    batch_size: int = 8             # windows per forward pass
    passes: int = 4                 # iterative infilling passes
    strategy: str = "confidence"    # confidence (mask-predict) | left-to-right
    temperature: float = 1.0
    top_k: int = 40
    top_p: float = 0.95
    window: int = 256               # tokens per model window (long notes use overlapping windows)
    max_pieces_per_word: int = 1   # 1: each masked word becomes one whole in-vocabulary word
    phi_threshold: float | None = None  # detector score threshold (None: the detector's benchmarked default)
    max_risk: float = 0.5           # notes scoring above are re-synthesized or held back
    retries: int = 2
    retry_ratio_step: float = 0.15  # each retry raises mask_ratio by this much
    on_fail: str = "hold"           # hold | error
    fail_on_residual_phi: bool = True
    name_fuzz: int = 90             # rapidfuzz ratio at which a name part of the original counts as leaked
    run_scale: int = 40             # verbatim run (words) that alone gives the run term its full weight
    memorization_threshold: float = 0.8  # MinHash similarity to a training document that fails a note
    check_overlap: bool = True      # off for redaction, where all non-PHI text is kept by design
    max_note_chars: int = 1_000_000

    def validate(self) -> "SynthConfig":
        checks = [
            (0.0 <= self.mask_ratio <= 1.0, "mask_ratio must be between 0 and 1"),
            (self.device in ("cpu", "cuda", "auto"), "device must be cpu, cuda or auto"),
            (self.batch_size >= 1, "batch_size must be at least 1"),
            (1 <= self.passes <= 50, "passes must be between 1 and 50"),
            (self.strategy in ("confidence", "left-to-right"), "strategy must be confidence or left-to-right"),
            (self.temperature > 0, "temperature must be above 0"),
            (self.top_k >= 0, "top_k must be 0 (off) or more"),
            (0 < self.top_p <= 1, "top_p must be in (0, 1]"),
            (32 <= self.window <= 4096, "window must be between 32 and 4096 tokens"),
            (1 <= self.max_pieces_per_word <= 16, "max_pieces_per_word must be between 1 and 16"),
            (self.phi_threshold is None or 0 <= self.phi_threshold <= 1, "phi_threshold must be between 0 and 1"),
            (0 <= self.max_risk <= 1, "max_risk must be between 0 and 1"),
            (50 <= self.name_fuzz <= 100, "name_fuzz must be between 50 and 100"),
            (self.run_scale >= 1, "run_scale must be at least 1"),
            (0 < self.memorization_threshold <= 1, "memorization_threshold must be in (0, 1]"),
            (0 <= self.retries <= 20, "retries must be between 0 and 20"),
            (0 <= self.retry_ratio_step <= 1, "retry_ratio_step must be between 0 and 1"),
            (self.on_fail in ("hold", "error"), "on_fail must be hold or error"),
            (self.max_note_chars > 0, "max_note_chars must be positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        return self

    def resolved_model(self) -> str:
        return self.model or default_model_path()

    def fingerprint(self) -> str:
        """Hash of the settings that change the output (for resume)."""
        data = dataclasses.asdict(self)
        data["model"] = self.resolved_model()
        data["model_files"] = _model_identity(data["model"])
        data.pop("device")
        data.pop("batch_size")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _model_identity(model: str) -> str:
    """Config contents and weight sizes of a local model folder: a retrained model redoes notes."""
    folder = Path(model)
    if not folder.is_dir():
        return model
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix in (".json", ".safetensors", ".bin", ".txt"):
            h.update(p.name.encode())
            h.update(str(p.stat().st_size).encode())
            if p.name == "config.json":
                h.update(p.read_bytes())
    return h.hexdigest()[:16]


def load_toml(path: str | Path) -> dict:
    """Settings from a TOML file (top level or a [notesynth] table); unknown keys are errors."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    data = data.get("notesynth", data)
    known = {f.name for f in fields(SynthConfig)}
    unknown = sorted(set(k.replace("-", "_") for k in data) - known)
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return {k.replace("-", "_"): v for k, v in data.items()}


def build_config(file_values: dict | None = None, **overrides) -> SynthConfig:
    """File values first, then explicit (non-None) overrides such as CLI flags."""
    values = dict(file_values or {})
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        cfg = SynthConfig(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None
    types = {f.name: f.type for f in fields(SynthConfig)}
    for name, value in values.items():
        expected = {"float": (int, float), "int": (int,), "str": (str,), "bool": (bool,)}.get(str(types[name]))
        if expected and (not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected)):
            raise ConfigError(f"setting {name} has the wrong type ({type(value).__name__}); expected {types[name]}")
    return cfg.validate()
