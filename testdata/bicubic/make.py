"""Regenerates pillow.txt (pip install pillow): PIL's bicubic resampling and "L" conversion of a
small formula-made RGB image, the oracle for d2v's Bicubic / ImageFiles. Each case line:
name h w channels, then the expected bytes row-major channels-last, space-separated.
The Java test builds the same source image from the same formula."""
from PIL import Image

H, W = 13, 17
def px(y, x, c):
    return (y * 37 + x * 91 + c * 53 + (x * y) % 17) % 256

src = Image.new("RGB", (W, H))
src.putdata([tuple(px(y, x, c) for c in range(3)) for y in range(H) for x in range(W)])
cases = [
    ("down", src.resize((7, 5), Image.BICUBIC)),
    ("up", src.resize((23, 29), Image.BICUBIC)),
    ("crop", src.crop((3, 2, 14, 11)).resize((8, 8), Image.BICUBIC)),  # box = (left, top, right, bottom)
    ("grey", src.convert("L")),
    ("grey-down", src.convert("L").resize((6, 4), Image.BICUBIC)),
]
with open("pillow.txt", "w") as f:
    for name, im in cases:
        w, h = im.size
        c = len(im.getbands())
        vals = [v for p in im.getdata() for v in (p if isinstance(p, tuple) else (p,))]
        f.write(f"{name} {h} {w} {c} " + " ".join(map(str, vals)) + "\n")
