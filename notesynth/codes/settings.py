"""Every setting of `notesynth codes`, one dataclass per step.

Each field's default and `metadata["help"]` are the single source of the library default
and the CLI option's default and help. No torch here: `notesynth codes --help` stays quick.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

TRUNCATIONS = ("none", "icd9-3", "icd10-3")
FORMATS = ("jsonl", "csv", "tsv")


@dataclass
class RecordFormat:
    """How records are laid out on disk, for reading and for writing."""

    format: Optional[str] = field(default=None, metadata={"help": "jsonl, csv or tsv. Default: from the file name (.jsonl/.json, .csv, .tsv)."})
    id_field: str = field(default="id", metadata={"help": "JSONL field holding the record id."})
    codes_field: str = field(default="codes", metadata={"help": "JSONL field holding the list of codes."})
    id_column: str = field(default="record_id", metadata={"help": "CSV column holding the record id (one row per code), e.g. HADM_ID (MIMIC-III diagnoses_icd) or person_id (OMOP condition_occurrence)."})
    code_column: str = field(default="code", metadata={"help": "CSV column holding the code, e.g. ICD9_CODE (MIMIC-III), icd_code (MIMIC-IV) or condition_concept_id (OMOP)."})


@dataclass
class ModelSettings:
    outer: int = field(default=0, metadata={"help": "Width of the first and last hidden layer. 0: by the vocabulary-size rule (1024 at ~1,800 codes)."})
    inner: int = field(default=0, metadata={"help": "Width of the three middle layers. 0: by the vocabulary-size rule (384 at ~1,800 codes)."})
    time_dim: int = field(default=0, metadata={"help": "Width of the time (noise-level) embedding. 0: half the outer width."})
    head: int = field(default=32, metadata={"help": "Width of the per-code head joining each code's own noisy value to the MLP's output (not in EHRDiff; 0: the plain EHRDiff MLP)."})
    sigma_data: float = field(default=0.14, metadata={"help": "EDM sigma_data: the data's standard deviation the preconditioning assumes (EHRDiff: 0.14)."})


@dataclass
class TrainSettings:
    steps: int = field(default=0, metadata={"help": "Optimizer steps (the cosine schedule spans them). 0: about 1,500 passes over the records, at most 5,000 steps (small data sets overfit with more)."})
    batch_size: int = field(default=256, metadata={"help": "Records per step."})
    learning_rate: float = field(default=3e-4, metadata={"help": "AdamW peak learning rate."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    warmup_share: float = field(default=0.05, metadata={"help": "Share of the steps spent warming the learning rate up from 0."})
    ema_decay: float = field(default=0.999, metadata={"help": "EMA decay of the weights kept for sampling (ramped up over the first steps)."})
    p_mean: float = field(default=-1.2, metadata={"help": "Mean of ln(sigma) drawn in training (EDM P_mean)."})
    p_std: float = field(default=1.2, metadata={"help": "Std of ln(sigma) drawn in training (EDM P_std)."})
    min_code_count: int = field(default=1, metadata={"help": "Codes in fewer training records are left out of the vocabulary (raise it to drop rare, identifying codes)."})
    truncate: str = field(default="none", metadata={"help": "Code truncation: none, icd9-3 (ICD-9 to 3 characters, E codes to 4) or icd10-3."})
    seed: int = field(default=0, metadata={"help": "Random seed: same seed, data, steps and device give the same model."})
    max_minutes: Optional[float] = field(default=None, metadata={"help": "Stop after this many minutes even if the steps are not done (the stop step is then clock-dependent)."})
    device: str = field(default="cpu", metadata={"help": "cpu, cuda or auto."})
    log_every: int = field(default=100, metadata={"help": "Steps per logged (averaged) loss value."})
    progress: Optional[bool] = field(default=None, metadata={"help": "Progress bar; default: when stderr is a terminal."})


@dataclass
class SampleSettings:
    n: int = field(default=1000, metadata={"help": "Synthetic records to write."})
    seed: int = field(default=0, metadata={"help": "Random seed: same model, seed and settings give the same records."})
    steps: int = field(default=32, metadata={"help": "Heun solver steps (EDM: 32 work well; 2 network calls each)."})
    sigma_max: float = field(default=80.0, metadata={"help": "Starting noise level."})
    sigma_min: float = field(default=0.002, metadata={"help": "Last noise level before 0."})
    rho: float = field(default=7.0, metadata={"help": "Step spacing exponent (EDM rho): larger puts more steps at low noise."})
    threshold: float = field(default=0.5, metadata={"help": "A code is present when its denoised value reaches this."})
    batch_size: int = field(default=1024, metadata={"help": "Records per solver batch (results depend on it with the seed)."})
    max_copy_codes: int = field(default=3, metadata={"help": "A synthetic record with more codes than this that exactly equals a training record is refused."})
    max_redraws: int = field(default=10, metadata={"help": "Rounds of re-drawing refused records before they are dropped."})
    device: str = field(default="cpu", metadata={"help": "cpu, cuda or auto."})
    id_prefix: str = field(default="synth-", metadata={"help": "Synthetic record ids are this prefix and a 6-digit number."})
    progress: Optional[bool] = field(default=None, metadata={"help": "Progress bar; default: when stderr is a terminal."})


@dataclass
class EvalSettings:
    seed: int = field(default=0, metadata={"help": "Seed for subsamples, folds and the discriminator."})
    folds: int = field(default=5, metadata={"help": "Cross-validation folds of the real-vs-synthetic discriminator."})
    max_records: int = field(default=5000, metadata={"help": "Records per side used by the discriminator and MMD (random subsample above it)."})
    max_copy_codes: int = field(default=3, metadata={"help": "Exact copies are also counted among records with more than this many codes (the sampling guard's k)."})
    known_share: float = field(default=0.5, metadata={"help": "Attribute inference: share of codes (the most prevalent) the attacker knows for a record."})
    truncate: str = field(default="none", metadata={"help": "Truncation applied to the real records (use the model's: none, icd9-3, icd10-3)."})
