"""Step 1 of the flow: PHI detection (presidio + clinical rules on a local spaCy model)."""
from .detector import DetectorConfig, PhiDetector, shared_detector

__all__ = ["PhiDetector", "DetectorConfig", "shared_detector"]
