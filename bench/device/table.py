#!/usr/bin/env python3
"""Puts d2v's kernel times (KernelTimes --json) and PyTorch's (torch_blocks.py --json) side by side
as one Markdown table. A missing or empty torch file leaves its columns empty. d2v's times come as
"portable" (the portable kernels only) and "fast" (with the device's self-checked fast variants)
where KernelTimes ran both; attention also has PyTorch's bf16 SDPA with FlashAttention-2 and cuDNN.

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
    rows = {}
    for r in load(argv[1]):  # one entry per case, with its portable and fast timings
        e = rows.setdefault(r["name"], {"shape": r["shape"]})
        e[r.get("variant", "portable")] = r
    torch = {r["name"]: r for r in load(argv[2] if len(argv) > 2 else None)}
    lines = [
        "| case | shape | d2v portable ms | d2v fast ms | fast GB/s | fast TFLOP/s | torch eager ms | torch SDPA ms "
        "| flash bf16 ms | cuDNN bf16 ms | best torch fp32 / d2v fast |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, e in rows.items():
        t = torch.pop(name, {})
        p, f = e.get("portable"), e.get("fast")
        best_d2v = f or p
        best = min((v for v in (t.get("torch_ms"), t.get("sdpa_ms")) if v), default=None)
        ratio = f"{best / best_d2v['ms']:.3g}×" if best and best_d2v["ms"] > 0 else ""
        lines.append(f"| {name} | {e['shape']} | {fmt(p and p['ms'], 4)} | {fmt(f and f['ms'], 4)} | "
                     f"{fmt(best_d2v['gbs'] or None, 1)} | {fmt(best_d2v['tflops'] or None, 2)} | {fmt(t.get('torch_ms'), 4)} | "
                     f"{fmt(t.get('sdpa_ms'), 4)} | {fmt(t.get('flash_bf16_ms'), 4)} | {fmt(t.get('cudnn_bf16_ms'), 4)} | {ratio} |")
    for name, t in torch.items():  # torch-only rows (e.g. the TF32 matmul)
        lines.append(f"| {name} | | | | | | {fmt(t.get('torch_ms'), 4)} | {fmt(t.get('sdpa_ms'), 4)} | "
                     f"{fmt(t.get('flash_bf16_ms'), 4)} | {fmt(t.get('cudnn_bf16_ms'), 4)} | |")
    lines.append("")
    lines.append("best torch fp32 / d2v fast > 1: d2v is faster. Both fp32 (TF32 off except in matmul_tf32); the flash and "
                 "cuDNN columns are PyTorch's bf16 attention, the target for d2v's bf16 kernels; GB/s and TFLOP/s are d2v's "
                 "(fast where timed); times from CUDA events on a GPU, from the wall clock elsewhere.")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv)
