"""The word-end prior of one-piece fills: how often a piece is a whole word in the model's text.

A masked word that is filled with one piece asks the model for the likeliest piece there, and a
masked LM's likeliest piece is often the first piece of a longer word: "con" where the notes write
"cont", "secret" for "secretions", "gen" for "gene", "pro", "ex".  Written as words, those
pieces are what gives a synthetic note away.  The probability that the word *ends* after the
piece is about the share of the piece's uses, in the model's own text, that are whole words:

    prior(piece) = log((alone + 1) / (alone + as_first_piece + 1))

added to the piece's logit at one-piece positions.  ``train`` and ``adapt`` write the counts
(``fill_prior.json``) from the text the model trained on; they are vocabulary pieces with two
numbers each, never text of a note.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Iterable

from notesynth.infill.folder_files import read_folder_json, write_folder_json
from notesynth.infill.model import word_texts

PRIOR_FILE = "fill_prior.json"
FORMAT = "notesynth-fill-prior/1"
_LETTERS = re.compile(r"[^\W\d_]+")


def count_word_starts(texts: Iterable[str], tokenizer) -> dict[str, list[int]]:
    """{piece: [uses as a whole word, uses as the first piece of a longer word]}, for the pieces
    that start some longer word (the others' prior is 0)."""
    words: Counter = Counter()
    for text in texts:
        words.update(w.lower() for w in _LETTERS.findall(text))
    if not words:
        return {}
    vocab = list(words)
    ids_of = tokenizer(word_texts(tokenizer, vocab), add_special_tokens=False)["input_ids"]
    alone: Counter = Counter()
    first: Counter = Counter()
    for word, ids in zip(vocab, ids_of):
        if not ids:
            continue
        (alone if len(ids) == 1 else first)[ids[0]] += words[word]
    pieces = tokenizer.convert_ids_to_tokens(sorted(first))
    return {piece: [alone[i], first[i]] for piece, i in zip(pieces, sorted(first))}


def write_prior(folder: str | Path, texts: Iterable[str], tokenizer) -> Path:
    """Count ``texts`` (the model's training text) and write ``fill_prior.json`` atomically."""
    return write_folder_json(folder, PRIOR_FILE, FORMAT, {"counts": count_word_starts(texts, tokenizer)})


def load_prior(folder: str | Path) -> dict[str, float] | None:
    """{piece: log share of whole-word uses} from a model folder; None without the file."""
    data = read_folder_json(folder, PRIOR_FILE, FORMAT)
    if data is None:
        return None
    return {piece: math.log((a + 1) / (a + f + 1)) for piece, (a, f) in data["counts"].items()}
