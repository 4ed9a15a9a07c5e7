"""Step 4 of the flow: fill the masked words with a masked language model (see loop.py)."""
from notesynth.infill.loop import FillJob, Infiller, InfillSettings
from notesynth.infill.model import ModelLoadError, load_model, resolve_device

__all__ = ["FillJob", "Infiller", "InfillSettings", "ModelLoadError", "load_model", "resolve_device"]
