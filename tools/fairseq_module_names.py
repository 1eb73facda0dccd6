#!/usr/bin/env python3
"""Parameter names and shapes of fairseq's data2vec 2.0 model (Data2VecMultiModel, one modality).

Re-states, with plain torch.nn modules, the module nesting of fairseq's
examples/data2vec/models/data2vec2.py and modalities/{base,images,audio,text,modules}.py
(and wav2vec2's ConvFeatureExtractionModel, timm's PatchEmbed/Mlp) -- read from fairseq's
source, not imported: fairseq is not needed -- so that PyTorch itself produces the
state_dict keys (Sequential indices included) and shapes. Used to make the name lists under
java/src/test/resources/org/d2v/interop/, against which d2v's export is tested.

  python3 tools/fairseq_module_names.py image-micro > fairseq-data2vec2-image-micro.txt

The sizes of each configuration are those of d2v's preset of the same name (Presets.java).
Only the student is listed (fairseq's '_ema' holds the teacher's copy of 'blocks').
"""
import sys
import torch.nn as nn

class Block(nn.Module):  # modules.AltBlock: norm1, attn (AltAttention: qkv, proj), norm2, mlp (timm Mlp: fc1, fc2)
    def __init__(s, d, mlp):
        super().__init__()
        s.norm1 = nn.LayerNorm(d)
        s.attn = nn.Module(); s.attn.qkv = nn.Linear(d, 3 * d); s.attn.proj = nn.Linear(d, d)
        s.norm2 = nn.LayerNorm(d)
        s.mlp = nn.Module(); s.mlp.fc1 = nn.Linear(d, mlp * d); s.mlp.fc2 = nn.Linear(mlp * d, d)

class Id(nn.Module):  # TransposeLast, SamePad, Dropout, GELU, LayerNorm(elementwise_affine=False): no parameters
    pass

def context_encoder(d, mlp, prenet, with_norm):  # modules.BlockEncoder(blocks, norm)
    m = nn.Module()
    m.blocks = nn.ModuleList(Block(d, mlp) for _ in range(prenet))
    if with_norm:
        m.norm = nn.LayerNorm(d)
    return m

def decoder(dim_in, c, two_d):  # modules.Decoder1d / Decoder2d: blocks = Sequential(Sequential(conv, SamePad, T, LN(no affine), T, GELU) x layers), proj
    conv = nn.Conv2d if two_d else nn.Conv1d
    m = nn.Module()
    m.blocks = nn.Sequential(*[nn.Sequential(conv(dim_in if i == 0 else c["dec"], c["dec"], c["k"], padding=c["k"] // 2, groups=c["groups"]),
                                             Id(), Id(), Id(), Id(), Id()) for i in range(c["layers"])])
    if c.get("proj_layers", 1) == 1:
        m.proj = nn.Linear(c["dec"], dim_in)
    else:  # Decoder1d with projection_layers 2: Sequential(Linear(dec, dec * ratio), GELU, Linear(., D))
        nxt = int(c["dec"] * c["ratio"])
        m.proj = nn.Sequential(nn.Linear(c["dec"], nxt), Id(), nn.Linear(nxt, dim_in))
    return m

def model(cfg):
    d, mlp, mod = cfg["D"], cfg["mlp"], cfg["modality"]
    top = nn.Module()
    enc = nn.Module()
    if mod == "image":  # ImageEncoder: PatchEmbed (proj), fixed sin-cos positions, CLS among extra_tokens, BlockEncoder with norm
        enc.local_encoder = nn.Module()
        enc.local_encoder.proj = nn.Conv2d(cfg["chans"], d, cfg["patch"], stride=cfg["patch"])
        enc.fixed_positional_encoder = nn.Module()
        enc.fixed_positional_encoder.positions = nn.Parameter(torch_zeros(1, (cfg["size"] // cfg["patch"]) ** 2, d))
        enc.extra_tokens = nn.Parameter(torch_zeros(1, cfg["extra"], d))
        enc.context_encoder = context_encoder(d, mlp, cfg["prenet"], True)
        enc.decoder = decoder(d, cfg["decoder"], True)
    elif mod == "audio":  # AudioEncoder: ConvFeatureExtractionModel(layer_norm), project_features, conv positions, ALiBi scale
        enc.local_encoder = nn.Module()
        layers, cin = [], 1
        for (ch, k, st) in cfg["stem"]:
            layers.append(nn.Sequential(nn.Conv1d(cin, ch, k, stride=st, bias=False), Id(), nn.Sequential(Id(), nn.LayerNorm(ch), Id()), Id()))
            cin = ch
        enc.local_encoder.conv_layers = nn.ModuleList(layers)
        enc.project_features = nn.Sequential(Id(), nn.LayerNorm(cin), nn.Linear(cin, d))
        k = max(3, cfg["pos_width"] // cfg["pos_depth"])
        enc.relative_positional_encoder = nn.Sequential(Id(), *[nn.Sequential(nn.Conv1d(d, d, k, padding=k // 2, groups=cfg["pos_groups"]),
                                                                             Id(), Id(), Id(), Id(), Id()) for _ in range(cfg["pos_depth"])], Id())
        enc.alibi_scale = nn.Parameter(torch_zeros(1, 1, cfg["heads"], 1, 1))  # learned_alibi_scale_per_head, not per layer
        enc.context_encoder = context_encoder(d, mlp, cfg["prenet"], True)
        enc.decoder = decoder(d, cfg["decoder"], False)
    else:  # TextEncoder: TextLocalEncoder (embed_tokens, learned embed_positions, layernorm_embedding); no context-encoder norm without prenet
        enc.local_encoder = nn.Module()
        enc.local_encoder.embed_tokens = nn.Embedding(cfg["vocab"], d)
        enc.local_encoder.embed_positions = nn.Embedding(cfg["max_pos"] + cfg["pad"] + 1, d)
        enc.local_encoder.layernorm_embedding = nn.LayerNorm(d)
        enc.context_encoder = context_encoder(d, mlp, cfg["prenet"], cfg["prenet"] > 0)
        enc.decoder = decoder(d, cfg["decoder"], False)
    top.modality_encoders = nn.ModuleDict({mod.upper(): enc})
    top.blocks = nn.ModuleList(Block(d, mlp) for _ in range(cfg["depth"]))  # post-LN: no final norm
    return top

def torch_zeros(*s):
    import torch
    return torch.zeros(*s)

# The sizes of d2v's micro presets (java/src/main/java/org/d2v/data2vec/config/Presets.java).
CONFIGS = {
    "image-micro": dict(modality="image", D=32, heads=2, depth=2, prenet=1, mlp=4, size=28, chans=1, patch=7, extra=1,
                        decoder=dict(dec=16, k=3, layers=2, groups=4)),
    "audio-micro": dict(modality="audio", D=32, heads=2, depth=2, prenet=0, mlp=4,
                        stem=[(16, 10, 5), (16, 3, 2), (16, 3, 2), (16, 3, 2), (16, 2, 2), (16, 2, 2)], pos_depth=2, pos_width=10, pos_groups=4,
                        decoder=dict(dec=16, k=5, layers=2, groups=4)),
    "text-micro": dict(modality="text", D=32, heads=2, depth=2, prenet=0, mlp=4, vocab=512, max_pos=32, pad=1,
                       decoder=dict(dec=16, k=5, layers=2, groups=1, proj_layers=2, ratio=2.0)),
}

if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "image-micro"
    for k, v in model(CONFIGS[name]).state_dict().items():
        print(k, list(v.shape))
