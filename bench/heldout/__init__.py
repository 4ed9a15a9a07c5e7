"""Held-out PHI benchmark helpers: patient split, held-out value sources (see sources.py)."""
