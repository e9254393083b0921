#!/usr/bin/env python3
"""Compares clconv-bench --json reports of two builds, layer by layer: the
before / after ratio of the median times (above 1: faster after) and its
geometric mean per suite, each round on its own and over all rounds
(a layer's time then being its best median over the rounds, which this noisy
2-vCPU machine's bimodal speeds make the steadier figure).

    clconv-bench --suite resnet50 --runs 9 --warmup 2 --no-baseline --json > before-r1.json
    ... (the other build, the other rounds; interleave them: A B B A)
    /usr/bin/python3 tools/scripts/compare-bench.py --before before-r*.json --after after-r*.json

Rounds pair up in the order given. --min compares each run's fastest run
(min_ms) instead of its median. Only layers present and ok in every report count."""
import argparse, json, math, sys


def load(path):
    rep = json.load(open(path))
    out = {}
    for L in rep["layers"]:
        if L.get("status") != "ok":
            continue
        out[(L["name"], L["spec"])] = L
    return rep.get("suite", path), out


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", nargs="+", required=True)
    ap.add_argument("--after", nargs="+", required=True)
    ap.add_argument("--min", action="store_true", help="compare min_ms instead of time_ms")
    ap.add_argument("--layers", action="store_true", help="print every layer's ratios")
    a = ap.parse_args()
    if len(a.before) != len(a.after):
        sys.exit("compare-bench: as many --before reports as --after, one pair per round")
    key = "min_ms" if a.min else "time_ms"
    before = [load(p)[1] for p in a.before]
    after = [load(p)[1] for p in a.after]
    layers = set(before[0])
    for r in before + after:
        layers &= set(r)
    layers = sorted(layers, key=lambda k: list(before[0]).index(k))
    if not layers:
        sys.exit("compare-bench: no layer is ok in every report")
    rounds = []
    for b, f in zip(before, after):
        rounds.append([b[k][key] / f[k][key] for k in layers])
    best = [min(r[k][key] for r in before) / min(r[k][key] for r in after) for k in layers]
    if a.layers:
        print("%-28s %s  best-of-rounds" % ("layer", "  ".join("r%d" % (i + 1)
                                                               for i in range(len(rounds)))))
        for i, k in enumerate(layers):
            print("%-28s %s  %.2fx" % (k[0][:28], "  ".join("%.2fx" % r[i] for r in rounds),
                                       best[i]))
    sb = [sum(r[k][key] for k in layers) for r in before]
    sa = [sum(r[k][key] for k in layers) for r in after]
    print("layers %d; sum of %s, before %s ms, after %s ms; per-layer geomean %s; "
          "best of rounds %.2fx (min %.2fx, max %.2fx)" %
          (len(layers), key, " / ".join("%.1f" % x for x in sb), " / ".join("%.1f" % x for x in sa),
           " / ".join("%.2fx" % geomean(r) for r in rounds), geomean(best), min(best), max(best)))


if __name__ == "__main__":
    main()
