"""One frozen dataclass of settings, readable from a TOML file and CLI flags."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from dataclasses import dataclass, field, fields
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


def _setting(default, help: str):
    """A SynthConfig field whose help text is the one place its meaning is written."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class SynthConfig:
    model: str = _setting("", "Masked LM: a local Hugging Face folder or a hub id; empty = the model shipped in models/default.")
    mask_ratio: float = _setting(0.2, "Share of non-PHI words re-generated (0-1), besides unknown words (always); "
                                      "retries raise it. 0.2 with the fill calibration reads as real as the site's "
                                      "notes allow within the privacy bars (bench/realism.py --grid mask_ratio=...).")
    seed: int = _setting(0, "Random seed: same seed and input give byte-identical output.")
    device: str = _setting("cpu", "cpu, cuda or auto.")
    backend: str = _setting("auto", "Fill backend: onnx (int8 ONNX Runtime on the CPU; needs `notesynth export-onnx MODEL`), "
                                    "torch, or auto (onnx on the CPU when the model folder has model.int8.onnx, else torch).")
    batch_size: int = _setting(8, "Notes per batch (and windows per forward pass).")
    passes: int = _setting(2, "Infilling passes (iterative refinement); 2 reads as real as 4 on nursing notes and is 1.3x faster (bench/realism.py --grid passes=2,4).")
    strategy: str = _setting("confidence", "confidence (most confident first, mask-predict) or left-to-right.")
    remask: float = _setting(0.0, "Mask-predict re-masking (strategy confidence): share of the committed fills that each "
                                  "later pass but the last re-scores and re-masks, the least likely given everything "
                                  "committed so far first, to predict them again (0: off).")
    temperature: float = _setting(1.0, "Sampling temperature.")
    top_k: int = _setting(40, "Sample among the k most likely word-pieces (0: off).")
    top_p: float = _setting(0.95, "Nucleus sampling mass.")
    window: int = _setting(512, "Tokens per model window, capped by the model's positions (longer notes use "
                                "overlapping windows): one window holds a whole ICU nursing note, 1.5x faster than 256 "
                                "with the same realism (bench/realism.py --grid window=...).")
    max_pieces_per_word: int = _setting(1, "Word-pieces the model may write per masked word (up to the original's "
                                           "count); 1: a whole in-vocabulary word, which avoids half-words and rare "
                                           "(identifying) tokens.")
    fill_prior: bool = _setting(True, "Weigh each one-piece fill by how often the model's own text writes it as a "
                                      "whole word (the model folder's fill_prior.json): no first pieces of longer "
                                      "words written as words (\"con\" for \"cont\", \"gen\" for \"gene\").")
    fill_calibration: bool = _setting(True, "Weigh each one-piece fill so that, over the model's own training notes, "
                                            "fills write each word about as often as the masks took it away (the model "
                                            "folder's fill_calibration.json): fewer over-used words (\"given\", "
                                            "\"remains\") that give a synthetic note away.")
    new_words_only: bool = _setting(False, "Never fill a masked word with itself, so every masked word changes: fewer "
                                           "retries and held notes, faster, but the notes read less like the site's "
                                           "(realism AUC 0.95 against 0.89 on nursing notes).")
    phi_threshold: float | None = _setting(None, "PHI detector score threshold (none: the detector's benchmarked default).")
    phi_tagger: bool = _setting(True, "Add the learned PHI taggers (models/phi-tagger and phi-tagger-2) to the rule detector on the "
                                      "original note: on held-out names and date formats, 3x fewer gold PHI spans "
                                      "survive; it takes the place of spaCy's NER, at about the same detection "
                                      "speed (false: rules and spaCy's NER).")
    max_risk: float = _setting(0.5, "Notes with a higher re-identification risk are retried, then held back.")
    retries: int = _setting(2, "Re-syntheses before a note is held back: a new seed, a higher mask ratio, the kept "
                               "words where the check failed re-generated, and after an overlap failure masks "
                               "spread over the whole note.")
    retry_ratio_step: float = _setting(0.15, "Each retry raises mask_ratio by this much.")
    on_fail: str = _setting("hold", "hold (record and go on) or error (count as an error).")
    fail_on_residual_phi: bool = _setting(True, "PHI the detector finds in the output that the pipeline did not place fails the note.")
    name_fuzz: int = _setting(90, "rapidfuzz ratio at which a name part of the original counts as leaked.")
    run_scale: int = _setting(40, "Verbatim run (words) that alone gives the run term its full weight.")
    memorization_threshold: float = _setting(0.8, "MinHash similarity to a training document that fails a note.")
    mask_unknown_words: bool = _setting(True, "Always re-generate words that are neither ordinary English or clinical "
                                              "words, nor medical terms, nor short abbreviations (privacy by "
                                              "construction: names no detector finds do not survive).")
    check_overlap: bool = _setting(True, "Score source overlap (off for redaction, where all non-PHI text is kept by design).")
    count_kept_facts: bool = _setting(False, "Count the medical facts kept verbatim by design (measures, lab values, medical "
                                             "terms, headers: protect.py) in the source-overlap score; off, the overlap "
                                             "is that of the words synth could have re-generated, so a kept list of "
                                             "diagnoses or a lab panel does not hold a note that was re-written around "
                                             "it. On: stricter, more notes held.")
    max_note_chars: int = _setting(1_000_000, "Longer notes are reported as errors.")

    def validate(self) -> "SynthConfig":
        self._check_types()
        checks = [
            (0.0 <= self.mask_ratio <= 1.0, "mask_ratio must be between 0 and 1"),
            (self.device in ("cpu", "cuda", "auto"), "device must be cpu, cuda or auto"),
            (self.batch_size >= 1, "batch_size must be at least 1"),
            (1 <= self.passes <= 50, "passes must be between 1 and 50"),
            (self.strategy in ("confidence", "left-to-right"), "strategy must be confidence or left-to-right"),
            (self.backend in ("auto", "torch", "onnx"), "backend must be auto, torch or onnx"),
            (0 <= self.remask <= 1, "remask must be between 0 and 1"),
            (self.remask == 0 or self.strategy == "confidence", "remask needs strategy confidence"),
            (self.temperature >= MIN_TEMPERATURE, f"temperature must be at least {MIN_TEMPERATURE} (and finite)"),
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

    def _check_types(self) -> None:
        """Each setting has its declared type (an int is a float; a bool is neither), and every
        number is finite: a wrong type is a ConfigError naming the setting, never a TypeError."""
        for f in fields(self):
            value = getattr(self, f.name)
            names = [t.strip() for t in str(f.type).split("|")]
            if value is None and "None" in names:
                continue
            kinds = tuple(k for t in names if t in _TYPES for k in _TYPES[t])
            if not kinds:
                continue
            ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
            if not ok:
                expected = " or ".join(n for n in names if n != "None") + (" (or none)" if "None" in names else "")
                raise ConfigError(f"setting {f.name} must be {expected}, not {type(value).__name__}")
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"setting {f.name} must be a finite number")

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


_TYPES = {"float": (int, float), "int": (int,), "str": (str,), "bool": (bool,)}
MIN_TEMPERATURE = 0.01   # below it, logits / temperature overflow


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
    if "notesynth" in data:
        others = sorted(k for k in data if k != "notesynth")
        if others:
            raise ConfigError(f"config file {path}: unknown table(s) or key(s) beside [notesynth]: {', '.join(others)}; "
                              "put every setting in the [notesynth] table")
        data = data["notesynth"]
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path}: notesynth must be a table")
    known = {f.name for f in fields(SynthConfig)}
    unknown = sorted(set(k.replace("-", "_") for k in data) - known)
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return {k.replace("-", "_"): v for k, v in data.items()}


def build_config(file_values: dict | None = None, **overrides) -> SynthConfig:
    """File values first, then explicit (non-None) overrides such as CLI flags."""
    values = dict(file_values or {})
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(SynthConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return SynthConfig(**values).validate()  # validate() checks every type and range


def option_help(name: str) -> str:
    """The help of a setting with its default, for the CLI and the README table."""
    f = next(f for f in fields(SynthConfig) if f.name == name)
    default = "none" if f.default is None else ("the shipped model" if name == "model" else f.default)
    return f"{f.metadata['help']} Default: {default}."
