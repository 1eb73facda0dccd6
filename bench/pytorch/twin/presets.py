"""d2v's presets as written by org.d2v.bench.twin.TwinPresets (bench/pytorch/presets.json).

The twin restates no size by hand: every number comes from the Java presets, and a Java test fails
when presets.json no longer matches them.
"""
import json
import os

PRESETS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "presets.json")


def load_all(path=PRESETS_FILE):
    with open(path) as f:
        return json.load(f)


def named(name, path=PRESETS_FILE):
    presets = load_all(path)
    if name not in presets:
        raise SystemExit(f"unknown preset '{name}' in {path}; known: {', '.join(presets)}")
    return presets[name]
