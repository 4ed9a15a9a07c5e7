"""Synthetic patient code records with an EHRDiff-style diffusion model (`notesynth codes`).

    from notesynth.codes.data import read_records
    from notesynth.codes.train import train
    from notesynth.codes.folder import save_model, load_model
    from notesynth.codes.sample import generate
    from notesynth.codes.evaluate import evaluate

Modules: settings (all settings dataclasses), data (records, truncation, vocabulary),
model (denoiser + EDM), train, folder (model folder and card), sample (Heun sampler +
copy guard), evaluate / discriminator / privacy / stats (metrics), report (report
folder), cli (the typer sub-app), files (atomic writes), errors.
"""
