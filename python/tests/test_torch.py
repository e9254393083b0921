"""clconv.torch: autograd functions and layers against PyTorch's own."""
import random

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import clconv
import clconv.torch as ct


def grads_of(fn, inputs, seed=0):
    g = torch.Generator().manual_seed(seed)
    ts = [t.detach().clone().requires_grad_(t.requires_grad) for t in inputs]
    y = fn(*ts)
    y.backward(torch.rand(y.shape, generator=g) * 2 - 1)
    return y.detach(), [t.grad for t in ts if t.requires_grad]


def assert_same_grads(ours, theirs, inputs, rtol=1e-4, atol=1e-4, seed=0):
    y1, g1 = grads_of(ours, inputs, seed)
    y2, g2 = grads_of(theirs, inputs, seed)
    torch.testing.assert_close(y1, y2, rtol=rtol, atol=atol)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("seed", range(6))
def test_conv2d_autograd(ctx, seed):
    r = random.Random(seed)
    torch.manual_seed(seed)
    g = r.choice([1, 2])
    x = torch.randn(2, 2 * g, 7, 6, requires_grad=True)
    w = torch.randn(3 * g, 2, r.randint(1, 3), r.randint(1, 3), requires_grad=True)
    b = torch.randn(3 * g, requires_grad=True) if seed % 3 else None
    kw = dict(stride=r.randint(1, 2), padding=r.randint(0, 1), dilation=r.randint(1, 2), groups=g)
    relu = seed % 2 == 1
    inputs = [x, w] + ([b] if b is not None else [])

    def ours(x, w, *b):
        return ct.conv2d(x, w, b[0] if b else None, relu=relu, **kw)

    def theirs(x, w, *b):
        y = F.conv2d(x, w, b[0] if b else None, **kw)
        return F.relu(y) if relu else y
    assert_same_grads(ours, theirs, inputs)


def test_conv1d_and_transposed_autograd(ctx):
    torch.manual_seed(1)
    x = torch.randn(2, 4, 9, requires_grad=True)
    w = torch.randn(6, 2, 3, requires_grad=True)
    b = torch.randn(6, requires_grad=True)
    assert_same_grads(lambda x, w, b: ct.conv1d(x, w, b, 2, 1, 1, 2),
                      lambda x, w, b: F.conv1d(x, w, b, 2, 1, 1, 2), [x, w, b])
    assert_same_grads(lambda x, w, b: ct.conv1d(x, w, b, padding="same", groups=2),
                      lambda x, w, b: F.conv1d(x, w, b, padding="same", groups=2), [x, w, b])
    x2 = torch.randn(2, 4, 5, 4, requires_grad=True)
    w2 = torch.randn(4, 3, 3, 2, requires_grad=True)
    b2 = torch.randn(3, requires_grad=True)
    for args in [(2, 1, 1, 1, 1), (3, 0, 2, 1, 1), ((1, 2), (1, 0), (0, 1), 1, (2, 1)),
                 (1, 0, 1, 1, 2)]:  # the last: output_padding >= stride (dilation 2)
        assert_same_grads(lambda x, w, b: ct.conv_transpose2d(x, w, b, *args),
                          lambda x, w, b: F.conv_transpose2d(x, w, b, *args), [x2, w2, b2])
    x3 = torch.randn(1, 4, 6, requires_grad=True)
    w3 = torch.randn(4, 1, 3, requires_grad=True)
    assert_same_grads(lambda x, w: ct.conv_transpose1d(x, w, None, 2, 1, 1, 2),
                      lambda x, w: F.conv_transpose1d(x, w, None, 2, 1, 1, 2), [x3, w3])


def test_pool_autograd(ctx):
    torch.manual_seed(2)
    x = torch.randn(2, 3, 9, 8, requires_grad=True)
    xp = (x.abs() + 0.1).detach().requires_grad_()
    cases = [
        (lambda x: ct.max_pool2d(x, 3, 2, 1), lambda x: F.max_pool2d(x, 3, 2, 1)),
        (lambda x: ct.max_pool2d(x, (2, 3), 1, 0, 2, True),
         lambda x: F.max_pool2d(x, (2, 3), 1, 0, 2, True)),
        (lambda x: ct.avg_pool2d(x, 3, 2, 1, True, False),
         lambda x: F.avg_pool2d(x, 3, 2, 1, True, False)),
        (lambda x: ct.avg_pool2d(x, 2, divisor_override=3),
         lambda x: F.avg_pool2d(x, 2, divisor_override=3)),
        (lambda x: ct.adaptive_avg_pool2d(x, (4, 3)), lambda x: F.adaptive_avg_pool2d(x, (4, 3))),
        (lambda x: ct.adaptive_max_pool2d(x, 5), lambda x: F.adaptive_max_pool2d(x, 5)),
    ]
    for ours, theirs in cases:
        assert_same_grads(ours, theirs, [x])
    assert_same_grads(lambda x: ct.lp_pool2d(x, 2, 3, 2), lambda x: F.lp_pool2d(x, 2, 3, 2), [xp])
    # unbatched input (C, H, W), as PyTorch accepts
    x3 = torch.randn(3, 6, 6, requires_grad=True)
    assert_same_grads(lambda x: ct.max_pool2d(x, 2), lambda x: F.max_pool2d(x, 2), [x3])
    assert_same_grads(lambda x: ct.avg_pool2d(x, 2), lambda x: F.avg_pool2d(x, 2), [x3])
    w3 = torch.randn(2, 3, 3, 3, requires_grad=True)
    assert_same_grads(lambda x, w: ct.conv2d(x, w, padding=1), lambda x, w: F.conv2d(x, w, padding=1),
                      [x3, w3])
    wt3 = torch.randn(3, 2, 2, 2, requires_grad=True)
    assert_same_grads(lambda x, w: ct.conv_transpose2d(x, w, stride=2),
                      lambda x, w: F.conv_transpose2d(x, w, stride=2), [x3, wt3])
    x2 = torch.randn(3, 7, requires_grad=True)
    w2 = torch.randn(2, 3, 3, requires_grad=True)
    assert_same_grads(lambda x, w: ct.conv1d(x, w), lambda x, w: F.conv1d(x, w), [x2, w2])
    y, idx = ct.max_pool2d(x, 2, return_indices=True)
    torch.testing.assert_close(idx, F.max_pool2d(x, 2, return_indices=True)[1])


def test_gradcheck(ctx):
    """torch.autograd.gradcheck through the wrappers: double inputs cast to
    float32 around the clconv op (the cast is differentiable), central
    differences with eps large enough for float32."""
    torch.manual_seed(3)
    kw = dict(eps=1e-3, atol=2e-3, rtol=2e-2)
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    f32 = lambda fn: lambda *a: fn(*[t.float() for t in a]).double()  # noqa: E731
    assert torch.autograd.gradcheck(f32(lambda x, w, b: ct.conv2d(x, w, b, 2, 1)), (x, w, b), **kw)
    wt = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        f32(lambda x, w, b: ct.conv_transpose2d(x, w, b, 2, 1, 1)), (x, wt, b), **kw)
    assert torch.autograd.gradcheck(f32(lambda x: ct.max_pool2d(x, 2, 1)), (x,), **kw)
    assert torch.autograd.gradcheck(f32(lambda x: ct.avg_pool2d(x, 3, 2, 1)), (x,), **kw)
    xp = (x.abs() + 0.5).detach().requires_grad_()
    assert torch.autograd.gradcheck(f32(lambda x: ct.lp_pool2d(x, 2, 2)), (xp,), **kw)


def test_modules_from_module_and_convert(ctx):
    torch.manual_seed(4)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 4, 3, stride=2, groups=2, bias=False), nn.AvgPool2d(2, 1),
                          nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1),
                          nn.AdaptiveAvgPool2d((3, 2)))
    x = torch.randn(2, 3, 16, 16)
    ref = model(x)
    swapped = ct.convert(model)
    assert isinstance(swapped[0], ct.Conv2d) and isinstance(swapped[2], ct.MaxPool2d)
    assert isinstance(swapped[5], ct.ConvTranspose2d)
    torch.testing.assert_close(swapped(x), ref, rtol=1e-4, atol=1e-4)
    conv = nn.Conv2d(2, 3, 3)
    mine = ct.Conv2d.from_module(conv, relu=True)
    assert mine.weight is conv.weight and mine.bias is conv.bias
    xi = torch.randn(1, 2, 5, 5)
    torch.testing.assert_close(mine(xi), F.relu(conv(xi)), rtol=1e-5, atol=1e-5)
    c1 = nn.Conv1d(2, 4, 3, padding=1)
    x1 = torch.randn(2, 2, 7)
    torch.testing.assert_close(ct.Conv1d.from_module(c1)(x1), c1(x1), rtol=1e-5, atol=1e-5)
    ctt = nn.ConvTranspose2d(2, 2, 3, stride=2)
    xo = torch.randn(1, 2, 4, 4)
    torch.testing.assert_close(ct.ConvTranspose2d.from_module(ctt)(xo, output_size=(10, 10)),
                               ctt(xo, output_size=(10, 10)), rtol=1e-5, atol=1e-5)
    with pytest.raises(clconv.Error):
        ct.Conv2d.from_module(nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"))


def test_bad_tensors(ctx):
    w = torch.randn(2, 2, 3, 3)
    with pytest.raises(clconv.Error, match="float64"):
        ct.conv2d(torch.randn(1, 2, 5, 5, dtype=torch.float64), w)
    with pytest.raises(clconv.Error, match="weight has dtype float32, expected float16"):
        ct.conv2d(torch.randn(1, 2, 5, 5).half(), w)
    with pytest.raises(clconv.Error) as e:
        ct.conv2d(torch.randn(1, 3, 5, 5), w)
    assert e.value.status == clconv.INVALID_SHAPE


# ---------------------------------------------------------------------------
# the epilogue: residual (alpha, beta) and any activation, with autograd
# ---------------------------------------------------------------------------

EPI_ACTS = {None: lambda t: t, "relu": F.relu, "silu": F.silu, "tanh": torch.tanh,
            ("leaky_relu", 0.2): lambda t: F.leaky_relu(t, 0.2), "gelu": F.gelu}


@pytest.mark.parametrize("spec,alpha,beta", [("relu", 1.0, 1.0), ("silu", 0.5, -2.0),
                                             (None, 2.0, 0.5), (("leaky_relu", 0.2), 1.0, 0.0),
                                             ("gelu", -1.0, 1.5)],
                         ids=["relu", "silu", "none", "leaky", "gelu"])
def test_epilogue_autograd(ctx, spec, alpha, beta):
    """Gradients of act(alpha * conv + beta * z + bias) reach x, w, b and z
    (dz = beta * g), for the four convolutions, against PyTorch's autograd."""
    torch.manual_seed(5)
    act = EPI_ACTS[spec]
    kw = dict(activation=spec, alpha=alpha, beta=beta)
    x = torch.randn(2, 4, 6, 5, requires_grad=True)
    w = torch.randn(6, 2, 3, 3, requires_grad=True)
    b = torch.randn(6, requires_grad=True)
    z = torch.randn(2, 6, 3, 3, requires_grad=True)
    assert_same_grads(
        lambda x, w, b, z: ct.conv2d(x, w, b, 2, 1, 1, 2, residual=z, **kw),
        lambda x, w, b, z: act(alpha * F.conv2d(x, w, None, 2, 1, 1, 2) + beta * z +
                               b[None, :, None, None]), [x, w, b, z])
    x1 = torch.randn(2, 3, 9, requires_grad=True)
    w1 = torch.randn(4, 3, 3, requires_grad=True)
    z1 = torch.randn(2, 4, 9, requires_grad=True)
    assert_same_grads(
        lambda x, w, b, z: ct.conv1d(x, w, b, padding="same", residual=z, **kw),
        lambda x, w, b, z: act(alpha * F.conv1d(x, w, None, padding="same") + beta * z +
                               b[None, :, None]), [x1, w1, b[:4].detach().requires_grad_(), z1])
    xt = torch.randn(2, 4, 3, 4, requires_grad=True)
    wt = torch.randn(4, 3, 3, 2, requires_grad=True)
    zt = torch.randn(2, 3, 6, 7, requires_grad=True)
    assert_same_grads(
        lambda x, w, b, z: ct.conv_transpose2d(x, w, b, 2, 1, 1, residual=z, **kw),
        lambda x, w, b, z: act(alpha * F.conv_transpose2d(x, w, None, 2, 1, 1) + beta * z +
                               b[None, :, None, None]),
        [xt, wt, b[:3].detach().requires_grad_(), zt])
    xt1 = torch.randn(1, 4, 5, requires_grad=True)
    wt1 = torch.randn(4, 2, 3, requires_grad=True)
    zt1 = torch.randn(1, 2, 11, requires_grad=True)
    assert_same_grads(
        lambda x, w, z: ct.conv_transpose1d(x, w, None, 2, residual=z, **kw),
        lambda x, w, z: act(alpha * F.conv_transpose1d(x, w, None, 2) + beta * z),
        [xt1, wt1, zt1])


def test_epilogue_autograd_partial_and_unbatched(ctx):
    """A residual that needs no gradient, one that is a graph's intermediate
    (a ResNet block: the shortcut is the block's input), and unbatched
    tensors."""
    torch.manual_seed(6)
    x = torch.randn(2, 3, 5, 5, requires_grad=True)
    w1 = torch.randn(3, 3, 3, 3, requires_grad=True)
    w2 = torch.randn(3, 3, 3, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)

    def ours(x, w1, w2, b):
        h = ct.conv2d(x, w1, b, padding=1, relu=True)
        return ct.conv2d(h, w2, None, padding=1, activation="silu", residual=x)

    def theirs(x, w1, w2, b):
        h = F.relu(F.conv2d(x, w1, b, padding=1))
        return F.silu(F.conv2d(h, w2, None, padding=1) + x)
    assert_same_grads(ours, theirs, [x, w1, w2, b])
    z = torch.randn(2, 3, 5, 5)  # no gradient wanted
    assert_same_grads(lambda x, w: ct.conv2d(x, w, padding=1, residual=z, beta=3.0),
                      lambda x, w: F.conv2d(x, w, padding=1) + 3 * z, [x, w1])
    xu = torch.randn(3, 5, 5, requires_grad=True)
    zu = torch.randn(3, 5, 5, requires_grad=True)
    assert_same_grads(lambda x, w, z: ct.conv2d(x, w, padding=1, residual=z, activation="tanh"),
                      lambda x, w, z: torch.tanh(F.conv2d(x, w, padding=1) + z), [xu, w1, zu])
    zt = torch.randn(3, 11, 11, requires_grad=True)
    wt = torch.randn(3, 3, 3, 3, requires_grad=True)
    assert_same_grads(
        lambda x, w, z: ct.conv_transpose2d(x, w, stride=2, residual=z, alpha=0.5),
        lambda x, w, z: 0.5 * F.conv_transpose2d(x, w, stride=2) + z, [xu, wt, zt])
    xc = torch.randn(3, 8, requires_grad=True)
    wc = torch.randn(2, 3, 3, requires_grad=True)
    zc = torch.randn(2, 6, requires_grad=True)
    assert_same_grads(lambda x, w, z: ct.conv1d(x, w, residual=z, beta=-1.0),
                      lambda x, w, z: F.conv1d(x, w) - z, [xc, wc, zc])


def test_epilogue_gradcheck(ctx):
    """gradcheck through the residual path (double inputs cast to float32
    around the clconv op, as test_gradcheck), smooth activations."""
    torch.manual_seed(7)
    kw = dict(eps=1e-3, atol=2e-3, rtol=2e-2)
    f32 = lambda fn: lambda *a: fn(*[t.float() for t in a]).double()  # noqa: E731
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    z = torch.randn(1, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(f32(lambda x, w, b, z: ct.conv2d(
        x, w, b, 2, 1, residual=z, alpha=0.7, beta=-1.3, activation="silu")), (x, w, b, z), **kw)
    assert torch.autograd.gradcheck(f32(lambda x, w, b, z: ct.conv2d(
        x, w, b, 2, 1, residual=z, activation="tanh")), (x, w, b, z), **kw)
    wt = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    zt = torch.randn(1, 3, 10, 10, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(f32(lambda x, w, b, z: ct.conv_transpose2d(
        x, w, b, 2, 0, 0, residual=z, alpha=1.5, beta=0.5, activation="gelu")),
        (x, wt, b, zt), **kw)
    x1 = torch.randn(2, 2, 7, dtype=torch.float64, requires_grad=True)
    w1 = torch.randn(3, 2, 3, dtype=torch.float64, requires_grad=True)
    z1 = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(f32(lambda x, w, z: ct.conv1d(
        x, w, None, residual=z, beta=2.0, activation="tanh")),
        (x1, w1, z1), **kw)
    wt1 = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    zt1 = torch.randn(2, 3, 9, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(f32(lambda x, w, z: ct.conv_transpose1d(
        x, w, None, residual=z, alpha=-0.5)), (x1, wt1, zt1), **kw)


def test_epilogue_layers_and_errors(ctx):
    torch.manual_seed(8)
    conv = nn.Conv2d(3, 3, 3, padding=1)
    mine = ct.Conv2d.from_module(conv, activation="silu")
    x, z = torch.randn(2, 3, 6, 6), torch.randn(2, 3, 6, 6)
    torch.testing.assert_close(mine(x, z), F.silu(conv(x) + z), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(mine(x), F.silu(conv(x)), rtol=1e-5, atol=1e-5)
    c1 = ct.Conv1d(3, 2, 3, relu=True)
    torch.testing.assert_close(c1(x[:, :, 0], z[:, :2, 0, :4]),
                               F.relu(F.conv1d(x[:, :, 0], c1.weight, c1.bias) + z[:, :2, 0, :4]),
                               rtol=1e-5, atol=1e-5)
    t2 = ct.ConvTranspose2d(3, 2, 3, stride=2, activation=("leaky_relu", 0.1))
    zt = torch.randn(2, 2, 14, 14)
    torch.testing.assert_close(t2(x, (14, 14), zt), F.leaky_relu(
        F.conv_transpose2d(x, t2.weight, t2.bias, 2, output_padding=1) + zt, 0.1),
        rtol=1e-5, atol=1e-5)
    t1 = ct.ConvTranspose1d.from_module(nn.ConvTranspose1d(3, 2, 2), relu=True)
    zt1 = torch.randn(2, 2, 7)
    torch.testing.assert_close(t1(x[:, :, 0], residual=zt1), F.relu(
        F.conv_transpose1d(x[:, :, 0], t1.weight, t1.bias) + zt1), rtol=1e-5, atol=1e-5)
    with pytest.raises(clconv.Error, match="give one of them"):
        ct.Conv2d(3, 3, 3, relu=True, activation="silu")
    w = torch.randn(2, 3, 3, 3)
    with pytest.raises(clconv.Error, match=r"residual has shape \(2, 2, 6, 6\), expected the "
                       r"output's shape \(2, 2, 4, 4\)"):
        ct.conv2d(x, w, residual=torch.randn(2, 2, 6, 6))
    with pytest.raises(clconv.Error, match="alpha = 0.5, beta = 1.0 without residual"):
        ct.conv2d(x, w, alpha=0.5)
    with pytest.raises(clconv.Error, match="residual: expected a torch.Tensor"):
        ct.conv1d(x[:, :, 0], w[:, :, 0], residual=np.zeros((2, 2, 4), np.float32))
    with pytest.raises(clconv.Error, match="residual has dtype torch.float64"):
        ct.conv2d(x, w, residual=torch.zeros(2, 2, 4, 4, dtype=torch.float64))
