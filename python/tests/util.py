"""Shared helpers: bounds that scale with the length of each reduction, as
the C suites' (|got - ref| <= atol + 4 sqrt(K) eps * scale, scale the same
computation on absolute values, ref in double)."""
import numpy as np

EPS = float(np.finfo(np.float32).eps)


def check_close(got, ref, scale, k, what, factor=4.0, atol=1e-6):
    """got: clconv's float32 result; ref, scale: float64 reference and the
    same computation on |inputs|; k: terms per output."""
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    assert got.shape == ref.shape, "%s: shape %r, expected %r" % (what, got.shape, ref.shape)
    bound = atol + factor * np.sqrt(k + 1) * EPS * np.asarray(scale, np.float64)
    err = np.abs(got - ref)
    bad = err > bound
    if bad.any():
        i = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError("%s: %d of %d outside the bound; worst at %r: got %.9g, expected "
                             "%.9g, bound %.3g" % (what, bad.sum(), bad.size, i, got[i], ref[i],
                                                   bound[i]))
