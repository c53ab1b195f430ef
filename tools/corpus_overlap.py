#!/usr/bin/env python3
"""How much of the held-out judges a training corpus contains (docs/CORPORA.md §1.1).

usage: tools/corpus_overlap.py CORPUS_DIR [SHARED_DATA]
  CORPUS_DIR   a directory of *.txt files, one sentence per line (the fetched `sentences` set:
               ~/.cache/nestlm/corpus/sentences)
  SHARED_DATA  the judges (default ../shared/data): wikitext-2/valid.txt and blimp/*.jsonl

Prints the BLiMP sentences that occur as a line of the corpus, and the distinct 10-word sequences of WikiText-2 valid
that occur in it, after WikiText's tokenisation (" @-@ ", spaces before punctuation) is undone.
"""
import glob
import json
import os
import re
import sys


def detokenize(t):
    t = t.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")
    t = re.sub(r" ([.,;:!?)\]'\"])", r"\1", t)
    t = re.sub(r"([(\[]) ", r"\1", t)
    return t.replace(" 's", "'s")


def grams(text, n=10):
    w = text.split()
    return {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}


def main():
    corpus = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join("..", "shared", "data")
    lines = []
    for f in sorted(glob.glob(os.path.join(corpus, "*.txt"))):
        with open(f, encoding="utf-8") as fh:
            lines += fh.read().splitlines()
    sentences = {s.strip() for s in lines}
    blimp_total = blimp_hits = 0
    for f in sorted(glob.glob(os.path.join(shared, "blimp", "*.jsonl"))):
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                pair = json.loads(line)
                for key in ("sentence_good", "sentence_bad"):
                    blimp_total += 1
                    blimp_hits += pair[key] in sentences
    corpus_grams = set()
    for s in lines:
        corpus_grams |= grams(s)
    with open(os.path.join(shared, "wikitext-2", "valid.txt"), encoding="utf-8") as fh:
        wiki = grams(detokenize(fh.read()))
    print(f"corpus: {len(lines)} sentences in {corpus}")
    print(f"BLiMP: {blimp_hits} of {blimp_total} sentences occur in the corpus")
    print(f"WikiText-2 valid: {len(wiki & corpus_grams)} of {len(wiki)} distinct 10-word sequences occur in the corpus")


if __name__ == "__main__":
    main()
