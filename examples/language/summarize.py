#!/usr/bin/env python3
"""summarize.py: the tables of the language walk-through.

    summarize.py OUT_DIR              the tables
    summarize.py --figures OUT_DIR    "RUN_DIR<tab>PNG" for each seed-0 run

Reads the runs of the sweeps run.sh wrote (OUT_DIR/{plain,mean,sum}, and
OUT_DIR/wte: wte alone on the permuted bytes) and prints, per task and
fine-tune, means over the seeds: bits per byte on the task's held-out end,
on the English test text after (and the forgetting: after minus before, in
bits per byte), the share of the entries the update moved, each unit's share
of the update (and in how many seeds it held the largest), and each kind's
share; and the known answer's score on the permuted bytes (OUT_DIR/answer).
Markdown tables, the README's in full. Only the standard library.
"""
import csv
import json
import os
import statistics
import sys

TASKS = [("other", "other English"), ("de", "German"), ("ru", "Russian"), ("perm", "permuted bytes")]
SETTINGS = ["plain", "mean", "sum", "wte"]  # wte: the permuted bytes only
KINDS = ["embeddings", "attention", "mlp", "layernorm"]


def rows(out):
    """(setting, task, seed, run directory) of every run, checked: each ended ok."""
    for name in SETTINGS:
        path = os.path.join(out, name, "summary.csv")
        if name == "wte" and not os.path.exists(path):
            continue
        for row in csv.DictReader(open(path)):
            if row["status"] != "ok":
                sys.exit(f"summarize: {path}: run {row['run']} ended '{row['status']}'")
            task = os.path.basename(row.get("text") or s_text(out, name, row)).split("_")[0]
            if task not in dict(TASKS):
                sys.exit(f"summarize: {path}: run {row['run']} trained on an unknown text ({task})")
            yield name, task, int(row["seed"]), os.path.join(out, name, "runs", row["run"])


def runs(out):
    """(task, setting) -> [summary.json of each seed], in seed order; every
    group must hold the same seeds."""
    found = {}
    for name, task, seed, run in rows(out):
        s = json.load(open(os.path.join(run, "summary.json")))
        found.setdefault((task, name), []).append((seed, s))
    seeds = {k: sorted(p[0] for p in v) for k, v in found.items()}
    if len({tuple(v) for v in seeds.values()}) != 1:
        sys.exit(f"summarize: the groups hold different seeds: {seeds}")
    return {k: [s for _, s in sorted(v, key=lambda p: p[0])] for k, v in found.items()}


def s_text(out, name, row):
    """The text of a sweep whose runs share it (not an axis): its config.ini's."""
    for line in open(os.path.join(out, name, "runs", row["run"], "config.ini")):
        if line.startswith("text = "):
            return line[len("text = "):].strip()
    sys.exit(f"summarize: {out}/{name}: run {row['run']} has no text")


def how(s, name):
    if name == "wte":
        return "wte alone (λ = 0)"
    if s["lambda"] == 0:
        return "plain (λ = 0)"
    return f"l1 prox, {s['penalty_reduction']}, λ = {s['lambda']:g}"


def moved(s):
    entries = sum(s["entries"].values())
    return 1.0 - sum(s["zero_entries"].values()) / entries


def units(s):
    return [u for u in s["groups"] if "." not in u]


def mean(xs):
    return statistics.fmean(xs)


def spread(xs, digits):
    """The mean, and the range over the seeds when they differ."""
    lo, hi = min(xs), max(xs)
    text = f"{mean(xs):.{digits}f}"
    return text if round(lo, digits) == round(hi, digits) else f"{text} ({lo:.{digits}f}–{hi:.{digits}f})"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--figures":
        return figures(sys.argv[2])
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py [--figures] OUT_DIR")
    out = sys.argv[1]
    by = runs(out)
    first = next(iter(by.values()))[0]
    names = units(first)
    en0 = first["eval"]["before"]["bits_per_byte"]
    seeds = len(next(iter(by.values())))
    print(f"English test text before fine-tuning: {en0:.3f} bits per byte; means over {seeds} seeds\n")
    print("| task | fine-tune | task bits/byte | English bits/byte after | forgetting | entries moved | "
          + " | ".join(names) + " | largest (seeds) |")
    print("|---|---|---|---|---|---|" + "---|" * len(names) + "---|")
    for task, title in TASKS:
        for name in SETTINGS:
            ss = by.get((task, name))
            if not ss:
                continue
            val = [s["validation"]["bits_per_byte"] for s in ss]
            after = [s["eval"]["after"]["bits_per_byte"] for s in ss]
            forget = [s["eval"]["after"]["bits_per_byte"] - s["eval"]["before"]["bits_per_byte"] for s in ss]
            share = [mean([s["groups"][u]["update_share"] for s in ss]) for u in names]
            top = {}
            for s in ss:
                u = max(names, key=lambda u: s["groups"][u]["update_share"])
                top[u] = top.get(u, 0) + 1
            tops = ", ".join(f"{u} {n}" for u, n in sorted(top.items(), key=lambda p: -p[1]))
            print(f"| {title} | {how(ss[0], name)} | {spread(val, 2)} | {spread(after, 2)} | "
                  f"{spread(forget, 2)} | {mean([moved(s) for s in ss]):.1%} | "
                  + " | ".join(f"{v:.2f}" for v in share) + f" | {tops} |")
    print()
    print("| task | fine-tune | " + " | ".join(KINDS) + " |")
    print("|---|---|" + "---|" * len(KINDS))
    for task, title in TASKS:
        for name in SETTINGS:
            ss = by.get((task, name))
            if not ss:
                continue
            share = [mean([s["update_share_by_kind"][k] for s in ss]) for k in KINDS]
            print(f"| {title} | {how(ss[0], name)} | " + " | ".join(f"{v:.2f}" for v in share) + " |")
    answer = os.path.join(out, "answer", "summary.json")
    if os.path.exists(answer):
        a = json.load(open(answer))["validation"]["bits_per_byte"]
        print(f"\nThe known answer on the permuted bytes (the English model with wte's rows permuted)"
              f" scores {a:.2f} bits per byte on their held-out end: the English model's score on the"
              f" same windows of the English text.")


def figures(out):
    for name, task, seed, run in rows(out):
        if seed == 0:
            print(f"{run}\t{os.path.join(out, f'figure_{task}_{name}.png')}")


if __name__ == "__main__":
    main()
