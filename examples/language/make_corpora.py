#!/usr/bin/env python3
"""make_corpora.py: the texts of the language walk-through, from Debian's fortunes.

    make_corpora.py OUT_DIR

Writes, in OUT_DIR, a training and a test text (NAME_train.txt, NAME_test.txt)
for each of:
  en     the English fortunes (package fortunes): the text the model is
         pretrained on, and its test part the forgetting is measured on;
  other  another English source (fortunes-bofh-excuses and the English
         fortunes-debian-hints): the same language, new content;
  de     the German fortunes (fortunes-de): the same script, a new language;
  ru     the Russian fortunes (fortunes-ru): a new script, so new bytes;
  perm   the English fortunes with a fixed permutation of the 256 byte values
         applied: a task whose solution is known, the same model with the
         rows of wte permuted (the head is tied to wte).
Every tenth fortune (the 1st, 11th, ...) of a source goes to its test text,
the others to its training text, each followed by a blank line. Offensive
collections (the off/ folders) are left out. Only the standard library.
"""
import os
import random
import subprocess
import sys

ROOT = "/usr/share/games/fortunes"


def package_files(pkg, sub=""):
    """The fortune files package pkg installs under ROOT/sub (not the .dat
    indexes, the .u8 links or the off/ folders), sorted."""
    try:
        out = subprocess.run(["dpkg", "-L", pkg], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        sys.exit(f"make_corpora: package {pkg} is not installed (run scripts/install-deps --examples)")
    base = os.path.join(ROOT, sub).rstrip("/") + "/"
    files = []
    for path in out.split("\n"):
        if not path.startswith(base) or "/off/" in path or path.endswith((".dat", ".u8")):
            continue
        if os.path.dirname(path) + "/" != base or os.path.islink(path) or not os.path.isfile(path):
            continue
        files.append(path)
    if not files:
        sys.exit(f"make_corpora: package {pkg} holds no fortune files under {base}")
    return sorted(files)


def fortunes(paths):
    """Every fortune of the files in order: the text between lines holding '%'
    alone (a '%' inside a fortune, as in "100%", stays)."""
    out = []
    for path in paths:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="strict")
        for item in text.replace("\r\n", "\n").split("\n%\n"):
            # A file may open with a separator line and close without its newline.
            if item.startswith("%\n"):
                item = item[2:]
            if item.endswith("\n%"):
                item = item[:-2]
            item = item.strip("\n")
            if item.strip() and item != "%":
                out.append(item)
    return out


def split(items):
    train = "".join(s + "\n\n" for i, s in enumerate(items) if i % 10 != 0)
    test = "".join(s + "\n\n" for i, s in enumerate(items) if i % 10 == 0)
    return train.encode("utf-8"), test.encode("utf-8")


def write(out, name, data):
    train, test = data
    for part, b in (("train", train), ("test", test)):
        with open(os.path.join(out, f"{name}_{part}.txt"), "wb") as f:
            f.write(b)
    print(f"{name:6s} {len(train):9,d} bytes to train on, {len(test):8,d} to test")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpora.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    en = split(fortunes(package_files("fortunes")))
    write(out, "en", en)
    other = fortunes(package_files("fortunes-bofh-excuses") + package_files("fortunes-debian-hints"))
    write(out, "other", split(other))
    write(out, "de", split(fortunes(package_files("fortunes-de", "de"))))
    write(out, "ru", split(fortunes(package_files("fortunes-ru", "ru"))))
    perm = list(range(256))
    random.Random(20240520).shuffle(perm)
    table = bytes(perm)
    write(out, "perm", (en[0].translate(table), en[1].translate(table)))
    with open(os.path.join(out, "perm_table.txt"), "w") as f:
        f.write(" ".join(str(v) for v in perm) + "\n")


if __name__ == "__main__":
    main()
