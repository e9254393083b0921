"""float16: clconv's F16 storage (IEEE half tensors, float32 arithmetic,
each result rounded once to half) from NumPy, DeviceArray and torch.

References: PyTorch in float64 on the half inputs widened exactly, the
definition include/clconv.h's accuracy statement uses. Bound (the header's):
|got - ref| <= the F32 bound, 1e-6 + 4 sqrt(K + 1) eps32 * scale (K the
reduction length, scale the same computation on absolute values, as
util.check_close), + one half ulp of the result, |ref| * 2^-11 (at least
2^-25). Max pooling's values and indices are exact. The shapes are few and
shared, so that a cold run compiles few kernels."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import clconv
import clconv.torch as ct

T = torch.from_numpy
EPS = float(np.finfo(np.float32).eps)


def half(rng, *shape):
    return rng.uniform(-1, 1, shape).astype(np.float16)


def d64(a):
    """A float16 array or tensor as a float64 tensor (exact)."""
    if isinstance(a, torch.Tensor):
        return a.detach().double()
    return T(np.asarray(a, np.float64))


def check_half(got, ref, scale, k, what):
    """got: clconv's float16 result; ref, scale: float64 (arrays or tensors)."""
    got = got.detach().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    assert got.dtype == np.float16, "%s: dtype %s, expected float16" % (what, got.dtype)
    got = got.astype(np.float64)
    ref = np.asarray(ref.detach() if isinstance(ref, torch.Tensor) else ref, np.float64)
    scale = np.asarray(scale.detach() if isinstance(scale, torch.Tensor) else scale, np.float64)
    assert got.shape == ref.shape, "%s: shape %r, expected %r" % (what, got.shape, ref.shape)
    bound = 1e-6 + 4 * np.sqrt(k + 1) * EPS * scale + np.maximum(np.abs(ref) * 2.0 ** -11,
                                                                  2.0 ** -25)
    err = np.abs(got - ref)
    bad = err > bound
    if bad.any():
        i = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError("%s: %d of %d outside the bound; worst at %r: got %.9g, expected "
                             "%.9g, bound %.3g" % (what, bad.sum(), bad.size, i, got[i], ref[i],
                                                   bound[i]))


# One convolution geometry for the functional and the torch tests (their plans are shared).
N, CI, CO, H, K = 2, 4, 6, 7, 3


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(16)
    return dict(x=half(rng, N, CI, H, H), w=half(rng, CO, CI, K, K), b=half(rng, CO),
                z=half(rng, N, CO, H, H), dy=half(rng, N, CO, H, H),
                wt=half(rng, CI, 3, K, K), zt=half(rng, N, 3, 2 * H, 2 * H),
                x1=half(rng, N, CI, 9), w1=half(rng, 5, CI, 3), b1=half(rng, 5))


def test_conv2d(ctx, data):
    """The whole epilogue, act(alpha * conv + beta * z + b) and its input,
    all halves (the plain convolution is checked through the torch tests)."""
    x, w, b, z = data["x"], data["w"], data["b"], data["z"]
    kred = CI * K * K
    y, pre = clconv.conv2d(x, w, b, padding=1, activation="silu", residual=z, alpha=0.5,
                           beta=2.0, return_pre_activation=True)
    assert isinstance(y, np.ndarray) and y.shape == (N, CO, H, H)
    assert y.dtype == pre.dtype == np.float16
    pre_ref = 0.5 * F.conv2d(d64(x), d64(w), padding=1) + 2 * d64(z) + d64(b)[:, None, None]
    pre_scale = 0.5 * F.conv2d(d64(x).abs(), d64(w).abs(), padding=1) + 2 * d64(z).abs() + \
        d64(b).abs()[:, None, None]
    check_half(pre, pre_ref, pre_scale, kred + 2, "conv2d pre")
    check_half(y, F.silu(pre_ref), pre_scale, kred + 2, "conv2d silu")
    # unbatched (C, H, W), torch tensors in, NumPy out
    yu, preu = clconv.conv2d(T(x[0]), T(w), T(b), padding=1, activation="silu", residual=T(z[0]),
                             alpha=0.5, beta=2.0, return_pre_activation=True)
    check_half(preu, pre_ref[0], pre_scale[0], kred + 2, "conv2d unbatched pre")


def test_conv1d(ctx, data):
    x, w, b = data["x1"], data["w1"], data["b1"]
    y = clconv.conv1d(x, w, b, stride=2, padding=1)
    assert y.dtype == np.float16 and y.shape == (N, 5, 5)
    ref = F.conv1d(d64(x), d64(w), d64(b), stride=2, padding=1)
    scale = F.conv1d(d64(x).abs(), d64(w).abs(), d64(b).abs(), stride=2, padding=1)
    check_half(y, ref, scale, CI * 3, "conv1d")


def test_pooling(ctx, data):
    x = data["x"]
    y, idx = clconv.max_pool2d(x, 3, 2, 1, return_indices=True)
    ry, ridx = F.max_pool2d(d64(x), 3, 2, 1, return_indices=True)
    assert y.dtype == np.float16 and idx.dtype == np.int64
    np.testing.assert_array_equal(y, ry.numpy().astype(np.float16))  # exact
    np.testing.assert_array_equal(idx, ridx.numpy())
    a = clconv.avg_pool2d(x, 3, 2, 1)
    check_half(a, F.avg_pool2d(d64(x), 3, 2, 1), F.avg_pool2d(d64(x).abs(), 3, 2, 1), 9,
               "avg_pool2d")
    # backward passes, grad_output halves: dx halves
    dy = half(np.random.default_rng(3), *y.shape)
    for name, got, fn in [
            ("max_pool2d_backward", clconv.max_pool2d_backward(dy, x.shape, 3, 2, 1, indices=idx),
             lambda t: F.max_pool2d(t, 3, 2, 1)),
            ("avg_pool2d_backward", clconv.avg_pool2d_backward(dy, x, 3, 2, 1),
             lambda t: F.avg_pool2d(t, 3, 2, 1))]:
        xs = d64(x).requires_grad_()
        fn(xs).backward(d64(dy))
        xa = d64(x).requires_grad_()
        fn(xa).backward(d64(dy).abs())
        check_half(got, xs.grad, xa.grad, 9, name)


def _torch_ref(fn, ts, gy):
    """(y, grads) of fn in float64 on the widened halves, and the same on |.|."""
    out = []
    for absolute in (False, True):
        a = [d64(t).abs().requires_grad_() if absolute else d64(t).requires_grad_() for t in ts]
        y = fn(*a)
        y.backward(d64(gy).abs() if absolute else d64(gy))
        out.append((y.detach(), [t.grad for t in a]))
    return out


def test_activations(ctx, data):
    # the elementwise activation plans in F16: forward, the scaled backward (from the output
    # or the input, as activation_backward_source says) and relu_backward, against PyTorch
    # in float64 on the widened halves (a reduction length of 1)
    x = data["z"]
    g = data["dy"]
    xt = d64(x).requires_grad_(True)
    for name, f in (("silu", F.silu), ("relu", F.relu), ("gelu", F.gelu), ("tanh", torch.tanh)):
        y = clconv.activation(x, name, context=ctx)
        ref = f(xt)
        check_half(y, ref, ref.abs(), 1, "activation %s" % name)
        from_output = clconv.activation_backward_source(name) == "output"
        saved = y if from_output else x
        dx = clconv.activation_backward(saved, g, name, scale=0.5, context=ctx)
        if from_output:  # PyTorch's backward forms on the saved (half) output
            y64 = d64(y)
            gref = 0.5 * d64(g) * ((y64 > 0).double() if name == "relu" else 1 - y64 * y64)
        else:
            (gref,) = torch.autograd.grad(ref, xt, 0.5 * d64(g))
        check_half(dx, gref, gref.abs(), 1, "activation_backward %s" % name)
    y = clconv.activation(x, "relu", context=ctx)
    dx = clconv.relu_backward(y, g, context=ctx)
    assert dx.dtype == np.float16
    np.testing.assert_array_equal(dx, np.where(y > 0, g, np.float16(0)))


def test_torch_conv2d_autograd(ctx, data):
    """Forward and backward in float16 (clconv's F16 backward passes); the
    ReLU's gradient (dy where y > 0) is exact in half."""
    ts = [T(data[k]).clone().requires_grad_() for k in ("x", "w", "b", "z")]
    y = ct.conv2d(*ts[:3], padding=1, activation="relu", residual=ts[3])
    assert y.dtype == torch.float16
    y.backward(T(data["dy"]))
    (ry, rg), (sy, sg) = _torch_ref(
        lambda x, w, b, z: F.relu(F.conv2d(x, w, b, padding=1) + z), ts, T(data["dy"]))
    check_half(y, ry, sy, CI * K * K + 1, "ct.conv2d")
    n_red = N * H * H
    for t, r, s, k, name in zip(ts, rg, sg, (CO * K * K, n_red, n_red, 1),
                                ("dx", "dw", "db", "dz")):
        assert t.grad.dtype == torch.float16, name
        check_half(t.grad, r, s, k, "ct.conv2d " + name)


def test_torch_conv_transpose2d_autograd(ctx, data):
    """conv_transpose2d with a residual, forward and backward in float16 (its
    gradients: a conv2d and a conv2d weight gradient, both F16)."""
    ts = [T(data[k]).clone().requires_grad_() for k in ("x", "wt")] + \
        [T(data["b"][:3]).clone().requires_grad_(), T(data["zt"]).clone().requires_grad_()]
    y = ct.conv_transpose2d(*ts[:3], stride=2, padding=1, output_padding=1, residual=ts[3])
    assert y.dtype == torch.float16 and y.shape == (N, 3, 2 * H, 2 * H)
    gy = T(half(np.random.default_rng(5), N, 3, 2 * H, 2 * H))
    y.backward(gy)
    (ry, rg), (sy, sg) = _torch_ref(
        lambda x, w, b, z: F.conv_transpose2d(x, w, b, 2, 1, 1) + z, ts, gy)
    check_half(y, ry, sy, CI * K * K + 1, "ct.conv_transpose2d")
    n_red = N * (2 * H) ** 2
    for t, r, s, k, name in zip(ts, rg, sg, (3 * K * K, N * H * H, n_red, 1),
                                ("dx", "dw", "db", "dz")):
        assert t.grad.dtype == torch.float16, name
        check_half(t.grad, r, s, k, "ct.conv_transpose2d " + name)


def test_torch_modules(ctx, data):
    """A half model converted to clconv layers (the geometry of the tests
    above, so their plans serve): forward and backward in float16."""
    torch.manual_seed(0)
    conv, pool = nn.Conv2d(CI, CO, K, padding=1).half(), nn.MaxPool2d(3, 2, 1)
    cconv = ct.Conv2d.from_module(conv, relu=True)
    cpool = ct.convert(pool)
    assert isinstance(cpool, ct.MaxPool2d) and cconv.weight.dtype == torch.float16
    x = T(data["x"]).clone().requires_grad_()
    z = T(data["z"]).clone().requires_grad_()
    y = cpool(cconv(x, residual=z))
    assert y.dtype == torch.float16
    y.float().square().sum().backward()
    for t in (cconv.weight, cconv.bias, x, z):
        assert t.grad is not None and t.grad.dtype == torch.float16
        assert torch.isfinite(t.grad.float()).all()
    # against float64 of the same modules, within a loose half tolerance (the
    # convolution's result is rounded to half before the pooling)
    with torch.no_grad():
        r = pool(F.relu(conv.double()(d64(x)) + d64(z)))
    np.testing.assert_allclose(y.detach().float().numpy(), r.numpy(), rtol=1e-2, atol=1e-2)


def test_device_array(ctx, data):
    specials = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 2.0 ** -24, -2.0 ** -14,
                         np.inf, -np.inf, np.nan, 0.1], np.float16)
    d = ctx.to_device(specials)
    assert d.dtype == np.float16 and d.nbytes == 2 * specials.size
    np.testing.assert_array_equal(d.numpy().view(np.uint16), specials.view(np.uint16))
    np.testing.assert_array_equal(d.copy().reshape(3, 4).numpy().ravel().view(np.uint16),
                                  specials.view(np.uint16))
    assert clconv.to_device(T(specials)).dtype == np.float16  # a half tensor too
    assert ctx.empty((2, 3), np.float16).numpy().dtype == np.float16
    assert clconv.to_device([1.0, 2.0]).dtype == np.float32  # lists stay float32
    # layers chained on the device in half, as the NumPy path computes them
    xd, zd = ctx.to_device(data["x"]), ctx.to_device(data["z"])
    yd = clconv.conv2d(xd, data["w"], data["b"], padding=1, relu=True, residual=zd)
    assert isinstance(yd, clconv.DeviceArray) and yd.dtype == np.float16
    np.testing.assert_array_equal(yd.numpy(), clconv.conv2d(
        data["x"], data["w"], data["b"], padding=1, relu=True, residual=data["z"]))
    pd = clconv.max_pool2d(yd, 3, 2, 1)
    assert isinstance(pd, clconv.DeviceArray) and pd.dtype == np.float16
    np.testing.assert_array_equal(pd.numpy(), clconv.max_pool2d(yd.numpy(), 3, 2, 1))


def test_errors(ctx, data):
    x, w, b, z = data["x"], data["w"], data["b"], data["z"]
    f32 = lambda a: a.astype(np.float32)  # noqa: E731

    def fails(status, match, fn, *a, **kw):
        with pytest.raises(clconv.Error, match=match) as e:
            fn(*a, **kw)
        assert e.value.status == status, e.value
        return e.value
    # mixed dtypes are refused, as PyTorch refuses them
    with pytest.raises(RuntimeError):
        F.conv2d(T(x), T(f32(w)))
    mixed = "mixed float32 / float16"
    fails(clconv.INVALID_VALUE, "weight has dtype float32, expected float16.*" + mixed,
          clconv.conv2d, x, f32(w))
    fails(clconv.INVALID_VALUE, "weight has dtype float16, expected float32", clconv.conv2d,
          f32(x), w)
    fails(clconv.INVALID_VALUE, "bias has dtype float32", clconv.conv2d, x, w, f32(b))
    fails(clconv.INVALID_VALUE, "residual has dtype float32", clconv.conv2d, x, w, padding=1,
          residual=f32(z))
    fails(clconv.INVALID_VALUE, "weight has dtype float32", clconv.conv2d, ctx.to_device(x),
          ctx.to_device(f32(w)))
    fails(clconv.INVALID_VALUE, "weight has dtype float32", clconv.conv2d_input, x.shape,
          f32(w), data["dy"], padding=1)
    fails(clconv.INVALID_VALUE, "weight has dtype float32", ct.conv2d, T(x), T(f32(w)))
    fails(clconv.INVALID_VALUE, "float64", clconv.conv2d, x.astype(np.float64), w)
    fails(clconv.INVALID_VALUE, "torch.float64", ct.conv2d, T(x).double(), T(w))
    fails(clconv.INVALID_VALUE, "device arrays hold float32, float16 or int64", ctx.empty, (2,),
          np.float64)
    # what the library refuses for F16: CLBlast's GEMM algorithms
    e = fails(clconv.UNSUPPORTED, "gemm", clconv.conv2d, x, w, padding=1, algorithm="gemm")
    assert "f16" in e.message
    fails(clconv.UNSUPPORTED, "transposed-gemm", clconv.conv_transpose2d, x, data["wt"],
          algorithm="transposed-gemm")
    # the activation plans take float16 (clconv_activation_plan_create_dtype); a float32
    # grad_output with float16 saved tensors is a mixed-dtype error
    fails(clconv.INVALID_VALUE, "grad_output has dtype float32", clconv.activation_backward, z,
          z.astype(np.float32), "silu")
