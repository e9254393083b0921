"""Loading libclconv and its ctypes declarations (private).

The structures below mirror include/clconv.h field for field (int64_t ->
c_int64, int and enums -> c_int, size_t -> c_size_t, double -> c_double);
python/tests/test_structs.py compiles a small C program against the header
and checks every size and field offset against these declarations.
"""
import ctypes as C
import ctypes.util
import glob
import os
import sys

# ---------------------------------------------------------------------------
# Status codes and errors
# ---------------------------------------------------------------------------

SUCCESS = 0
INVALID_VALUE = 1
INVALID_SHAPE = 2
BUFFER_TOO_SMALL = 3
OUT_OF_HOST_MEMORY = 4
NO_DEVICE = 5
BUILD_FAILED = 6
OPENCL = 7
UNSUPPORTED = 8
IO = 9
CLBLAST = 10
WRONG_PLAN = 11

STATUS_NAMES = {
    0: "success", 1: "invalid value", 2: "invalid shape", 3: "buffer too small",
    4: "out of host memory", 5: "no device", 6: "build failed", 7: "OpenCL error",
    8: "unsupported", 9: "I/O error", 10: "CLBlast error", 11: "wrong plan",
}


class Error(RuntimeError):
    """An error reported by clconv, or a bad argument caught before the call.

    ``status`` is the library's ``clconv_status`` code (for example
    ``clconv.INVALID_VALUE`` = 1, ``clconv.INVALID_SHAPE`` = 2,
    ``clconv.UNSUPPORTED`` = 8), ``status_name`` its name and ``message``
    clconv's own message (which parameter had which value and what was
    expected), e.g. ``groups = 3 does not divide in_channels = 4``.
    """

    def __init__(self, status, message):
        self.status = int(status)
        self.status_name = STATUS_NAMES.get(self.status, "status %d" % self.status)
        self.message = message
        super().__init__("clconv: %s: %s" % (self.status_name, message))


# ---------------------------------------------------------------------------
# Structures (include/clconv.h)
# ---------------------------------------------------------------------------

class Shape(C.Structure):
    """clconv_shape: an NCHW shape."""
    _fields_ = [("n", C.c_int64), ("c", C.c_int64), ("h", C.c_int64), ("w", C.c_int64)]

    def tuple(self):
        return (self.n, self.c, self.h, self.w)


class ContextOptions(C.Structure):
    """clconv_context_options."""
    _fields_ = [("device", C.c_char_p), ("device_class", C.c_int), ("cache_dir", C.c_char_p),
                ("workspace_limit", C.c_size_t), ("find_space", C.c_int)]


class CacheStats(C.Structure):
    """clconv_cache_stats."""
    _fields_ = [("memory_hits", C.c_uint64), ("disk_hits", C.c_uint64), ("compiled", C.c_uint64),
                ("disk_writes", C.c_uint64), ("disk_write_errors", C.c_uint64)]


class PlanOptions(C.Structure):
    """clconv_plan_options."""
    _fields_ = [("algorithm", C.c_int), ("wg_w", C.c_int), ("wg_h", C.c_int), ("wg_oc", C.c_int),
                ("block_w", C.c_int), ("block_oc", C.c_int), ("ci_chunk", C.c_int),
                ("find", C.c_int)]


class PlanInfo(C.Structure):
    """clconv_plan_info."""
    _fields_ = [("algorithm", C.c_int), ("input", Shape), ("output", Shape),
                ("workspace_bytes", C.c_size_t), ("local_mem_bytes", C.c_size_t),
                ("global_size", C.c_size_t * 3), ("local_size", C.c_size_t * 3),
                ("flops", C.c_double), ("bytes", C.c_double), ("kernel_name", C.c_char * 64),
                ("build_options", C.c_char * 512), ("plan_device_bytes", C.c_size_t),
                ("kernels_per_run", C.c_uint)]


class Conv2dParams(C.Structure):
    """clconv_conv2d_params."""
    _fields_ = [("in_channels", C.c_int64), ("out_channels", C.c_int64),
                ("kernel_h", C.c_int64), ("kernel_w", C.c_int64),
                ("stride_h", C.c_int64), ("stride_w", C.c_int64),
                ("pad_top", C.c_int64), ("pad_bottom", C.c_int64),
                ("pad_left", C.c_int64), ("pad_right", C.c_int64),
                ("dilation_h", C.c_int64), ("dilation_w", C.c_int64),
                ("groups", C.c_int64), ("has_bias", C.c_int), ("activation", C.c_int),
                ("activation_params", C.c_float * 2),
                ("has_residual", C.c_int), ("alpha", C.c_float), ("beta", C.c_float),
                ("pre_activation_output", C.c_int),
                ("dtype", C.c_int)]


class Conv1dParams(C.Structure):
    """clconv_conv1d_params."""
    _fields_ = [("in_channels", C.c_int64), ("out_channels", C.c_int64),
                ("kernel", C.c_int64), ("stride", C.c_int64),
                ("pad_left", C.c_int64), ("pad_right", C.c_int64),
                ("dilation", C.c_int64), ("groups", C.c_int64),
                ("has_bias", C.c_int), ("activation", C.c_int),
                ("activation_params", C.c_float * 2),
                ("has_residual", C.c_int), ("alpha", C.c_float), ("beta", C.c_float),
                ("pre_activation_output", C.c_int),
                ("dtype", C.c_int)]


class ConvTranspose2dParams(C.Structure):
    """clconv_conv_transpose2d_params."""
    _fields_ = [("in_channels", C.c_int64), ("out_channels", C.c_int64),
                ("kernel_h", C.c_int64), ("kernel_w", C.c_int64),
                ("stride_h", C.c_int64), ("stride_w", C.c_int64),
                ("pad_top", C.c_int64), ("pad_bottom", C.c_int64),
                ("pad_left", C.c_int64), ("pad_right", C.c_int64),
                ("output_padding_h", C.c_int64), ("output_padding_w", C.c_int64),
                ("dilation_h", C.c_int64), ("dilation_w", C.c_int64),
                ("groups", C.c_int64), ("has_bias", C.c_int), ("activation", C.c_int),
                ("activation_params", C.c_float * 2),
                ("has_residual", C.c_int), ("alpha", C.c_float), ("beta", C.c_float),
                ("pre_activation_output", C.c_int),
                ("dtype", C.c_int)]


class ConvTranspose1dParams(C.Structure):
    """clconv_conv_transpose1d_params."""
    _fields_ = [("in_channels", C.c_int64), ("out_channels", C.c_int64),
                ("kernel", C.c_int64), ("stride", C.c_int64),
                ("pad_left", C.c_int64), ("pad_right", C.c_int64),
                ("output_padding", C.c_int64), ("dilation", C.c_int64), ("groups", C.c_int64),
                ("has_bias", C.c_int), ("activation", C.c_int),
                ("activation_params", C.c_float * 2),
                ("has_residual", C.c_int), ("alpha", C.c_float), ("beta", C.c_float),
                ("pre_activation_output", C.c_int),
                ("dtype", C.c_int)]


class Pool2dParams(C.Structure):
    """clconv_pool2d_params."""
    _fields_ = [("mode", C.c_int), ("kernel_h", C.c_int64), ("kernel_w", C.c_int64),
                ("stride_h", C.c_int64), ("stride_w", C.c_int64),
                ("pad_top", C.c_int64), ("pad_bottom", C.c_int64),
                ("pad_left", C.c_int64), ("pad_right", C.c_int64),
                ("dilation_h", C.c_int64), ("dilation_w", C.c_int64),
                ("ceil_mode", C.c_int), ("count_include_pad", C.c_int),
                ("divisor_override", C.c_int64), ("norm_type", C.c_double),
                ("output_h", C.c_int64), ("output_w", C.c_int64),
                ("dtype", C.c_int)]


class ConvBuffers(C.Structure):
    """clconv_conv_buffers: the buffers of a clconv_conv_run (cl_mem handles)."""
    _fields_ = [("x", C.c_void_p), ("w", C.c_void_p), ("b", C.c_void_p), ("y", C.c_void_p),
                ("workspace", C.c_void_p), ("z", C.c_void_p), ("pre", C.c_void_p)]


# Every structure with its C name, for the layout check.
STRUCTS = {
    "clconv_shape": Shape, "clconv_context_options": ContextOptions,
    "clconv_cache_stats": CacheStats, "clconv_plan_options": PlanOptions,
    "clconv_plan_info": PlanInfo, "clconv_conv2d_params": Conv2dParams,
    "clconv_conv1d_params": Conv1dParams,
    "clconv_conv_transpose2d_params": ConvTranspose2dParams,
    "clconv_conv_transpose1d_params": ConvTranspose1dParams,
    "clconv_pool2d_params": Pool2dParams, "clconv_conv_buffers": ConvBuffers,
}


def set_pad2d(p, top, bottom, left, right):
    """Sets a 2-D parameter structure's four paddings (PyTorch's padding=(ph,
    pw) is top = bottom = ph, left = right = pw)."""
    p.pad_top, p.pad_bottom, p.pad_left, p.pad_right = top, bottom, left, right


def set_pad1d(p, left, right):
    """Sets a 1-D parameter structure's two paddings."""
    p.pad_left, p.pad_right = left, right


# ---------------------------------------------------------------------------
# Finding the library
# ---------------------------------------------------------------------------

_HERE = os.path.dirname(os.path.abspath(__file__))


def library_candidates():
    """The paths tried for libclconv, in order: $CLCONV_LIBRARY (a file or a
    directory), the package's own directory, the build tree of a source
    checkout (python/../build), then the usual install prefixes of
    ``cmake --install`` and the system's loader path."""
    out = []
    env = os.environ.get("CLCONV_LIBRARY")
    if env:
        if os.path.isdir(env):
            out += [os.path.join(env, "libclconv.so")] + \
                sorted(glob.glob(os.path.join(env, "libclconv.so.*")))
        else:
            out.append(env)
        return out
    out += sorted(glob.glob(os.path.join(_HERE, "libclconv.so*")))
    repo = os.path.dirname(os.path.dirname(_HERE))
    if os.path.isfile(os.path.join(repo, "include", "clconv.h")):
        out.append(os.path.join(repo, "build", "libclconv.so"))
    prefixes = [sys.prefix, os.path.expanduser("~/.local"), "/usr/local", "/usr"]
    for pre in prefixes:
        for libdir in ("lib", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu"):
            out.append(os.path.join(pre, libdir, "libclconv.so"))
    found = ctypes.util.find_library("clconv")
    if found:
        out.append(found)
    return out


def _load():
    tried = []
    env = os.environ.get("CLCONV_LIBRARY")
    for path in library_candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (absent)")
            continue
        try:
            return C.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    hint = ("CLCONV_LIBRARY=%s could not be loaded" % env) if env else \
        "set CLCONV_LIBRARY to the path of libclconv.so (build/libclconv.so after cmake --build)"
    raise ImportError("clconv: libclconv not found; %s. Tried: %s" % (hint, "; ".join(tried)))


lib, library_path = _load()

# OpenCL itself (the ICD loader libclconv links against), for buffers and events.
try:
    cl = C.CDLL("libOpenCL.so.1")
except OSError:  # pragma: no cover
    cl = C.CDLL(ctypes.util.find_library("OpenCL") or "libOpenCL.so")

# ---------------------------------------------------------------------------
# Prototypes
# ---------------------------------------------------------------------------

vp = C.c_void_p
P = C.POINTER
st = C.c_int
i64 = C.c_int64
u32 = C.c_uint32


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_fn("clconv_status_string", C.c_char_p, st)
_fn("clconv_last_error", C.c_char_p, vp)
_fn("clconv_context_create_with_options", st, P(ContextOptions), P(vp))
_fn("clconv_context_create_from_queue_with_options", st, vp, vp, P(ContextOptions), P(vp))
_fn("clconv_context_destroy", None, vp)
_fn("clconv_context_cl_context", vp, vp)
_fn("clconv_context_queue", vp, vp)
_fn("clconv_context_device", vp, vp)
_fn("clconv_context_device_name", C.c_char_p, vp)
_fn("clconv_context_device_class", C.c_int, vp)
_fn("clconv_context_cache_dir", C.c_char_p, vp)
_fn("clconv_context_tuning_db", C.c_char_p, vp)
_fn("clconv_context_cache_stats", st, vp, P(CacheStats))
_fn("clconv_algorithm_name", C.c_char_p, C.c_int)
_fn("clconv_plan_get_info", st, vp, P(PlanInfo))
_fn("clconv_plan_destroy", None, vp)

_fn("clconv_conv2d_set_same_padding", st, P(Conv2dParams))
_fn("clconv_activation_from_name", st, C.c_char_p, P(C.c_int))
_fn("clconv_activation_name", C.c_char_p, C.c_int)
_fn("clconv_activation_default_params", None, C.c_int, P(C.c_float))
_fn("clconv_activation_validate", st, C.c_int, P(C.c_float))
_fn("clconv_activation_backward_source", C.c_int, C.c_int, P(C.c_float))
_fn("clconv_activation_plan_create", st, vp, C.c_int, P(C.c_float), P(Shape), P(vp))
_fn("clconv_activation_plan_create_dtype", st, vp, C.c_int, P(C.c_float), P(Shape), C.c_int,
    P(vp))
_fn("clconv_activation_run", st, vp, vp, vp, u32, vp, P(vp))
_fn("clconv_activation_backward_run", st, vp, vp, vp, vp, u32, vp, P(vp))
_fn("clconv_activation_backward_scaled_run", st, vp, C.c_float, vp, vp, vp, u32, vp, P(vp))
_fn("clconv_conv2d_fold_batchnorm", st, P(Conv2dParams), P(C.c_float), P(C.c_float),
    P(C.c_float), P(C.c_float), P(C.c_float), P(C.c_float), C.c_double, P(C.c_float),
    P(C.c_float))
_fn("clconv_conv_transpose2d_fold_batchnorm", st, P(ConvTranspose2dParams), P(C.c_float),
    P(C.c_float), P(C.c_float), P(C.c_float), P(C.c_float), P(C.c_float), C.c_double,
    P(C.c_float), P(C.c_float))
_fn("clconv_conv2d_output_shape", st, P(Conv2dParams), P(Shape), P(Shape))
_fn("clconv_conv2d_plan_create", st, vp, P(Conv2dParams), P(Shape), P(PlanOptions), P(vp))
_fn("clconv_conv2d_run", st, vp, vp, vp, vp, vp, vp, u32, vp, P(vp))
_fn("clconv_conv_run", st, vp, P(ConvBuffers), u32, vp, P(vp))
_fn("clconv_conv1d_as_conv2d", Conv2dParams, P(Conv1dParams))
_fn("clconv_conv_transpose2d_output_shape", st, P(ConvTranspose2dParams), P(Shape), P(Shape))
_fn("clconv_conv_transpose2d_plan_create", st, vp, P(ConvTranspose2dParams), P(Shape),
    P(PlanOptions), P(vp))
_fn("clconv_conv_transpose2d_run", st, vp, vp, vp, vp, vp, vp, u32, vp, P(vp))
_fn("clconv_conv_transpose1d_as_conv_transpose2d", ConvTranspose2dParams,
    P(ConvTranspose1dParams))
_fn("clconv_pool2d_output_shape", st, P(Pool2dParams), P(Shape), P(Shape))
_fn("clconv_pool2d_plan_create", st, vp, P(Pool2dParams), P(Shape), P(PlanOptions), P(vp))
_fn("clconv_pool2d_run", st, vp, vp, vp, vp, u32, vp, P(vp))
_fn("clconv_pool2d_backward_plan_create", st, vp, P(Pool2dParams), P(Shape), P(PlanOptions),
    P(vp))
_fn("clconv_pool2d_backward_run", st, vp, vp, vp, vp, vp, u32, vp, P(vp))
_fn("clconv_conv2d_backward_data_plan_create", st, vp, P(Conv2dParams), P(Shape),
    P(PlanOptions), P(vp))
_fn("clconv_conv2d_backward_data_run", st, vp, vp, vp, vp, vp, u32, vp, P(vp))
_fn("clconv_conv2d_backward_weights_plan_create", st, vp, P(Conv2dParams), P(Shape),
    P(PlanOptions), P(vp))
_fn("clconv_conv2d_backward_weights_run", st, vp, vp, vp, vp, vp, u32, vp, P(vp))
_fn("clconv_conv2d_backward_bias_plan_create", st, vp, P(Conv2dParams), P(Shape),
    P(PlanOptions), P(vp))
_fn("clconv_conv2d_backward_bias_run", st, vp, vp, vp, u32, vp, P(vp))
_fn("clconv_relu_backward_plan_create", st, vp, P(Shape), P(vp))
_fn("clconv_relu_backward_run", st, vp, vp, vp, vp, u32, vp, P(vp))


def _clfn(name, restype, *argtypes):
    f = getattr(cl, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_clfn("clCreateBuffer", vp, vp, C.c_uint64, C.c_size_t, vp, P(C.c_int32))
_clfn("clReleaseMemObject", C.c_int32, vp)
_clfn("clRetainMemObject", C.c_int32, vp)
_clfn("clEnqueueWriteBuffer", C.c_int32, vp, vp, u32, C.c_size_t, C.c_size_t, vp, u32, vp,
      P(vp))
_clfn("clEnqueueReadBuffer", C.c_int32, vp, vp, u32, C.c_size_t, C.c_size_t, vp, u32, vp,
      P(vp))
_clfn("clEnqueueCopyBuffer", C.c_int32, vp, vp, vp, C.c_size_t, C.c_size_t, C.c_size_t, u32,
      vp, P(vp))
_clfn("clWaitForEvents", C.c_int32, u32, P(vp))
_clfn("clReleaseEvent", C.c_int32, vp)
_clfn("clFinish", C.c_int32, vp)
_clfn("clGetMemObjectInfo", C.c_int32, vp, u32, C.c_size_t, vp, P(C.c_size_t))
_clfn("clGetCommandQueueInfo", C.c_int32, vp, u32, C.c_size_t, vp, P(C.c_size_t))

CL_MEM_READ_WRITE = 1
CL_MEM_SIZE = 0x1102
CL_QUEUE_PROPERTIES = 0x1093
CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE = 1


def last_error():
    """The calling thread's last clconv error message."""
    m = lib.clconv_last_error(None)
    return m.decode("utf-8", "replace") if m else ""


def check(status):
    """Raises Error for a failed clconv call (message: the thread's last error)."""
    if status != SUCCESS:
        raise Error(status, last_error())


def cl_check(code, what):
    """Raises Error(OPENCL) for a failed OpenCL call."""
    if code != 0:
        raise Error(OPENCL, "%s failed with OpenCL error %d" % (what, code))
