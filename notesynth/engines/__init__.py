"""The library face of the engines: ``notesynth.engines.ray.synthesize_dataset`` for teams that
plug notesynth into their own Ray pipeline.  The code lives in ``notesynth/batch/engines/``
(the engines are part of the batch step); this package only names it where users look."""
