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

__version__ = "0.1.0"

from notesynth.config import SynthConfig  # noqa: E402
from notesynth.pipeline import NoteResult, Synthesizer  # noqa: E402

__all__ = ["Synthesizer", "SynthConfig", "NoteResult", "__version__"]
