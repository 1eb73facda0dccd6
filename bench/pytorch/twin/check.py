"""Is the twin the same computation as d2v? Repeats one step d2v wrote (org.d2v.bench.twin.StepDump)
from the same initial state, batch, masks and decoder noise, and compares the loss terms, the
gradient of every parameter and the state after the step (student, teacher, AdamW moments).

float64 twin vs d2v's reference backend (float64), float32 twin vs d2v on OpenCL (float32).
Relative differences of a tensor: max-norm max|twin - d2v| / max|d2v| and L2 ||twin - d2v|| / ||d2v||
(0/0 counts as 0).
"""
import json
import os

import numpy as np
import torch

from . import safetensors_io
from .model import from_d2v, to_d2v
from .step import TwinStep

# What "the same computation" must reach, by precision: float64 leaves only summation order;
# float32 compares two different float32 programs (PyTorch's kernels vs d2v's), and AdamW's first
# step, sign(g) * lr where |g| >> eps, turns any rounding difference in a near-zero gradient into
# a full step, so the float32 bound on the moments and parameters is a norm-wise one.
LIMITS = {
    "fp64": {"loss": 1e-10, "grad": 1e-9, "moments": 1e-9, "params": 1e-9, "update": 1e-8},
    "fp32": {"loss": 1e-5, "grad": 1e-4, "moments": 1e-4, "params": 1e-5, "update": None},
}


def rel(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = np.abs(want).max() if want.size else 0.0
    err = np.abs(got - want).max() if want.size else 0.0
    return 0.0 if err == 0 else (err / scale if scale > 0 else float("inf"))


def rel_l2(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    den = np.sqrt((want * want).sum())
    num = np.sqrt(((got - want) ** 2).sum())
    return 0.0 if num == 0 else (num / den if den > 0 else float("inf"))


def load(twin, tensors):
    s_params = dict(twin.student.named_parameters())
    t_params = dict(twin.teacher.named_parameters())
    with torch.no_grad():
        for names, prefix in ((s_params, "init.student."), (t_params, "init.teacher.")):
            for name, p in names.items():
                key = prefix + name
                if key not in tensors:
                    raise SystemExit(f"the dump has no {key}: the twin's parameters do not match d2v's")
                p.copy_(from_d2v(key, tensors[key], p))
    dumped = {k[len("init.student."):] for k in tensors if k.startswith("init.student.")}
    missing = dumped - set(s_params)
    if missing:
        raise SystemExit(f"d2v parameters the twin lacks: {sorted(missing)}")


def inputs_of(tensors, dtype):
    for key in ("input.images", "input.waves"):
        if key in tensors:
            return torch.from_numpy(tensors[key]).to(dtype)
    return torch.from_numpy(tensors["input.tokens"].astype(np.int64))


def compare(dump_dir, backend, precision, mode="eager"):
    with open(os.path.join(dump_dir, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(dump_dir, backend + ".json")) as f:
        terms = json.load(f)
    tensors = safetensors_io.read(os.path.join(dump_dir, backend + ".safetensors"))
    torch.set_default_dtype(torch.float64 if precision == "fp64" else torch.float32)
    try:
        twin = TwinStep(cfg, "cpu", mode, precision)
        load(twin, tensors)
        dtype = torch.float64 if precision == "fp64" else torch.float32
        stats = twin.step(inputs_of(tensors, dtype), tensors["mask"], torch.from_numpy(tensors["noise"]).to(dtype), lr=cfg["lr"])
    finally:
        torch.set_default_dtype(torch.float32)

    out = {"preset": cfg["name"], "backend": terms["backend"], "twin": f"{mode} {precision}"}
    out["loss"] = max(abs(stats[k] - terms[k]) / max(abs(terms[k]), 1e-300) for k in ("loss", "regression", "cls") if terms[k] != 0)
    out["losses"] = {k: (stats[k], terms[k]) for k in ("loss", "regression", "cls", "gradNorm")}
    worst = lambda items: max(items, key=lambda kv: kv[1]) if items else ("-", 0.0)
    params = dict(twin.student.named_parameters())
    grads = [(n, rel(to_d2v(p.grad), tensors["grad." + n])) for n, p in params.items()]
    out["grad"], out["grad_l2"] = worst(grads), worst([(n, rel_l2(to_d2v(p.grad), tensors["grad." + n])) for n, p in params.items()])
    m, v = twin.optimizer.m, twin.optimizer.v
    out["moments"] = worst([("adam.m." + n, rel_l2(to_d2v(m[id(p)]), tensors["after.adam.m." + n])) for n, p in params.items()]
                           + [("adam.v." + n, rel_l2(to_d2v(v[id(p)]), tensors["after.adam.v." + n])) for n, p in params.items()])
    after = [("student." + n, p) for n, p in params.items()] + [("teacher." + n, p) for n, p in twin.teacher.named_parameters()]
    got = [to_d2v(p).astype(np.float64) for _, p in after]
    want = [tensors["after." + n].astype(np.float64) for n, _ in after]
    before = [tensors["init." + n].astype(np.float64) for n, _ in after]
    # The parameters after the step, per tensor and over the whole model (as d2v's Data2VecBackendTest):
    # in float32 the first AdamW step is lr * sign(g) wherever |g| >> eps, so an element whose gradient
    # is near zero may step the other way in either program; per tensor that is visible only in float64.
    out["params"] = worst([(n, rel_l2(g, w)) for (n, _), g, w in zip(after, got, want)])
    out["params_all"] = rel_l2(np.concatenate([g.ravel() for g in got]), np.concatenate([w.ravel() for w in want]))
    # The update itself (after - before) per tensor: a wrong AdamW or EMA formula shows here even where
    # the update is tiny next to the weights (meaningful in float64; float32 rounds the teacher's tiny step).
    out["update"] = worst([(n, rel_l2(g - b, w - b)) for (n, _), g, w, b in zip(after, got, want, before)])
    lim = LIMITS[precision]
    out["ok"] = (out["loss"] <= lim["loss"] and out["grad_l2"][1] <= lim["grad"] and out["moments"][1] <= lim["moments"]
                 and (out["params"][1] if precision == "fp64" else out["params_all"]) <= lim["params"]
                 and (lim["update"] is None or out["update"][1] <= lim["update"]))
    return out


def report(rows):
    lines = ["| preset | d2v | twin | loss terms | gradients: worst tensor, max-norm | gradients: worst tensor, L2 | AdamW moments: worst tensor | "
             "parameters after: whole model | parameters after: worst tensor | update (after - before): worst tensor | within limits |",
             "|---|---|---|---:|---|---|---|---:|---|---|---|"]
    for r in rows:
        cell = lambda kv: f"{kv[1]:.1e} `{kv[0]}`"
        lines.append(f"| {r['preset']} | {r['backend'].split(':')[0].replace(' (pure Java)', '')} | {r['twin']} | {r['loss']:.1e} | "
                     f"{cell(r['grad'])} | {cell(r['grad_l2'])} | {cell(r['moments'])} | {r['params_all']:.1e} | {cell(r['params'])} | "
                     f"{cell(r['update'])} | {'yes' if r['ok'] else '**NO**'} |")
    return "\n".join(lines)
