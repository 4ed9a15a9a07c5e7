"""The two kinds of failure a `notesynth codes` user can act on, mapped to exit codes by the CLI.

Messages name files, line numbers, columns and counts, never the codes of a record.
"""
from __future__ import annotations


class CodesError(Exception):
    """Base class; `exit_code` is what the command line exits with."""

    exit_code = 1


class UsageError(CodesError):
    """Bad input or option: the user fixes the command or the file (exit code 2)."""

    exit_code = 2


class SetupError(CodesError):
    """Missing or corrupt model folder, unwritable output, absent device (exit code 4)."""

    exit_code = 4
