"""Logging set-up for the CLI: stderr, optional file, text or JSON lines.

Log records carry ids, counts, labels and scores only; no module of notesynth
puts note text into a log message.
"""
from __future__ import annotations

import json
import logging
import sys
import time

NOISY = ("presidio-analyzer", "presidio_analyzer", "transformers", "datasets", "filelock",
         "urllib3", "huggingface_hub", "spacy", "faker")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        })


def setup(verbose: bool = False, quiet: bool = False, log_file: str | None = None, fmt: str = "text") -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        h.setFormatter(formatter)
        root.addHandler(h)
    root.setLevel(level)
    for name in list(logging.root.manager.loggerDict):  # a level left by an earlier command in this process
        if name == "notesynth" or name.startswith("notesynth."):
            logging.getLogger(name).setLevel(logging.NOTSET)
    for name in NOISY:  # third-party chatter only when debugging
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
