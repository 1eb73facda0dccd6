"""One data2vec 2.0 update as d2v's Data2Vec.trainStep runs it, in PyTorch.

masks (M clones per sample) -> student on the kept tokens -> conv decoder over kept tokens put back
among N(0, 0.01^2) noise -> teacher (EMA copy, eval mode, no grad) on the whole input -> targets
(top-K FFN outputs, instance-normalised over time, averaged, non-affine LN for images) -> masked
regression loss (+ image CLS loss) -> backward -> global-norm clipping folded into AdamW (fairseq's
form) -> EMA update of the teacher. The collapse-guard statistics are computed too, as d2v does.
"""
import random

import numpy as np
import torch
import torch.nn.functional as F

from . import masks as masking
from .model import build

MASK_NOISE_STD = 0.01
TARGET_EPS = 1e-5
DTYPES = {"fp32": torch.float32, "fp64": torch.float64, "bf16": torch.float32}  # bf16 = fp32 weights + autocast


def tau(ema, n):
    """fairseq's get_annealed_rate (d2v's EmaSchedule.tau)."""
    if n >= ema["annealSteps"]:
        return ema["end"]
    return ema["end"] - (ema["end"] - ema["start"]) * (1 - n / ema["annealSteps"])


def d2v_decays(name, shape):
    """d2v's default no-decay rule (ParameterStore.Builder.defaultDecay)."""
    return len(shape) > 1 and not name.endswith(".bias") and name != "bias" and "alibi_scale" not in name


class FairseqAdamW:
    """fairseq's "adam" (d2v's AdamWDesc): decoupled decay p -= lr*wd*p, then
    p -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps), on multi-tensor (foreach) kernels."""

    def __init__(self, named, optim):
        self.o = optim
        exempt = optim["exemptFromDecay"]
        self.groups = {}
        for name, p in named:
            wd = optim["weightDecay"] if (not exempt or d2v_decays(name, p.shape)) else 0.0
            self.groups.setdefault(wd, []).append(p)
        self.m = {id(p): torch.zeros_like(p) for ps in self.groups.values() for p in ps}
        self.v = {id(p): torch.zeros_like(p) for ps in self.groups.values() for p in ps}

    @torch.no_grad()
    def step(self, lr, t, grad_scale):
        o = self.o
        b1, b2 = o["beta1"], o["beta2"]
        step_size = lr * (1 - b2 ** t) ** 0.5 / (1 - b1 ** t)
        for wd, ps in self.groups.items():
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in ps]
            if grad_scale is not None:  # the clip factor; p.grad keeps the raw gradient, as d2v's flat buffer
                grads = torch._foreach_mul(grads, grad_scale)
            m, v = [self.m[id(p)] for p in ps], [self.v[id(p)] for p in ps]
            torch._foreach_mul_(m, b1)
            torch._foreach_add_(m, grads, alpha=1 - b1)
            torch._foreach_mul_(v, b2)
            torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
            if wd:
                torch._foreach_mul_(ps, 1 - lr * wd)
            denom = torch._foreach_sqrt(v)
            torch._foreach_add_(denom, o["eps"])
            torch._foreach_addcdiv_(ps, m, denom, value=-step_size)


def compute_std(x):
    """fairseq's compute_var as d2v's CollapseGuard: mean over channels of sqrt(unbiased var + 1e-6)."""
    x = x.reshape(-1, x.shape[-1]).double()
    return torch.sqrt(x.var(dim=0, unbiased=True) + 1e-6).mean()


class TwinStep:
    """The model, its teacher, AdamW and EMA for one preset; `step()` is one whole update.

    mode: "eager" (attention written out), "sdpa" (F.scaled_dot_product_attention), "compile" (SDPA +
    torch.compile of the forward and loss; per block when the preset has layerdrop, whose host-drawn
    choice would otherwise recompile the whole graph). dtype: fp32, fp64 (for the check), bf16 (fp32
    weights under bf16 autocast, for GPUs).
    """

    def __init__(self, cfg, device="cpu", mode="eager", dtype="fp32", seed=0):
        if mode not in ("eager", "sdpa", "compile"):
            raise ValueError(f"unknown mode {mode} (eager, sdpa, compile)")
        if dtype not in DTYPES:
            raise ValueError(f"unknown dtype {dtype} (fp32, fp64, bf16)")
        self.cfg, self.mode, self.dtype_name = cfg, mode, dtype
        self.device = torch.device(device)
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.host_random = random.Random(seed)
        self.student, self.teacher = build(cfg, "eager" if mode == "eager" else "sdpa", self.device, DTYPES[dtype])
        self.autocast = dtype == "bf16"
        self.optimizer = FairseqAdamW(list(self.student.named_parameters()), cfg["optim"])
        tp = dict(self.teacher.named_parameters())
        sp = dict(self.student.named_parameters())
        self.ema_pairs = ([tp[n] for n in tp], [sp[n] for n in tp])
        self.updates = 0
        self.forward = self._forward
        self.compiled = "no"
        if mode == "compile":
            if cfg["encoder"]["layerdrop"] > 0:
                for b in list(self.student.prenet) + list(self.student.blocks) + list(self.teacher.prenet) + list(self.teacher.blocks):
                    b.compile()
                self.student.decoder.compile()
                self.compiled = "per block + decoder (layerdrop)"
            else:
                self.forward = torch.compile(self._forward, dynamic=False)  # every step has the same shapes
                self.compiled = "forward + loss"

    # ---- the forward pass and the loss ---------------------------------------------------------

    def _forward(self, inputs, keep, masked, noise, skip):
        cfg, s = self.cfg, self.student
        clones, d = cfg["clones"], cfg["encoder"]["dim"]
        rows, extra = keep.shape[0], s.extra
        local = s.local_features(inputs)
        with torch.no_grad():
            target = self._targets(inputs, local.detach())
        keep3 = keep.unsqueeze(-1).expand(-1, -1, d)
        x = local.repeat_interleave(clones, dim=0).gather(1, keep3)
        bias = None
        if s.kind == "audio":
            full = torch.zeros(rows, local.shape[1], d, dtype=x.dtype, device=x.device).scatter(1, keep3, x)
            x = x + s.conv_positions(full).gather(1, keep3)
            bias = s.alibi(keep)
        encoded, _ = s.encode(s.prepend_cls(x), bias, skip)
        kept = F.dropout(encoded[:, extra:], cfg["decoder"]["inputDropout"], s.training)
        pred = s.decoder(noise.to(kept.dtype).scatter(1, keep3, kept))

        scale = cfg["lossScale"]
        masked3 = masked.unsqueeze(-1).expand(-1, -1, pred.shape[-1])
        y = target.repeat_interleave(clones, dim=0)
        y_masked = y.gather(1, masked3)
        p_masked = pred.gather(1, masked3)
        regression = scale * (p_masked.to(y.dtype) - y_masked).pow(2).sum() / (rows * masked.shape[1])
        loss, cls = regression, torch.zeros((), dtype=regression.dtype, device=regression.device)
        if extra > 0 and cfg["loss"]["clsWeight"] > 0:
            y_bar = target.mean(dim=1).repeat_interleave(clones, dim=0)
            cls = cfg["loss"]["clsWeight"] * scale * (encoded[:, 0].to(y.dtype) - y_bar).pow(2).sum()
            loss = regression + cls
        with torch.no_grad():
            target_std, pred_std = compute_std(y_masked), compute_std(p_masked)
        return loss, regression, cls, target_std, pred_std

    def _targets(self, inputs, local):
        """The teacher on the unmasked input: top-K FFN outputs, instance norm over time, mean, LN."""
        cfg, t = self.cfg, self.teacher
        if t.kind == "image":
            u, bias = t.prepend_cls(t.patch(inputs)), None
        elif t.kind == "audio":
            positions = torch.arange(local.shape[1], device=local.device).expand(local.shape[0], -1)
            u, bias = local + t.conv_positions(local), t.alibi(positions)
        else:
            u, bias = local, None
        _, ffn = t.encode(u, bias)
        lc, k = cfg["loss"], cfg["loss"]["topK"]
        acc = None
        for a in ffn[-k:]:
            y = a[:, t.extra:]
            y = y.to(torch.promote_types(y.dtype, torch.float32))  # targets in fp32 at least, as fairseq
            if lc["instanceNormLayers"]:
                y = F.instance_norm(y.transpose(1, 2), eps=TARGET_EPS).transpose(1, 2)
            acc = y * (1.0 / k) if acc is None else acc + y * (1.0 / k)
        if lc["layerNormTargets"]:
            acc = F.layer_norm(acc, acc.shape[-1:], eps=TARGET_EPS)
        return acc

    # ---- one update ------------------------------------------------------------------------------

    def sample_masks(self):
        rows = self.cfg["batchSize"] * self.cfg["clones"]
        return masking.sample(self.cfg, rows, self.rng)

    def step(self, inputs, mask=None, noise=None, lr=None):
        """One update on `inputs` (device tensor in d2v's layout); mask / noise given by the check,
        drawn here otherwise. Returns the step's statistics (one host sync, as d2v's StepStats)."""
        cfg = self.cfg
        self.updates += 1
        mask = self.sample_masks() if mask is None else mask
        keep, masked = masking.indices(mask)
        keep = torch.from_numpy(keep).to(self.device)
        masked = torch.from_numpy(masked).to(self.device)
        rows, d = keep.shape[0], cfg["encoder"]["dim"]
        if noise is None:
            noise = torch.randn(rows, cfg["tokens"], d, device=self.device, dtype=DTYPES[self.dtype_name]) * MASK_NOISE_STD
        ld = cfg["encoder"]["layerdrop"]
        skip = tuple(self.host_random.random() < ld for _ in range(cfg["encoder"]["depth"])) if ld > 0 else None

        self.student.train()
        for p in self.student.parameters():
            p.grad = None
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            loss, regression, cls, target_std, pred_std = self.forward(inputs, keep, masked, noise, skip)
        loss.backward()

        with torch.no_grad():
            params = list(self.student.parameters())
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
            norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            clip = cfg["optim"]["clipNorm"]
            factor = torch.clamp(clip / (norm + 1e-6), max=1.0) if clip > 0 else None
            self.optimizer.step(cfg["optim"]["lr"] if lr is None else lr, self.updates, factor)
            rate = tau(cfg["ema"], self.updates)
            if rate < 1:
                teacher, student = self.ema_pairs
                torch._foreach_mul_(teacher, rate)
                torch._foreach_add_(teacher, student, alpha=1 - rate)
            stats = torch.stack([v.detach().double() for v in (loss, regression, cls, target_std, pred_std, norm)]).tolist()
        return dict(zip(("loss", "regression", "cls", "targetStd", "predStd", "gradNorm"), stats))


def random_inputs(cfg, device, dtype="fp32", generator=None):
    """A batch of the preset's shape (d2v's layouts): images [B, H, W, C], waves [B, S], ids [B, T]."""
    m, b, f = cfg["modality"], cfg["batchSize"], DTYPES[dtype]
    if cfg["kind"] == "image":
        return torch.randn(b, m["size"], m["size"], m["channels"], generator=generator).to(device=device, dtype=f)
    if cfg["kind"] == "audio":
        return torch.randn(b, m["samples"], generator=generator).to(device=device, dtype=f)
    return torch.randint(0, m["vocab"], (b, m["length"]), generator=generator).to(device)
