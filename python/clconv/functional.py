"""PyTorch's ``torch.nn.functional`` convolution and pooling layers on clconv.

Every function takes the arguments of its PyTorch namesake, with the same
defaults, plus keyword-only ``context=`` (a :class:`clconv.Context`; default:
the context of a device input, else :func:`clconv.default_context`) and, for
the convolutions, ``algorithm=`` (an algorithm name such as
``"direct-vector"``, ``"winograd"``, ``"gemm"``; default AUTO) and
``find=`` (time the candidates once, clconv's find mode).

Inputs and results:

- NumPy arrays must be float32 or float16 (any other dtype is refused with
  :class:`clconv.Error`); non-contiguous arrays are copied into C order;
  pooling indices are int64. float16 runs the layer with clconv's F16
  storage (IEEE half tensors, float32 arithmetic, the result rounded once to
  half): the input's dtype is the layer's, and weight, bias, residual (and a
  backward pass's grad_output) must have it too; mixed float32 / float16
  arguments raise :class:`clconv.Error` (INVALID_VALUE), as PyTorch raises
  for mixed dtypes. The result (and the pre-activation) has the input's
  dtype. Refused for float16 by the library (UNSUPPORTED): the CLBlast
  algorithms ``"gemm"`` and ``"transposed-gemm"``.
- The result has the kind of ``input``: a NumPy array for a NumPy input, a
  :class:`clconv.DeviceArray` (still on the device) for a DeviceArray input,
  a ``pyopencl.array.Array`` for a pyopencl input.
- Forward functions accept unbatched inputs as PyTorch does ((C, H, W) for
  2-D, (C, L) for 1-D); backward functions need the batch dimension.

The convolutions end in clconv's fused epilogue: ``relu=`` / ``activation=``
(the activation), ``residual=`` with ``alpha=`` / ``beta=`` (``act(alpha *
conv + beta * residual + bias)``, a ResNet block's add) and
``return_pre_activation=True`` (also return the activation's input).
"""
import ctypes as C
import numbers

import numpy as np

from . import _lib as L
from ._lib import Error
from ._core import (DeviceArray, as_device, dtype_code, is_pyopencl_array, pick_context, result,
                    to_device)

__all__ = ["conv2d", "conv1d", "conv_transpose2d", "conv_transpose1d", "max_pool2d",
           "avg_pool2d", "lp_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "conv2d_input", "conv2d_weight", "conv2d_bias", "conv1d_input", "conv1d_weight",
           "conv_transpose2d_input", "conv_transpose2d_weight", "relu_backward",
           "max_pool2d_backward", "avg_pool2d_backward", "lp_pool2d_backward",
           "adaptive_avg_pool2d_backward", "adaptive_max_pool2d_backward", "algorithm_names",
           "activation", "activation_backward", "activation_backward_source", "fold_batchnorm"]

# Every name the library knows (new algorithms need no change here).
_ALGOS = {name: i for i, name in ((i, L.lib.clconv_algorithm_name(i).decode()) for i in range(64))
          if name != "unknown"}
MAX, AVG, LP, ADAPTIVE_AVG, ADAPTIVE_MAX = 1, 2, 3, 4, 5


def algorithm_names():
    """The algorithm names ``algorithm=`` accepts ("auto", "direct-vector", ...)."""
    return sorted(_ALGOS, key=_ALGOS.get)


# ---------------------------------------------------------------------------
# argument helpers
# ---------------------------------------------------------------------------

def _int(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise Error(L.INVALID_VALUE, "%s = %r, expected an int" % (name, v))
    if not -(1 << 63) <= int(v) < (1 << 63):  # ctypes would wrap it silently
        raise Error(L.INVALID_VALUE, "%s = %d, out of the int64 range" % (name, v))
    return int(v)


def _tuple(v, n, name):
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            v = tuple(v) * n
        if len(v) != n:
            raise Error(L.INVALID_VALUE, "%s = %r, expected an int or %d ints" % (name, v, n))
        return tuple(_int(e, name) for e in v)
    return (_int(v, name),) * n


def _options(algorithm, find):
    o = L.PlanOptions()
    if algorithm is None:
        o.algorithm = 0
    elif isinstance(algorithm, str):
        if algorithm not in _ALGOS:
            raise Error(L.INVALID_VALUE, "algorithm = %r, expected one of %s"
                        % (algorithm, ", ".join(algorithm_names())))
        o.algorithm = _ALGOS[algorithm]
    else:
        o.algorithm = _int(algorithm, "algorithm")
    o.find = 1 if find else 0
    return o


def _shape4(shape):
    s = L.Shape()
    s.n, s.c, s.h, s.w = shape
    return s


def _input(ctx, a, rank, name, layout):
    """(DeviceArray of rank ``rank``, unbatched?) for a forward input
    (float32 or float16: the layer's dtype)."""
    d = as_device(ctx, a, name, None)
    if d.ndim == rank - 1:
        return d.reshape((1,) + d.shape), True
    if d.ndim != rank:
        raise Error(L.INVALID_SHAPE, "%s has shape %r, expected %d dimensions %s (or %d without "
                    "the batch)" % (name, d.shape, rank, layout, rank - 1))
    return d, False


def _need(d, rank, name, layout):
    if d.ndim != rank:
        raise Error(L.INVALID_SHAPE, "%s has shape %r, expected %d dimensions %s"
                    % (name, d.shape, rank, layout))


def _out(d, like, unbatched):
    if unbatched:
        d = d.reshape(d.shape[1:])
    return result(d, like)


def _size(v, rank, name):
    if isinstance(v, DeviceArray) or hasattr(v, "shape") and not isinstance(v, (tuple, list)):
        v = v.shape
    try:
        t = tuple(_int(e, name) for e in v)
    except TypeError:
        raise Error(L.INVALID_VALUE, "%s = %r, expected a shape" % (name, v))
    if len(t) != rank:
        raise Error(L.INVALID_SHAPE, "%s = %r, expected %d dimensions" % (name, t, rank))
    return t


def _bias(ctx, bias, channels, dtype):
    if bias is None:
        return None
    b = as_device(ctx, bias, "bias", dtype)
    if b.shape != (channels,):
        raise Error(L.INVALID_SHAPE, "bias has shape %r, expected (%d,)" % (b.shape, channels))
    return b


def _run(ctx, fn, *args):
    ev = C.c_void_p()
    L.check(fn(*args, 0, None, C.byref(ev)))
    ctx.finish_run(ev)


def _real(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise Error(L.INVALID_VALUE, "%s = %r, expected a number" % (name, v))
    return float(v)


def _set_epilogue(p, residual, alpha, beta, return_pre):
    """The residual and second-output fields of p: ``residual`` (or None),
    its weights ``alpha`` / ``beta`` and ``return_pre``."""
    a, b = _real(alpha, "alpha"), _real(beta, "beta")
    if residual is None and (a != 1.0 or b != 1.0):
        raise Error(L.INVALID_VALUE, "alpha = %r, beta = %r without residual: alpha and beta "
                    "weigh the convolution and the residual in act(alpha * conv + beta * "
                    "residual + bias); give residual= or leave alpha and beta at 1"
                    % (alpha, beta))
    p.has_residual = 0 if residual is None else 1
    p.alpha, p.beta = a, b
    p.pre_activation_output = 1 if return_pre else 0


def _residual(ctx, residual, out4, unbatched, rank, bufs, dtype):
    """The residual as a DeviceArray of the plan's 4-D output shape ``out4``,
    and whether it is this call's own copy (then the run may write y over it:
    the epilogue's in-place form). ``residual`` must have the output's shape
    as the caller sees it (rank ``rank``, no batch for an unbatched input).
    A caller's device array that is also the input, weight or bias buffer
    (which clconv refuses as z) is copied first."""
    if residual is None:
        return None, False
    owned = not (isinstance(residual, DeviceArray) or is_pyopencl_array(residual))
    z = as_device(ctx, residual, "residual", dtype)
    shape = out4 if rank == 4 else (out4[0], out4[1], out4[3])
    if unbatched:
        shape = shape[1:]
    if tuple(z.shape) != tuple(shape):
        raise Error(L.INVALID_SHAPE, "residual has shape %r, expected the output's shape %r"
                    % (tuple(z.shape), tuple(shape)))
    z = z.reshape(out4)
    if not owned and z.mem in [d.mem for d in bufs if d is not None]:
        z, owned = z.copy(), True
        if ctx._out_of_order:  # the copy carries no event for the run to wait on
            ctx.synchronize()
    return z, owned


def _conv_run(ctx, plan, x, w, b, z, z_owned, want_pre):
    """Runs a convolution plan (clconv_conv_run): y, and the pre-activation
    (or None). With an owned residual y is written over it (z = y)."""
    y = z if z_owned else ctx.empty(plan.output_shape, x.dtype)
    pre = ctx.empty(plan.output_shape, x.dtype) if want_pre else None
    bufs = L.ConvBuffers()
    bufs.x, bufs.w = x.mem, w.mem
    bufs.b = b.mem if b is not None else None
    bufs.y = y.mem
    bufs.workspace = ctx.workspace(plan.info.workspace_bytes)
    bufs.z = z.mem if z is not None else None
    bufs.pre = pre.mem if pre is not None else None
    _run(ctx, L.lib.clconv_conv_run, plan.handle, C.byref(bufs))
    return y, pre


def _results(y, pre, like, unbatched, rank):
    if rank == 3:
        y = y.reshape(y.shape[0], y.shape[1], y.shape[3])
        pre = pre.reshape(y.shape) if pre is not None else None
    if pre is None:
        return _out(y, like, unbatched)
    return _out(y, like, unbatched), _out(pre, like, unbatched)


def _expect(d, shape, name):
    if tuple(d.shape) != tuple(shape):
        raise Error(L.INVALID_SHAPE, "%s has shape %r, expected %r" % (name, d.shape, tuple(shape)))


# ---------------------------------------------------------------------------
# conv2d / conv1d
# ---------------------------------------------------------------------------

def _set_activation(p, relu, activation):
    """The fused activation of p: ``activation`` is None (then ``relu``), a
    name ('relu', 'relu6', 'hardtanh' or 'clamp', 'leaky_relu', 'elu',
    'sigmoid', 'tanh', 'silu', 'hardsigmoid', 'hardswish', 'gelu',
    'gelu_tanh', 'mish') with PyTorch's default parameters, or a tuple of a
    name and its parameters, e.g. ('leaky_relu', 0.2) or ('hardtanh', -2, 2)."""
    if activation is None:
        p.activation = 1 if relu else 0
        return
    if relu:
        raise Error(L.INVALID_VALUE, "relu=True and activation=%r: give one of them"
                    % (activation,))
    if isinstance(activation, str):
        name, params = activation, ()
    elif isinstance(activation, (tuple, list)) and activation and isinstance(activation[0], str):
        name, params = activation[0], tuple(activation[1:])
    else:
        raise Error(L.INVALID_VALUE, "activation = %r, expected a name or (name, parameters...)"
                    % (activation,))
    if len(params) > 2:
        raise Error(L.INVALID_VALUE, "activation %r takes at most 2 parameters, got %d"
                    % (name, len(params)))
    code = C.c_int()
    L.check(L.lib.clconv_activation_from_name(name.encode(), C.byref(code)))
    p.activation = code.value
    L.lib.clconv_activation_default_params(code.value, p.activation_params)
    for i, v in enumerate(params):
        p.activation_params[i] = float(v)
    L.check(L.lib.clconv_activation_validate(code.value, p.activation_params))


def _conv2d_params(xshape, wshape, stride, padding, dilation, groups, has_bias, relu,
                   activation=None):
    groups = _int(groups, "groups")
    if groups >= 1 and wshape[1] * groups != xshape[1]:
        raise Error(L.INVALID_SHAPE, "weight of shape %r with groups = %d expects %d input "
                    "channels, got input of shape %r" % (wshape, groups, wshape[1] * groups,
                                                         xshape))
    p = L.Conv2dParams()
    p.in_channels, p.out_channels = xshape[1], wshape[0]
    p.kernel_h, p.kernel_w = wshape[2], wshape[3]
    p.stride_h, p.stride_w = _tuple(stride, 2, "stride")
    p.dilation_h, p.dilation_w = _tuple(dilation, 2, "dilation")
    p.groups = groups
    p.has_bias = 1 if has_bias else 0
    _set_activation(p, relu, activation)
    if isinstance(padding, str):
        if padding == "same":
            L.check(L.lib.clconv_conv2d_set_same_padding(C.byref(p)))
        elif padding != "valid":
            raise Error(L.INVALID_VALUE, "padding = %r, expected 'same', 'valid', an int or 2 ints"
                        % padding)
    else:
        ph, pw = _tuple(padding, 2, "padding")
        L.set_pad2d(p, ph, ph, pw, pw)
    return p


def _conv2d_out(p, xshape):
    out = L.Shape()
    L.check(L.lib.clconv_conv2d_output_shape(C.byref(p), C.byref(_shape4(xshape)),
                                             C.byref(out)))
    return out.tuple()


def _conv2d_forward(ctx, p, x, w, b, opts, z=None, z_owned=False):
    """(y, pre or None); the plan cache key holds all of p (epilogue included)."""
    key = ("conv2d", bytes(p), x.shape, bytes(opts))
    plan = ctx.plan(key, lambda h, out: L.lib.clconv_conv2d_plan_create(
        h, C.byref(p), C.byref(_shape4(x.shape)), C.byref(opts), out))
    return _conv_run(ctx, plan, x, w, b, z, z_owned, p.pre_activation_output)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, relu=False,
           activation=None, residual=None, alpha=1.0, beta=1.0, return_pre_activation=False,
           algorithm=None, find=False, context=None):
    """F.conv2d: ``input`` (N, C, H, W), ``weight`` (out, C/groups, kH, kW),
    ``bias`` (out,) or None; ``padding`` an int, a pair, ``'same'`` or
    ``'valid'``. ``relu=True`` applies a ReLU fused into the kernel
    (``F.relu(F.conv2d(...))``); ``activation`` fuses any other (a name, or
    (name, parameters...): ``'silu'``, ``('leaky_relu', 0.2)``, ...).
    Returns (N, out, H_out, W_out).

    The rest of the fused epilogue: ``residual`` (an array of the output's
    shape, of any input kind) makes the result ``act(alpha * conv + beta *
    residual + bias)`` in the same kernel (a ResNet block's add; ``alpha`` /
    ``beta`` other than 1 need a residual); a host residual is uploaded into
    the output's own buffer and updated in place there, a device residual is
    left as it is. ``return_pre_activation=True`` returns ``(y, pre)``,
    ``pre`` the activation's input ``alpha * conv + beta * residual + bias``
    (what the gradient of an activation computed from its input needs)."""
    ctx = pick_context(context, input, weight, bias, residual)
    x, unb = _input(ctx, input, 4, "input", "(N, C, H, W)")
    w = as_device(ctx, weight, "weight", x.dtype)
    _need(w, 4, "weight", "(out_channels, in_channels/groups, kH, kW)")
    p = _conv2d_params(x.shape, w.shape, stride, padding, dilation, groups, bias is not None, relu,
                       activation)
    p.dtype = dtype_code(x.dtype)
    _set_epilogue(p, residual, alpha, beta, return_pre_activation)
    b = _bias(ctx, bias, w.shape[0], x.dtype)
    z, owned = _residual(ctx, residual, _conv2d_out(p, x.shape), unb, 4, (x, w, b), x.dtype)
    y, pre = _conv2d_forward(ctx, p, x, w, b, _options(algorithm, find), z, owned)
    return _results(y, pre, input, unb, 4)


def _conv1d_params(xshape, wshape, stride, padding, dilation, groups, has_bias, relu,
                   activation=None):
    groups = _int(groups, "groups")
    if groups >= 1 and wshape[1] * groups != xshape[1]:
        raise Error(L.INVALID_SHAPE, "weight of shape %r with groups = %d expects %d input "
                    "channels, got input of shape %r" % (wshape, groups, wshape[1] * groups,
                                                         xshape))
    p = L.Conv1dParams()
    p.in_channels, p.out_channels, p.kernel = xshape[1], wshape[0], wshape[2]
    (p.stride,) = _tuple(stride, 1, "stride")
    (p.dilation,) = _tuple(dilation, 1, "dilation")
    p.groups = groups
    p.has_bias = 1 if has_bias else 0
    _set_activation(p, relu, activation)
    if isinstance(padding, str):
        if padding == "same":
            if p.stride != 1:
                raise Error(L.INVALID_VALUE, "padding = 'same' needs stride 1, got stride = %d"
                            % p.stride)
            total = p.dilation * (p.kernel - 1)
            L.set_pad1d(p, total // 2, total - total // 2)
        elif padding != "valid":
            raise Error(L.INVALID_VALUE, "padding = %r, expected 'same', 'valid' or an int"
                        % padding)
    else:
        (pad,) = _tuple(padding, 1, "padding")
        L.set_pad1d(p, pad, pad)
    return L.lib.clconv_conv1d_as_conv2d(C.byref(p))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, relu=False,
           activation=None, residual=None, alpha=1.0, beta=1.0, return_pre_activation=False,
           algorithm=None, find=False, context=None):
    """F.conv1d: ``input`` (N, C, L), ``weight`` (out, C/groups, K), ``bias``
    (out,) or None; ``padding`` an int, ``'same'`` or ``'valid'``;
    ``relu=True`` fuses a ReLU, ``activation`` any other, ``residual``,
    ``alpha``, ``beta`` and ``return_pre_activation`` the rest of the
    epilogue (as conv2d). Returns (N, out, L_out)."""
    ctx = pick_context(context, input, weight, bias, residual)
    x, unb = _input(ctx, input, 3, "input", "(N, C, L)")
    w = as_device(ctx, weight, "weight", x.dtype)
    _need(w, 3, "weight", "(out_channels, in_channels/groups, K)")
    p = _conv1d_params(x.shape, w.shape, stride, padding, dilation, groups, bias is not None, relu,
                       activation)
    p.dtype = dtype_code(x.dtype)
    _set_epilogue(p, residual, alpha, beta, return_pre_activation)
    b = _bias(ctx, bias, w.shape[0], x.dtype)
    x4 = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
    w4 = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
    z, owned = _residual(ctx, residual, _conv2d_out(p, x4.shape), unb, 3, (x4, w4, b), x.dtype)
    y, pre = _conv2d_forward(ctx, p, x4, w4, b, _options(algorithm, find), z, owned)
    return _results(y, pre, input, unb, 3)


# ---------------------------------------------------------------------------
# conv_transpose2d / conv_transpose1d
# ---------------------------------------------------------------------------

def _ct2d_params(xshape, wshape, stride, padding, output_padding, groups, dilation, has_bias,
                 relu, activation=None):
    groups = _int(groups, "groups")
    if wshape[0] != xshape[1]:
        raise Error(L.INVALID_SHAPE, "weight of shape %r expects %d input channels, got input of "
                    "shape %r" % (wshape, wshape[0], xshape))
    p = L.ConvTranspose2dParams()
    p.in_channels, p.out_channels = xshape[1], wshape[1] * max(groups, 1)
    p.kernel_h, p.kernel_w = wshape[2], wshape[3]
    p.stride_h, p.stride_w = _tuple(stride, 2, "stride")
    ph, pw = _tuple(padding, 2, "padding")
    L.set_pad2d(p, ph, ph, pw, pw)
    p.output_padding_h, p.output_padding_w = _tuple(output_padding, 2, "output_padding")
    p.dilation_h, p.dilation_w = _tuple(dilation, 2, "dilation")
    p.groups = groups
    p.has_bias = 1 if has_bias else 0
    _set_activation(p, relu, activation)
    return p


def _ct2d_out(p, xshape):
    out = L.Shape()
    L.check(L.lib.clconv_conv_transpose2d_output_shape(C.byref(p), C.byref(_shape4(xshape)),
                                                       C.byref(out)))
    return out.tuple()


def _ct2d_forward(ctx, p, x, w, b, opts, z=None, z_owned=False):
    """(y, pre or None), as _conv2d_forward."""
    key = ("conv_transpose2d", bytes(p), x.shape, bytes(opts))
    plan = ctx.plan(key, lambda h, out: L.lib.clconv_conv_transpose2d_plan_create(
        h, C.byref(p), C.byref(_shape4(x.shape)), C.byref(opts), out))
    return _conv_run(ctx, plan, x, w, b, z, z_owned, p.pre_activation_output)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, relu=False, activation=None, residual=None, alpha=1.0,
                     beta=1.0, return_pre_activation=False, algorithm=None, context=None):
    """F.conv_transpose2d (note PyTorch's argument order: groups before
    dilation): ``input`` (N, C, H, W), ``weight`` (C, out/groups, kH, kW),
    ``bias`` (out,) or None; ``relu=True`` fuses a ReLU, ``activation`` any
    other, ``residual``, ``alpha``, ``beta`` and ``return_pre_activation``
    the rest of the epilogue (as conv2d)."""
    ctx = pick_context(context, input, weight, bias, residual)
    x, unb = _input(ctx, input, 4, "input", "(N, C, H, W)")
    w = as_device(ctx, weight, "weight", x.dtype)
    _need(w, 4, "weight", "(in_channels, out_channels/groups, kH, kW)")
    p = _ct2d_params(x.shape, w.shape, stride, padding, output_padding, groups, dilation,
                     bias is not None, relu, activation)
    p.dtype = dtype_code(x.dtype)
    _set_epilogue(p, residual, alpha, beta, return_pre_activation)
    b = _bias(ctx, bias, p.out_channels, x.dtype)
    z, owned = _residual(ctx, residual, _ct2d_out(p, x.shape), unb, 4, (x, w, b), x.dtype)
    y, pre = _ct2d_forward(ctx, p, x, w, b, _options(algorithm, False), z, owned)
    return _results(y, pre, input, unb, 4)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, relu=False, activation=None, residual=None, alpha=1.0,
                     beta=1.0, return_pre_activation=False, algorithm=None, context=None):
    """F.conv_transpose1d: ``input`` (N, C, L), ``weight`` (C, out/groups, K),
    ``bias`` (out,) or None; ``relu=True`` fuses a ReLU, ``activation`` any
    other, ``residual``, ``alpha``, ``beta`` and ``return_pre_activation``
    the rest of the epilogue (as conv2d)."""
    ctx = pick_context(context, input, weight, bias, residual)
    x, unb = _input(ctx, input, 3, "input", "(N, C, L)")
    w = as_device(ctx, weight, "weight", x.dtype)
    _need(w, 3, "weight", "(in_channels, out_channels/groups, K)")
    groups = _int(groups, "groups")
    if w.shape[0] != x.shape[1]:
        raise Error(L.INVALID_SHAPE, "weight of shape %r expects %d input channels, got input of "
                    "shape %r" % (w.shape, w.shape[0], x.shape))
    p1 = L.ConvTranspose1dParams()
    p1.in_channels, p1.out_channels, p1.kernel = x.shape[1], w.shape[1] * max(groups, 1), w.shape[2]
    (p1.stride,) = _tuple(stride, 1, "stride")
    (pad,) = _tuple(padding, 1, "padding")
    L.set_pad1d(p1, pad, pad)
    (p1.output_padding,) = _tuple(output_padding, 1, "output_padding")
    (p1.dilation,) = _tuple(dilation, 1, "dilation")
    p1.groups = groups
    p1.has_bias = 1 if bias is not None else 0
    p1.dtype = dtype_code(x.dtype)
    _set_activation(p1, relu, activation)
    _set_epilogue(p1, residual, alpha, beta, return_pre_activation)
    p = L.lib.clconv_conv_transpose1d_as_conv_transpose2d(C.byref(p1))
    p.dtype = p1.dtype
    b = _bias(ctx, bias, p.out_channels, x.dtype)
    x4 = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
    w4 = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
    z, owned = _residual(ctx, residual, _ct2d_out(p, x4.shape), unb, 3, (x4, w4, b), x.dtype)
    y, pre = _ct2d_forward(ctx, p, x4, w4, b, _options(algorithm, False), z, owned)
    return _results(y, pre, input, unb, 3)


# ---------------------------------------------------------------------------
# conv2d backward
# ---------------------------------------------------------------------------

def _conv2d_backward_params(xshape, wshape, stride, padding, dilation, groups):
    return _conv2d_params(xshape, wshape, stride, padding, dilation, groups, False, False)


def _bwd_plan(ctx, name, create, p, xshape, opts=None):
    opts = opts or L.PlanOptions()
    key = (name, bytes(p), tuple(xshape), bytes(opts))
    return ctx.plan(key, lambda h, out: create(h, C.byref(p), C.byref(_shape4(xshape)),
                                               C.byref(opts), out))


def _conv2d_input(ctx, p, xshape, w, dy):
    _expect(dy, _conv2d_out(p, xshape), "grad_output")
    plan = _bwd_plan(ctx, "conv2d_input", L.lib.clconv_conv2d_backward_data_plan_create, p,
                     xshape)
    dx = ctx.empty(xshape, dy.dtype)
    ws = ctx.workspace(plan.info.workspace_bytes)
    _run(ctx, L.lib.clconv_conv2d_backward_data_run, plan.handle, dy.mem, w.mem, dx.mem, ws)
    return dx


def _conv2d_weight(ctx, p, x, wshape, dy):
    _expect(dy, _conv2d_out(p, x.shape), "grad_output")
    plan = _bwd_plan(ctx, "conv2d_weight", L.lib.clconv_conv2d_backward_weights_plan_create, p,
                     x.shape)
    dw = ctx.empty(wshape, dy.dtype)
    ws = ctx.workspace(plan.info.workspace_bytes)
    _run(ctx, L.lib.clconv_conv2d_backward_weights_run, plan.handle, x.mem, dy.mem, dw.mem, ws)
    return dw


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1, *,
                 context=None):
    """torch.nn.grad.conv2d_input: the gradient of conv2d with respect to its
    input, shape ``input_size`` (N, C, H, W), from ``weight`` and
    ``grad_output`` (N, out, H_out, W_out). Deterministic."""
    ctx = pick_context(context, weight, grad_output)
    xshape = _size(input_size, 4, "input_size")
    dy = as_device(ctx, grad_output, "grad_output", None)
    w = as_device(ctx, weight, "weight", dy.dtype)
    _need(w, 4, "weight", "(out_channels, in_channels/groups, kH, kW)")
    p = _conv2d_backward_params(xshape, w.shape, stride, padding, dilation, groups)
    p.dtype = dtype_code(dy.dtype)
    return result(_conv2d_input(ctx, p, xshape, w, dy), grad_output)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1, *,
                  context=None):
    """torch.nn.grad.conv2d_weight: the gradient of conv2d with respect to its
    weight, shape ``weight_size`` (out, C/groups, kH, kW), from the forward
    ``input`` and ``grad_output``. Deterministic (fixed-order sums)."""
    ctx = pick_context(context, input, grad_output)
    x = as_device(ctx, input, "input", None)
    _need(x, 4, "input", "(N, C, H, W)")
    wshape = _size(weight_size, 4, "weight_size")
    dy = as_device(ctx, grad_output, "grad_output", x.dtype)
    p = _conv2d_backward_params(x.shape, wshape, stride, padding, dilation, groups)
    p.dtype = dtype_code(x.dtype)
    return result(_conv2d_weight(ctx, p, x, wshape, dy), grad_output)


def _conv2d_bias(ctx, dy):
    _need(dy, 4, "grad_output", "(N, C, H, W)")
    c = dy.shape[1]
    p = _conv2d_params(dy.shape, (c, c, 1, 1), 1, 0, 1, 1, False, False)
    p.dtype = dtype_code(dy.dtype)
    plan = _bwd_plan(ctx, "conv2d_bias", L.lib.clconv_conv2d_backward_bias_plan_create, p,
                     dy.shape)
    db = ctx.empty((c,), dy.dtype)
    _run(ctx, L.lib.clconv_conv2d_backward_bias_run, plan.handle, dy.mem, db.mem)
    return db


def conv2d_bias(grad_output, *, context=None):
    """The gradient of a conv2d's (or conv_transpose2d's) bias: ``grad_output``
    (N, C, H, W) summed over N, H and W in a fixed order; shape (C,). A 3-D
    (N, C, L) grad_output (conv1d) works too."""
    ctx = pick_context(context, grad_output)
    dy = as_device(ctx, grad_output, "grad_output", None)
    if dy.ndim == 3:
        dy = dy.reshape(dy.shape[0], dy.shape[1], 1, dy.shape[2])
    return result(_conv2d_bias(ctx, dy), grad_output)


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1, *,
                 context=None):
    """torch.nn.grad.conv1d_input: the gradient of conv1d with respect to its
    input (shape ``input_size`` (N, C, L))."""
    ctx = pick_context(context, weight, grad_output)
    n, c, length = _size(input_size, 3, "input_size")
    dy = as_device(ctx, grad_output, "grad_output", None)
    w = as_device(ctx, weight, "weight", dy.dtype)
    _need(w, 3, "weight", "(out_channels, in_channels/groups, K)")
    _need(dy, 3, "grad_output", "(N, out_channels, L_out)")
    p = _conv1d_params((n, c, length), w.shape, stride, padding, dilation, groups, False, False)
    p.dtype = dtype_code(dy.dtype)
    dx = _conv2d_input(ctx, p, (n, c, 1, length), w.reshape(w.shape[:2] + (1, w.shape[2])),
                       dy.reshape(dy.shape[:2] + (1, dy.shape[2])))
    return result(dx.reshape(n, c, length), grad_output)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1, *,
                  context=None):
    """torch.nn.grad.conv1d_weight: the gradient of conv1d with respect to its
    weight (shape ``weight_size`` (out, C/groups, K))."""
    ctx = pick_context(context, input, grad_output)
    x = as_device(ctx, input, "input", None)
    _need(x, 3, "input", "(N, C, L)")
    o, i, k = _size(weight_size, 3, "weight_size")
    dy = as_device(ctx, grad_output, "grad_output", x.dtype)
    _need(dy, 3, "grad_output", "(N, out_channels, L_out)")
    p = _conv1d_params(x.shape, (o, i, k), stride, padding, dilation, groups, False, False)
    p.dtype = dtype_code(x.dtype)
    dw = _conv2d_weight(ctx, p, x.reshape(x.shape[:2] + (1, x.shape[2])), (o, i, 1, k),
                        dy.reshape(dy.shape[:2] + (1, dy.shape[2])))
    return result(dw.reshape(o, i, k), grad_output)


def conv_transpose2d_input(input_size, weight, grad_output, stride=1, padding=0,
                           output_padding=0, groups=1, dilation=1, *, context=None):
    """The gradient of conv_transpose2d with respect to its input (shape
    ``input_size`` (N, C, H, W)): conv2d of ``grad_output`` with the same
    weight, stride, padding, dilation and groups (the transposed convolution
    is its adjoint). ``output_padding`` only fixed grad_output's size; where
    it reaches beyond a stride (possible with dilation > stride) the rows and
    columns it added are cut on the host."""
    ctx = pick_context(context, weight, grad_output)
    xshape = _size(input_size, 4, "input_size")
    dy = as_device(ctx, grad_output, "grad_output", None)
    w = as_device(ctx, weight, "weight", dy.dtype)
    _need(w, 4, "weight", "(in_channels, out_channels/groups, kH, kW)")
    _need(dy, 4, "grad_output", "(N, out_channels, H_out, W_out)")
    if w.shape[0] != xshape[1]:
        raise Error(L.INVALID_SHAPE, "weight of shape %r expects %d input channels, got "
                    "input_size %r" % (w.shape, w.shape[0], xshape))
    p = _conv2d_params(dy.shape, w.shape, stride, padding, dilation, groups, False, False)
    p.dtype = dtype_code(dy.dtype)
    out = _conv2d_out(p, dy.shape)
    if out[:2] != xshape[:2] or out[2] < xshape[2] or out[3] < xshape[3]:
        raise Error(L.INVALID_SHAPE, "grad_output of shape %r does not match input_size %r"
                    % (dy.shape, xshape))
    dx = _conv2d_forward(ctx, p, dy, w, None, L.PlanOptions())[0]
    if out != xshape:
        dx = to_device(np.ascontiguousarray(dx.numpy()[:, :, :xshape[2], :xshape[3]]), ctx,
                       dx.dtype)
    return result(dx, grad_output)


def conv_transpose2d_weight(input, weight_size, grad_output, stride=1, padding=0,
                            output_padding=0, groups=1, dilation=1, *, context=None):
    """The gradient of conv_transpose2d with respect to its weight (shape
    ``weight_size`` (C, out/groups, kH, kW)): conv2d_weight with
    ``grad_output`` as the convolution's input and ``input`` as its output
    gradient (deterministic). Where ``output_padding`` reaches beyond a
    stride, ``input`` is zero-extended on the host to the convolution's
    output size."""
    ctx = pick_context(context, input, grad_output)
    x = as_device(ctx, input, "input", None)
    _need(x, 4, "input", "(N, C, H, W)")
    dy = as_device(ctx, grad_output, "grad_output", x.dtype)
    _need(dy, 4, "grad_output", "(N, out_channels, H_out, W_out)")
    wshape = _size(weight_size, 4, "weight_size")
    p = _conv2d_params(dy.shape, wshape, stride, padding, dilation, groups, False, False)
    p.dtype = dtype_code(x.dtype)
    out = _conv2d_out(p, dy.shape)
    if out[:2] != x.shape[:2] or out[2] < x.shape[2] or out[3] < x.shape[3]:
        raise Error(L.INVALID_SHAPE, "grad_output of shape %r does not match input of shape %r"
                    % (dy.shape, x.shape))
    if out != x.shape:  # output_padding beyond a stride: zero rows / columns
        xp = np.zeros(out, x.dtype)
        xp[:, :, :x.shape[2], :x.shape[3]] = x.numpy()
        x = to_device(xp, ctx)
    return result(_conv2d_weight(ctx, p, dy, wshape, x), grad_output)


def relu_backward(output, grad_output, *, context=None):
    """PyTorch's threshold_backward for a ReLU: ``grad_output`` where
    ``output`` (the ReLU's result, e.g. a ``relu=True`` conv2d's) is > 0,
    else 0 (NaN in ``output`` passes the gradient)."""
    ctx = pick_context(context, output, grad_output)
    y = as_device(ctx, output, "output", None)
    dy = as_device(ctx, grad_output, "grad_output", y.dtype)
    _expect(dy, y.shape, "grad_output")
    n = y.size
    if n == 0:
        return result(ctx.empty(y.shape, y.dtype), grad_output)
    if y.dtype == np.float16:  # the ReLU activation plan's gradient: the same rule, on halves
        plan = _act_plan(ctx, _activation_spec("relu"), n, y.dtype)
        dx = ctx.empty(y.shape, y.dtype)
        _run(ctx, L.lib.clconv_activation_backward_scaled_run, plan.handle, 1.0, y.mem, dy.mem,
             dx.mem)
        return result(dx, grad_output)
    shape = (1, 1, 1, n)
    plan = ctx.plan(("relu_backward", shape), lambda h, out: L.lib.clconv_relu_backward_plan_create(
        h, C.byref(_shape4(shape)), out))
    dx = ctx.empty(y.shape)
    _run(ctx, L.lib.clconv_relu_backward_run, plan.handle, y.mem, dy.mem, dx.mem)
    return result(dx, grad_output)


class _ActParams(C.Structure):
    """Just the activation fields, for _set_activation outside a layer."""
    _fields_ = [("activation", C.c_int), ("activation_params", C.c_float * 2)]


def _activation_spec(spec):
    p = _ActParams()
    _set_activation(p, False, spec)
    return p


def activation_backward_source(activation):
    """``'output'`` when the gradient of ``activation`` (a name or (name,
    parameters...), as conv2d's ``activation=``) is computed from the
    activation's output y (relu, relu6, hardtanh, sigmoid, tanh, leaky_relu /
    elu with non-negative parameters), ``'input'`` when it needs the
    pre-activation x (the others)."""
    p = _activation_spec(activation)
    src = L.lib.clconv_activation_backward_source(p.activation, p.activation_params)
    return "output" if src == 0 else "input"


def _act_plan(ctx, p, n, dtype):
    shape = (1, 1, 1, n)
    code = dtype_code(dtype)
    key = ("activation", bytes(p), shape, code)
    return ctx.plan(key, lambda h, out: L.lib.clconv_activation_plan_create_dtype(
        h, p.activation, p.activation_params, C.byref(_shape4(shape)), code, out))


def activation(input, activation, *, context=None):
    """The activation alone, elementwise on the device (F.silu(x),
    F.leaky_relu(x, 0.2), ...: ``activation`` a name or (name,
    parameters...), as conv2d's ``activation=``): the unfused epilogue."""
    p = _activation_spec(activation)
    ctx = pick_context(context, input)
    x = as_device(ctx, input, "input", None)
    if x.size == 0:
        return result(ctx.empty(x.shape, x.dtype), input)
    plan = _act_plan(ctx, p, x.size, x.dtype)
    y = ctx.empty(x.shape, x.dtype)
    _run(ctx, L.lib.clconv_activation_run, plan.handle, x.mem, y.mem)
    return result(y, input)


def activation_backward(saved, grad_output, activation, *, scale=1.0, context=None):
    """dL/dx = grad_output * act'(x) for the activation's input x:
    ``saved`` is the activation's output or its input, as
    ``activation_backward_source(activation)`` says (the forms of PyTorch's
    backward kernels). ``scale`` multiplies grad_output first, (scale *
    grad_output) * act'(x) in one pass: the epilogue's gradients
    dL/dconv = alpha * g and dL/dresidual = beta * g (``activation`` None or
    'none': plain scaling)."""
    scale = _real(scale, "scale")
    p = _activation_spec(activation)
    ctx = pick_context(context, saved, grad_output)
    v = as_device(ctx, saved, "saved", None)
    dy = as_device(ctx, grad_output, "grad_output", v.dtype)
    _expect(dy, v.shape, "grad_output")
    if v.size == 0:
        return result(ctx.empty(v.shape, v.dtype), grad_output)
    plan = _act_plan(ctx, p, v.size, v.dtype)
    dx = ctx.empty(v.shape, v.dtype)
    _run(ctx, L.lib.clconv_activation_backward_scaled_run, plan.handle, scale, v.mem, dy.mem,
         dx.mem)
    return result(dx, grad_output)


def _host_f32(a, name, shape=None):
    if a is None:
        return None
    arr = np.asarray(a)
    if arr.dtype != np.float32:
        raise Error(L.INVALID_VALUE, "%s: dtype %s, expected float32" % (name, arr.dtype))
    arr = np.ascontiguousarray(arr)
    if shape is not None and arr.shape != tuple(shape):
        raise Error(L.INVALID_SHAPE, "%s has shape %r, expected %r" % (name, arr.shape,
                                                                       tuple(shape)))
    return arr


def fold_batchnorm(weight, bias, running_mean, running_var, bn_weight=None, bn_bias=None,
                   eps=1e-5, *, transposed=False, groups=1):
    """torch.nn.utils.fuse_conv_bn_weights: the weights and bias of a
    convolution (``transposed``: a conv_transpose2d, weight (in,
    out/groups, kH, kW)) followed by BatchNorm2d in eval mode with
    ``running_mean`` / ``running_var`` and affine ``bn_weight`` / ``bn_bias``
    (None: 1 / 0), as one convolution's (weight, bias), float32 NumPy
    arrays; ``bias`` may be None."""
    w = _host_f32(weight, "weight")
    if w is None or w.ndim != 4:
        raise Error(L.INVALID_SHAPE, "weight: expected a 4-D array")
    groups = _int(groups, "groups")
    oc = w.shape[1] * groups if transposed else w.shape[0]
    b = _host_f32(bias, "bias", (oc,))
    mean = _host_f32(running_mean, "running_mean", (oc,))
    var = _host_f32(running_var, "running_var", (oc,))
    gamma = _host_f32(bn_weight, "bn_weight", (oc,))
    beta = _host_f32(bn_bias, "bn_bias", (oc,))
    if mean is None or var is None:
        raise Error(L.INVALID_VALUE, "running_mean and running_var are required")
    ptr = lambda a: None if a is None else a.ctypes.data_as(C.POINTER(C.c_float))
    w_out = np.empty_like(w)
    b_out = np.empty(oc, np.float32)
    if transposed:
        p = L.ConvTranspose2dParams()
        p.in_channels, p.out_channels = w.shape[0], oc
        p.kernel_h, p.kernel_w = w.shape[2], w.shape[3]
        p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1
        p.groups = groups
        fn = L.lib.clconv_conv_transpose2d_fold_batchnorm
    else:
        p = L.Conv2dParams()
        p.in_channels, p.out_channels = w.shape[1] * groups, oc
        p.kernel_h, p.kernel_w = w.shape[2], w.shape[3]
        p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1
        p.groups = groups
        fn = L.lib.clconv_conv2d_fold_batchnorm
    L.check(fn(C.byref(p), ptr(w), ptr(b), ptr(gamma), ptr(beta), ptr(mean), ptr(var),
               float(eps), ptr(w_out), ptr(b_out)))
    return w_out, b_out


# ---------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------

def _pool_params(mode, kernel_size=None, stride=None, padding=0, dilation=1, ceil_mode=False,
                 count_include_pad=True, divisor_override=None, norm_type=2.0, output_size=None,
                 xshape=None):
    p = L.Pool2dParams()
    p.mode = mode
    p.dilation_h = p.dilation_w = 1
    p.count_include_pad = 1
    p.norm_type = 2.0
    if mode in (ADAPTIVE_AVG, ADAPTIVE_MAX):
        if isinstance(output_size, (tuple, list)):
            if len(output_size) != 2:
                raise Error(L.INVALID_VALUE, "output_size = %r, expected an int or 2 ints"
                            % (output_size,))
            oh, ow = output_size
        else:
            oh = ow = output_size
        p.output_h = xshape[2] if oh is None else _int(oh, "output_size")
        p.output_w = xshape[3] if ow is None else _int(ow, "output_size")
        return p
    p.kernel_h, p.kernel_w = _tuple(kernel_size, 2, "kernel_size")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        p.stride_h, p.stride_w = p.kernel_h, p.kernel_w
    else:
        p.stride_h, p.stride_w = _tuple(stride, 2, "stride")
    ph, pw = _tuple(padding, 2, "padding")
    L.set_pad2d(p, ph, ph, pw, pw)
    p.dilation_h, p.dilation_w = _tuple(dilation, 2, "dilation")
    p.ceil_mode = 1 if ceil_mode else 0
    p.count_include_pad = 1 if count_include_pad else 0
    if divisor_override is not None:
        p.divisor_override = _int(divisor_override, "divisor_override")
        if p.divisor_override == 0:
            raise Error(L.INVALID_VALUE, "divisor_override = 0, expected None or a nonzero int")
    try:
        p.norm_type = float(norm_type)
    except (TypeError, ValueError):
        raise Error(L.INVALID_VALUE, "norm_type = %r, expected a number" % (norm_type,))
    return p


def _pool_forward(ctx, p, x, with_indices):
    p.dtype = dtype_code(x.dtype)
    key = ("pool2d", bytes(p), x.shape)
    plan = ctx.plan(key, lambda h, out: L.lib.clconv_pool2d_plan_create(
        h, C.byref(p), C.byref(_shape4(x.shape)), None, out))
    y = ctx.empty(plan.output_shape, x.dtype)
    idx = ctx.empty(plan.output_shape, np.int64) if with_indices else None
    _run(ctx, L.lib.clconv_pool2d_run, plan.handle, x.mem, y.mem, idx.mem if idx else None)
    return y, idx


def _pool(mode, input, context, return_indices=False, **kw):
    ctx = pick_context(context, input)
    x, unb = _input(ctx, input, 4, "input", "(N, C, H, W)")
    p = _pool_params(mode, xshape=x.shape, **kw)
    y, idx = _pool_forward(ctx, p, x, return_indices)
    if return_indices:
        return _out(y, input, unb), _out(idx, input, unb)
    return _out(y, input, unb)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, *, context=None):
    """F.max_pool2d. With ``return_indices=True`` returns ``(output,
    indices)``, the int64 flat argmax within each input plane, as PyTorch."""
    return _pool(MAX, input, context, return_indices, kernel_size=kernel_size, stride=stride,
                 padding=padding, dilation=dilation, ceil_mode=ceil_mode)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, context=None):
    """F.avg_pool2d."""
    return _pool(AVG, input, context, kernel_size=kernel_size, stride=stride, padding=padding,
                 ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                 divisor_override=divisor_override)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False, *, context=None):
    """F.lp_pool2d: (sum of x^p over the window)^(1/p)."""
    return _pool(LP, input, context, kernel_size=kernel_size, stride=stride,
                 ceil_mode=ceil_mode, norm_type=norm_type)


def adaptive_avg_pool2d(input, output_size, *, context=None):
    """F.adaptive_avg_pool2d (``output_size`` an int or a pair; None keeps
    the input's size on that axis)."""
    return _pool(ADAPTIVE_AVG, input, context, output_size=output_size)


def adaptive_max_pool2d(input, output_size, return_indices=False, *, context=None):
    """F.adaptive_max_pool2d; ``return_indices=True`` also returns the int64
    argmax indices."""
    return _pool(ADAPTIVE_MAX, input, context, return_indices, output_size=output_size)


def _pool_backward(ctx, p, xshape, dy, indices, x):
    p.dtype = dtype_code(dy.dtype)
    plan = _bwd_plan(ctx, "pool2d_backward", L.lib.clconv_pool2d_backward_plan_create, p, xshape)
    _expect(dy, plan.info.output.tuple(), "grad_output")
    if indices is not None:
        _expect(indices, plan.info.output.tuple(), "indices")
    if x is not None:
        _expect(x, xshape, "input")
    dx = ctx.empty(xshape, dy.dtype)
    _run(ctx, L.lib.clconv_pool2d_backward_run, plan.handle, dy.mem,
         indices.mem if indices is not None else None, x.mem if x is not None else None, dx.mem)
    return dx


def _pool_bwd(mode, grad_output, input, indices, context, needs_x, **kw):
    ctx = pick_context(context, grad_output, input if not isinstance(input, tuple) else None)
    dy = as_device(ctx, grad_output, "grad_output", None)
    _need(dy, 4, "grad_output", "(N, C, H_out, W_out)")
    x = None
    if isinstance(input, (tuple, list)):
        if needs_x or (mode in (MAX, ADAPTIVE_MAX) and indices is None):
            raise Error(L.INVALID_VALUE, "input: this gradient needs the forward input itself, "
                        "not its shape")
        xshape = _size(input, 4, "input")
    else:
        x = as_device(ctx, input, "input", dy.dtype)
        _need(x, 4, "input", "(N, C, H, W)")
        xshape = x.shape
    idx = as_device(ctx, indices, "indices", np.int64) if indices is not None else None
    if mode not in (MAX, ADAPTIVE_MAX, LP):
        x = None  # not read
    p = _pool_params(mode, xshape=xshape, **kw)
    return result(_pool_backward(ctx, p, xshape, dy, idx, x), grad_output)


def max_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False, indices=None, *, context=None):
    """The gradient of max_pool2d with respect to its input. With
    ``indices`` (the forward's ``return_indices``) each window's gradient goes
    to the cell it names and ``input`` may be just the input's shape; without,
    the argmax is recomputed from ``input`` (the forward input)."""
    return _pool_bwd(MAX, grad_output, input, indices, context, False, kernel_size=kernel_size,
                     stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)


def avg_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None, *, context=None):
    """The gradient of avg_pool2d with respect to its input (``input``: the
    forward input or its shape)."""
    return _pool_bwd(AVG, grad_output, input, None, context, False, kernel_size=kernel_size,
                     stride=stride, padding=padding, ceil_mode=ceil_mode,
                     count_include_pad=count_include_pad, divisor_override=divisor_override)


def lp_pool2d_backward(grad_output, input, norm_type, kernel_size, stride=None, ceil_mode=False,
                       *, context=None):
    """The gradient of lp_pool2d with respect to its input (``input``: the
    forward input, which it needs)."""
    return _pool_bwd(LP, grad_output, input, None, context, True, kernel_size=kernel_size,
                     stride=stride, ceil_mode=ceil_mode, norm_type=norm_type)


def adaptive_avg_pool2d_backward(grad_output, input, *, context=None):
    """The gradient of adaptive_avg_pool2d (``input``: the forward input or
    its shape; the output size is grad_output's)."""
    return _pool_bwd(ADAPTIVE_AVG, grad_output, input, None, context, False,
                     output_size=_size(grad_output, 4, "grad_output")[2:])


def adaptive_max_pool2d_backward(grad_output, input, indices=None, *, context=None):
    """The gradient of adaptive_max_pool2d (``indices`` from the forward, or
    the argmax recomputed from ``input``)."""
    return _pool_bwd(ADAPTIVE_MAX, grad_output, input, indices, context, False,
                     output_size=_size(grad_output, 4, "grad_output")[2:])
