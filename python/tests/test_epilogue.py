"""The fused epilogue through clconv.functional: residual= with alpha= /
beta= and return_pre_activation= on conv2d, conv1d, conv_transpose2d and
conv_transpose1d against PyTorch in double, every input kind, the plan
cache, the in-place form (a host residual becomes y's buffer) on every
algorithm, and bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import clconv
from util import check_close

T = torch.from_numpy


def rnd(rng, *shape):
    return rng.uniform(-1, 1, shape).astype(np.float32)


def d(a):
    return None if a is None else T(np.ascontiguousarray(a)).double()


ACTS = {
    None: lambda t: t, "relu": F.relu, "silu": F.silu, "tanh": torch.tanh,
    ("leaky_relu", 0.2): lambda t: F.leaky_relu(t, 0.2), "gelu": F.gelu,
    ("hardtanh", -0.5, 2.0): lambda t: F.hardtanh(t, -0.5, 2.0), "sigmoid": torch.sigmoid,
}

# op: (clconv function, PyTorch's, bias broadcast, x shape, w shape, args, terms per output)
OPS = {
    "conv2d": (clconv.conv2d, F.conv2d, (slice(None), None, None), (2, 3, 6, 7), (4, 3, 3, 3),
               (1, 1), 27),
    "conv2d-s2g": (clconv.conv2d, F.conv2d, (slice(None), None, None), (1, 4, 7, 6),
                   (6, 2, 3, 2), (2, (1, 0), 1, 2), 12),
    "conv1d": (clconv.conv1d, F.conv1d, (slice(None), None), (2, 3, 11), (5, 3, 3), (2, 1), 9),
    "conv_transpose2d": (clconv.conv_transpose2d, F.conv_transpose2d,
                         (slice(None), None, None), (2, 3, 4, 5), (3, 4, 3, 3), (2, 1, 1), 27),
    "conv_transpose1d": (clconv.conv_transpose1d, F.conv_transpose1d, (slice(None), None),
                         (2, 4, 6), (4, 3, 4), (2, 1, 1), 16),
}


def reference(op, x, w, b, z, alpha, beta, act):
    """(s, y, scale): s = alpha * conv + beta * z + bias and y = act(s) in
    double; scale the same on absolute values (the bound's scale)."""
    _, tf, bi, _, _, args, _ = OPS[op]
    s = alpha * tf(d(x), d(w), None, *args)
    scale = abs(alpha) * tf(d(np.abs(x)), d(np.abs(w)), None, *args)
    if z is not None:
        s, scale = s + beta * d(z), scale + abs(beta) * d(np.abs(z))
    if b is not None:
        s, scale = s + d(b)[bi], scale + d(np.abs(b))[bi]
    return s.numpy(), ACTS[act](s).numpy(), scale.numpy()


CASES = [  # (op, activation, alpha, beta, residual?, pre?)
    ("conv2d", "relu", 1.0, 1.0, True, True), ("conv2d", None, 0.5, -2.0, True, True),
    ("conv2d", "silu", 2.0, 0.25, True, False), ("conv2d", ("leaky_relu", 0.2), 1.0, 0.0, True,
                                                 True),
    ("conv2d", "tanh", 1.0, 1.0, False, True), ("conv2d-s2g", "gelu", -1.5, 3.0, True, True),
    ("conv1d", "relu", 1.0, 1.0, True, False), ("conv1d", "sigmoid", 0.75, -1.0, True, True),
    ("conv1d", None, 1.0, 1.0, False, True),
    ("conv_transpose2d", "relu", 1.0, 1.0, True, True),
    ("conv_transpose2d", ("hardtanh", -0.5, 2.0), 3.0, 0.5, True, False),
    ("conv_transpose2d", "silu", 1.0, 1.0, False, True),
    ("conv_transpose1d", "tanh", -0.5, 2.0, True, True),
    ("conv_transpose1d", "relu", 1.0, 1.0, True, False),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "%s-%s-a%g-b%g%s%s" % (
    c[0], c[1], c[2], c[3], "-z" if c[4] else "", "-pre" if c[5] else ""))
def test_epilogue_against_pytorch(ctx, case):
    op, act, alpha, beta, has_z, want_pre = case
    fn, _, _, xs, ws, args, k = OPS[op]
    rng = np.random.default_rng(len(str(case)))
    x, w = rnd(rng, *xs) * 2, rnd(rng, *ws)
    b = rnd(rng, ws[1] if "transpose" in op else ws[0])
    y0 = fn(x, w, b, *args)  # the output's shape
    z = rnd(rng, *y0.shape) * 2 if has_z else None
    z_before = None if z is None else z.copy()
    kw = dict(activation=act, return_pre_activation=want_pre)
    if has_z:
        kw.update(residual=z, alpha=alpha, beta=beta)
    got = fn(x, w, b, *args, **kw)
    y, pre = got if want_pre else (got, None)
    s_ref, y_ref, scale = reference(op, x, w, b, z, alpha, beta, act)
    what = "%s %s alpha=%g beta=%g" % (op, act, alpha, beta)
    check_close(y, y_ref, np.maximum(scale, np.abs(y_ref)), k + 2, what, factor=8.0)
    if want_pre:
        assert isinstance(pre, np.ndarray) and pre.shape == y.shape
        check_close(pre, s_ref, scale, k + 2, what + " pre")
        if act is None:
            np.testing.assert_array_equal(y, pre)
        elif act == "relu":  # the same float s, activated in the kernel
            np.testing.assert_array_equal(y, np.maximum(pre, 0))
    if z is not None:
        np.testing.assert_array_equal(z, z_before)  # the caller's array is never written


def _sample():
    rng = np.random.default_rng(3)
    x, w, b = rnd(rng, 2, 4, 6, 6), rnd(rng, 4, 4, 3, 3), rnd(rng, 4)
    z = rnd(rng, 2, 4, 6, 6)
    s, y, scale = reference("conv2d", x, w, b, z, 1.5, -0.5, "relu")
    return x, w, b, z, s, y, scale


def test_input_kinds(ctx):
    """NumPy, torch tensors, DeviceArrays (the residual left as it is,
    results on the device), mixed kinds, and an unbatched input."""
    x, w, b, z, s, y_ref, scale = _sample()
    kw = dict(padding=1, relu=True, alpha=1.5, beta=-0.5, return_pre_activation=True)

    def check(y, pre, what):
        check_close(y, y_ref, np.maximum(scale, np.abs(y_ref)), 38, what, factor=8.0)
        check_close(pre, s, scale, 38, what + " pre")
    y, pre = clconv.conv2d(x, w, b, residual=z, **kw)
    check(y, pre, "numpy")
    y, pre = clconv.conv2d(T(x), T(w), T(b), residual=T(z), **kw)
    assert isinstance(y, np.ndarray)
    check(y, pre, "torch")
    xd, zd = ctx.to_device(x), ctx.to_device(z)
    y, pre = clconv.conv2d(xd, w, b, residual=zd, **kw)
    assert isinstance(y, clconv.DeviceArray) and isinstance(pre, clconv.DeviceArray)
    assert y.mem != zd.mem
    check(y.numpy(), pre.numpy(), "device")
    np.testing.assert_array_equal(zd.numpy(), z)  # a device residual is not overwritten
    y, pre = clconv.conv2d(x, w, b, residual=zd, **kw)  # the residual picks the context
    check(y, pre, "numpy input, device residual")
    y, pre = clconv.conv2d(xd, w, b, residual=z, **kw)  # host residual: y's buffer, in place
    check(y.numpy(), pre.numpy(), "device input, host residual")
    # a 1-D view of a device residual (reshape shares the buffer)
    y, pre = clconv.conv2d(xd, w, b, residual=ctx.to_device(z.ravel()).reshape(z.shape), **kw)
    check(y.numpy(), pre.numpy(), "reshaped residual")
    # unbatched: (C, H, W) input and residual
    y1, pre1 = clconv.conv2d(x[1], w, b, residual=z[1], **kw)
    assert y1.shape == y_ref.shape[1:]
    check_close(y1, y_ref[1], np.maximum(scale[1], np.abs(y_ref[1])), 38, "unbatched",
                factor=8.0)
    check_close(pre1, s[1], scale[1], 38, "unbatched pre")
    x1 = rnd(np.random.default_rng(1), 4, 9)
    z1 = rnd(np.random.default_rng(2), 2, 7)
    w1 = w[:2, :, 0]
    y1 = clconv.conv1d(x1, w1, None, residual=z1, beta=2.0)
    ref = F.conv1d(d(x1)[None], d(w1))[0] + 2 * d(z1)
    check_close(y1, ref.numpy(), np.abs(ref.numpy()) + 2, 14, "unbatched conv1d")


def test_residual_is_the_input(ctx):
    """y = act(conv(x) + x) with x one device buffer: clconv refuses z = x,
    so the binding copies it; the input is not changed."""
    x, w, b, _, _, _, _ = _sample()
    xd = ctx.to_device(x)
    y = clconv.conv2d(xd, w, b, padding=1, residual=xd, activation="silu")
    ref = F.silu(F.conv2d(d(x), d(w), d(b), padding=1) + d(x)).numpy()
    scale = np.maximum(np.abs(ref), F.conv2d(d(np.abs(x)), d(np.abs(w)), d(np.abs(b)),
                                             padding=1).numpy() + np.abs(x))
    check_close(y.numpy(), ref, scale, 38, "z = x", factor=8.0)
    np.testing.assert_array_equal(xd.numpy(), x)
    # the bias buffer as the residual of a 1x1x1 output
    one = ctx.to_device(np.array([0.5], np.float32))
    y = clconv.conv1d(np.ones((1, 1, 1), np.float32), np.full((1, 1, 1), 2, np.float32), one,
                      residual=one.reshape(1, 1, 1))
    np.testing.assert_array_equal(y, [[[3.0]]])
    np.testing.assert_array_equal(one.numpy(), [0.5])


def test_plan_cache_keys_the_epilogue(ctx):
    """One plan per epilogue (residual, pre output; alpha and beta are in
    the key too), reused on repeated calls, each computing its own result."""
    c = clconv.Context()
    try:
        rng = np.random.default_rng(9)
        x, w, z = rnd(rng, 1, 2, 5, 5), rnd(rng, 3, 2, 3, 3), rnd(rng, 1, 3, 3, 3)
        conv = F.conv2d(d(x), d(w)).numpy()
        variants = [({}, conv), (dict(residual=z), conv + z),
                    (dict(residual=z, alpha=2.0), 2 * conv + z),
                    (dict(residual=z, beta=-1.0), conv - z),
                    (dict(residual=z, return_pre_activation=True), conv + z)]
        for rep in range(2):
            for i, (kw, ref) in enumerate(variants):
                y = clconv.conv2d(x, w, context=c, **kw)
                if kw.get("return_pre_activation"):
                    y = y[0]
                check_close(y, ref, np.abs(ref) + 3, 20, "variant %d" % i)
                assert c.plan_count == (i + 1 if rep == 0 else len(variants))
        keys = {p.key for p in c.plans()}
        assert len(keys) == len(variants)
    finally:
        c.close()


CONV2D_ALGOS = ["direct-tiled", "direct-register", "gemm", "direct-vector", "winograd",
                "direct-pointwise", "direct-depthwise"]
CT_ALGOS = ["transposed-gather", "transposed-gemm", "transposed-vector", "transposed-columns"]


def test_every_algorithm_in_place_and_not(ctx):
    """Each algorithm that takes the case, with a host residual (written over
    in y's own buffer: z = y) and a device one (z != y), and the pre output."""
    rng = np.random.default_rng(12)
    ran = []
    for algo in CONV2D_ALGOS + CT_ALGOS:
        transposed = algo in CT_ALGOS
        if algo == "direct-pointwise":
            x, w = rnd(rng, 2, 4, 5, 6), rnd(rng, 3, 4, 1, 1)
            args, k = (1, 0), 4
        elif algo == "direct-depthwise":
            x, w = rnd(rng, 2, 4, 5, 6), rnd(rng, 4, 1, 3, 3)
            args, k = (1, 1, 1, 4), 9
        elif transposed:
            x, w = rnd(rng, 2, 4, 4, 5), rnd(rng, 4, 3, 3, 3)
            args, k = (2, 1, 1), 36
        else:
            x, w = rnd(rng, 2, 4, 6, 6), rnd(rng, 3, 4, 3, 3)
            args, k = (1, 1), 36
        fn, tf = (clconv.conv_transpose2d, F.conv_transpose2d) if transposed else \
            (clconv.conv2d, F.conv2d)
        cout = w.shape[1] if transposed else w.shape[0]
        b = rnd(rng, cout)
        conv = tf(d(x), d(w), None, *args).numpy()
        z = rnd(rng, *conv.shape)
        s = 0.5 * conv + 2.0 * z + b[None, :, None, None]
        scale = 0.5 * tf(d(np.abs(x)), d(np.abs(w)), None, *args).numpy() + 2 * np.abs(z) + \
            np.abs(b)[None, :, None, None]
        kw = dict(residual=z, alpha=0.5, beta=2.0, activation=("leaky_relu", 0.1),
                  return_pre_activation=True, algorithm=algo)
        try:
            y, pre = fn(x, w, b, *args, **kw)
        except clconv.Error as e:
            if e.status == clconv.UNSUPPORTED:
                continue
            raise
        ran.append(algo)
        ref = np.where(s > 0, s, 0.1 * s)
        for name, (yy, pp) in [("host z", (y, pre)),
                               ("device z", [a.numpy() for a in fn(
                                   ctx.to_device(x), w, b, *args,
                                   **dict(kw, residual=ctx.to_device(z)))])]:
            check_close(pp, s, scale, k + 2, "%s %s pre" % (algo, name))
            check_close(yy, ref, scale, k + 2, "%s %s" % (algo, name))
    assert {"direct-tiled", "gemm", "transposed-gather"} <= set(ran), ran
    assert len(ran) >= 8, ran


def test_bad_input(ctx):
    x = np.zeros((1, 2, 5, 5), np.float32)
    w = np.zeros((3, 2, 3, 3), np.float32)
    z = np.zeros((1, 3, 3, 3), np.float32)
    with pytest.raises(clconv.Error, match=r"residual has shape \(1, 3, 5, 5\), expected the "
                       r"output's shape \(1, 3, 3, 3\)") as e:
        clconv.conv2d(x, w, residual=np.zeros((1, 3, 5, 5), np.float32))
    assert e.value.status == clconv.INVALID_SHAPE
    with pytest.raises(clconv.Error, match=r"\(3, 3, 3\).*\(1, 3, 3, 3\)"):
        clconv.conv2d(x, w, residual=z[0])  # the batch dimension is not broadcast
    with pytest.raises(clconv.Error, match=r"residual has shape \(1, 3, 9\), expected the "
                       r"output's shape \(1, 3, 3\)"):
        clconv.conv1d(x[:, :, 0], w[:, :, 0], residual=np.zeros((1, 3, 9), np.float32))
    with pytest.raises(clconv.Error, match=r"\(1, 2, 7, 7\).*\(1, 3, 7, 7\)"):
        clconv.conv_transpose2d(x, w.transpose(1, 0, 2, 3).copy(),
                                residual=np.zeros((1, 2, 7, 7), np.float32))
    with pytest.raises(clconv.Error, match=r"residual has shape \(2, 3, 7\)"):
        clconv.conv_transpose1d(x[:, :, 0], w.transpose(1, 0, 2, 3)[:, :, 0].copy(),
                                residual=np.zeros((2, 3, 7), np.float32))
    with pytest.raises(clconv.Error, match=r"alpha = 2.0, beta = 1.0 without residual") as e:
        clconv.conv2d(x, w, alpha=2.0)
    assert e.value.status == clconv.INVALID_VALUE
    for fn, xx, ww in [(clconv.conv1d, x[:, :, 0], w[:, :, 0]),
                       (clconv.conv_transpose2d, x, w.transpose(1, 0, 2, 3).copy())]:
        with pytest.raises(clconv.Error, match=r"beta = 0.5 without residual"):
            fn(xx, ww, beta=0.5)
    with pytest.raises(clconv.Error, match=r"alpha = '2', expected a number"):
        clconv.conv2d(x, w, residual=z, alpha="2")
    with pytest.raises(clconv.Error, match="residual has dtype float64"):
        clconv.conv2d(x, w, residual=z.astype(np.float64))
    with pytest.raises(clconv.Error, match="alpha"):  # the library: both weights 0
        clconv.conv2d(x, w, residual=z, alpha=0.0, beta=0.0)
    with pytest.raises(clconv.Error, match="alpha"):  # the library: non-finite
        clconv.conv2d(x, w, residual=z, alpha=float("inf"))
    other = clconv.Context()
    try:
        with pytest.raises(clconv.Error, match="residual lives on another"):
            clconv.conv2d(ctx.to_device(x), w, residual=other.to_device(z))
    finally:
        other.close()


@pytest.mark.parametrize("spec", ["relu", "silu", ("elu", 0.7), None])
def test_activation_backward_scale(ctx, spec):
    """activation_backward(scale=): (scale * dy) * act'(v), the epilogue's
    alpha * g and beta * g."""
    rng = np.random.default_rng(4)
    v = rnd(rng, 2, 3, 4, 5) * 4
    dy = rnd(rng, 2, 3, 4, 5)
    vt = d(v).requires_grad_()
    fn = {"relu": F.relu, "silu": F.silu, None: lambda t: t}.get(spec, lambda t: F.elu(t, 0.7))
    fn(vt).backward(d(dy))
    saved = v if spec is None or clconv.activation_backward_source(spec) == "input" else \
        clconv.activation(v, spec)
    for scale in (1.0, -2.5, 0.0):
        got = clconv.activation_backward(saved, dy, spec, scale=scale)
        ref = scale * vt.grad.numpy()
        check_close(got, ref, np.abs(ref) + abs(scale) * np.abs(dy), 2,
                    "%s scale %g" % (spec, scale), factor=8.0)
    with pytest.raises(clconv.Error, match="scale"):
        clconv.activation_backward(saved, dy, spec, scale=float("nan"))
