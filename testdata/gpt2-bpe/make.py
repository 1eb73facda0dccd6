"""Regenerates this folder's known encodings (pip install tokenizers; no downloads).

Trains a small GPT-2-style byte-level BPE with HuggingFace `tokenizers` on the text below, writes
vocab.json + merges.txt, a fairseq-style dict.txt (GPT-2 ids by descending frequency on the same
text, a few left out so that they map to <unk>), and encodings.tsv: each test string (JSON-quoted)
with the GPT-2 ids HuggingFace produces and the fairseq ids they map to.
"""
import collections, json
from tokenizers import ByteLevelBPETokenizer

corpus = [
    "The quick brown fox jumps over the lazy dog. It's 2024, isn't it? We'll see; they've said they'd go.",
    "Numbers: 3.14159, 42, 1000000 and 007 -- punctuation!!! (parentheses) [brackets] {braces} \"quotes\"",
    "Ünïcödé — naïve café, façade, résumé; 日本語のテキスト、中文文本。 Emoji: 🙂🚀 and accents: Ångström.",
    "Tabs\tand  double  spaces,\nnew lines\n\nand trailing spaces   \n   leading spaces.",
    "I'M SHOUTING, you're whispering; she'll laugh. O'Neil's rock'n'roll.",
] * 8
tok = ByteLevelBPETokenizer(add_prefix_space=False)
tok.train_from_iterator(corpus, vocab_size=420, min_frequency=2, show_progress=False, special_tokens=[])
tok.save_model(".")

counts = collections.Counter()
for line in corpus:
    counts.update(tok.encode(line).ids)
vocab = json.load(open("vocab.json", encoding="utf-8"))
order = sorted(vocab.values(), key=lambda i: (-counts[i], i))
# Ids absent from dict.txt map to <unk> in fairseq: leave out two merged tokens the first test string uses.
left_out = set(sorted(i for i in tok.encode("The quick brown fox jumps over the lazy dog.").ids if i >= 256)[-2:])
with open("dict.txt", "w", encoding="utf-8") as f:
    for i in order:
        if i not in left_out:
            f.write(f"{i} {counts[i]}\n")
    f.write("madeupword0000 0\n")
fairseq = {g: 4 + k for k, g in enumerate(i for i in order if i not in left_out)}

tests = [
    "The quick brown fox jumps over the lazy dog.",
    "It's isn't we'll they've they'd I'M O'Neil's",
    "3.14159 and 1000000, 007!!!",
    "naïve café — 日本語のテキスト 🙂🚀 Ångström",
    "Tabs\tand  double  spaces,\nnew lines\n\nand trailing   \n   lead",
    "unseen wordz like zyxwvut and Qq",
    "   ",
    "a\u00a0b\u2009c \u3000d",
]
with open("encodings.tsv", "w", encoding="utf-8") as f:
    for t in tests:
        ids = tok.encode(t).ids
        f.write(json.dumps(t, ensure_ascii=True) + "\t" + " ".join(map(str, ids)) + "\t"
                + " ".join(str(fairseq.get(i, 3)) for i in ids) + "\n")
print(len(vocab), "ids,", len(order) - len(left_out), "in dict.txt")
