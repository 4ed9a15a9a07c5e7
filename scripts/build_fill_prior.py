"""Write models/default/fill_prior.json: the word-end prior of one-piece fills (notesynth/infill/prior.py).

``notesynth train`` and ``adapt`` write the file themselves, from the text they train on.  The
shipped model was trained before the prior existed, so this dev tool rebuilds its training text
as its card's command read it: the same sources, keyed as typed there (the held-out split
depends on the key), the same 5% held out per source (seed 13), and the nursing notes of the
training patients (patient number not divisible by 5) repeated 20 times.  It reads
``../shared/data``; the product only reads the written file.

    .venv/bin/python scripts/build_fill_prior.py [--model models/default]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from notesynth.infill.prior import write_prior  # noqa: E402
from notesynth.train.data import split_documents  # noqa: E402

EVAL_SHARE, SEED, NURSING_REPEAT = 0.05, 13, 20


def _texts(path: Path) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows if r.get("text", "").strip()]


def training_text() -> list[str]:
    nursing = [json.loads(line) for line in (SHARED / "phi" / "physionet_nursing_dev.jsonl").open(encoding="utf-8")]
    nursing_train = [r["text"] for r in nursing if int(re.match(r"pn-(\d+)", r["id"]).group(1)) % 5 != 0]
    per_source = {
        "../shared/data/corpus/mtsamples.jsonl": _texts(SHARED / "corpus" / "mtsamples.jsonl"),
        "../shared/data/corpus/e3c_case_reports.jsonl": _texts(SHARED / "corpus" / "e3c_case_reports.jsonl"),
        "physionet_nursing_train.jsonl": nursing_train,
    }
    train_docs, _ = split_documents(per_source, EVAL_SHARE, SEED)
    own, _ = split_documents({"physionet_nursing_train.jsonl": nursing_train}, EVAL_SHARE, SEED)
    return train_docs + own * (NURSING_REPEAT - 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "models" / "default"))
    args = ap.parse_args()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model, local_files_only=True)
    texts = training_text()
    path = write_prior(args.model, texts, tokenizer)
    counts = json.loads(path.read_text())["counts"]
    print(f"{path}: {len(counts)} pieces from {len(texts)} training documents")
    for piece in ("con", "secret", "gen", "pro", "ex", "am", "pt"):
        if piece in counts:
            alone, first = counts[piece]
            print(f"  {piece:<8} whole word {alone:>8}  first piece of a longer word {first:>8}")


if __name__ == "__main__":
    main()
