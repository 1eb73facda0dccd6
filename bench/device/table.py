#!/usr/bin/env python3
"""Puts d2v's kernel times (KernelTimes --json) and PyTorch's (torch_blocks.py --json) side by side
as one Markdown table. A missing or empty torch file leaves its columns empty.

usage: table.py D2V_JSONL [TORCH_JSONL]
"""
import json
import os
import sys


def load(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def fmt(value, digits):
    return "" if value is None else f"{value:.{digits}f}"


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    d2v = load(argv[1])
    torch = {r["name"]: r for r in load(argv[2] if len(argv) > 2 else None)}
    lines = [
        "| case | shape | d2v ms | d2v GB/s | d2v TFLOP/s | torch eager ms | torch SDPA ms | best torch / d2v |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in d2v:
        t = torch.pop(r["name"], {})
        best = min((v for v in (t.get("torch_ms"), t.get("sdpa_ms")) if v), default=None)
        ratio = f"{best / r['ms']:.3g}×" if best and r["ms"] > 0 else ""
        lines.append(f"| {r['name']} | {r['shape']} | {r['ms']:.4f} | {fmt(r['gbs'] or None, 1)} | "
                     f"{fmt(r['tflops'] or None, 2)} | {fmt(t.get('torch_ms'), 4)} | {fmt(t.get('sdpa_ms'), 4)} | {ratio} |")
    for name, t in torch.items():  # torch-only rows (e.g. the TF32 matmul)
        lines.append(f"| {name} | | | | | {fmt(t.get('torch_ms'), 4)} | {fmt(t.get('sdpa_ms'), 4)} | |")
    lines.append("")
    lines.append("best torch / d2v > 1: d2v is faster. Both fp32 (TF32 off except in matmul_tf32); "
                 "times from CUDA events on a GPU, from the wall clock elsewhere.")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv)
