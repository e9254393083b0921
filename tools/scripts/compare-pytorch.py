#!/usr/bin/python3
"""Times the layers of a clconv-bench --json report in PyTorch on the CPU (conv2d,
conv_transpose2d, max_pool2d, avg_pool2d) and prints clconv's speed against it,
layer by layer, with the geometric means (all layers, and the convolutions).

    clconv-bench --suite resnet50 --json > r.json
    /usr/bin/python3 tools/scripts/compare-pytorch.py r.json [--threads 2] [--runs 10] [--min]

Needs Debian's python3-torch. PyTorch runs NCHW float32 F.conv2d / F.conv_transpose2d
(+ bias, + ReLU or the named activation, + the residual when the layer has them),
F.max_pool2d / F.avg_pool2d, median of --runs after 2 warm-up runs (--min: the fastest
run, against the bench's min_ms). The ratio is PyTorch's time over clconv's: above 1
clconv is faster.
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


ACTIVATIONS = {
    "relu": lambda y, a, b: F.relu(y),
    "relu6": lambda y, a, b: F.relu6(y),
    "leaky_relu": lambda y, a, b: F.leaky_relu(y, a),
    "elu": lambda y, a, b: F.elu(y, a),
    "sigmoid": lambda y, a, b: torch.sigmoid(y),
    "tanh": lambda y, a, b: torch.tanh(y),
    "silu": lambda y, a, b: F.silu(y),
    "gelu": lambda y, a, b: F.gelu(y),
    "hardswish": lambda y, a, b: F.hardswish(y),
    "hardsigmoid": lambda y, a, b: F.hardsigmoid(y),
    "mish": lambda y, a, b: F.mish(y),
    "softplus": lambda y, a, b: F.softplus(y),
    "clamp": lambda y, a, b: torch.clamp(y, a, b),
}


def activation_of(kv):
    """The layer's activation as a function of y (None: none)."""
    if kv.get("relu", "0") == "1":
        return F.relu
    spec = kv.get("activation")
    if not spec or spec == "none":
        return None
    name, _, ps = spec.partition(":")
    vals = [float(v) for v in ps.split(",")] if ps else []
    a = vals[0] if vals else (0.01 if name == "leaky_relu" else 1.0)
    b = vals[1] if len(vals) > 1 else 0.0
    f = ACTIVATIONS.get(name.replace("-", "_"))
    if f is None:
        raise SystemExit(f"compare-pytorch: activation '{name}' unknown here")
    return lambda y: f(y, a, b)


def layer_fn(op, kv):
    """A PyTorch closure computing the layer, or None for operators not compared."""
    n, c, h, w = (int(kv[x]) for x in ("n", "c", "h", "w"))
    x = torch.randn(n, c, h, w)
    if op in ("max_pool2d", "avg_pool2d"):
        # the report's spec spells the window r= s= (a shapes file may say kernel=)
        kernel = pair(kv["kernel"], 1) if "kernel" in kv else (int(kv["r"]), int(kv.get("s", kv["r"])))
        stride = pair(kv.get("stride"), 1) if kv.get("stride") else kernel
        pad = pair(kv.get("pad"), 0)
        ceil = kv.get("ceil", "0") == "1"
        if op == "max_pool2d":
            dil = pair(kv.get("dilation"), 1)
            return lambda: F.max_pool2d(x, kernel, stride, pad, dil, ceil_mode=ceil)
        cip = kv.get("count_include_pad", "1") == "1"
        return lambda: F.avg_pool2d(x, kernel, stride, pad, ceil_mode=ceil, count_include_pad=cip)
    if op not in ("conv2d", "conv_transpose2d"):
        return None
    k = int(kv["k"])
    r, s = int(kv.get("r", 1)), int(kv.get("s", kv.get("r", 1)))
    if "kernel" in kv:
        r, s = pair(kv["kernel"], 1)
    groups = int(kv.get("groups", 1))
    stride = pair(kv.get("stride"), 1)
    dil = pair(kv.get("dilation"), 1)
    pad = kv.get("pad", "0")
    b = torch.randn(k) if kv.get("bias", "0") == "1" else None
    act = activation_of(kv)
    alpha, beta = float(kv.get("alpha", 1)), float(kv.get("beta", 1))
    if op == "conv2d":
        padding = pad if pad in ("same", "valid") else pair(pad, 0)
        wt = torch.randn(k, c // groups, r, s)
        conv = lambda: F.conv2d(x, wt, b, stride, padding, dil, groups)
    else:
        wt = torch.randn(c, k // groups, r, s)
        outpad = pair(kv.get("output_padding"), 0)
        conv = lambda: F.conv_transpose2d(x, wt, b, stride, pair(pad, 0), outpad, groups, dil)
    z = None
    if kv.get("residual", "0") == "1":
        z = torch.randn(conv().shape)

    def run():
        y = conv()
        if z is not None:
            y = torch.add(z, y, alpha=alpha) if beta == 1 else alpha * y + beta * z
        return act(y) if act else y

    return run


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
    ratios, conv_ratios = [], []
    print(f"PyTorch {torch.__version__}, {a.threads} threads; clconv device: {rep['device']}")
    print(f"{'layer':22} {'clconv GF/s':>11} {'clconv ms':>9} {'torch ms':>9} {'torch GF/s':>10} "
          f"{'clconv/torch':>12}")
    for L in rep["layers"]:
        op, kv = parse_spec(L["spec"])
        if L.get("status") != "ok" or L.get("direction", "fwd") not in ("fwd", "forward"):
            continue
        run = layer_fn(op, kv)
        if run is None:
            continue

        with torch.no_grad():
            for _ in range(2):
                run()
            ts = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                run()
                ts.append(time.perf_counter() - t0)
        ms = (min(ts) if a.min else statistics.median(ts)) * 1e3
        cms = L["min_ms"] if a.min else L["time_ms"]
        ratio = ms / cms
        ratios.append(ratio)
        if op != "max_pool2d" and op != "avg_pool2d":
            conv_ratios.append(ratio)
        flops = L.get("flops") or 0
        tg = flops / (ms * 1e-3) / 1e9
        cg = flops / (cms * 1e-3) / 1e9
        print(f"{L['name']:22} {cg:11.2f} {cms:9.3f} {ms:9.3f} {tg:10.2f} {ratio:11.2f}x")
    for what, rs in (("layers", ratios), ("convolutions", conv_ratios)):
        if rs:
            gm = math.exp(sum(math.log(r) for r in rs) / len(rs))
            print(f"geometric mean clconv/PyTorch over {len(rs)} {what}: {gm:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
