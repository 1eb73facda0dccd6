"""The masking rules of d2v (org.d2v.data2vec.mask, spec section 4) in numpy, for timing runs.

Same rules and the same counts (every row masks the same number of positions), drawn from numpy's
generator rather than d2v's Philox stream: the equivalence check feeds d2v's own masks instead.
A mask is int32 [rows, T], 1 = masked.
"""
import math

import numpy as np


def _exact(marks, target, rng):
    """Each row of 0/1 marks forced to exactly `target` ones: surplus ones cleared and missing ones
    added uniformly at random (d2v's ExactCount): rank marked positions first, random within."""
    priority = marks * 2.0 + rng.random(marks.shape)
    top = np.argsort(-priority, axis=1, kind="stable")[:, :target]
    out = np.zeros_like(marks)
    np.put_along_axis(out, top, 1, axis=1)
    return out


def inverse_block_2d(rows, grid, prob, adjust, width, rng):
    """Images: B x B blocks mark the VISIBLE patches, exactly int(L (1 - R)) of them; the rest is masked."""
    length = grid * grid
    kept_fraction = 1 - prob
    centres = int(length * ((kept_fraction + adjust) / (width * width)))
    visible = int(length * kept_fraction)
    marks = np.zeros((rows, length), dtype=np.int32)
    c = rng.integers(0, length, size=(rows, centres))
    cy, cx = c // grid, c % grid
    low = -(width // 2)
    r = np.repeat(np.arange(rows), centres)
    for dy in range(low, low + width):
        for dx in range(low, low + width):
            y = np.clip(cy + dy, 0, grid - 1).ravel()
            x = np.clip(cx + dx, 0, grid - 1).ravel()
            marks[r, y * grid + x] = 1
    return 1 - _exact(marks, visible, rng)


def java_round(x):
    """Java's Math.round for the non-negative values used here: halves round up."""
    return int(math.floor(x + 0.5))


def span_1d(rows, tokens, prob, adjust, length, rng):
    """Audio: spans of B frames mark the MASKED positions, exactly round(R T) of them."""
    centres = int(tokens * ((prob + adjust) / length))
    masked = java_round(prob * tokens)
    marks = np.zeros((rows, tokens), dtype=np.int32)
    c = rng.integers(0, tokens, size=(rows, centres))
    r = np.repeat(np.arange(rows), centres)
    low = -(length // 2)
    for d in range(low, low + length):
        marks[r, np.clip(c + d, 0, tokens - 1).ravel()] = 1
    return _exact(marks, masked, rng)


def random_1d(rows, tokens, prob, rng):
    """Text: keep the int(T (1 - R)) positions of smallest uniform noise, mask the others."""
    keep = int(tokens * (1 - prob))
    order = np.argsort(rng.random((rows, tokens)), axis=1, kind="stable")
    mask = np.ones((rows, tokens), dtype=np.int32)
    np.put_along_axis(mask, order[:, :keep], 0, axis=1)
    return mask


def sample(cfg, rows, rng):
    """The preset's masks for `rows` = samples x clones rows."""
    m, t = cfg["mask"], cfg["tokens"]
    if cfg["kind"] == "image":
        mask = inverse_block_2d(rows, cfg["grid"], m["prob"], m["adjust"], m["length"], rng)
    elif cfg["kind"] == "audio":
        mask = span_1d(rows, t, m["prob"], m["adjust"], m["length"], rng)
    else:
        mask = random_1d(rows, t, m["prob"], rng)
    if "masked" in cfg and not (mask.sum(axis=1) == cfg["masked"]).all():
        raise AssertionError(f"{cfg['name']}: the twin's masker does not mask {cfg['masked']} positions per row as d2v's does")
    return mask


def indices(mask):
    """(keep [rows, kept], masked [rows, masked]) positions of each row in increasing order."""
    masked = int(mask[0].sum())
    if not (mask.sum(axis=1) == masked).all():
        raise ValueError("every row must mask the same number of positions")
    order = np.argsort(mask, axis=1, kind="stable")  # 0s (kept) first, each group in position order
    kept = mask.shape[1] - masked
    return order[:, :kept], order[:, kept:]
