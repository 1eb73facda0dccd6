"""data2vec 2.0 as d2v builds it (org.d2v.data2vec, org.d2v.nn), written the way a PyTorch user
would: nn.Modules with PyTorch's layouts (NCHW / NCL convolutions), post-LN blocks, a fused qkv.

Parameter names are d2v's (patch_embed.weight, blocks.0.attn.qkv.bias, decoder.proj.0.weight, ...),
so a d2v state dict loads by name; only convolution weights change layout (d2v holds them
channels-last: [out, kh, kw, in/groups] and [out, k, in/groups]; see `from_d2v`).

Attention comes in two forms: "eager" (q k^T, softmax, times v, written out) and "sdpa"
(F.scaled_dot_product_attention). ALiBi (audio) is an additive bias
-slope[h] * max(scale[h], 0) * |pos_i - pos_j| over the tokens' original positions.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LN_EPS = 1e-5  # the conv stems, conv positions, decoder and targets (d2v's LN_EPS)


def gelu(x):
    return F.gelu(x)  # exact erf form, as d2v


class Attention(nn.Module):
    def __init__(self, dim, heads, dropout, impl):
        super().__init__()
        self.heads, self.head_dim, self.dropout, self.impl = heads, dim // heads, dropout, impl
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, bias):
        b, t, d = x.shape
        # d2v's fused layout: qkv [B, T, 3, H, Dh]
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        p = self.dropout if self.training else 0.0
        if self.impl == "sdpa":
            if bias is not None:
                bias = bias.to(q.dtype)
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p)
        else:
            a = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
            if bias is not None:
                a = a + bias
            a = F.dropout(a.softmax(dim=-1), p, self.training)
            o = a @ v
        return self.proj(o.transpose(1, 2).reshape(b, t, d))


class Mlp(nn.Module):
    def __init__(self, dim, hidden, dropout):
        super().__init__()
        self.fc1, self.fc2, self.dropout = nn.Linear(dim, hidden), nn.Linear(hidden, dim), dropout

    def forward(self, x):
        return self.fc2(F.dropout(gelu(self.fc1(x)), self.dropout, self.training))


class Block(nn.Module):
    """Post-LN block (fairseq's AltBlock with layer_norm_first False); also returns the FFN output a."""

    def __init__(self, enc, impl):
        super().__init__()
        d = enc["dim"]
        self.attn = Attention(d, enc["heads"], enc["attentionDropout"], impl)
        self.norm1 = nn.LayerNorm(d, eps=enc["normEps"])
        self.mlp = Mlp(d, int(round(d * enc["mlpRatio"])), enc["activationDropout"])
        self.norm2 = nn.LayerNorm(d, eps=enc["normEps"])
        self.enc_drop, self.post_drop = enc["encoderDropout"], enc["postMlpDropout"]

    def forward(self, x, bias):
        h = x + F.dropout(self.attn(x, bias), self.enc_drop, self.training)
        r = self.norm1(h)
        a = self.mlp(r)
        return self.norm2(r + F.dropout(a, self.post_drop, self.training)), a


def sincos_2d(dim, grid):
    """MAE's fixed 2-D sin-cos table [grid*grid, dim] (d2v's SinCos2d): column then row halves."""
    q = dim // 4
    omega = torch.pow(10000.0, -torch.arange(q, dtype=torch.float64) / q)
    i, j = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64), indexing="ij")
    i, j = i.reshape(-1, 1), j.reshape(-1, 1)
    return torch.cat([torch.sin(j * omega), torch.cos(j * omega), torch.sin(i * omega), torch.cos(i * omega)], dim=1)


def alibi_slopes(heads):
    p = 1 << (heads.bit_length() - 1)
    s = [2 ** (-8.0 * (h + 1) / p) for h in range(p)]
    s += [2 ** (-8.0 * (2 * (h - p) + 1) / (2 * p)) for h in range(p, heads)]
    return torch.tensor(s, dtype=torch.float64)


class Backbone(nn.Module):
    """What the EMA teacher mirrors (d2v's Backbone): image patch embed + CLS, audio conv positions +
    ALiBi scale, the prenet LN (not for text), prenet blocks and main blocks."""

    def __init__(self, cfg, impl):
        super().__init__()
        self.cfg, enc, mod, kind = cfg, cfg["encoder"], cfg["modality"], cfg["kind"]
        d = enc["dim"]
        self.kind, self.extra = kind, 0
        if kind == "image":
            self.patch_embed = nn.Conv2d(mod["channels"], d, mod["patch"], stride=mod["patch"])
            if mod["extraTokens"] > 0:
                self.cls_token = nn.Parameter(torch.randn(1, d))
                self.extra = 1
            self.register_buffer("pos", sincos_2d(d, cfg["grid"]), persistent=False)  # cast with the model
        if kind == "audio":
            k = cfg["convPosKernel"]
            self.conv_pos = nn.ModuleList(nn.Conv1d(d, d, k, padding=k // 2, groups=mod["convPosGroups"])
                                          for _ in range(mod["convPosDepth"]))
            self.alibi_scale = nn.Parameter(torch.full((enc["heads"],), float(mod["alibiScaleInit"])))
            self.register_buffer("slopes", alibi_slopes(enc["heads"]), persistent=False)
        if kind != "text":
            self.prenet_norm = nn.LayerNorm(d, eps=enc["normEps"])
        self.prenet = nn.ModuleList(Block(enc, impl) for _ in range(enc["prenetDepth"]))
        self.blocks = nn.ModuleList(Block(enc, impl) for _ in range(enc["depth"]))

    def patch(self, images):
        """images [B, H, W, C] (d2v's layout) -> patch tokens with positions [B, T, D]."""
        x = self.patch_embed(images.permute(0, 3, 1, 2))
        return x.flatten(2).transpose(1, 2) + self.pos.to(x.dtype)

    def prepend_cls(self, x):
        if self.extra == 0:
            return x
        return torch.cat([self.cls_token.expand(x.shape[0], 1, -1).to(x.dtype), x], dim=1)

    def conv_positions(self, full):
        """Audio: conv -> non-affine LN -> GELU per layer over the full-length sequence [rows, T, D]."""
        h = full
        for conv in self.conv_pos:
            h = conv(h.transpose(1, 2)).transpose(1, 2)
            h = gelu(F.layer_norm(h, h.shape[-1:], eps=LN_EPS))
        return h

    def alibi(self, positions):
        """[rows, H, n, n] bias for tokens at original positions [rows, n]."""
        p = positions.to(self.slopes.dtype)
        dist = (p[:, None, :, None] - p[:, None, None, :]).abs()
        return -(self.slopes * self.alibi_scale.clamp(min=0)).view(1, -1, 1, 1) * dist

    def encode(self, x, bias, skip=None):
        """skip[i] true drops main block i (layerdrop; the caller draws it on the host, as d2v)."""
        enc = self.cfg["encoder"]
        if self.kind != "text":
            x = F.dropout(self.prenet_norm(x), enc["prenetDropout"], self.training)
        for b in self.prenet:
            x, _ = b(x, bias)
        ffn = []
        for i, b in enumerate(self.blocks):
            if skip is not None and skip[i]:
                ffn.append(None)
                continue
            x, a = b(x, bias)
            ffn.append(a)
        return x, ffn


class StemLayer(nn.Module):
    """Audio conv stem layer: conv (no bias) -> LN over channels -> GELU (wav2vec's layer_norm mode)."""

    def __init__(self, cin, layer):
        super().__init__()
        self.conv = nn.Conv1d(cin, layer["channels"], layer["kernel"], stride=layer["stride"], bias=False)
        self.norm = nn.LayerNorm(layer["channels"], eps=LN_EPS)

    def forward(self, x):  # [B, C, L]
        return gelu(self.norm(self.conv(x).transpose(1, 2)).transpose(1, 2))


class ProjectFeatures(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.norm, self.linear = nn.LayerNorm(cin, eps=LN_EPS), nn.Linear(cin, dim)

    def forward(self, x):
        return self.linear(self.norm(x))


class ConvDecoder(nn.Module):
    """conv (same padding, grouped) -> non-affine LN -> GELU per layer, residual where channels match,
    then Linear (or Linear -> GELU -> Linear) back to the model dim; 2-D over the image grid."""

    def __init__(self, cfg):
        super().__init__()
        dec, d = cfg["decoder"], cfg["encoder"]["dim"]
        self.grid = cfg.get("grid") if cfg["kind"] == "image" else None
        self.residual, self.input_dropout = dec["residual"], dec["inputDropout"]
        conv = nn.Conv2d if self.grid else nn.Conv1d
        k = dec["kernel"]
        self.layers = nn.ModuleList(conv(d if i == 0 else dec["dim"], dec["dim"], k, padding=k // 2, groups=dec["groups"])
                                    for i in range(dec["layers"]))
        if dec["projectionLayers"] == 1:
            self.proj = nn.Linear(dec["dim"], d)
        else:
            hidden = int(round(dec["dim"] * dec["projectionRatio"]))
            self.proj = nn.Sequential(nn.Linear(dec["dim"], hidden), nn.GELU(), nn.Linear(hidden, d))

    def forward(self, x):  # [rows, T, D]
        rows, t, _ = x.shape
        residual, h = x, x
        for conv in self.layers:
            if self.grid:
                # [rows, T, C] viewed as NHWC, handed to the conv as a channels-last NCHW tensor
                y = conv(h.reshape(rows, self.grid, self.grid, -1).permute(0, 3, 1, 2))
                y = y.permute(0, 2, 3, 1).reshape(rows, t, -1)
            else:
                y = conv(h.transpose(1, 2)).transpose(1, 2)
            y = gelu(F.layer_norm(y, y.shape[-1:], eps=LN_EPS))
            if self.residual and residual.shape[-1] == y.shape[-1]:
                y = y + residual
            residual = h = y
        return self.proj(h)


class Student(Backbone):
    """The student: the backbone plus the local encoder (audio stem, text embeddings) and the decoder."""

    def __init__(self, cfg, impl):
        super().__init__(cfg, impl)
        mod, d = cfg["modality"], cfg["encoder"]["dim"]
        if self.kind == "audio":
            cin, layers = 1, []
            for layer in mod["stem"]:
                layers.append(StemLayer(cin, layer))
                cin = layer["channels"]
            self.feature_extractor = nn.ModuleList(layers)
            self.project_features = ProjectFeatures(cin, d)
        if self.kind == "text":
            # No padding_idx: d2v's padding row starts at zero but, unlike nn.Embedding(padding_idx=...),
            # still receives gradients (ids equal to the pad id do occur in its batches).
            self.embed_tokens = nn.Embedding(mod["vocab"], d)
            self.embed_positions = nn.Embedding(mod["maxPositions"], d)
            self.embed_norm = nn.LayerNorm(d, eps=LN_EPS)
        self.decoder = ConvDecoder(cfg)

    def local_features(self, inputs):
        """Once per sample, before masking: image patches + positions, audio stem, text embeddings."""
        if self.kind == "image":
            return self.patch(inputs)
        if self.kind == "audio":
            h = F.layer_norm(inputs, inputs.shape[-1:], eps=LN_EPS).unsqueeze(1)  # per-utterance normalisation
            for layer in self.feature_extractor:
                h = layer(h)
            return self.project_features(h.transpose(1, 2))
        mod = self.cfg["modality"]
        pos = torch.arange(inputs.shape[1], device=inputs.device) + mod["padIndex"] + 1
        x = self.embed_tokens(inputs) + self.embed_positions(pos)
        return F.dropout(self.embed_norm(x), mod["dropout"], self.training)


def build(cfg, impl, device, dtype=torch.float32):
    """(student, teacher): the teacher a copy of the student's backbone, frozen, in eval mode."""
    student = Student(cfg, impl).to(device=device, dtype=dtype)
    teacher = Backbone(cfg, impl).to(device=device, dtype=dtype)
    teacher.load_state_dict({k: v for k, v in student.state_dict().items() if k in teacher.state_dict()})
    teacher.requires_grad_(False).eval()
    return student, teacher


def from_d2v(name, value, like):
    """A d2v tensor as the twin's parameter `like`: convolution weights move from channels-last."""
    t = torch.as_tensor(value)
    if t.dim() == 4:
        t = t.permute(0, 3, 1, 2)
    elif t.dim() == 3:
        t = t.permute(0, 2, 1)
    if tuple(t.shape) != tuple(like.shape):
        raise ValueError(f"{name}: d2v shape {tuple(value.shape)} does not map onto the twin's {tuple(like.shape)}")
    return t.to(dtype=like.dtype, device=like.device).contiguous()


def to_d2v(t):
    """The inverse of from_d2v for a twin tensor (numpy, d2v's layout)."""
    t = t.detach().cpu()
    if t.dim() == 4:
        t = t.permute(0, 2, 3, 1)
    elif t.dim() == 3:
        t = t.permute(0, 2, 1)
    return t.contiguous().numpy()
