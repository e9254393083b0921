"""Contexts, device arrays, the plan cache, pyopencl interop and bad input."""
import gc

import numpy as np
import pytest

import clconv


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def test_round_trip(ctx):
    x = rnd(2, 3, 4, 5)
    d = ctx.to_device(x)
    assert isinstance(d, clconv.DeviceArray)
    assert d.shape == x.shape and d.dtype == np.float32 and d.size == x.size
    assert d.nbytes == x.nbytes and d.ndim == 4 and len(d) == 2
    np.testing.assert_array_equal(d.numpy(), x)
    np.testing.assert_array_equal(np.asarray(d), x)
    v = d.reshape(2, 3, -1)
    assert v.shape == (2, 3, 20)
    np.testing.assert_array_equal(v.numpy(), x.reshape(2, 3, 20))
    c = d.copy()
    d.release()
    np.testing.assert_array_equal(c.numpy(), x)
    np.testing.assert_array_equal(v.numpy().ravel(), x.ravel())  # the view holds its own reference
    with pytest.raises(clconv.Error, match="released"):
        d.numpy()
    i = clconv.to_device(np.arange(6, dtype=np.int64).reshape(2, 3), dtype=np.int64)
    assert i.dtype == np.int64
    np.testing.assert_array_equal(i.numpy(), np.arange(6).reshape(2, 3))
    # non-contiguous float32 input: copied into C order
    nc = rnd(4, 6)[:, ::2]
    np.testing.assert_array_equal(ctx.to_device(nc).numpy(), nc)
    with pytest.raises(clconv.Error):
        d.reshape(7, -1)
    assert ctx.empty((0, 3)).numpy().shape == (0, 3)


def test_layers_chain_on_device(ctx):
    x, w1, b1 = rnd(2, 3, 12, 12), rnd(4, 3, 3, 3, seed=1), rnd(4, seed=2)
    w2 = rnd(6, 4, 3, 3, seed=3)
    host = clconv.max_pool2d(clconv.conv2d(x, w1, b1, padding=1, relu=True), 2)
    host = clconv.avg_pool2d(clconv.conv2d(host, w2, stride=2), 2, 1, 1)
    dw1 = ctx.to_device(w1)
    h = clconv.conv2d(ctx.to_device(x), dw1, b1, padding=1, relu=True)
    assert isinstance(h, clconv.DeviceArray)
    h = clconv.max_pool2d(h, 2)
    h, idx = clconv.max_pool2d(h, 1, return_indices=True)
    assert isinstance(idx, clconv.DeviceArray) and idx.dtype == np.int64
    h = clconv.avg_pool2d(clconv.conv2d(h, w2, stride=2), 2, 1, 1)
    assert isinstance(h, clconv.DeviceArray)
    np.testing.assert_array_equal(h.numpy(), host)
    # backward passes on device arrays, indices too
    dy = ctx.to_device(rnd(*h.shape, seed=4))
    g = clconv.avg_pool2d_backward(dy, (2, 6, 2, 2), 2, 1, 1)
    assert isinstance(g, clconv.DeviceArray) and g.shape == (2, 6, 2, 2)
    # conv_transpose2d's gradients stay on the device too
    wt = ctx.to_device(rnd(6, 2, 3, 3, seed=5))
    xt = ctx.to_device(rnd(2, 6, 3, 3, seed=6))
    yt = clconv.conv_transpose2d(xt, wt, stride=2, padding=1, output_padding=1)
    gx = clconv.conv_transpose2d_input(xt.shape, wt, yt, 2, 1, 1)
    gw = clconv.conv_transpose2d_weight(xt, wt.shape, yt, 2, 1, 1)
    assert isinstance(gx, clconv.DeviceArray) and gx.shape == xt.shape
    assert isinstance(gw, clconv.DeviceArray) and gw.shape == wt.shape
    np.testing.assert_allclose(gx.numpy(), clconv.conv_transpose2d_input(
        xt.shape, wt.numpy(), yt.numpy(), 2, 1, 1), rtol=1e-6, atol=1e-6)
    # unbatched input (C, H, W)
    np.testing.assert_array_equal(clconv.conv2d(x[0], w1, b1), clconv.conv2d(x[:1], w1, b1)[0])


def test_plan_cache_reuse():
    with clconv.Context() as c:
        x, w = rnd(1, 2, 8, 8), rnd(3, 2, 3, 3)
        assert c.plan_count == 0
        y1 = clconv.conv2d(x, w, padding=1, context=c)
        assert c.plan_count == 1
        stats = c.cache_stats()
        for seed in range(3):  # same shape and parameters: the same plan, nothing compiled
            clconv.conv2d(rnd(1, 2, 8, 8, seed=seed), rnd(3, 2, 3, 3, seed=seed), padding=1,
                          context=c)
        assert c.plan_count == 1
        assert c.cache_stats() == stats
        (plan,) = c.plans()
        assert plan.output_shape == (1, 3, 8, 8) and plan.algorithm in clconv.algorithm_names()
        clconv.conv2d(x, w, padding=0, context=c)  # other parameters: another plan
        clconv.conv2d(rnd(2, 2, 8, 8), w, padding=1, context=c)  # another shape
        clconv.conv2d(x, w, padding=1, algorithm="direct-register", context=c)  # other options
        assert c.plan_count == 4
        np.testing.assert_allclose(clconv.conv2d(x, w, padding=1, algorithm="direct-register",
                                                 context=c), y1, rtol=1e-5, atol=1e-6)
        c.clear_plans()
        assert c.plan_count == 0
        assert c.device_class in ("cpu", "gpu") and c.device_name
        assert "memory_hits" in stats
    assert c.closed


def test_every_algorithm_name(ctx):
    # algorithm= takes every name the library knows (it once listed only the first 13 enum
    # values, so "direct-batch" and later were refused), and each runs the layer it serves.
    names = clconv.algorithm_names()
    assert {"direct-batch", "direct-depthwise-channels", "direct-depthwise"} <= set(names)
    x = rnd(9, 6, 9, 9)
    wd = rnd(12, 1, 5, 5)  # depthwise, channel multiplier 2
    want = clconv.conv2d(x, wd, padding=2, groups=6, algorithm="direct-register", context=ctx)
    for algo in ("direct-depthwise-channels", "direct-depthwise"):
        np.testing.assert_allclose(
            clconv.conv2d(x, wd, padding=2, groups=6, algorithm=algo, context=ctx), want,
            rtol=1e-5, atol=1e-5)
    w = rnd(8, 6, 3, 3)
    np.testing.assert_allclose(clconv.conv2d(x, w, padding=1, algorithm="direct-batch",
                                             context=ctx),
                               clconv.conv2d(x, w, padding=1, algorithm="direct-register",
                                             context=ctx), rtol=1e-5, atol=1e-5)


def test_context_options(tmp_path):
    with clconv.Context(device_class="gpu", cache_dir=tmp_path, workspace_limit=1 << 20) as c:
        assert c.device_class == "gpu"
        assert c.cache_dir == str(tmp_path)
        y = clconv.max_pool2d(rnd(1, 1, 4, 4), 2, context=c)
        assert y.shape == (1, 1, 2, 2)
    with pytest.raises(clconv.Error) as e:
        clconv.Context(device="no-such-device-xyz")
    assert e.value.status == clconv.NO_DEVICE and "no-such-device-xyz" in e.value.message
    with pytest.raises(clconv.Error):
        clconv.Context(device_class="tpu")
    with pytest.raises(clconv.Error, match="device"):
        clconv.Context(device=0)
    with pytest.raises(clconv.Error, match="workspace_limit"):
        clconv.Context(workspace_limit=-1)


def test_released_context():
    c = clconv.Context()
    d = c.to_device(rnd(1, 1, 4, 4))
    c.close()
    c.close()  # twice is fine
    for call in (lambda: clconv.max_pool2d(rnd(1, 1, 4, 4), 2, context=c), lambda: d.numpy(),
                 lambda: clconv.max_pool2d(d, 2), lambda: c.to_device(rnd(2)),
                 lambda: c.cache_stats()):
        with pytest.raises(clconv.Error, match="released") as e:
            call()
        assert e.value.status == clconv.INVALID_VALUE
    d = None  # the array dies after its context: no crash
    gc.collect()


def test_bad_input(ctx):
    x, w = rnd(1, 4, 6, 6), rnd(2, 4, 3, 3)

    def fails(status, match, fn, *a, **kw):
        with pytest.raises(clconv.Error, match=match) as e:
            fn(*a, **kw)
        assert e.value.status == status, e.value
        assert e.value.message and e.value.status_name
        return e.value
    fails(clconv.INVALID_VALUE, "float64", clconv.conv2d, x.astype(np.float64), w)
    fails(clconv.INVALID_VALUE, "weight has dtype float32, expected float16", clconv.conv2d,
          x.astype(np.float16), w)
    fails(clconv.INVALID_VALUE, "int32", clconv.max_pool2d, np.ones((1, 1, 4, 4), np.int32), 2)
    fails(clconv.INVALID_SHAPE, "expected 4 dimensions", clconv.conv2d, x[0, 0], w)
    fails(clconv.INVALID_SHAPE, "expects 8 input channels", clconv.conv2d, x, rnd(2, 8, 3, 3))
    fails(clconv.INVALID_SHAPE, "bias", clconv.conv2d, x, w, rnd(3))
    # messages from the library itself
    fails(clconv.INVALID_VALUE, "groups", clconv.conv2d, x, rnd(3, 2, 3, 3), groups=2)
    fails(clconv.INVALID_VALUE, "stride", clconv.conv2d, x, w, stride=0)
    fails(clconv.INVALID_SHAPE, "", clconv.conv2d, x, rnd(2, 4, 9, 9))
    fails(clconv.INVALID_VALUE, "pad", clconv.max_pool2d, x, 2, padding=2)
    fails(clconv.INVALID_VALUE, "same", clconv.conv2d, x, w, stride=2, padding="same")
    fails(clconv.UNSUPPORTED, "winograd|3x3", clconv.conv2d, x, rnd(2, 4, 2, 2),
          algorithm="winograd")
    fails(clconv.INVALID_VALUE, "algorithm", clconv.conv2d, x, w, algorithm="fastest")
    fails(clconv.INVALID_VALUE, "output_padding", clconv.conv_transpose2d, x, rnd(4, 2, 3, 3),
          stride=2, output_padding=2)
    fails(clconv.INVALID_VALUE, "norm_type", clconv.lp_pool2d, x, 0.0, 2)
    fails(clconv.INVALID_VALUE, "stride", clconv.conv2d, x, w, stride=(1, 2, 3))
    fails(clconv.INVALID_VALUE, "int", clconv.conv2d, x, w, padding=1.5)
    fails(clconv.INVALID_SHAPE, "grad_output", clconv.conv2d_input, x.shape, w, rnd(1, 2, 5, 5))
    fails(clconv.INVALID_VALUE, "forward input", clconv.lp_pool2d_backward, rnd(1, 4, 3, 3),
          x.shape, 2.0, 2)
    with clconv.Context() as other:
        fails(clconv.INVALID_VALUE, "another", clconv.conv2d, ctx.to_device(x), w, context=other)
    fails(clconv.INVALID_VALUE, "Context", clconv.conv2d, x, w, context="pocl")


pyopencl = pytest.importorskip("pyopencl")
import pyopencl.array as cla  # noqa: E402


@pytest.fixture(scope="module")
def queue():
    devs = [d for p in pyopencl.get_platforms() for d in p.get_devices()]
    if not devs:
        pytest.skip("pyopencl sees no device")
    pocl = [d for d in devs if "portable" in d.platform.name.lower()]
    dev = (pocl or devs)[0]
    return pyopencl.CommandQueue(pyopencl.Context([dev]))


def test_pyopencl_interop(queue):
    x, w, b = rnd(2, 3, 9, 9), rnd(4, 3, 3, 3, seed=1), rnd(4, seed=2)
    ref = clconv.conv2d(x, w, b, padding=1)
    xa = cla.to_device(queue, x)
    y = clconv.conv2d(xa, w, b, padding=1)  # the context of the array's queue, made on first use
    assert isinstance(y, cla.Array) and y.queue is queue
    np.testing.assert_allclose(y.get(), ref, rtol=1e-5, atol=1e-6)
    # pyopencl arithmetic on the result, then clconv again
    y2 = clconv.max_pool2d(y * 2, 2)
    np.testing.assert_allclose(y2.get(), clconv.max_pool2d(ref * 2, 2), rtol=1e-5, atol=1e-6)
    with clconv.Context.from_pyopencl(queue) as c:
        assert c.queue_ptr == queue.int_ptr and c.cl_context_ptr == queue.context.int_ptr
        d = clconv.conv2d(xa, c.to_device(w), b, padding=1, context=c)
        assert isinstance(d, cla.Array)
        dd = clconv.conv2d(c.to_device(x), w, b, padding=1)
        assert isinstance(dd, clconv.DeviceArray) and dd.context is c
        pa = dd.to_pyopencl()
        assert isinstance(pa, cla.Array)
        np.testing.assert_allclose(pa.get(), ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose((pa + 1).get(), ref + 1, rtol=1e-5, atol=1e-6)
    with pytest.raises(clconv.Error, match="float32"):
        clconv.max_pool2d(cla.to_device(queue, x.astype(np.float64)), 2)


def test_pyopencl_out_of_order_queue(queue):
    """On an out-of-order queue every run is waited for, so the shared
    workspace and the host reads stay ordered."""
    props = pyopencl.command_queue_properties.OUT_OF_ORDER_EXEC_MODE_ENABLE
    if not queue.device.queue_properties & props:
        pytest.skip("the device has no out-of-order queues")
    q = pyopencl.CommandQueue(queue.context, properties=props)
    x, w = rnd(2, 4, 10, 10), rnd(8, 4, 3, 3, seed=1)
    ref = clconv.avg_pool2d(clconv.conv2d(x, w, padding=1, relu=True), 2)
    with clconv.Context.from_pyopencl(q) as c:
        h = clconv.conv2d(cla.to_device(q, x), w, padding=1, relu=True, context=c)
        for _ in range(3):
            g = clconv.avg_pool2d(h, 2, context=c)
            np.testing.assert_allclose(g.get(), ref, rtol=1e-5, atol=1e-6)


def test_pyopencl_residual(queue):
    """A pyopencl residual (and pre output): used in place for reading, never
    written; the results are pyopencl arrays on the queue; the input array
    as its own residual (copied, since clconv refuses z = x)."""
    x, w, b = rnd(2, 3, 6, 6), rnd(3, 3, 3, 3, seed=1), rnd(3, seed=2)
    z = rnd(2, 3, 6, 6, seed=3)
    s = clconv.conv2d(x, w, padding=1) * 0.5 + z * 2 + b[:, None, None]
    xa, za = cla.to_device(queue, x), cla.to_device(queue, z)
    y, pre = clconv.conv2d(xa, w, b, padding=1, relu=True, residual=za, alpha=0.5, beta=2.0,
                           return_pre_activation=True)
    assert isinstance(y, cla.Array) and isinstance(pre, cla.Array) and y.queue is queue
    np.testing.assert_allclose(pre.get(), s, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(y.get(), np.maximum(pre.get(), 0))
    np.testing.assert_array_equal(za.get(), z)
    y = clconv.conv2d(xa, w, b, padding=1, residual=xa)
    np.testing.assert_allclose(y.get(), clconv.conv2d(x, w, b, padding=1) + x, rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_array_equal(xa.get(), x)


def test_pyopencl_out_of_order_residual(queue):
    """The copy of a residual that is the input buffer is finished before
    the run on an out-of-order queue."""
    props = pyopencl.command_queue_properties.OUT_OF_ORDER_EXEC_MODE_ENABLE
    if not queue.device.queue_properties & props:
        pytest.skip("the device has no out-of-order queues")
    q = pyopencl.CommandQueue(queue.context, properties=props)
    x, w = rnd(2, 4, 10, 10), rnd(4, 4, 3, 3, seed=1)
    ref = clconv.conv2d(x, w, padding=1) + x
    with clconv.Context.from_pyopencl(q) as c:
        xa = cla.to_device(q, x)
        for _ in range(3):
            y = clconv.conv2d(xa, w, padding=1, residual=xa, context=c)
            np.testing.assert_allclose(y.get(), ref, rtol=1e-5, atol=1e-5)
