"""PHI detection: presidio + clinical rules on a local spaCy model."""
from .detector import DetectorConfig, PhiDetector

__all__ = ["PhiDetector", "DetectorConfig"]
