"""``synthesize_dataset(ds, config) -> ray.data.Dataset`` and its options (see
``notesynth/batch/engines/ray.py``, where they are defined)."""
from notesynth.batch.engines.ray import RESULT_COLUMNS, RayOptions, connect, synthesize_dataset

__all__ = ["RESULT_COLUMNS", "RayOptions", "connect", "synthesize_dataset"]
