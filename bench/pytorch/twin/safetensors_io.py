"""Reads the safetensors files d2v writes (org.d2v.train.SafeTensors), with numpy only: an 8-byte
little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw
little-endian data."""
import json
import struct

import numpy as np

_DTYPES = {"F64": "<f8", "F32": "<f4", "I32": "<i4", "I64": "<i8", "BF16": None}


def read(path):
    """{name: numpy array} for every tensor in the file (metadata dropped)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: not a safetensors file (shorter than its header length)")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = _DTYPES.get(info["dtype"])
        if dt is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=dt).reshape(info["shape"]).copy()
    return out
