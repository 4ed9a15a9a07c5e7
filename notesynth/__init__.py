"""notesynth: synthetic clinical notes that keep the medical content and carry no patient identity.

    from notesynth import Synthesizer, SynthConfig
    result = Synthesizer(SynthConfig(seed=1)).synthesize(text, note_id="n1")
"""
import os as _os

# Never phone home: no telemetry, and no hub look-ups unless a hub model is named
# (load_model passes local_files_only for local folders).
_os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
_os.environ.setdefault("DO_NOT_TRACK", "1")
_os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Same seed, same text, whatever the thread split: MKL's strict reproducibility mode makes
# its matrix products bitwise identical for any number of threads, so `--workers 2` (one
# thread each) writes what `--workers 1` (two threads) writes. Must be set before MKL's
# first call; a user who sets MKL_CBWR themselves keeps their choice.
_os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

__version__ = "0.1.0"

__all__ = ["Synthesizer", "SynthConfig", "NoteResult", "__version__"]


def __getattr__(name: str):
    """Import the heavy parts (torch, presidio) on first use, so `notesynth --help` is quick."""
    if name == "SynthConfig":
        from notesynth.config import SynthConfig
        return SynthConfig
    if name in ("Synthesizer", "NoteResult"):
        from notesynth import pipeline
        return getattr(pipeline, name)
    raise AttributeError(f"module 'notesynth' has no attribute {name!r}")
