#!/usr/bin/env python3
"""PyTorch fp32 timings of the cases org.d2v.bench.KernelTimes times, under the same names.

The same Transformer block pieces (LayerNorm, fused QKV linear, attention, output linear, MLP), the
image decoder's grouped 3x3 conv layer (channels-last, like d2v) and the masked regression loss,
at the ViT-B shapes of data2vec 2.0. Attention runs eagerly (matmul, softmax, matmul) and through
scaled_dot_product_attention (SDPA). TF32 is off so that both sides do fp32 math; one extra
torch-only row shows the TF32 matmul rate. Times come from CUDA events over N iterations.

On a GPU, attention is also timed in bf16 through SDPA with one backend forced: FlashAttention-2
(the issue's yardstick: d2v's attention at >= 80 % of its TFLOP/s) and cuDNN's fused attention
(the cuDNN peer; PyTorch >= 2.5). A backend PyTorch cannot use here leaves its column empty, with
the reason printed.

Writes JSON lines {"name", "torch_ms", "sdpa_ms", "flash_bf16_ms", "cudnn_bf16_ms"} to --json and a
readable table to stdout.
"""
import argparse
import json
import math
import sys

SIZES = {
    # dim, heads, student rows (B x M clones), student tokens, teacher batch, teacher tokens,
    # decoder grid, groups, clones, copy elements, square matmul size
    "full": dict(dim=768, heads=12, student_rows=256, student_tokens=40, teacher_batch=16, teacher_tokens=197,
                 grid=14, groups=16, clones=16, copy_elements=64 << 20, matmul=4096),
    "small": dict(dim=64, heads=4, student_rows=8, student_tokens=40, teacher_batch=2, teacher_tokens=197,
                  grid=14, groups=16, clones=4, copy_elements=1 << 20, matmul=256),
}


def timer(torch, device, iters):
    """Returns time(fn) -> milliseconds per call of fn, after a warm-up."""
    def time(fn):
        for _ in range(max(2, iters // 5)):
            fn()
        if device.type != "cuda":
            import time as t
            start = t.perf_counter()
            for _ in range(iters):
                fn()
            return (t.perf_counter() - start) * 1e3 / iters
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / iters
    return time


def block_cases(torch, F, dev, s, who, batch, tokens):
    """One Transformer block's forward pieces; qkv is [B, T, 3, H, Dh] as in d2v."""
    d, h = s["dim"], s["heads"]
    dh, rows, hidden = d // h, batch * tokens, 4 * d
    g = torch.Generator(device=dev).manual_seed(1)

    def randn(*shape):
        return torch.randn(*shape, device=dev, generator=g) * 0.5

    x, gamma, beta = randn(rows, d), randn(d), randn(d)
    w_qkv, b_qkv = randn(3 * d, d), randn(3 * d)
    w_proj, b_proj = randn(d, d), randn(d)
    w1, b1, w2, b2 = randn(hidden, d), randn(hidden), randn(d, hidden), randn(d)
    scale = 1.0 / math.sqrt(dh)

    def split(qkv):
        q, k, v = qkv.view(batch, tokens, 3, h, dh).permute(2, 0, 3, 1, 4).unbind(0)  # [B, H, T, Dh]
        return q, k, v

    def eager_attention(qkv):
        q, k, v = split(qkv)
        p = torch.softmax((q @ k.transpose(-1, -2)) * scale, dim=-1)
        return (p @ v).transpose(1, 2).reshape(rows, d)

    def sdpa_attention(qkv):
        q, k, v = split(qkv)  # SDPA's default scale is 1/sqrt(Dh), the same as d2v's
        return F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(rows, d)

    ln = F.layer_norm(x, (d,), gamma, beta, 1e-6)
    qkv = F.linear(ln, w_qkv, b_qkv)
    att = eager_attention(qkv)
    res = x + F.linear(att, w_proj, b_proj)
    hid = F.gelu(F.linear(res, w1, b1))

    has_sdpa = hasattr(F, "scaled_dot_product_attention")  # PyTorch >= 2.0
    qkv_g = qkv.detach().requires_grad_(True)
    dout = randn(rows, d)
    out_eager = eager_attention(qkv_g)
    out_sdpa = sdpa_attention(qkv_g) if has_sdpa else None

    def backward(out):
        return lambda: torch.autograd.grad(out, qkv_g, dout, retain_graph=True)

    def block(attention):
        def run():
            y = F.layer_norm(x, (d,), gamma, beta, 1e-6)
            a = attention(F.linear(y, w_qkv, b_qkv))
            r = x + F.linear(a, w_proj, b_proj)
            return F.linear(F.gelu(F.linear(r, w1, b1)), w2, b2)
        return run

    # bf16 attention through one forced SDPA backend: FlashAttention-2 and cuDNN's fused attention
    bf16 = {}
    if has_sdpa and dev.type == "cuda":
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel
        except ImportError:  # PyTorch < 2.3
            SDPBackend = sdpa_kernel = None
        if sdpa_kernel is not None:
            qkv_h = qkv.detach().to(torch.bfloat16).requires_grad_(True)
            dout_h = dout.to(torch.bfloat16)
            for label, backend in (("flash_bf16", "FLASH_ATTENTION"), ("cudnn_bf16", "CUDNN_ATTENTION")):
                if not hasattr(SDPBackend, backend):
                    print(f"  no {label}: this PyTorch has no SDPBackend.{backend}")
                    continue
                kind = getattr(SDPBackend, backend)

                def fwd(kind=kind):
                    with sdpa_kernel(kind):
                        return sdpa_attention(qkv_h)

                try:
                    out_h = fwd()
                except RuntimeError as e:
                    print(f"  no {label} for {who}: {str(e).splitlines()[0]}")
                    continue

                def bwd(out_h=out_h):
                    return torch.autograd.grad(out_h, qkv_h, dout_h, retain_graph=True)

                bf16[f"{who}/attention_fwd"] = {**bf16.get(f"{who}/attention_fwd", {}), label: fwd}
                bf16[f"{who}/attention_bwd"] = {**bf16.get(f"{who}/attention_bwd", {}), label: bwd}

    return [
        (f"{who}/layernorm", lambda: F.layer_norm(x, (d,), gamma, beta, 1e-6), None),
        (f"{who}/qkv_linear", lambda: F.linear(ln, w_qkv, b_qkv), None),
        (f"{who}/attention_fwd", lambda: eager_attention(qkv), (lambda: sdpa_attention(qkv)) if has_sdpa else None,
         bf16.get(f"{who}/attention_fwd", {})),
        (f"{who}/attention_bwd", backward(out_eager), backward(out_sdpa) if has_sdpa else None,
         bf16.get(f"{who}/attention_bwd", {})),
        (f"{who}/out_linear", lambda: F.linear(att, w_proj, b_proj), None),
        (f"{who}/mlp_fc1_gelu", lambda: F.gelu(F.linear(res, w1, b1)), None),
        (f"{who}/mlp_fc2", lambda: F.linear(hid, w2, b2), None),
        (f"{who}/block_fwd", block(eager_attention), block(sdpa_attention) if has_sdpa else None),
    ]


def decoder_cases(torch, F, dev, s):
    """The image decoder layer: grouped 3x3 conv (channels-last memory), LayerNorm without affine, GELU."""
    n, g, d, groups = s["student_rows"], s["grid"], s["dim"], s["groups"]
    cl = torch.channels_last
    x = torch.randn(n, d, g, g, device=dev).to(memory_format=cl)
    w = torch.randn(d, d // groups, 3, 3, device=dev).to(memory_format=cl)
    b = torch.randn(d, device=dev)
    dy = torch.randn(n, d, g, g, device=dev).to(memory_format=cl)
    y = F.conv2d(x, w, b, padding=1, groups=groups)
    rows = y.permute(0, 2, 3, 1).reshape(-1, d)  # channels-last memory: a view

    def conv_backward(mask):
        return lambda: torch.ops.aten.convolution_backward(dy, x, w, [d], [1, 1], [1, 1], [1, 1], False, [0, 0],
                                                           groups, mask)

    return [
        ("decoder/conv_fwd", lambda: F.conv2d(x, w, b, padding=1, groups=groups), None),
        ("decoder/conv_bwd_input", conv_backward([True, False, False]), None),
        ("decoder/conv_bwd_weight", conv_backward([False, True, True]), None),
        ("decoder/layernorm_gelu", lambda: F.gelu(F.layer_norm(rows, (d,), eps=1e-5)), None),
    ]


def loss_cases(torch, dev, s):
    """Masked regression, forward and backward: scale * sum over masked tokens of sum_d (pred - target)^2 / N."""
    rows, tokens, d, clones = s["student_rows"], s["grid"] ** 2, s["dim"], s["clones"]
    pred = torch.randn(rows, tokens, d, device=dev).requires_grad_(True)
    target = torch.randn(rows // clones, tokens, d, device=dev)
    mask = (torch.rand(rows, tokens, device=dev) < 0.8).float()
    scale, normalizer = 1 / math.sqrt(d), max(1.0, float(mask.sum()))

    def step():
        diff = pred.view(rows // clones, clones, tokens, d) - target.unsqueeze(1)
        loss = (diff.square().sum(-1) * mask.view(rows // clones, clones, tokens)).sum() * (scale / normalizer)
        return torch.autograd.grad(loss, pred)

    return [("loss/masked_regression", step, None)]


def peak_cases(torch, dev, s):
    n, m = s["copy_elements"], s["matmul"]
    src, dst = torch.randn(n, device=dev), torch.empty(n, device=dev)
    a, b = torch.randn(m, m, device=dev), torch.randn(m, m, device=dev)

    def tf32_matmul():
        torch.backends.cuda.matmul.allow_tf32 = True
        try:
            return a @ b
        finally:
            torch.backends.cuda.matmul.allow_tf32 = False

    return [
        ("peak/copy", lambda: dst.copy_(src), None),
        ("peak/matmul", lambda: a @ b, None),
        ("peak/matmul_tf32", tf32_matmul, None),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=sorted(SIZES), default="full")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--json", help="write JSON lines here")
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        sys.exit(f"torch_blocks.py: PyTorch is not installed ({e})")
    dev = torch.device(args.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_blocks.py: torch.cuda.is_available() is False")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    s = SIZES[args.scale]
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}) on {name}, {args.scale} shapes, fp32, TF32 off")
    time = timer(torch, dev, args.iters)
    results = []
    print(f"{'case':28s} {'eager ms':>10s} {'SDPA ms':>10s} {'flash bf16':>10s} {'cuDNN bf16':>10s}")
    for build in [lambda: peak_cases(torch, dev, s),
                  lambda: block_cases(torch, F, dev, s, "student", s["student_rows"], s["student_tokens"]),
                  lambda: block_cases(torch, F, dev, s, "teacher", s["teacher_batch"], s["teacher_tokens"]),
                  lambda: decoder_cases(torch, F, dev, s),
                  lambda: loss_cases(torch, dev, s)]:
        for case, eager, sdpa, *rest in build():
            extra = rest[0] if rest else {}
            grad = case.endswith("_bwd") or case.startswith("loss/")
            with torch.set_grad_enabled(grad):
                eager_ms = time(eager)
                sdpa_ms = time(sdpa) if sdpa else None
                more = {f"{label}_ms": time(fn) for label, fn in extra.items()}
            results.append({"name": case, "torch_ms": eager_ms, "sdpa_ms": sdpa_ms, **more})
            cols = [sdpa_ms, more.get("flash_bf16_ms"), more.get("cudnn_bf16_ms")]
            print(f"{case:28s} {eager_ms:10.4f} " + " ".join("" .rjust(10) if v is None else f"{v:10.4f}" for v in cols))
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    if args.json:
        with open(args.json, "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
