"""Evaluation and sweep reports: metrics.json, per-note JSONL, report.md and plots (ids and numbers only)."""
from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Iterable

from notesynth.evaluate.metrics import DEFINITIONS, is_numeric
from notesynth.evaluate.realism import DEFINITION as REALISM_DEFINITION


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _matplotlib():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


HISTOGRAMS = ("rougeL", "bertscore_f1", "words_changed", "medical_kept", "risk", "phi_survival")


def write_report(folder: str | Path, metrics: dict, per_note: list[dict], title: str = "notesynth evaluation") -> dict:
    """Write ``metrics.json``, ``per_note.jsonl``, ``report.md`` and histogram PNGs into ``folder``.

    ``metrics`` is what ``summarise`` returns, optionally with more sections
    (e.g. ``privacy`` from ``privacy_summary``, ``diversity``, ``settings``).
    Returns the paths written, by kind.
    """
    from notesynth.batch.files import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True, default=_json_default) + "\n")
    atomic_write_text(folder / "per_note.jsonl",
                      "".join(json.dumps(r, sort_keys=True, default=_json_default) + "\n" for r in per_note))
    plots = []
    plt = _matplotlib()
    for key in HISTOGRAMS:
        values = [float(r[key]) for r in per_note if is_numeric(r.get(key))]
        if not values:
            continue
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.hist(values, bins=min(20, max(5, len(values) // 2)), color="#4878a8", edgecolor="white")
        ax.set_xlabel(key)
        ax.set_ylabel("notes")
        ax.set_title(f"{key} (n={len(values)}, mean {statistics.fmean(values):.3f})", fontsize=10)
        fig.tight_layout()
        name = f"hist_{key}.png"
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        plots.append(name)

    lines = [f"# {title}", ""]
    lines.append(f"Notes evaluated: {metrics.get('n_notes', len(per_note))}.")
    if metrics.get("status_counts"):
        lines.append("Statuses: " + ", ".join(f"{k} {v}" for k, v in metrics["status_counts"].items()) + ".")
    for key, value in sorted(metrics.get("settings", {}).items()):
        lines.append(f"- {key}: `{value}`")
    lines += ["", "## Per-note metrics", "", "| metric | mean | median | min | max | n |", "|---|---|---|---|---|---|"]
    for key, s in metrics.get("metrics", {}).items():
        lines.append(f"| {key} | {_fmt(s['mean'])} | {_fmt(s['median'])} | {_fmt(s['min'])} | {_fmt(s['max'])} | {s['n']} |")
    for section in ("diversity", "privacy", "realism"):
        if metrics.get(section):
            lines += ["", f"## {section.capitalize()}", "", "| metric | value |", "|---|---|"]
            for key, value in metrics[section].items():
                if isinstance(value, list):
                    value = ", ".join(_fmt(v) for v in value)
                lines.append(f"| {key} | {_fmt(value)} |")
            if section == "realism":
                lines += ["", f"Realism AUC: {REALISM_DEFINITION}"]
    if plots:
        lines += ["", "## Distributions", ""]
        lines += [f"![{p[5:-4]}]({p})" for p in plots]
    used = set(metrics.get("metrics", {})) | set(metrics.get("diversity", {}) or {}) | set(metrics.get("privacy", {}) or {})
    lines += _definitions(used)
    atomic_write_text(folder / "report.md", "\n".join(lines) + "\n")
    return {"metrics": str(folder / "metrics.json"), "report": str(folder / "report.md"),
            "per_note": str(folder / "per_note.jsonl"), "plots": [str(folder / p) for p in plots]}


def _definitions(used: Iterable[str]) -> list[str]:
    used = set(used)
    lines = ["", "## Definitions", ""]
    for key, text in DEFINITIONS.items():
        if key in used:
            lines.append(f"- **{key}**: {text}")
    return lines


def _json_default(value):
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


# ---------------------------------------------------------------- sweep report

SWEEP_COLUMNS = ("strategy", "mask_ratio", "n_notes", "written", "held_share", "mean_risk", "max_risk",
                 "rouge1", "rougeL", "bertscore_f1", "medical_kept", "length_ratio", "words_changed",
                 "self_bleu", "distinct_1", "distinct_2", "realism_auc", "phi_survival", "fre_synthetic", "fkgl_synthetic",
                 "mean_attempts", "seconds_per_note")


def write_sweep_report(folder: str | Path, rows: list[dict], meta: dict | None = None) -> dict:
    """Write a sweep's ``metrics.json``, ``report.md`` (one row per setting) and ``sweep.png``.

    Each row holds ``strategy``, ``mask_ratio`` and the setting's mean metrics.
    ``sweep.png`` plots, against the mask ratio and one curve per strategy,
    fidelity (ROUGE-L), diversity (self-BLEU, words changed) and privacy (mean
    risk, held share), plus the fidelity/diversity trade-off.
    """
    from notesynth.batch.files import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    atomic_write_text(folder / "metrics.json",
                      json.dumps({"settings": rows, **meta}, indent=2, sort_keys=True, default=_json_default) + "\n")

    plt = _matplotlib()
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    panels = [("rougeL", "fidelity: ROUGE-L F1"), ("self_bleu", "diversity: self-BLEU (0-100)"),
              ("words_changed", "diversity: words changed"), ("mean_risk", "privacy: mean risk"),
              ("held_share", "privacy: held-back share")]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for ax, (key, label) in zip(axes.flat, panels):
        for s in strategies:
            pts = sorted((r["mask_ratio"], r[key]) for r in rows if r["strategy"] == s and is_numeric(r.get(key)))
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=s)
        ax.set_xlabel("mask ratio")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    ax = axes.flat[-1]
    for s in strategies:
        pts = sorted((r["words_changed"], r["rougeL"], r["mask_ratio"]) for r in rows
                     if r["strategy"] == s and is_numeric(r.get("words_changed")) and is_numeric(r.get("rougeL")))
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=s)
            for x, y, ratio in pts:
                ax.annotate(f"{ratio:g}", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("words changed (diversity from the source)")
    ax.set_ylabel("ROUGE-L F1 (fidelity)")
    ax.set_title("trade-off (labels: mask ratio)", fontsize=10)
    ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper center", ncol=len(labels))
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(folder / "sweep.png", dpi=110)
    plt.close(fig)

    cols = [c for c in SWEEP_COLUMNS if any(r.get(c) is not None for r in rows)]
    lines = ["# notesynth sweep", ""]
    for key, value in sorted(meta.get("config", {}).items()):
        lines.append(f"- {key}: `{value}`")
    if meta.get("originals"):
        lines.append("- originals' readability (means): " +
                     ", ".join(f"{k} {_fmt(v, 2)}" for k, v in meta["originals"].items()))
    lines += ["", "One row per setting; metrics are means over the written syntheses (k per note), "
              "risk and held share over all notes and seeds.", "",
              "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    lines += ["", "![sweep](sweep.png)"]
    defs = dict(DEFINITIONS)
    defs.update({
        "mask_ratio": "Share of non-PHI words masked and re-generated (SynthConfig.mask_ratio; retries raise it).",
        "written": "Syntheses that passed the privacy check (all notes x k seeds).",
        "seconds_per_note": "Wall-clock synthesis time per note and seed.",
        "mean_attempts": "Mean synthesis attempts per (note, seed): above 1 means privacy retries, each at a "
                         "higher mask ratio than the setting's.",
        "fre_synthetic": DEFINITIONS["fre_synthetic"], "fkgl_synthetic": DEFINITIONS["fkgl_synthetic"],
        "realism_auc": REALISM_DEFINITION + " Over the setting's written syntheses (k per note, grouped by note).",
    })
    lines += ["", "## Definitions", ""]
    lines += [f"- **{c}**: {defs[c]}" for c in cols if c in defs]
    lines.append("- Held-back share and mean risk are over the final result of each (note, seed); "
                 "a note's retries (higher mask ratio) are part of its result.")
    atomic_write_text(folder / "report.md", "\n".join(lines) + "\n")
    return {"metrics": str(folder / "metrics.json"), "report": str(folder / "report.md"),
            "plots": [str(folder / "sweep.png")]}
