"""`export-onnx`: write a model's int8 ONNX graph: the fast CPU backend of the fill model or the PHI tagger."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from notesynth.cli.common import fail, setup_logging
from notesynth.exits import ExitCode


def export_onnx(
    model: str = typer.Argument(..., help="Local model folder (Hugging Face layout) to export: a masked LM "
                                            "(e.g. models/default) or the PHI tagger (models/phi-tagger)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write it. Default: MODEL/model.int8.onnx, "
                                                            "where `synth --backend auto` finds it."),
    per_channel: bool = typer.Option(True, "--per-channel/--per-tensor",
                                     help="int8 scale per output channel (closer to fp32) or one per matrix."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Export a model to ONNX with int8 weights (dynamic quantization).

    For a masked LM, `synth` then fills on the CPU with ONNX Runtime (`--backend onnx`,
    or `auto`, the default, when the file is in the model folder). For the PHI tagger
    (a token classifier), detection uses the file whenever it is there and matches the
    weights. The word embeddings (and a masked LM's vocabulary head) stay in the
    model's own weights, so the file is small. Re-run it after retraining: a file
    exported from other weights is refused.
    """
    setup_logging(verbose, False)
    from notesynth.infill.model import ModelLoadError
    from notesynth.infill.onnx import export_onnx
    from notesynth.onnx_int8 import OnnxUnavailable
    from notesynth.phi.tagger import TaggerUnavailable
    from notesynth.phi.tagger.onnx import export_tagger_onnx, is_token_classifier

    tagger = is_token_classifier(model)
    export = export_tagger_onnx if tagger else export_onnx
    try:
        result = export(model, out, per_channel=per_channel)
    except (ModelLoadError, TaggerUnavailable, OnnxUnavailable) as exc:
        fail(str(exc), ExitCode.SETUP)
    except OSError as exc:
        fail(f"could not write the ONNX file: {exc.strerror or exc}", ExitCode.SETUP)
    typer.echo(f"wrote {result.path} ({result.bytes / 1e6:.1f} MB) in {result.seconds:.0f}s; "
               f"int8 vs fp32 {'tag probabilities' if tagger else 'hidden states'} on a probe "
               f"sentence: max |difference| {result.max_abs_diff:.3f}")


def register(app: typer.Typer) -> None:
    app.command("export-onnx")(export_onnx)
