#!/usr/bin/env python3
"""WikiText-2 with WikiText's tokenisation undone, for an informational score beside the raw one (docs/TRAINING.md,
*The reference parent and the held-out targets*).

usage: tools/wikitext_detokenize.py [IN [OUT]]
  IN   WikiText-2 validation text (default ../shared/data/wikitext-2/valid.txt)
  OUT  where to write the detokenized text (default: standard output)

Uses the same rules as tools/corpus_overlap.py: " @-@ " → "-", " @,@ " → ",", " @.@ " → ".", no space before
closing punctuation or after opening brackets, " 's" → "'s". `<unk>` and the "= Heading =" lines stay: they are part
of the benchmark's text, not of its tokenisation.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_overlap import detokenize  # noqa: E402


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    src = argv[1] if len(argv) > 1 else os.path.join(here, "..", "..", "shared", "data", "wikitext-2", "valid.txt")
    with open(src, encoding="utf-8") as f:
        text = "".join(detokenize(line.rstrip("\n")) + "\n" for line in f)
    if len(argv) > 2:
        tmp = argv[2] + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, argv[2])
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv)
