#!/usr/bin/python3
"""Times the conv2d layers of a clconv-bench --json report in PyTorch on the CPU
and prints clconv's speed against it, layer by layer, with the geometric mean.

    clconv-bench --suite resnet50 --json > r.json
    /usr/bin/python3 tools/scripts/compare-pytorch.py r.json [--threads 2] [--runs 10] [--min]

Needs Debian's python3-torch. PyTorch runs NCHW float32 F.conv2d (+ bias, + ReLU
when the layer has them), median of --runs after 2 warm-up runs (--min: the fastest run, against the
bench's min_ms).
"""
import argparse, json, math, statistics, sys, time

import torch
import torch.nn.functional as F


def parse_spec(spec):
    words = spec.split()
    kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
    return words[0], kv


def pair(v, default):
    if v is None:
        return (default, default)
    a = v.split(",")
    return (int(a[0]), int(a[-1]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    # On a loaded machine medians measure the load (PyTorch's OpenMP threads
    # spin); --min compares PyTorch's fastest run with clconv-bench's min_ms.
    ap.add_argument("--min", action="store_true", help="compare minima instead of medians")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rep = json.load(open(a.report))
    ratios = []
    print(f"PyTorch {torch.__version__}, {a.threads} threads; clconv device: {rep['device']}")
    print(f"{'layer':22} {'clconv GF/s':>11} {'torch ms':>9} {'torch GF/s':>10} {'clconv/torch':>12}")
    for L in rep["layers"]:
        op, kv = parse_spec(L["spec"])
        if op != "conv2d" or L.get("status") != "ok":
            continue
        n, c, h, w, k = (int(kv[x]) for x in ("n", "c", "h", "w", "k"))
        r, s = int(kv.get("r", 1)), int(kv.get("s", kv.get("r", 1)))
        groups = int(kv.get("groups", 1))
        stride = pair(kv.get("stride"), 1)
        dil = pair(kv.get("dilation"), 1)
        pad = kv.get("pad", "0")
        padding = pad if pad in ("same", "valid") else pair(pad, 0)
        x = torch.randn(n, c, h, w)
        wt = torch.randn(k, c // groups, r, s)
        b = torch.randn(k) if kv.get("bias", "0") == "1" else None
        relu = kv.get("relu", "0") == "1"

        def run():
            y = F.conv2d(x, wt, b, stride, padding, dil, groups)
            return F.relu(y) if relu else y

        with torch.no_grad():
            for _ in range(2):
                run()
            ts = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                run()
                ts.append(time.perf_counter() - t0)
        ms = (min(ts) if a.min else statistics.median(ts)) * 1e3
        tg = L["flops"] / (ms * 1e-3) / 1e9
        cg = L["flops"] / (L["min_ms"] * 1e-3) / 1e9 if a.min else L["gflops"]
        ratio = tg and cg / tg
        ratios.append(ratio)
        print(f"{L['name']:22} {cg:11.2f} {ms:9.3f} {tg:10.2f} {ratio:11.2f}x")
    if ratios:
        gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"geometric mean clconv/PyTorch over {len(ratios)} layers: {gm:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
