#!/usr/bin/env python3
"""Convert a fairseq data2vec 2.0 checkpoint (.pt) into the encoder weights file d2v reads.

  python3 tools/fairseq_to_safetensors.py checkpoint.pt encoder.safetensors --modality image
  d2v import --weights encoder.safetensors --modality image --preset base --run runs/from-fairseq

Needs PyTorch (the .pt file is a pickle; fairseq itself is not needed, but a checkpoint whose
pickle refers to omegaconf objects needs the omegaconf package). Writes the student's tensors of
the chosen modality -- modality_encoders.<MODALITY>.* and the shared blocks.* -- as float32
safetensors with metadata format: pt, under fairseq's own names; d2v maps them to its layout on
import (docs/interop.md). The EMA teacher ('_ema') and other modalities are left out.
Only the standard library and torch are used (no safetensors package needed).
"""
import argparse
import json
import struct
import sys


def tensors_of(state, modality):
    prefix = "modality_encoders." + modality.upper() + "."
    out = {}
    for name, value in state.items():
        if not hasattr(value, "detach"):
            continue  # '_ema' is a dict of the teacher's tensors, configs are not tensors
        if name.startswith(prefix) or name.startswith("blocks.") or name.startswith("norm."):
            out[name] = value.detach().to("cpu").float().contiguous()
    return out


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        data = tensors[name].numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", help="fairseq checkpoint (.pt), e.g. a data2vec 2.0 base model")
    p.add_argument("out", help="the .safetensors file to write")
    p.add_argument("--modality", required=True, choices=["image", "audio", "text"])
    a = p.parse_args(argv)
    import torch
    ckpt = torch.load(a.checkpoint, map_location="cpu", weights_only=False)
    state = ckpt.get("model", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        sys.exit(f"{a.checkpoint}: not a fairseq checkpoint (no 'model' state dict)")
    tensors = tensors_of(state, a.modality)
    if not any(n.startswith("modality_encoders.") for n in tensors):
        sys.exit(f"{a.checkpoint}: holds no modality_encoders.{a.modality.upper()}.* tensors (another modality, or not data2vec 2.0?)")
    write_safetensors(a.out, tensors, {"format": "pt", "d2v_names": "fairseq", "modality": a.modality})
    print(f"wrote {a.out}: {len(tensors)} tensors of the {a.modality} student")


if __name__ == "__main__":
    main(sys.argv[1:])
