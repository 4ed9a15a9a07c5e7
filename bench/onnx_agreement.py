"""How often the int8 ONNX encoder and the fp32 torch model pick the same top-1 word-piece.

Held-out text: ICU nursing notes of the patients models/default never trained on
(physionet_nursing_dev.jsonl, every 5th patient: realism.is_heldout_patient).  Each note's first window (up to 254 word-pieces) gets 15% of its positions masked
(fixed seed); each backend scores them with its own head (fp32 in torch; the onnx backend's
vocabulary product is int8).  Reports
agreement over the whole vocabulary, over the word-pieces a fill may write (what the fill
samples from), and how often fp32's top-1 is in int8's top-5, plus the speed of each
encoder on these windows.

    .venv/bin/python bench/onnx_agreement.py [--limit 200] [--model models/default]
"""
from __future__ import annotations

import argparse
import time

import torch
from _common import SHARED, load_jsonl
from realism import is_heldout_patient

from notesynth.infill import Infiller, InfillSettings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(SHARED / "phi" / "physionet_nursing_dev.jsonl"))
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--model", default="")
    ap.add_argument("--mask", type=float, default=0.15)
    args = ap.parse_args()

    from notesynth.config import SynthConfig

    model = args.model or SynthConfig().resolved_model()
    fp32 = Infiller(model, "cpu", InfillSettings(backend="torch"))
    int8 = Infiller(model, "cpu", InfillSettings(backend="onnx"))
    tok = fp32.tokenizer
    allowed = fp32._kinds["whole"][0]  # the word-pieces a one-piece fill may write
    gen = torch.Generator().manual_seed(0)
    same = same_allowed = in_top5 = total = 0
    seconds = {"torch": 0.0, "onnx": 0.0}
    rows = [r for r in load_jsonl(args.data) if is_heldout_patient(r["id"])][: args.limit]
    for row in rows:
        ids = tok(row["text"], add_special_tokens=False)["input_ids"][:254]
        ids = [tok.cls_token_id] + ids + [tok.sep_token_id]
        input_ids = torch.tensor([ids])
        select = torch.rand(input_ids.shape, generator=gen) < args.mask
        select[0, 0] = select[0, -1] = False
        if not bool(select.any()):
            continue
        input_ids[select] = tok.mask_token_id
        attention = torch.ones_like(input_ids)
        out = {}
        with torch.no_grad():
            for name, inf in (("torch", fp32), ("onnx", int8)):
                t = time.perf_counter()
                hidden = inf.backend.hidden(input_ids, attention, select)
                seconds[name] += time.perf_counter() - t
                out[name] = (inf.backend.head(hidden), inf.backend.head(hidden, allowed))
        (full_a, allowed_a), (full_b, allowed_b) = out["torch"], out["onnx"]
        same += int((full_a.argmax(1) == full_b.argmax(1)).sum())
        same_allowed += int((allowed_a.argmax(1) == allowed_b.argmax(1)).sum())
        in_top5 += int((full_b.topk(5, dim=1).indices == full_a.argmax(1, keepdim=True)).any(1).sum())
        total += len(full_a)
    print(f"model: {model}  notes: {len(rows)}  masked positions: {total}  torch threads: {torch.get_num_threads()}")
    print(f"top-1 agreement, int8 ONNX vs fp32 torch: {same / total:.2%} (whole vocabulary), "
          f"{same_allowed / total:.2%} (word-pieces a fill may write)")
    print(f"fp32 top-1 within int8 top-5: {in_top5 / total:.2%}")
    print(f"encoder seconds on these windows: torch {seconds['torch']:.1f}, onnx {seconds['onnx']:.1f} "
          f"({seconds['torch'] / max(seconds['onnx'], 1e-9):.2f}x)")


if __name__ == "__main__":
    main()
