"""PyTorch integration: autograd functions and nn layers computed by clconv.

Importable when PyTorch is (Debian's python3-torch). Forward and backward
passes both run on clconv's device (the tensors themselves are CPU tensors:
each call uploads its inputs and reads its results back)::

    import clconv.torch as ct
    y = ct.conv2d(x, w, b, stride=2, padding=1)        # like F.conv2d, with autograd
    y = ct.conv2d(h, w, b, padding=1, activation="relu", residual=x)  # F.relu(conv + x + b)
    model.conv1 = ct.Conv2d.from_module(model.conv1)    # swap a layer (shares its parameters)
    ct.convert(model)                                   # or swap every supported layer

Tensors must be float32 or float16 CPU tensors (anything else raises
clconv.Error). float16 runs clconv's F16 storage (half tensors, float32
arithmetic, each result rounded once to half), forward and backward: the
convolutions' data, weight and bias gradients and the pooling gradients are
clconv's F16 backward passes. The epilogue's activation gradient (clconv's
activation plans are float32 only) is computed from the half tensors
widened exactly to float32 and rounded once to half, what an F16 kernel
with float32 arithmetic would store. A layer's tensors share one dtype:
mixed float32 / float16 arguments raise clconv.Error, as PyTorch raises
RuntimeError for them (convert the module with ``.half()`` / ``.float()``).
Every function takes ``context=`` (a clconv.Context; default: the default
context).
"""
import numpy as np
import torch
import torch.nn as nn

from . import _lib as L
from . import functional as CF
from ._core import pick_context
from ._lib import Error

__all__ = ["conv2d", "conv1d", "conv_transpose2d", "conv_transpose1d", "max_pool2d",
           "avg_pool2d", "lp_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "Conv2d", "Conv1d", "ConvTranspose2d", "ConvTranspose1d", "MaxPool2d", "AvgPool2d",
           "LPPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "convert"]


def _np(t, name):
    """A float32 or float16 C-ordered NumPy view (or copy) of a CPU tensor."""
    if not isinstance(t, torch.Tensor):
        raise Error(L.INVALID_VALUE, "%s: expected a torch.Tensor, got %s" % (name, type(t).__name__))
    if t.device.type != "cpu":
        raise Error(L.INVALID_VALUE, "%s is on device %s; clconv.torch takes CPU tensors"
                    % (name, t.device))
    if t.dtype not in (torch.float32, torch.float16):
        raise Error(L.INVALID_VALUE, "%s has dtype %s, expected torch.float32 or torch.float16 "
                    "(clconv stores tensors as float32 or IEEE half, computing in float32; "
                    "convert with .float())" % (name, t.dtype))
    return t.detach().contiguous().numpy()


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def _dev(ctx, t, name):
    return ctx.to_device(_np(t, name))


# ---------------------------------------------------------------------------
# autograd functions
# ---------------------------------------------------------------------------

def _act_spec(relu, activation):
    """The activation spec of ``relu=`` / ``activation=`` (None: none)."""
    if relu and activation is not None:
        raise Error(L.INVALID_VALUE, "relu=True and activation=%r: give one of them"
                    % (activation,))
    return "relu" if relu else activation


def _epilogue_forward(fctx, conv, spec, z, alpha, beta):
    """Runs ``conv(**kw)`` (a clconv.functional convolution on NumPy arrays)
    with the epilogue act(alpha * conv + beta * z + bias); keeps in fctx what
    the backward needs. Returns (y, the tensor to save for the activation's
    gradient: y itself or the pre-activation, as activation_backward_source
    says; None without an activation)."""
    want_pre = spec is not None and CF.activation_backward_source(spec) == "input"
    out = conv(activation=spec, residual=None if z is None else _np(z, "residual"), alpha=alpha,
               beta=beta, return_pre_activation=want_pre)
    y, pre = out if want_pre else (out, None)
    y = _t(y)
    fctx.epilogue = (spec, float(alpha), float(beta), z is not None)
    return y, (_t(pre) if want_pre else y if spec is not None else None)


def _epilogue_backward(fctx, c, gy, saved, z_index):
    """The epilogue's gradients on the device: (g = dy * act'(s) for the bias,
    alpha * g for the convolution, beta * g for the residual or None)."""
    spec, alpha, beta, has_z = fctx.epilogue
    dy = _dev(c, gy, "grad_output")
    v = c.to_device(_np(saved, "saved")) if saved is not None else dy

    def grad(scale):
        if spec is None and scale == 1.0:
            return dy
        return CF.activation_backward(v, dy, spec, scale=scale, context=c)
    g = grad(1.0)
    gconv = g if alpha == 1.0 else grad(alpha)
    gz = None
    if has_z and fctx.needs_input_grad[z_index]:
        gz = g if beta == 1.0 else grad(beta)
    return g, gconv, gz


class Conv2dFunction(torch.autograd.Function):
    """conv2d with its fused epilogue (activation, residual z with alpha and
    beta) with clconv forward and backward passes."""

    @staticmethod
    def forward(fctx, x, w, b, z, stride, padding, dilation, groups, activation, alpha, beta,
                context):
        c = pick_context(context)
        y, saved = _epilogue_forward(
            fctx, lambda **kw: CF.conv2d(_np(x, "input"), _np(w, "weight"),
                                         None if b is None else _np(b, "bias"), stride, padding,
                                         dilation, groups, context=c, **kw),
            activation, z, alpha, beta)
        fctx.conf = (stride, padding, dilation, groups, c, b is not None)
        fctx.save_for_backward(x, w, saved)
        return y

    @staticmethod
    def backward(fctx, gy):
        stride, padding, dilation, groups, c, has_bias = fctx.conf
        x, w, saved = fctx.saved_tensors
        g, dconv, gz = _epilogue_backward(fctx, c, gy, saved, 3)
        dx = dw = db = dz = None
        if fctx.needs_input_grad[0]:
            dx = _t(CF.conv2d_input(x.shape, c.to_device(_np(w, "weight")), dconv, stride, padding,
                                    dilation, groups, context=c).numpy())
        if fctx.needs_input_grad[1]:
            dw = _t(CF.conv2d_weight(c.to_device(_np(x, "input")), w.shape, dconv, stride, padding,
                                     dilation, groups, context=c).numpy())
        if has_bias and fctx.needs_input_grad[2]:
            db = _t(CF.conv2d_bias(g, context=c).numpy())
        if gz is not None:
            dz = _t(gz.numpy())
        return (dx, dw, db, dz) + (None,) * 8


class ConvTranspose2dFunction(torch.autograd.Function):
    """conv_transpose2d with its fused epilogue, clconv forward and backward
    passes (its gradients are a conv2d and a conv2d weight gradient)."""

    @staticmethod
    def forward(fctx, x, w, b, z, stride, padding, output_padding, groups, dilation, activation,
                alpha, beta, context):
        c = pick_context(context)
        y, saved = _epilogue_forward(
            fctx, lambda **kw: CF.conv_transpose2d(
                _np(x, "input"), _np(w, "weight"), None if b is None else _np(b, "bias"),
                stride, padding, output_padding, groups, dilation, context=c, **kw),
            activation, z, alpha, beta)
        fctx.conf = (stride, padding, output_padding, groups, dilation, c, b is not None)
        fctx.save_for_backward(x, w, saved)
        return y

    @staticmethod
    def backward(fctx, gy):
        stride, padding, output_padding, groups, dilation, c, has_bias = fctx.conf
        x, w, saved = fctx.saved_tensors
        g, dconv, gz = _epilogue_backward(fctx, c, gy, saved, 3)
        dx = dw = db = dz = None
        if fctx.needs_input_grad[0]:
            dx = _t(CF.conv_transpose2d_input(x.shape, _np(w, "weight"), dconv, stride, padding,
                                              output_padding, groups, dilation,
                                              context=c).numpy())
        if fctx.needs_input_grad[1]:
            dw = _t(CF.conv_transpose2d_weight(_np(x, "input"), w.shape, dconv, stride, padding,
                                               output_padding, groups, dilation,
                                               context=c).numpy())
        if has_bias and fctx.needs_input_grad[2]:
            db = _t(CF.conv2d_bias(g, context=c).numpy())
        if gz is not None:
            dz = _t(gz.numpy())
        return (dx, dw, db, dz) + (None,) * 9


class MaxPool2dFunction(torch.autograd.Function):
    """max_pool2d / adaptive_max_pool2d returning (output, indices); the
    gradient goes through the indices."""

    @staticmethod
    def forward(fctx, x, kernel_size, stride, padding, dilation, ceil_mode, output_size, context):
        c = pick_context(context)
        if output_size is not None:
            y, idx = CF.adaptive_max_pool2d(_np(x, "input"), output_size, True, context=c)
        else:
            y, idx = CF.max_pool2d(_np(x, "input"), kernel_size, stride, padding, dilation,
                                   ceil_mode, True, context=c)
        y, idx = _t(y), _t(idx)
        fctx.conf = (kernel_size, stride, padding, dilation, ceil_mode, output_size, c,
                     tuple(x.shape))
        fctx.save_for_backward(idx)
        fctx.mark_non_differentiable(idx)
        return y, idx

    @staticmethod
    def backward(fctx, gy, gidx):
        kernel_size, stride, padding, dilation, ceil_mode, output_size, c, xshape = fctx.conf
        (idx,) = fctx.saved_tensors
        dy = _np(gy, "grad_output")
        unbatched = len(xshape) == 3
        if unbatched:
            dy, xshape, idx = dy[None], (1,) + xshape, idx[None]
        if output_size is not None:
            dx = CF.adaptive_max_pool2d_backward(dy, xshape, idx.numpy(), context=c)
        else:
            dx = CF.max_pool2d_backward(dy, xshape, kernel_size, stride, padding, dilation,
                                        ceil_mode, indices=idx.numpy(), context=c)
        return (_t(dx[0] if unbatched else dx),) + (None,) * 7


class AvgPool2dFunction(torch.autograd.Function):
    """avg_pool2d / adaptive_avg_pool2d / lp_pool2d with clconv backward."""

    @staticmethod
    def forward(fctx, x, mode, kw, context):
        c = pick_context(context)
        xn = _np(x, "input")
        if mode == "avg":
            y = CF.avg_pool2d(xn, context=c, **kw)
        elif mode == "lp":
            y = CF.lp_pool2d(xn, context=c, **kw)
        else:
            y = CF.adaptive_avg_pool2d(xn, context=c, **kw)
        fctx.conf = (mode, kw, c)
        fctx.save_for_backward(x if mode == "lp" else None)
        fctx.xshape = tuple(x.shape)
        return _t(y)

    @staticmethod
    def backward(fctx, gy):
        mode, kw, c = fctx.conf
        (x,) = fctx.saved_tensors
        dy = _np(gy, "grad_output")
        xshape = fctx.xshape
        unbatched = len(xshape) == 3
        if unbatched:
            dy, xshape = dy[None], (1,) + xshape
        if mode == "avg":
            dx = CF.avg_pool2d_backward(dy, xshape, context=c, **kw)
        elif mode == "lp":
            xn = _np(x, "input")
            dx = CF.lp_pool2d_backward(dy, xn[None] if unbatched else xn, context=c, **kw)
        else:
            dx = CF.adaptive_avg_pool2d_backward(dy, xshape, context=c)
        return _t(dx[0] if unbatched else dx), None, None, None


# ---------------------------------------------------------------------------
# functional wrappers (torch.nn.functional's names and defaults)
# ---------------------------------------------------------------------------

def _unsqueeze(t, dim, name):
    if t is None:
        return None
    if not isinstance(t, torch.Tensor):
        _np(t, name)  # raises the message for a non-tensor
    return t.unsqueeze(dim)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, relu=False,
           activation=None, residual=None, alpha=1.0, beta=1.0, context=None):
    """F.conv2d through clconv, differentiable. ``relu=True`` fuses a ReLU,
    ``activation=`` any other (a name or (name, parameters...), as
    clconv.conv2d's); ``residual=`` (a tensor of the output's shape) with
    ``alpha=`` / ``beta=`` makes the result ``act(alpha * conv + beta *
    residual + bias)``, differentiable in the residual too (dL/dresidual =
    beta * g, dL/dconv = alpha * g, g = dy * act'(s))."""
    if isinstance(input, torch.Tensor) and input.dim() == 3:  # unbatched (C, H, W)
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups,
                      relu=relu, activation=activation,
                      residual=_unsqueeze(residual, 0, "residual"), alpha=alpha, beta=beta,
                      context=context).squeeze(0)
    return Conv2dFunction.apply(input, weight, bias, residual, stride, padding, dilation, groups,
                                _act_spec(relu, activation), alpha, beta, context)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, relu=False,
           activation=None, residual=None, alpha=1.0, beta=1.0, context=None):
    """F.conv1d through clconv (as a conv2d of height 1), differentiable; the
    epilogue's arguments as conv2d's."""
    pad = padding if isinstance(padding, str) else (0, CF._tuple(padding, 1, "padding")[0])
    y = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias,
               (1, CF._tuple(stride, 1, "stride")[0]), pad,
               (1, CF._tuple(dilation, 1, "dilation")[0]), groups, relu=relu,
               activation=activation, residual=_unsqueeze(residual, -2, "residual"), alpha=alpha,
               beta=beta, context=context)
    return y.squeeze(-2)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, relu=False, activation=None, residual=None, alpha=1.0,
                     beta=1.0, context=None):
    """F.conv_transpose2d through clconv, differentiable; the epilogue's
    arguments as conv2d's."""
    if isinstance(input, torch.Tensor) and input.dim() == 3:  # unbatched (C, H, W)
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding,
                                groups, dilation, relu=relu, activation=activation,
                                residual=_unsqueeze(residual, 0, "residual"), alpha=alpha,
                                beta=beta, context=context).squeeze(0)
    return ConvTranspose2dFunction.apply(input, weight, bias, residual, stride, padding,
                                         output_padding, groups, dilation,
                                         _act_spec(relu, activation), alpha, beta, context)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, relu=False, activation=None, residual=None, alpha=1.0,
                     beta=1.0, context=None):
    """F.conv_transpose1d through clconv (height 1), differentiable; the
    epilogue's arguments as conv2d's."""
    one = lambda v, n: (0 if n in ("padding", "output_padding") else 1,  # noqa: E731
                        CF._tuple(v, 1, n)[0])
    y = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, one(stride, "stride"),
                         one(padding, "padding"), one(output_padding, "output_padding"), groups,
                         one(dilation, "dilation"), relu=relu, activation=activation,
                         residual=_unsqueeze(residual, -2, "residual"), alpha=alpha, beta=beta,
                         context=context)
    return y.squeeze(-2)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, *, context=None):
    """F.max_pool2d through clconv, differentiable (through the indices)."""
    y, idx = MaxPool2dFunction.apply(input, kernel_size, stride, padding, dilation, ceil_mode,
                                     None, context)
    return (y, idx) if return_indices else y


def adaptive_max_pool2d(input, output_size, return_indices=False, *, context=None):
    """F.adaptive_max_pool2d through clconv, differentiable."""
    y, idx = MaxPool2dFunction.apply(input, None, None, 0, 1, False, output_size, context)
    return (y, idx) if return_indices else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, context=None):
    """F.avg_pool2d through clconv, differentiable."""
    return AvgPool2dFunction.apply(input, "avg", dict(
        kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, divisor_override=divisor_override), context)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False, *, context=None):
    """F.lp_pool2d through clconv, differentiable."""
    return AvgPool2dFunction.apply(input, "lp", dict(
        norm_type=norm_type, kernel_size=kernel_size, stride=stride, ceil_mode=ceil_mode),
        context)


def adaptive_avg_pool2d(input, output_size, *, context=None):
    """F.adaptive_avg_pool2d through clconv, differentiable."""
    return AvgPool2dFunction.apply(input, "adaptive", dict(output_size=output_size), context)


# ---------------------------------------------------------------------------
# modules
# ---------------------------------------------------------------------------

def _zeros_only(m):
    if getattr(m, "padding_mode", "zeros") != "zeros":
        raise Error(L.UNSUPPORTED, "padding_mode = %r: clconv pads with zeros only"
                    % m.padding_mode)


class Conv2d(nn.Conv2d):
    """nn.Conv2d computed by clconv (padding_mode 'zeros' only). Extra
    keyword arguments: ``relu=True`` fuses a ReLU after the bias,
    ``activation=`` any other activation (as conv2d's), ``context=`` a
    clconv.Context. ``forward(input, residual=None)``: a residual of the
    output's shape is added before the activation, ``act(conv + residual +
    bias)`` in one kernel (a ResNet block's add)."""

    def __init__(self, *args, relu=False, activation=None, context=None, **kw):
        super().__init__(*args, **kw)
        _zeros_only(self)
        _act_spec(relu, activation)
        self.relu = relu
        self.activation = activation
        self.context = context

    def forward(self, input, residual=None):
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups, relu=self.relu, activation=self.activation,
                      residual=residual, context=self.context)

    @classmethod
    def from_module(cls, m, relu=False, activation=None, context=None):
        """A clconv layer with ``m``'s configuration sharing its weight and
        bias Parameters (optimizers that hold them keep working)."""
        new = cls(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                  m.groups, bias=m.bias is not None, padding_mode=m.padding_mode, relu=relu,
                  activation=activation, context=context, device="cpu", dtype=m.weight.dtype)
        new.weight, new.bias = m.weight, m.bias
        new.train(m.training)
        return new


class Conv1d(nn.Conv1d):
    """nn.Conv1d computed by clconv (``relu=``, ``activation=``, ``context=``
    and ``forward(input, residual=None)`` as Conv2d)."""

    def __init__(self, *args, relu=False, activation=None, context=None, **kw):
        super().__init__(*args, **kw)
        _zeros_only(self)
        _act_spec(relu, activation)
        self.relu = relu
        self.activation = activation
        self.context = context

    def forward(self, input, residual=None):
        return conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups, relu=self.relu, activation=self.activation,
                      residual=residual, context=self.context)

    @classmethod
    def from_module(cls, m, relu=False, activation=None, context=None):
        """A clconv layer with ``m``'s configuration sharing its Parameters."""
        new = cls(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                  m.groups, bias=m.bias is not None, padding_mode=m.padding_mode, relu=relu,
                  activation=activation, context=context, device="cpu", dtype=m.weight.dtype)
        new.weight, new.bias = m.weight, m.bias
        new.train(m.training)
        return new


class ConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d computed by clconv (``forward(input, output_size,
    residual=None)``: output_size as PyTorch, residual as Conv2d; ``relu=``,
    ``activation=``, ``context=`` as Conv2d)."""

    def __init__(self, *args, relu=False, activation=None, context=None, **kw):
        super().__init__(*args, **kw)
        _zeros_only(self)
        _act_spec(relu, activation)
        self.relu = relu
        self.activation = activation
        self.context = context

    def forward(self, input, output_size=None, residual=None):
        op = self._output_padding(input, output_size, self.stride, self.padding,
                                  self.kernel_size, 2, self.dilation)
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, op,
                                self.groups, self.dilation, relu=self.relu,
                                activation=self.activation, residual=residual,
                                context=self.context)

    @classmethod
    def from_module(cls, m, relu=False, activation=None, context=None):
        """A clconv layer with ``m``'s configuration sharing its Parameters."""
        new = cls(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                  m.output_padding, m.groups, m.bias is not None, m.dilation,
                  padding_mode=m.padding_mode, relu=relu, activation=activation,
                  context=context, device="cpu", dtype=m.weight.dtype)
        new.weight, new.bias = m.weight, m.bias
        new.train(m.training)
        return new


class ConvTranspose1d(nn.ConvTranspose1d):
    """nn.ConvTranspose1d computed by clconv (as ConvTranspose2d)."""

    def __init__(self, *args, relu=False, activation=None, context=None, **kw):
        super().__init__(*args, **kw)
        _zeros_only(self)
        _act_spec(relu, activation)
        self.relu = relu
        self.activation = activation
        self.context = context

    def forward(self, input, output_size=None, residual=None):
        op = self._output_padding(input, output_size, self.stride, self.padding,
                                  self.kernel_size, 1, self.dilation)
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, op,
                                self.groups, self.dilation, relu=self.relu,
                                activation=self.activation, residual=residual,
                                context=self.context)

    @classmethod
    def from_module(cls, m, relu=False, activation=None, context=None):
        """A clconv layer with ``m``'s configuration sharing its Parameters."""
        new = cls(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                  m.output_padding, m.groups, m.bias is not None, m.dilation,
                  padding_mode=m.padding_mode, relu=relu, activation=activation,
                  context=context, device="cpu", dtype=m.weight.dtype)
        new.weight, new.bias = m.weight, m.bias
        new.train(m.training)
        return new


class MaxPool2d(nn.MaxPool2d):
    """nn.MaxPool2d computed by clconv (``context=`` a clconv.Context)."""

    def __init__(self, *args, context=None, **kw):
        super().__init__(*args, **kw)
        self.context = context

    def forward(self, input):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices, context=self.context)

    @classmethod
    def from_module(cls, m, context=None):
        """A clconv layer with ``m``'s configuration."""
        return cls(m.kernel_size, m.stride, m.padding, m.dilation, m.return_indices, m.ceil_mode,
                   context=context)


class AvgPool2d(nn.AvgPool2d):
    """nn.AvgPool2d computed by clconv."""

    def __init__(self, *args, context=None, **kw):
        super().__init__(*args, **kw)
        self.context = context

    def forward(self, input):
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override, context=self.context)

    @classmethod
    def from_module(cls, m, context=None):
        """A clconv layer with ``m``'s configuration."""
        return cls(m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad,
                   m.divisor_override, context=context)


class LPPool2d(nn.LPPool2d):
    """nn.LPPool2d computed by clconv."""

    def __init__(self, *args, context=None, **kw):
        super().__init__(*args, **kw)
        self.context = context

    def forward(self, input):
        return lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode,
                         context=self.context)

    @classmethod
    def from_module(cls, m, context=None):
        """A clconv layer with ``m``'s configuration."""
        return cls(m.norm_type, m.kernel_size, m.stride, m.ceil_mode, context=context)


class AdaptiveAvgPool2d(nn.AdaptiveAvgPool2d):
    """nn.AdaptiveAvgPool2d computed by clconv."""

    def __init__(self, *args, context=None, **kw):
        super().__init__(*args, **kw)
        self.context = context

    def forward(self, input):
        return adaptive_avg_pool2d(input, self.output_size, context=self.context)

    @classmethod
    def from_module(cls, m, context=None):
        """A clconv layer with ``m``'s configuration."""
        return cls(m.output_size, context=context)


class AdaptiveMaxPool2d(nn.AdaptiveMaxPool2d):
    """nn.AdaptiveMaxPool2d computed by clconv."""

    def __init__(self, *args, context=None, **kw):
        super().__init__(*args, **kw)
        self.context = context

    def forward(self, input):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices,
                                   context=self.context)

    @classmethod
    def from_module(cls, m, context=None):
        """A clconv layer with ``m``'s configuration."""
        return cls(m.output_size, m.return_indices, context=context)


_SWAPS = {nn.Conv2d: Conv2d, nn.Conv1d: Conv1d, nn.ConvTranspose2d: ConvTranspose2d,
          nn.ConvTranspose1d: ConvTranspose1d, nn.MaxPool2d: MaxPool2d, nn.AvgPool2d: AvgPool2d,
          nn.LPPool2d: LPPool2d, nn.AdaptiveAvgPool2d: AdaptiveAvgPool2d,
          nn.AdaptiveMaxPool2d: AdaptiveMaxPool2d}


def convert(module, context=None):
    """Replaces, in place and recursively, every nn.Conv1d / Conv2d /
    ConvTranspose1d / ConvTranspose2d (padding_mode 'zeros') and 2-D pooling
    layer of ``module`` by its clconv counterpart (sharing the Parameters);
    returns ``module`` (or the converted layer when ``module`` itself is one)."""
    cls = _SWAPS.get(type(module))
    if cls is not None and getattr(module, "padding_mode", "zeros") == "zeros":
        return cls.from_module(module, context=context)
    for name, child in module.named_children():
        setattr(module, name, convert(child, context))
    return module
