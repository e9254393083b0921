"""clconv: convolution and pooling layers on OpenCL devices, from Python.

A ctypes binding of libclconv (include/clconv.h) with PyTorch's functional
names, arguments and defaults::

    import numpy as np, clconv
    x = np.random.rand(1, 3, 32, 32).astype(np.float32)
    w = np.random.rand(8, 3, 3, 3).astype(np.float32)
    y = clconv.conv2d(x, w, padding=1)                  # NumPy in, NumPy out

    ctx = clconv.Context()                              # CLCONV_DEVICE picks the device
    xd = ctx.to_device(x)                               # stays on the device
    yd = clconv.max_pool2d(clconv.conv2d(xd, w, relu=True), 2)
    print(yd.shape, yd.numpy().sum())

``clconv.torch`` (when PyTorch is importable) has autograd functions and
``nn.Module`` layers. Errors are :class:`clconv.Error` (``.status``,
``.message``).
"""
from ._lib import (Error, library_path, SUCCESS, INVALID_VALUE, INVALID_SHAPE, BUFFER_TOO_SMALL,
                   OUT_OF_HOST_MEMORY, NO_DEVICE, BUILD_FAILED, OPENCL, UNSUPPORTED, IO, CLBLAST,
                   WRONG_PLAN)
from ._core import Context, DeviceArray, Plan, default_context, set_default_context, to_device
from .functional import *  # noqa: F401,F403
from .functional import __all__ as _functional_all

__version__ = "0.3.4"  # the C library's (include/clconv.h); test_structs checks

__all__ = ["Error", "Context", "DeviceArray", "Plan", "default_context", "set_default_context",
           "to_device", "library_path", "SUCCESS", "INVALID_VALUE", "INVALID_SHAPE",
           "BUFFER_TOO_SMALL", "OUT_OF_HOST_MEMORY", "NO_DEVICE", "BUILD_FAILED", "OPENCL",
           "UNSUPPORTED", "IO", "CLBLAST", "WRONG_PLAN"] + list(_functional_all)
