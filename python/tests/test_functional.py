"""clconv's functional API against PyTorch (CPU, float64 references) on
seeded random parameter sweeps, forward and backward."""
import os
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import clconv
from util import check_close

T = torch.from_numpy
# CLCONV_TEST_SWEEP=k runs k times as many random cases (the default run's first; a cold
# run compiles about 2 s of kernels per convolution case on PoCL).
SWEEP = float(os.environ.get("CLCONV_TEST_SWEEP", "1"))


def n_cases(base):
    return max(1, int(round(base * SWEEP)))


def rnd(rng, *shape):
    return rng.uniform(-1, 1, shape).astype(np.float32)


def torch_grads(fn, inputs, dy):
    """Autograd of fn in double: (output, grads of every input), and the same
    on absolute values (the bound's scale)."""
    outs = []
    for absolute in (False, True):
        ts = [None if a is None else T(np.abs(a) if absolute else a).double().requires_grad_()
              for a in inputs]
        y = fn(*ts)
        g = T(np.abs(dy) if absolute else dy).double()
        y.backward(g)
        outs.append((y.detach().numpy(), [None if t is None else t.grad.numpy() for t in ts]))
    return outs


# ---------------------------------------------------------------------------
# conv2d and conv1d
# ---------------------------------------------------------------------------

def conv2d_cases(seed, count):
    r = random.Random(seed)
    out = []
    while len(out) < count:
        g = r.choice([1, 1, 1, 2, 3])
        cin, cout = g * r.randint(1, 3), g * r.randint(1, 3)
        if r.random() < 0.15:
            g = cin = r.randint(1, 4)
            cout = cin * r.choice([1, 2])
        k = (r.randint(1, 4), r.randint(1, 4))
        s = (r.randint(1, 3), r.randint(1, 3))
        d = (r.randint(1, 2), r.randint(1, 2))
        pad = (r.randint(0, 2), r.randint(0, 2))
        if r.random() < 0.15:
            s, pad = (1, 1), r.choice(["same", "valid"])
        n, h, w = r.randint(1, 2), r.randint(1, 10), r.randint(1, 10)
        ph, pw = (0, 0) if isinstance(pad, str) else pad
        if pad == "same":
            ph, pw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
        else:
            ph, pw = 2 * ph, 2 * pw
        if h + ph < d[0] * (k[0] - 1) + 1 or w + pw < d[1] * (k[1] - 1) + 1:
            continue
        out.append(dict(n=n, cin=cin, cout=cout, h=h, w=w, k=k, stride=s, padding=pad,
                        dilation=d, groups=g, bias=r.random() < 0.7, relu=r.random() < 0.3))
    return out


@pytest.mark.parametrize("case", conv2d_cases(1919, n_cases(24)), ids=lambda c: "%(cin)d-%(cout)d-%(k)s-s%(stride)s-p%(padding)s-d%(dilation)s-g%(groups)d" % c)
def test_conv2d_forward_backward(ctx, case):
    c = case
    rng = np.random.default_rng(len(str(c)))
    x = rnd(rng, c["n"], c["cin"], c["h"], c["w"])
    wt = rnd(rng, c["cout"], c["cin"] // c["groups"], *c["k"])
    b = rnd(rng, c["cout"]) if c["bias"] else None
    args = (c["stride"], c["padding"], c["dilation"], c["groups"])

    def f(x_, w_, b_):
        y = F.conv2d(x_, w_, b_, *args)
        return F.relu(y) if c["relu"] else y

    y = clconv.conv2d(x, wt, b, *args, relu=c["relu"])
    dy = rnd(rng, *y.shape)
    (ref, grads), (scale, gscale) = torch_grads(f, [x, wt, b], dy)
    K = c["cin"] // c["groups"] * c["k"][0] * c["k"][1]
    check_close(y, ref, scale, K, "conv2d")

    # backward: the ReLU mask first (threshold_backward on the output), then the three passes
    g = clconv.relu_backward(y, dy) if c["relu"] else dy
    if c["relu"]:
        np.testing.assert_array_equal(g, np.where(y > 0, dy, 0))
    oh, ow = y.shape[2:]
    dx = clconv.conv2d_input(x.shape, wt, g, *args)
    dw = clconv.conv2d_weight(x, wt.shape, g, *args)
    check_close(dx, grads[0], gscale[0], c["cout"] // c["groups"] * c["k"][0] * c["k"][1],
                "conv2d_input")
    check_close(dw, grads[1], gscale[1], c["n"] * oh * ow, "conv2d_weight")
    if b is not None:
        check_close(clconv.conv2d_bias(g), grads[2], gscale[2], c["n"] * oh * ow, "conv2d_bias")


@pytest.mark.parametrize("seed", range(n_cases(8)))
def test_conv1d_forward_backward(ctx, seed):
    r = random.Random(seed)
    rng = np.random.default_rng(seed)
    g = r.choice([1, 2])
    cin, cout, k = g * r.randint(1, 3), g * r.randint(1, 3), r.randint(1, 5)
    s, d = r.randint(1, 3), r.randint(1, 2)
    pad = r.choice([0, 1, 2, "same", "valid"]) if s == 1 else r.randint(0, 2)
    length = d * (k - 1) + 1 + r.randint(0, 8)
    n = r.randint(1, 2)
    x, wt = rnd(rng, n, cin, length), rnd(rng, cout, cin // g, k)
    b = rnd(rng, cout) if seed % 2 else None
    args = (s, pad, d, g)
    y = clconv.conv1d(x, wt, b, *args)
    dy = rnd(rng, *y.shape)
    (ref, grads), (scale, gscale) = torch_grads(lambda a, w_, b_: F.conv1d(a, w_, b_, *args),
                                                [x, wt, b], dy)
    check_close(y, ref, scale, cin // g * k, "conv1d")
    check_close(clconv.conv1d_input(x.shape, wt, dy, *args), grads[0], gscale[0], cout * k,
                "conv1d_input")
    check_close(clconv.conv1d_weight(x, wt.shape, dy, *args), grads[1], gscale[1],
                n * y.shape[2], "conv1d_weight")
    if b is not None:
        check_close(clconv.conv2d_bias(dy), grads[2], gscale[2], n * y.shape[2], "bias")


# ---------------------------------------------------------------------------
# conv_transpose2d and conv_transpose1d
# ---------------------------------------------------------------------------

def ct_cases(seed, count):
    r = random.Random(seed)
    out = []
    while len(out) < count:
        g = r.choice([1, 1, 2])
        cin, cout = g * r.randint(1, 3), g * r.randint(1, 3)
        k = (r.randint(1, 4), r.randint(1, 4))
        s = (r.randint(1, 3), r.randint(1, 3))
        d = (r.randint(1, 2), r.randint(1, 2))
        pad = (r.randint(0, 2), r.randint(0, 2))
        op = tuple(r.randint(0, max(s[i], d[i]) - 1) for i in range(2))
        n, h, w = r.randint(1, 2), r.randint(1, 6), r.randint(1, 6)
        oh = (h - 1) * s[0] - 2 * pad[0] + d[0] * (k[0] - 1) + op[0] + 1
        ow = (w - 1) * s[1] - 2 * pad[1] + d[1] * (k[1] - 1) + op[1] + 1
        if oh < 1 or ow < 1:
            continue
        out.append(dict(n=n, cin=cin, cout=cout, h=h, w=w, k=k, stride=s, padding=pad,
                        output_padding=op, dilation=d, groups=g, bias=r.random() < 0.6))
    return out


@pytest.mark.parametrize("case", ct_cases(2019, n_cases(16)), ids=lambda c: "%(cin)d-%(cout)d-%(k)s-s%(stride)s-p%(padding)s-op%(output_padding)s-d%(dilation)s-g%(groups)d" % c)
def test_conv_transpose2d_forward_backward(ctx, case):
    c = case
    rng = np.random.default_rng(len(str(c)))
    x = rnd(rng, c["n"], c["cin"], c["h"], c["w"])
    wt = rnd(rng, c["cin"], c["cout"] // c["groups"], *c["k"])
    b = rnd(rng, c["cout"]) if c["bias"] else None
    args = (c["stride"], c["padding"], c["output_padding"], c["groups"], c["dilation"])
    y = clconv.conv_transpose2d(x, wt, b, *args)
    dy = rnd(rng, *y.shape)
    (ref, grads), (scale, gscale) = torch_grads(
        lambda a, w_, b_: F.conv_transpose2d(a, w_, b_, *args), [x, wt, b], dy)
    kk = c["k"][0] * c["k"][1]
    check_close(y, ref, scale, c["cin"] // c["groups"] * kk, "conv_transpose2d")
    check_close(clconv.conv_transpose2d_input(x.shape, wt, dy, *args), grads[0], gscale[0],
                c["cout"] // c["groups"] * kk, "conv_transpose2d_input")
    check_close(clconv.conv_transpose2d_weight(x, wt.shape, dy, *args), grads[1], gscale[1],
                c["n"] * c["h"] * c["w"], "conv_transpose2d_weight")


@pytest.mark.parametrize("seed", range(n_cases(6)))
def test_conv_transpose1d(ctx, seed):
    r = random.Random(100 + seed)
    rng = np.random.default_rng(seed)
    g = r.choice([1, 2])
    cin, cout, k = g * r.randint(1, 3), g * r.randint(1, 3), r.randint(1, 5)
    s, d = r.randint(1, 3), r.randint(1, 2)
    pad = r.randint(0, (d * (k - 1)) // 2)
    op = r.randint(0, max(s, d) - 1)
    x, wt, b = rnd(rng, 2, cin, r.randint(1, 7)), rnd(rng, cin, cout // g, k), rnd(rng, cout)
    args = (s, pad, op, g, d)
    y = clconv.conv_transpose1d(x, wt, b, *args)
    ref = F.conv_transpose1d(T(x).double(), T(wt).double(), T(b).double(), *args).numpy()
    scale = F.conv_transpose1d(T(np.abs(x)).double(), T(np.abs(wt)).double(),
                               T(np.abs(b)).double(), *args).numpy()
    check_close(y, ref, scale, cin // g * k, "conv_transpose1d")


# ---------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------

def pool_cases(seed, count):
    r = random.Random(seed)
    out = []
    while len(out) < count:
        mode = r.choice(["max", "max", "avg", "avg", "lp", "aavg", "amax"])
        n, c, h, w = r.randint(1, 2), r.randint(1, 3), r.randint(1, 12), r.randint(1, 12)
        case = dict(mode=mode, shape=(n, c, h, w))
        if mode in ("aavg", "amax"):
            case["output_size"] = (r.randint(1, h + 1), r.choice([None, r.randint(1, w + 1)]))
        else:
            k = (r.randint(1, 4), r.randint(1, 4))
            case.update(kernel_size=k, stride=r.choice([None, (r.randint(1, 3), r.randint(1, 3))]),
                        ceil_mode=r.random() < 0.4)
            if mode != "lp":
                case["padding"] = (r.randint(0, k[0] // 2), r.randint(0, k[1] // 2))
            if mode == "max":
                case["dilation"] = (r.randint(1, 2), r.randint(1, 2))
            if mode == "avg":
                case["count_include_pad"] = r.random() < 0.5
                case["divisor_override"] = r.choice([None, None, r.randint(1, 5)])
            if mode == "lp":
                case["norm_type"] = r.choice([1.0, 2.0, 3.0])
            try:  # PyTorch decides what is valid
                _torch_pool(case, torch.zeros(case["shape"], dtype=torch.float64))
            except RuntimeError:
                continue
        out.append(case)
    return out


def _kw(case, *names):
    return {k: case[k] for k in names if k in case}


def _torch_pool(case, x):
    m = case["mode"]
    if m == "max":
        return F.max_pool2d(x, return_indices=True, **_kw(case, "kernel_size", "stride", "padding",
                                                          "dilation", "ceil_mode"))
    if m == "avg":
        return F.avg_pool2d(x, **_kw(case, "kernel_size", "stride", "padding", "ceil_mode",
                                     "count_include_pad", "divisor_override")), None
    if m == "lp":
        return F.lp_pool2d(x, case["norm_type"], **_kw(case, "kernel_size", "stride",
                                                       "ceil_mode")), None
    if m == "aavg":
        return F.adaptive_avg_pool2d(x, case["output_size"]), None
    return F.adaptive_max_pool2d(x, case["output_size"], return_indices=True)


@pytest.mark.parametrize("case", pool_cases(7, n_cases(40)), ids=lambda c: c["mode"])
def test_pool2d_forward_backward(ctx, case):
    m = case["mode"]
    rng = np.random.default_rng(len(str(case)))
    x = rnd(rng, *case["shape"])
    if m == "lp":
        x = np.abs(x) + 0.1  # PyTorch's lp of negative values to odd powers: sign games
    xt = T(x).double().requires_grad_()
    ref, ref_idx = _torch_pool(case, xt)
    win = ["kernel_size", "stride", "padding"]
    if m == "max":
        y, idx = clconv.max_pool2d(x, return_indices=True, **_kw(case, *win, "dilation",
                                                                 "ceil_mode"))
        np.testing.assert_array_equal(y, ref.detach().numpy().astype(np.float32))
        np.testing.assert_array_equal(idx, ref_idx.numpy())
        assert idx.dtype == np.int64
    elif m == "amax":
        y, idx = clconv.adaptive_max_pool2d(x, case["output_size"], return_indices=True)
        np.testing.assert_array_equal(y, ref.detach().numpy().astype(np.float32))
        np.testing.assert_array_equal(idx, ref_idx.numpy())
    elif m == "avg":
        y = clconv.avg_pool2d(x, **_kw(case, *win, "ceil_mode", "count_include_pad",
                                       "divisor_override"))
        k = case["kernel_size"]
        check_close(y, ref.detach(), np.abs(ref.detach().numpy()) + 1e-30, k[0] * k[1], "avg")
    elif m == "lp":
        y = clconv.lp_pool2d(x, case["norm_type"], **_kw(case, "kernel_size", "stride",
                                                         "ceil_mode"))
        k = case["kernel_size"]
        check_close(y, ref.detach(), np.abs(ref.detach().numpy()), 4 * k[0] * k[1], "lp",
                    factor=16.0)
    else:
        y = clconv.adaptive_avg_pool2d(x, case["output_size"])
        check_close(y, ref.detach(), np.abs(ref.detach().numpy()), x.shape[2] * x.shape[3], "aavg")

    dy = rnd(rng, *y.shape)
    ref.backward(T(dy).double())
    dref = xt.grad.numpy()
    if m == "max":
        kw = _kw(case, *win, "dilation", "ceil_mode")
        d1 = clconv.max_pool2d_backward(dy, x.shape, indices=idx, **kw)
        d2 = clconv.max_pool2d_backward(dy, x, **kw)  # argmax recomputed from x
        np.testing.assert_array_equal(d1, d2)
        dx = d1
    elif m == "amax":
        dx = clconv.adaptive_max_pool2d_backward(dy, x.shape, idx)
        np.testing.assert_array_equal(dx, clconv.adaptive_max_pool2d_backward(dy, x))
    elif m == "avg":
        dx = clconv.avg_pool2d_backward(dy, x.shape, **_kw(case, *win, "ceil_mode",
                                                           "count_include_pad",
                                                           "divisor_override"))
    elif m == "lp":
        dx = clconv.lp_pool2d_backward(dy, x, case["norm_type"],
                                       **_kw(case, "kernel_size", "stride", "ceil_mode"))
    else:
        dx = clconv.adaptive_avg_pool2d_backward(dy, x.shape)
    # each input cell sums at most (windows covering it) shares
    check_close(dx, dref, np.abs(dref) + np.abs(dy).max(), 64, "%s backward" % m, factor=16.0)


# ---------------------------------------------------------------------------
# fused activations (conv2d, conv1d, conv_transpose2d / 1d)
# ---------------------------------------------------------------------------

ACTIVATIONS = [
    ("relu", (), F.relu), ("relu6", (), F.relu6),
    (("hardtanh", -0.5, 2.0), (), lambda t: F.hardtanh(t, -0.5, 2.0)),
    ("leaky_relu", (), F.leaky_relu),
    (("leaky_relu", 0.2), (), lambda t: F.leaky_relu(t, 0.2)),
    (("elu", 0.7), (), lambda t: F.elu(t, 0.7)), ("sigmoid", (), torch.sigmoid),
    ("tanh", (), torch.tanh), ("silu", (), F.silu), ("hardsigmoid", (), F.hardsigmoid),
    ("hardswish", (), F.hardswish), ("gelu", (), F.gelu),
    ("gelu_tanh", (), lambda t: F.gelu(t, approximate="tanh")), ("mish", (), F.mish),
]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: str(a[0]))
def test_fused_activation(ctx, act):
    spec, _, fn = act
    rng = np.random.default_rng(7)
    x = rnd(rng, 2, 3, 7, 9) * 3
    wt = rnd(rng, 4, 3, 3, 3)
    b = rnd(rng, 4)
    ref = fn(F.conv2d(T(x).double(), T(wt).double(), T(b).double(), 1, 1)).numpy()
    scale = np.maximum(F.conv2d(T(np.abs(x)).double(), T(np.abs(wt)).double(),
                                T(np.abs(b)).double(), 1, 1).numpy(), np.abs(ref))
    y = clconv.conv2d(x, wt, b, 1, 1, activation=spec)
    check_close(y, ref, scale, 27, "conv2d %s" % (spec,), factor=8.0)
    # conv1d and the transposed convolutions through the same epilogue
    y1 = clconv.conv1d(x[:, :, 0], wt[:, :, 0], b, 1, 1, activation=spec)
    r1 = fn(F.conv1d(T(x[:, :, 0]).double(), T(wt[:, :, 0]).double(), T(b).double(), 1,
                     1)).numpy()
    s1 = np.maximum(F.conv1d(T(np.abs(x[:, :, 0])).double(), T(np.abs(wt[:, :, 0])).double(),
                             T(np.abs(b)).double(), 1, 1).numpy(), np.abs(r1))
    check_close(y1, r1, s1, 9, "conv1d %s" % (spec,), factor=8.0)
    wt_t = rnd(rng, 3, 4, 3, 3)
    yt = clconv.conv_transpose2d(x, wt_t, b, 2, 1, 1, activation=spec)
    rt = fn(F.conv_transpose2d(T(x).double(), T(wt_t).double(), T(b).double(), 2, 1,
                               1)).numpy()
    st = np.maximum(F.conv_transpose2d(T(np.abs(x)).double(), T(np.abs(wt_t)).double(),
                                       T(np.abs(b)).double(), 2, 1, 1).numpy(), np.abs(rt))
    check_close(yt, rt, st, 27, "conv_transpose2d %s" % (spec,), factor=8.0)


def test_fused_activation_bad_input(ctx):
    x = np.zeros((1, 1, 3, 3), np.float32)
    w = np.zeros((1, 1, 1, 1), np.float32)
    with pytest.raises(clconv.Error, match="softsign"):
        clconv.conv2d(x, w, activation="softsign")
    with pytest.raises(clconv.Error, match="min_val <= max_val"):
        clconv.conv2d(x, w, activation=("hardtanh", 2.0, 1.0))
    with pytest.raises(clconv.Error, match="negative_slope"):
        clconv.conv2d(x, w, activation=("leaky_relu", float("nan")))
    with pytest.raises(clconv.Error, match="give one of them"):
        clconv.conv2d(x, w, relu=True, activation="silu")
    with pytest.raises(clconv.Error, match="at most 2 parameters"):
        clconv.conv2d(x, w, activation=("hardtanh", 1, 2, 3))


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: str(a[0]))
def test_activation_elementwise_and_backward(ctx, act):
    spec, _, fn = act
    rng = np.random.default_rng(11)
    x = (rnd(rng, 2, 3, 5, 7) * 6).astype(np.float32)
    xt = T(x).double().requires_grad_()
    yt = fn(xt)
    dy = rnd(rng, *x.shape)
    yt.backward(T(dy).double())
    y = clconv.activation(x, spec)
    check_close(y, yt.detach().numpy(), np.maximum(np.abs(yt.detach().numpy()), 1), 1,
                "activation %s" % (spec,), factor=8.0)
    saved = y if clconv.activation_backward_source(spec) == "output" else x
    dx = clconv.activation_backward(saved, dy, spec)
    g = xt.grad.numpy()
    check_close(dx, g, np.maximum(np.abs(g), np.abs(dy)) * np.maximum(1, np.abs(x)), 1,
                "activation_backward %s" % (spec,), factor=16.0)


def test_activation_backward_source():
    assert clconv.activation_backward_source("relu") == "output"
    assert clconv.activation_backward_source("silu") == "input"
    assert clconv.activation_backward_source(("leaky_relu", 0.1)) == "output"
    assert clconv.activation_backward_source(("leaky_relu", -0.1)) == "input"
    with pytest.raises(clconv.Error, match="unknown"):
        clconv.activation_backward_source("softsign")


@pytest.mark.parametrize("transposed,groups", [(False, 1), (False, 2), (True, 1)])
def test_fold_batchnorm_matches_pytorch(transposed, groups):
    from torch.nn.utils.fusion import fuse_conv_bn_weights
    rng = np.random.default_rng(5)
    shape = (4, 6 // groups, 3, 3) if transposed else (6, 4 // groups, 3, 3)
    w = rnd(rng, *shape)
    b = rnd(rng, 6)
    mean, var = rnd(rng, 6), (np.abs(rnd(rng, 6)) + 0.1).astype(np.float32)
    gamma, beta = rnd(rng, 6), rnd(rng, 6)
    wf, bf = clconv.fold_batchnorm(w, b, mean, var, gamma, beta, 1e-5, transposed=transposed,
                                   groups=groups)
    tw, tb = fuse_conv_bn_weights(T(w).double(), T(b).double(), T(mean).double(),
                                  T(var).double(), 1e-5, T(gamma).double(), T(beta).double(),
                                  transpose=transposed)
    np.testing.assert_allclose(wf, tw.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(bf, tb.detach().numpy(), rtol=1e-6, atol=1e-7)
    with pytest.raises(clconv.Error, match="var"):
        clconv.fold_batchnorm(w, b, mean, -var, transposed=transposed, groups=groups)
