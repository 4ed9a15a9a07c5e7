"""Logging set-up for the CLI: stderr, optional file, text or JSON lines.

Log records carry ids, counts, labels and scores only; no module of notesynth
puts note text into a log message.  A log file is created 0600, like every file
the tool writes.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

NOISY = ("presidio-analyzer", "presidio_analyzer", "transformers", "datasets", "filelock",
         "urllib3", "huggingface_hub", "spacy", "faker")
LOG_FORMATS = ("text", "json")


class LogSetupError(ValueError):
    """The log file or format can't be used; the message says why (a usage error)."""


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        })


class PrivateFileHandler(logging.FileHandler):
    """A FileHandler whose file is created (or brought to) mode 0600, whatever the umask."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)
            return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise


def open_log_file(log_file: str) -> logging.Handler:
    path = Path(log_file)
    if not path.parent.is_dir():
        raise LogSetupError(f"--log-file {log_file}: folder {path.parent} does not exist; create it or choose another file")
    if path.is_dir():
        raise LogSetupError(f"--log-file {log_file} is a folder; give a file name")
    try:
        return PrivateFileHandler(log_file, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        raise LogSetupError(f"--log-file {log_file} can't be written ({exc.strerror or type(exc).__name__})") from None


def setup(verbose: bool = False, quiet: bool = False, log_file: str | None = None, fmt: str = "text") -> None:
    if fmt not in LOG_FORMATS:
        raise LogSetupError(f"--log-format must be one of {', '.join(LOG_FORMATS)}")
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(open_log_file(log_file))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
        if isinstance(h, PrivateFileHandler):  # a file left open by an earlier command in this process
            h.close()
    for h in handlers:
        h.setFormatter(formatter)
        root.addHandler(h)
    root.setLevel(level)
    for name in list(logging.root.manager.loggerDict):  # a level left by an earlier command in this process
        if name == "notesynth" or name.startswith("notesynth."):
            logging.getLogger(name).setLevel(logging.NOTSET)
    for name in NOISY:  # third-party chatter only when debugging
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
