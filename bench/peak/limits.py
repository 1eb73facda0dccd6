#!/usr/bin/env python3
"""This machine's own limits, to read a profile against: the fp32 FMA peak (fma_peak.c, built with
gcc -march=native), the GEMM rate a tuned library reaches (torch.mm, else numpy's BLAS) at the
shapes of a big square GEMM and of the demo models' Linear layers, and copy bandwidth. Each rate is
given per wall second and per core-second: per second of CPU time the process got, summed over its
threads (time.process_time). On a shared, oversubscribed machine the first is what this run got,
the second what a core does while it runs this (spin-waiting threads count as busy).

  python3 bench/peak/limits.py [--out bench/results/machine-limits.md]
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        name = next((l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("model name")), platform.processor())
        flags = next((l.split(":", 1)[1].split() for l in text.splitlines() if l.startswith("flags")), [])
        wide = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
        return f"{name}, {os.cpu_count()} CPUs, {' '.join(wide)}"
    except OSError:
        return platform.processor()


def fma_peak(threads):
    gcc = shutil.which("gcc")
    if not gcc:
        return None
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "fma_peak")
        subprocess.run([gcc, "-O3", "-march=native", "-pthread", os.path.join(HERE, "fma_peak.c"), "-o", exe], check=True)
        out = subprocess.run([exe, str(threads), "2"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def timed(fn, seconds=1.5):
    """(calls per wall second, calls per CPU second of this process) of fn, after one warm-up call."""
    fn()
    n, w0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - w0 < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - w0), n / max(time.process_time() - c0, 1e-9)


def gemm_rows(threads):
    rows = []
    try:
        import torch
        torch.set_num_threads(threads)
        lib = f"torch {torch.__version__} (torch.mm)"

        def case(m, n, k):
            a, b = torch.randn(m, k), torch.randn(k, n)
            return lambda: torch.mm(a, b)
    except ImportError:
        try:
            import numpy as np
        except ImportError:
            return rows  # neither torch nor numpy: no library GEMM to measure
        lib = "numpy " + np.__version__ + " (BLAS; threads as the library sets them)"

        def case(m, n, k):
            a, b = np.random.rand(m, k).astype(np.float32), np.random.rand(k, n).astype(np.float32)
            return lambda: a @ b
    # (m, n, k): a big square GEMM, then image-demo's fc1 / qkv over the teacher's 32x17 rows and
    # image-tiny's fc1 over the student's 16x4x13 rows.
    for m, n, k, what in ((1024, 1024, 1024, "square 1024"), (544, 384, 96, "image-demo fc1 (teacher rows)"),
                          (544, 288, 96, "image-demo qkv (teacher rows)"), (832, 512, 128, "image-tiny fc1 (student rows)")):
        wall, cpu = timed(case(m, n, k))
        f = 2.0 * m * n * k
        rows.append((f"GEMM {what} {m}x{n}x{k}, {threads} thread(s), {lib}", f * wall / 1e9, f * cpu / 1e9, "GFLOP/s"))
    return rows


def copy_row():
    try:
        import torch
        x = torch.empty(64 << 20)
        y = torch.empty_like(x)
        wall, cpu = timed(lambda: y.copy_(x))
    except ImportError:
        try:
            import numpy as np
        except ImportError:
            return None
        x = np.empty(64 << 20, dtype=np.float32)
        y = np.empty_like(x)
        wall, cpu = timed(lambda: np.copyto(y, x))
    b = 2 * 4 * (64 << 20)  # read + write
    return ("copy 256 MiB (read + write)", b * wall / 1e9, b * cpu / 1e9, "GB/s")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out")
    a = p.parse_args()
    load0 = os.getloadavg()
    rows = []
    for t in (1, 2):
        r = fma_peak(t)
        if r:
            rows.append((f"FMA peak, {t} thread(s), {r['lanes']} fp32 lanes (fma_peak.c)", r["gflops_wall"], r["gflops_per_cpu_second"], "GFLOP/s"))
    for t in (1, 2):
        rows += gemm_rows(t)
    copy = copy_row()
    if copy:
        rows.append(copy)
    load1 = os.getloadavg()
    md = ["# This machine's limits", "", cpu_model(), "",
          "Per core-second: the work divided by the CPU time the process got, summed over its threads (spin-waiting "
          "counts as busy); a 2-core limit is twice a 1-thread figure. Per wall second: what this run got on this "
          "machine at its load.", "",
          "| what | per wall second | per core-second | unit |", "|---|---:|---:|---|"]
    md += [f"| {w} | {x:.1f} | {y:.1f} | {u} |" for w, x, y, u in rows]
    md += ["", f"Load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}.", "",
           "Command: `python3 bench/peak/limits.py" + (f" --out {a.out}" if a.out else "") + "`", ""]
    text = "\n".join(md)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
