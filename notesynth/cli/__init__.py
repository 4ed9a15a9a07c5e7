"""The notesynth command line: thin commands over library functions.

Each module registers its commands: synth.py (synth, redact), inspect.py (detect, score),
evaluate.py (eval, sweep), train.py (train), export.py (export-onnx).  Shared options, logging and exit codes
live in common.py and notesynth/exits.py.
"""
from __future__ import annotations

import typer

from notesynth.cli import evaluate, export, inspect, synth, train

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Turn real clinical notes into synthetic notes that keep the medical content and carry no patient identity.",
)


@app.callback()
def _root() -> None:
    """notesynth: PHI detection, masking, iterative infilling and a privacy check before any write."""


for _module in (synth, inspect, evaluate, train, export):
    _module.register(app)


def _register_codes() -> None:
    """`notesynth codes train|sample|eval`: structured code records (notesynth/codes/)."""
    from notesynth.codes.cli import app as codes_app

    app.add_typer(codes_app, name="codes")


_register_codes()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
