"""Write an evaluation to a folder: report.json, report.md (tables) and prevalence.png."""
from __future__ import annotations

from pathlib import Path

from notesynth.codes.evaluate import EvalResult
from notesynth.codes.files import atomic_write_figure, atomic_write_json, atomic_write_text

# (key, label, what good looks like)
FIDELITY_ROWS = [
    ("prevalence_r", "prevalence Pearson r", "1 (higher is better)"),
    ("nzc", "codes ever generated (NZC)", "close to the real records' count"),
    ("cooccurrence_r", "co-occurrence Pearson r", "1"),
    ("size_wasserstein", "record size Wasserstein-1 (codes)", "0"),
    ("size_tv", "record size total variation", "0"),
    ("size_mean_real", "mean codes per real record", ""),
    ("size_mean_synth", "mean codes per synthetic record", "close to the real mean"),
    ("discriminator_auc", "discriminator AUC (MLP, cross-validated)", "0.5"),
    ("mmd_jaccard", "MMD (Jaccard kernel)", "0"),
]
PRIVACY_ROWS = [
    ("exact_copies_of_train", "synthetic records equal to a training record", "low"),
    ("exact_copy_share", "share of synthetic records that copy a training record", "low"),
    ("exact_copies_of_holdout", "synthetic records equal to a held-out record (reference)", "about the train count"),
    ("membership_auc", "membership inference AUC (distance to closest synthetic)", "0.5"),
    ("membership_advantage", "membership advantage (2 AUC - 1)", "0"),
    ("dcr_train_closer_share", "synthetic records nearer a training than a held-out record", "0.5"),
    ("attr_f1_train", "attribute inference F1, training records", "close to held-out"),
    ("attr_f1_holdout", "attribute inference F1, held-out records", ""),
    ("attr_f1_gap", "attribute inference F1 gap (train - held-out)", "0"),
]


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def markdown(result: EvalResult) -> str:
    d = result.to_dict()
    lines = ["# notesynth codes evaluation", "", "## Counts", "", "| | |", "|---|---|"]
    lines += [f"| {k.replace('_', ' ')} | {_fmt(v)} |" for k, v in d["counts"].items()]
    lines += ["", "## Fidelity (synthetic vs held-out real records)", "", "| metric | value | ideal |", "|---|---|---|"]
    lines += [f"| {label} | {_fmt(d['fidelity'].get(key))} | {ideal} |" for key, label, ideal in FIDELITY_ROWS]
    lines += ["", "## Privacy", ""]
    if d["privacy"] is None:
        lines.append("Not measured: pass `--train` with the training records.")
    else:
        lines += ["| metric | value | ideal |", "|---|---|---|"]
        rows = list(PRIVACY_ROWS)
        over = [k for k in d["privacy"] if k.startswith("exact_copies_of_train_over_")]
        rows[1:1] = [(k, f"... with more than {k.split('_over_')[1].split('_')[0]} codes", "0 (the guard refuses them)") for k in over]
        lines += [f"| {label} | {_fmt(d['privacy'].get(key))} | {ideal} |" for key, label, ideal in rows]
    lines += ["", "![prevalence](prevalence.png)", ""]
    return "\n".join(lines)


def write_report(folder: str | Path, result: EvalResult) -> Path:
    folder = Path(folder)
    atomic_write_json(folder / "report.json", result.to_dict())
    atomic_write_text(folder / "report.md", markdown(result))
    atomic_write_figure(folder / "prevalence.png", prevalence_figure(result))
    return folder


def prevalence_figure(result: EvalResult):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # no pyplot: no global figure state, no GUI

    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.add_subplot()
    real, synth = result.real_prevalence, result.synth_prevalence
    top = float(max(real.max(initial=0), synth.max(initial=0), 1e-3)) * 1.05
    ax.plot([0, top], [0, top], color="grey", lw=1, ls="--")
    ax.scatter(real, synth, s=10, alpha=0.6)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("prevalence in held-out real records")
    ax.set_ylabel("prevalence in synthetic records")
    r = result.fidelity.get("prevalence_r")
    ax.set_title(f"one dot per code; Pearson r = {r:.3f}" if r == r else "one dot per code")
    return fig
