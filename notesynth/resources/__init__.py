"""Word lists the product reads (built by scripts/, never at run time)."""
from __future__ import annotations

from importlib import resources


def word_list(name: str) -> frozenset[str]:
    """A resource of one word per line; lines starting with '#' are its header."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))
