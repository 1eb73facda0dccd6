#!/usr/bin/env python3
"""The PyTorch twin of d2v's data2vec 2.0 training step (bench/pytorch/README.md).

  d2v_twin.py time  --preset image-demo [--modes eager,sdpa,compile] [--device cpu|cuda] [--dtype fp32|bf16]
                    [--threads N] [--steps 10] [--warmup 2] [--json out.json]
  d2v_twin.py check DUMP_DIR...   (directories written by org.d2v.bench.twin.StepDump)
  d2v_twin.py serve [--threads N] (JSON lines on stdin/stdout: org.d2v.bench.twin.TorchSideBySide drives it)
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from twin import presets  # noqa: E402
from twin.step import TwinStep, random_inputs  # noqa: E402


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


class Runner:
    """A built twin for (preset, mode) with a few fixed batches, stepping and timing on demand."""

    def __init__(self, cfg, mode, device, dtype, batches=4):
        g = torch.Generator().manual_seed(7)
        self.inputs = [random_inputs(cfg, device, dtype, g) for _ in range(batches)]
        self.twin = TwinStep(cfg, device, mode, dtype)
        self.device, self.n = device, 0
        self.last = None
        self.warm_s = 0.0

    def steps(self, n):
        """n timed updates; returns the seconds of each (a step ends with its statistics on the host)."""
        out = []
        for _ in range(n):
            x = self.inputs[self.n % len(self.inputs)]
            self.n += 1
            sync(self.device)
            t0 = time.perf_counter()
            self.last = self.twin.step(x)
            sync(self.device)
            out.append(time.perf_counter() - t0)
        return out

    def warm(self, n):
        t0 = time.perf_counter()
        self.steps(n)
        self.warm_s = time.perf_counter() - t0
        return self.warm_s


def set_threads(n):
    if n:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def cmd_time(a):
    threads = set_threads(a.threads)
    cfg = dict(presets.named(a.preset))
    if a.batch:  # a smaller smoke run of a big preset; the table then names the sizes it ran
        cfg["batchSize"] = a.batch
    if a.clones:
        cfg["clones"] = a.clones
    rows = []
    for mode in a.modes.split(","):
        r = Runner(cfg, mode, a.device, a.dtype)
        warm = r.warm(a.warmup)
        secs = r.steps(a.steps)
        row = {"preset": a.preset, "batch": cfg["batchSize"], "clones": cfg["clones"], "mode": mode, "device": a.device, "dtype": a.dtype, "threads": threads,
               "median_s": statistics.median(secs), "min_s": min(secs), "steps": len(secs), "warmup_s": warm,
               "compiled": r.twin.compiled, "loss": r.last["loss"], "torch": torch.__version__}
        rows.append(row)
        print(f"{a.preset} (batch {cfg['batchSize']} x {cfg['clones']} clones) {mode} {a.dtype} on {a.device} ({threads} threads): "
              f"{row['median_s']:.4f} s/step median of {len(secs)}"
              f" (min {row['min_s']:.4f}), warm-up {warm:.1f} s, loss {row['loss']:.4f}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


def cmd_check(a):
    from twin import check
    rows = []
    for d in a.dirs:
        for backend, precision in (("reference", "fp64"), ("opencl", "fp32")):
            if os.path.exists(os.path.join(d, backend + ".safetensors")):
                for mode in a.modes.split(","):
                    rows.append(check.compare(d, backend, precision, mode))
    if not rows:
        raise SystemExit(f"no StepDump output in {a.dirs}")
    table = check.report(rows)
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table + "\n")
    bad = [r for r in rows if not r["ok"]]
    if bad:
        print(f"the twin differs from d2v beyond the limits {check.LIMITS} in {len(bad)} case(s)", file=sys.stderr)
        sys.exit(1)


def cmd_serve(a):
    """One JSON object per line in, one per line out:
    {"cmd": "load", "preset", "modes", "warmup"} -> {"threads", "warmup_s": {mode: s}, "compiled": {mode: how}, "errors": {mode: why}}
    {"cmd": "round", "mode", "steps", "threads"?} -> {"seconds": [...], "loss", "threads"}
    (threads: torch.set_num_threads for this round; 0 or absent = the server's own setting. torch.compile
    bakes the thread count into its kernels at compile time, so compiled modes refuse another count.)
    {"cmd": "quit"}"""
    threads = set_threads(a.threads)
    runners = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["cmd"] == "quit":
                break
            if req["cmd"] == "load":
                runners.clear()
                torch._dynamo.reset()  # compiled graphs of the previous preset would only be guarded against
                cfg = presets.named(req["preset"])
                warm, how, errors = {}, {}, {}
                for mode in req["modes"]:
                    try:
                        runners[mode] = Runner(cfg, mode, a.device, a.dtype)
                        warm[mode] = runners[mode].warm(req.get("warmup", 2))
                        how[mode] = runners[mode].twin.compiled
                    except Exception as e:  # one mode failing (say, compile) leaves the others
                        runners.pop(mode, None)
                        errors[mode] = f"{type(e).__name__}: {e}"
                reply = {"threads": threads, "torch": torch.__version__, "warmup_s": warm, "compiled": how, "errors": errors}
            elif req["cmd"] == "round":
                r = runners[req["mode"]]
                n = int(req.get("threads") or threads)
                if n != threads and req["mode"] == "compile":
                    raise ValueError(f"compiled kernels keep the {threads} threads they were compiled for")
                torch.set_num_threads(n)
                try:
                    reply = {"seconds": r.steps(req["steps"]), "loss": r.last["loss"], "threads": torch.get_num_threads()}
                finally:
                    torch.set_num_threads(threads)
            else:
                reply = {"error": f"unknown command {req['cmd']}"}
        except Exception as e:  # the driver reports it and goes on without this engine
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("time", help="time whole training steps")
    t.add_argument("--preset", required=True)
    t.add_argument("--modes", default="eager,sdpa,compile")
    t.add_argument("--steps", type=int, default=10)
    t.add_argument("--warmup", type=int, default=2)
    t.add_argument("--json")
    t.add_argument("--batch", type=int, default=0, help="override the preset's batch size (smoke runs of big presets)")
    t.add_argument("--clones", type=int, default=0, help="override the preset's clones M")
    c = sub.add_parser("check", help="compare with steps d2v wrote (StepDump)")
    c.add_argument("dirs", nargs="+")
    c.add_argument("--modes", default="eager,sdpa")
    c.add_argument("--out", help="also write the Markdown table here")
    s = sub.add_parser("serve", help="JSON-lines server for the side-by-side driver")
    for q in (t, s):
        q.add_argument("--device", default="cpu")
        q.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp64"])
        q.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own, the machine's cores)")
    a = p.parse_args()
    {"time": cmd_time, "check": cmd_check, "serve": cmd_serve}[a.cmd](a)


if __name__ == "__main__":
    main()
