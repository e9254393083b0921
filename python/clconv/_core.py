"""Contexts, plans and device arrays (private; the names are exported by clconv)."""
import ctypes as C
import operator
import os
import threading

import numpy as np

from . import _lib as L
from ._lib import Error

_DEVICE_CLASSES = {None: 0, "auto": 0, "cpu": 1, "gpu": 2}
_FIND_SPACES = {None: 0, "auto": 0, "cpu": 1, "gpu": 2, "all": 3}

try:  # optional interop
    import pyopencl as _cl
    import pyopencl.array as _cla
except Exception:  # pragma: no cover - pyopencl missing or broken
    _cl = None
    _cla = None


def _enc(s, name):
    if s is None:
        return None
    try:
        s = os.fspath(s)
    except TypeError:
        raise Error(L.INVALID_VALUE, "%s = %r, expected a string or None" % (name, s))
    return s if isinstance(s, bytes) else s.encode()


class Plan:
    """A cached clconv plan: its handle and what clconv_plan_get_info reports."""

    __slots__ = ("handle", "info", "key")

    def __init__(self, handle, key):
        self.handle = handle
        self.key = key
        self.info = L.PlanInfo()
        L.check(L.lib.clconv_plan_get_info(handle, C.byref(self.info)))

    @property
    def algorithm(self):
        """The name of the plan's algorithm ("direct-vector", "pool", ...)."""
        return L.lib.clconv_algorithm_name(self.info.algorithm).decode()

    @property
    def output_shape(self):
        """The (N, C, H, W) shape the plan's runs produce."""
        return self.info.output.tuple()


class Context:
    """An OpenCL device with its queue, program cache and plan cache.

    ``Context()`` takes the device ``CLCONV_DEVICE`` names (else the first
    GPU, else the first device), like ``clconv_context_create``. Arguments
    (``clconv_context_options``; None means the environment's or the default):

    - ``device``: ``"P:D"`` (platform and device index as ``clconv-query``
      lists them) or part of the device or platform name (``"pocl"``);
      ``""`` ignores ``CLCONV_DEVICE``;
    - ``device_class``: ``"cpu"``, ``"gpu"`` or ``"auto"`` (the kernel family);
    - ``cache_dir``: the program cache directory (``"off"``: no disk cache);
    - ``workspace_limit``: the most workspace bytes a plan may use;
    - ``find_space``: ``"cpu"``, ``"gpu"`` or ``"all"`` (find mode's candidates).

    Plans are made once per operator, parameters, input shape and plan
    options and kept in the context (``plan_count``, ``clear_plans()``);
    ``close()`` (or leaving a ``with`` block) releases the plans and the
    context. Using a closed context raises :class:`clconv.Error`.
    """

    def __init__(self, device=None, device_class=None, cache_dir=None, workspace_limit=0,
                 find_space=None, _queue=None):
        self._handle = None
        self._plans = {}
        self._lock = threading.RLock()
        self._workspace = None
        self._workspace_bytes = 0
        self._pyopencl = None
        opts = self._options(device, device_class, cache_dir, workspace_limit, find_space)
        h = C.c_void_p()
        if _queue is None:
            L.check(L.lib.clconv_context_create_with_options(C.byref(opts), C.byref(h)))
        else:
            cl_ctx, queue = _queue
            if device is not None:
                raise Error(L.INVALID_VALUE, "device must be None for a context made from a queue "
                            "(the queue names the device)")
            L.check(L.lib.clconv_context_create_from_queue_with_options(
                C.c_void_p(cl_ctx), C.c_void_p(queue), C.byref(opts), C.byref(h)))
        self._handle = h.value
        props = C.c_uint64(0)
        L.cl_check(L.cl.clGetCommandQueueInfo(self.queue_ptr, L.CL_QUEUE_PROPERTIES, 8,
                                              C.byref(props), None), "clGetCommandQueueInfo")
        self._out_of_order = bool(props.value & L.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)

    @staticmethod
    def _options(device, device_class, cache_dir, workspace_limit, find_space):
        if device_class not in _DEVICE_CLASSES:
            raise Error(L.INVALID_VALUE, "device_class = %r, expected 'cpu', 'gpu', 'auto' or None"
                        % (device_class,))
        if find_space not in _FIND_SPACES:
            raise Error(L.INVALID_VALUE, "find_space = %r, expected 'cpu', 'gpu', 'all', 'auto' or "
                        "None" % (find_space,))
        if not isinstance(workspace_limit, int) or workspace_limit < 0:
            raise Error(L.INVALID_VALUE, "workspace_limit = %r, expected a number of bytes >= 0 "
                        "(0: the default)" % (workspace_limit,))
        o = L.ContextOptions()
        o.device = _enc(device, "device")
        o.device_class = _DEVICE_CLASSES[device_class]
        o.cache_dir = _enc(cache_dir, "cache_dir")
        o.workspace_limit = min(workspace_limit, (1 << 64) - 1)
        o.find_space = _FIND_SPACES[find_space]
        return o

    @classmethod
    def from_queue(cls, cl_context, queue, device_class=None, cache_dir=None, workspace_limit=0,
                   find_space=None):
        """A context on a caller's OpenCL context and command queue, given as
        integer handles (``cl_context`` / ``cl_command_queue`` addresses, e.g.
        pyopencl's ``.int_ptr``); both are retained until ``close()``."""
        return cls(None, device_class, cache_dir, workspace_limit, find_space,
                   _queue=(int(cl_context), int(queue)))

    @classmethod
    def from_pyopencl(cls, queue, **options):
        """A context sharing a ``pyopencl.CommandQueue`` (and its context):
        results of this context can be returned as ``pyopencl.array.Array``
        and pyopencl arrays on that context are used in place. Options as
        :meth:`from_queue`."""
        if _cl is None:
            raise Error(L.UNSUPPORTED, "pyopencl is not importable")
        if not isinstance(queue, _cl.CommandQueue):
            raise Error(L.INVALID_VALUE, "expected a pyopencl.CommandQueue, got %s"
                        % type(queue).__name__)
        ctx = cls.from_queue(queue.context.int_ptr, queue.int_ptr, **options)
        ctx._pyopencl = queue
        return ctx

    # -- state ------------------------------------------------------------
    @property
    def handle(self):
        """The ``clconv_context *`` as an integer; raises Error once closed."""
        if self._handle is None:
            raise Error(L.INVALID_VALUE, "the context was released (Context.close()); make a new "
                        "clconv.Context")
        return self._handle

    @property
    def closed(self):
        """True once :meth:`close` has run."""
        return self._handle is None

    @property
    def cl_context_ptr(self):
        """The OpenCL context (``cl_context``) as an integer."""
        return L.lib.clconv_context_cl_context(self.handle)

    @property
    def queue_ptr(self):
        """The OpenCL command queue (``cl_command_queue``) as an integer."""
        return L.lib.clconv_context_queue(self.handle)

    @property
    def device_name(self):
        """The device's name as OpenCL reports it."""
        return L.lib.clconv_context_device_name(self.handle).decode("utf-8", "replace")

    @property
    def device_class(self):
        """The kernel family the context plans for: ``"cpu"`` or ``"gpu"``."""
        return {1: "cpu", 2: "gpu"}.get(L.lib.clconv_context_device_class(self.handle), "auto")

    @property
    def cache_dir(self):
        """The program cache directory ("" when the disk cache is off)."""
        return L.lib.clconv_context_cache_dir(self.handle).decode()

    @property
    def tuning_db(self):
        """The tuning database's path ("" when the disk cache is off)."""
        return L.lib.clconv_context_tuning_db(self.handle).decode()

    def cache_stats(self):
        """The program cache counters as a dict (memory_hits, disk_hits,
        compiled, disk_writes, disk_write_errors)."""
        s = L.CacheStats()
        L.check(L.lib.clconv_context_cache_stats(self.handle, C.byref(s)))
        return {f: getattr(s, f) for f, _ in s._fields_}

    @property
    def plan_count(self):
        """How many plans the context holds."""
        return len(self._plans)

    def plans(self):
        """The cached plans (:class:`Plan`: ``key``, ``algorithm``, ``info``)."""
        with self._lock:
            return list(self._plans.values())

    def clear_plans(self):
        """Destroys every cached plan (the next calls make them again)."""
        with self._lock:
            self.synchronize()
            for p in self._plans.values():
                L.lib.clconv_plan_destroy(p.handle)
            self._plans.clear()

    def synchronize(self):
        """Waits until everything enqueued on the context's queue is done."""
        L.cl_check(L.cl.clFinish(self.queue_ptr), "clFinish")

    def close(self):
        """Releases the plans, the workspace and the clconv context. Device
        arrays of the context stay readable only until they are garbage;
        calls on the context raise :class:`clconv.Error` afterwards."""
        with self._lock:
            if self._handle is None:
                return
            L.cl.clFinish(self.queue_ptr)
            for p in self._plans.values():
                L.lib.clconv_plan_destroy(p.handle)
            self._plans.clear()
            if self._workspace:
                L.cl.clReleaseMemObject(self._workspace)
            self._workspace = None
            self._workspace_bytes = 0
            L.lib.clconv_context_destroy(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        if self._handle is None:
            return "<clconv.Context (closed)>"
        return "<clconv.Context %r (%s family), %d plans>" % (self.device_name, self.device_class,
                                                              len(self._plans))

    # -- plans and buffers ---------------------------------------------------
    def plan(self, key, create):
        """The cached plan for ``key``, made by ``create(ctx_handle, out_ptr)``
        (returning a status) the first time."""
        with self._lock:
            p = self._plans.get(key)
            if p is None:
                h = C.c_void_p()
                L.check(create(self.handle, C.byref(h)))
                try:
                    p = Plan(h.value, key)
                except Exception:
                    L.lib.clconv_plan_destroy(h.value)
                    raise
                self._plans[key] = p
            return p

    def workspace(self, nbytes):
        """A device buffer of at least nbytes shared by the context's runs
        (None for 0). Runs on one in-order queue never overlap; on an
        out-of-order queue every run is waited for (see :meth:`finish_run`)."""
        if nbytes == 0:
            return None
        with self._lock:
            if nbytes > self._workspace_bytes:
                if self._workspace:
                    L.cl.clReleaseMemObject(self._workspace)
                    self._workspace = None
                    self._workspace_bytes = 0
                self._workspace = _create_buffer(self, nbytes)
                self._workspace_bytes = nbytes
            return self._workspace

    def finish_run(self, event):
        """Releases a run's completion event (waiting for it first on an
        out-of-order queue, where the shared workspace and the host reads
        would not be ordered behind it otherwise)."""
        if event.value:
            if self._out_of_order:
                L.cl.clWaitForEvents(1, C.byref(event))
            L.cl.clReleaseEvent(event)

    def empty(self, shape, dtype=np.float32):
        """An uninitialised :class:`DeviceArray` of this shape (float32,
        float16 or int64)."""
        return DeviceArray._alloc(self, shape, dtype)

    def to_device(self, array, dtype=None):
        """Copies a host array (float32 or float16, kept as it is; lists
        become float32) into a new :class:`DeviceArray` (see
        :func:`clconv.to_device` for the dtype rule)."""
        return to_device(array, context=self, dtype=dtype)


_DEVICE_DTYPES = (np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.int64))
# The data dtypes a layer takes (dtype=None below): the clconv_dtype of each.
DATA_DTYPES = {np.dtype(np.float32): 0, np.dtype(np.float16): 1}


def dtype_code(dtype):
    """The clconv_dtype (CLCONV_DTYPE_F32 = 0, CLCONV_DTYPE_F16 = 1) of a
    float32 / float16 NumPy dtype."""
    return DATA_DTYPES[np.dtype(dtype)]


def _create_buffer(ctx, nbytes):
    err = C.c_int32(0)
    mem = L.cl.clCreateBuffer(ctx.cl_context_ptr, L.CL_MEM_READ_WRITE, max(int(nbytes), 1), None,
                              C.byref(err))
    if err.value != 0 or not mem:
        raise Error(L.OPENCL, "clCreateBuffer(%d bytes) failed with OpenCL error %d"
                    % (nbytes, err.value))
    return mem


def _reshaped(old, shape):
    try:
        shape = tuple(operator.index(s) for s in shape)
    except TypeError:
        raise Error(L.INVALID_VALUE, "reshape: %r is not a tuple of ints" % (shape,))
    size = int(np.prod(old, dtype=np.int64))
    if shape.count(-1) > 1 or any(s < -1 for s in shape):
        raise Error(L.INVALID_SHAPE, "cannot reshape %r to %r" % (old, shape))
    if -1 in shape:
        rest = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if rest == 0 or size % rest:
            raise Error(L.INVALID_SHAPE, "cannot reshape %r to %r" % (old, shape))
        shape = tuple(size // rest if s == -1 else s for s in shape)
    if any(s >= (1 << 62) for s in shape) or int(np.prod(shape, dtype=object)) != size:
        raise Error(L.INVALID_SHAPE, "cannot reshape %r (%d elements) to %r" % (old, size, shape))
    return shape


class DeviceArray:
    """An array in a context's device memory (a ``cl_mem``): float32 or
    float16 (data: float16 is IEEE binary16 storage, what clconv's F16 layers
    read and write) or int64 (pooling indices), C order.

    Results of clconv's functions stay on the device when their input is a
    DeviceArray, so layers chain without host copies. ``numpy()`` reads the
    data back; ``shape``, ``dtype``, ``size``, ``nbytes``, ``ndim``;
    ``reshape()`` gives a view of the same buffer; ``to_pyopencl()`` a
    ``pyopencl.array.Array`` of it (for a context made from a pyopencl queue).
    """

    __slots__ = ("context", "shape", "dtype", "_mem", "__weakref__")

    def __init__(self, context, shape, dtype, mem):
        # mem: a cl_mem reference this object owns (released when it dies).
        self.context = context
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self._mem = mem

    @classmethod
    def _alloc(cls, ctx, shape, dtype):
        dtype = np.dtype(dtype)
        if dtype not in _DEVICE_DTYPES:
            raise Error(L.INVALID_VALUE, "device arrays hold float32, float16 or int64, not %s"
                        % dtype)
        shape = tuple(int(s) for s in shape)
        if any(s < 0 for s in shape):
            raise Error(L.INVALID_SHAPE, "negative dimension in shape %r" % (shape,))
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        return cls(ctx, shape, dtype, _create_buffer(ctx, nbytes))

    @property
    def size(self):
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def ndim(self):
        """Number of dimensions."""
        return len(self.shape)

    @property
    def nbytes(self):
        """Bytes of data."""
        return self.size * self.dtype.itemsize

    @property
    def mem(self):
        """The ``cl_mem`` as an integer (raises Error once released or its
        context is closed)."""
        if not self._mem:
            raise Error(L.INVALID_VALUE, "the device array was released")
        self.context.handle  # raises for a closed context
        return self._mem

    int_ptr = mem

    def numpy(self):
        """Reads the array back into a new NumPy array (blocking)."""
        out = np.empty(self.shape, self.dtype)
        if out.nbytes:
            L.cl_check(L.cl.clEnqueueReadBuffer(self.context.queue_ptr, self.mem, 1, 0, out.nbytes,
                                                out.ctypes.data, 0, None, None),
                       "clEnqueueReadBuffer")
        return out

    def __array__(self, dtype=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def reshape(self, *shape):
        """A view of the same buffer with another shape (same element count;
        one dimension may be -1)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        new = _reshaped(self.shape, shape)
        L.cl_check(L.cl.clRetainMemObject(self.mem), "clRetainMemObject")
        return DeviceArray(self.context, new, self.dtype, self._mem)

    def copy(self):
        """A new device array with a copy of the data (on the device)."""
        out = DeviceArray._alloc(self.context, self.shape, self.dtype)
        if self.nbytes:
            L.cl_check(L.cl.clEnqueueCopyBuffer(self.context.queue_ptr, self.mem, out.mem, 0, 0,
                                                self.nbytes, 0, None, None), "clEnqueueCopyBuffer")
        return out

    def to_pyopencl(self, queue=None):
        """The array as a ``pyopencl.array.Array`` sharing this buffer, on
        ``queue`` (default: the pyopencl queue the context was made from)."""
        if _cla is None:
            raise Error(L.UNSUPPORTED, "pyopencl is not importable")
        queue = queue or self.context._pyopencl
        if queue is None:
            raise Error(L.INVALID_VALUE, "give a pyopencl queue on the context's OpenCL context "
                        "(or make the context with Context.from_pyopencl)")
        buf = _cl.Buffer.from_int_ptr(self.mem, retain=True)
        return _cla.Array(queue, self.shape, self.dtype, data=buf)

    def release(self):
        """Releases the device memory now (the array is unusable afterwards)."""
        if self._mem:
            L.cl.clReleaseMemObject(self._mem)
            self._mem = None

    def __del__(self):
        try:
            self.release()
        except Exception:
            pass

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        return "<clconv.DeviceArray shape=%r dtype=%s on %s>" % (
            self.shape, self.dtype, "a closed context" if self.context.closed
            else repr(self.context.device_name))


# ---------------------------------------------------------------------------
# The default context and the contexts of pyopencl queues
# ---------------------------------------------------------------------------

_default = None
_default_lock = threading.Lock()
_queue_contexts = {}


def default_context():
    """The context functions use when given no device input and no
    ``context=``: made on first use as ``Context()`` (``CLCONV_DEVICE``
    picks the device), or the one given to :func:`set_default_context`."""
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            _default = Context()
        return _default


def set_default_context(ctx):
    """Makes ``ctx`` (a :class:`Context`, or None to forget it) the default."""
    global _default
    if ctx is not None and not isinstance(ctx, Context):
        raise Error(L.INVALID_VALUE, "expected a clconv.Context, got %s" % type(ctx).__name__)
    with _default_lock:
        _default = ctx


def _pyopencl_context(queue):
    key = queue.int_ptr
    ctx = _queue_contexts.get(key)
    if ctx is None or ctx.closed:
        ctx = Context.from_pyopencl(queue)
        _queue_contexts[key] = ctx
    return ctx


def is_pyopencl_array(a):
    return _cla is not None and isinstance(a, _cla.Array)


# ---------------------------------------------------------------------------
# Inputs: NumPy, DeviceArray, pyopencl
# ---------------------------------------------------------------------------

def _dtype_error(name, dtype, want):
    """The error for an array of ``dtype`` where ``want`` (a dtype, or None:
    any of DATA_DTYPES) was expected."""
    dtype = np.dtype(dtype)
    if want is None:
        return Error(L.INVALID_VALUE, "%s has dtype %s, expected float32 or float16 (clconv "
                     "stores tensors as float32 or IEEE half, computing in float32; convert "
                     "with .astype(numpy.float32))" % (name, dtype.name))
    want = np.dtype(want)
    if dtype in DATA_DTYPES and want in DATA_DTYPES:
        why = ("a layer's tensors share one dtype, the input's: mixed float32 / float16 "
               "arguments are refused, as PyTorch refuses them")
    else:
        why = "clconv computes on %s here" % want.name
    return Error(L.INVALID_VALUE, "%s has dtype %s, expected %s (%s; convert with "
                 ".astype(numpy.%s))" % (name, dtype.name, want.name, why, want.name))


def host_array(a, name="input", dtype=np.float32):
    """A C-ordered NumPy array of ``dtype`` for ``a``: arrays and tensors must
    already have that dtype (anything else is refused with a message; a
    non-contiguous array is copied); Python lists and scalars are converted.
    ``dtype=None``: float32 or float16 arrays as they are (lists and scalars
    become float32)."""
    want = None if dtype is None else np.dtype(dtype)
    if isinstance(a, np.ndarray) or hasattr(a, "dtype"):
        try:
            arr = np.asarray(a)
        except Exception as e:
            raise Error(L.INVALID_VALUE, "%s: cannot be read as an array (%s)" % (name, e))
        if (arr.dtype not in DATA_DTYPES) if want is None else (arr.dtype != want):
            raise _dtype_error(name, arr.dtype, want)
        return np.ascontiguousarray(arr)
    want = want or np.dtype(np.float32)
    try:
        return np.ascontiguousarray(np.asarray(a, dtype=want))
    except (TypeError, ValueError) as e:
        raise Error(L.INVALID_VALUE, "%s: expected an array of %s, got %s (%s)"
                    % (name, want.name, type(a).__name__, e))


def to_device(a, context=None, dtype=None):
    """Copies ``a`` to a new :class:`DeviceArray` of ``context`` (default:
    the default context). ``dtype`` None (the default): a float32 or float16
    array (or CPU tensor) keeps its dtype, lists and scalars become float32,
    other dtypes are refused; else ``a`` must have ``dtype`` (e.g. int64 for
    pooling indices; see :func:`host_array`)."""
    ctx = context or default_context()
    h = host_array(a, "array", dtype)
    d = DeviceArray._alloc(ctx, h.shape, h.dtype)
    if h.nbytes:
        L.cl_check(L.cl.clEnqueueWriteBuffer(ctx.queue_ptr, d.mem, 1, 0, h.nbytes, h.ctypes.data,
                                             0, None, None), "clEnqueueWriteBuffer")
    return d


def pick_context(context, *arrays):
    """The context of a call: ``context`` if given, else that of the first
    device input (DeviceArray or pyopencl Array), else the default."""
    if context is not None:
        if not isinstance(context, Context):
            raise Error(L.INVALID_VALUE, "context: expected a clconv.Context, got %s"
                        % type(context).__name__)
        context.handle
        return context
    for a in arrays:
        if isinstance(a, DeviceArray):
            return a.context
        if is_pyopencl_array(a):
            return _pyopencl_context(a.queue)
    return default_context()


def _dtype_ok(dtype, want):
    return dtype in DATA_DTYPES if want is None else dtype == want


def as_device(ctx, a, name, dtype=np.float32):
    """``a`` as a DeviceArray of ``ctx``: device arrays are used in place
    (they must belong to ctx's OpenCL context), host arrays are uploaded.
    ``dtype`` None: float32 or float16, as ``a`` has it."""
    want = None if dtype is None else np.dtype(dtype)
    if isinstance(a, DeviceArray):
        if a.context is not ctx:
            raise Error(L.INVALID_VALUE, "%s lives on another clconv.Context" % name)
        if not _dtype_ok(a.dtype, want):
            raise _dtype_error(name, a.dtype, want)
        a.mem
        return a
    if is_pyopencl_array(a):
        if a.context.int_ptr != ctx.cl_context_ptr:
            raise Error(L.INVALID_VALUE, "%s is a pyopencl array of another OpenCL context than "
                        "the clconv.Context's" % name)
        if not _dtype_ok(a.dtype, want):
            raise _dtype_error(name, a.dtype, want)
        if not a.flags.c_contiguous or a.offset != 0:
            raise Error(L.INVALID_VALUE, "%s: a pyopencl array must be C-contiguous with offset 0"
                        % name)
        if a.events and not (a.queue.int_ptr == ctx.queue_ptr and not ctx._out_of_order):
            _cl.wait_for_events(a.events)
        mem = a.base_data.int_ptr if a.data is None else a.data.int_ptr
        L.cl_check(L.cl.clRetainMemObject(mem), "clRetainMemObject")
        return DeviceArray(ctx, a.shape, a.dtype, mem)
    h = host_array(a, name, want)
    return to_device(h, ctx, want)


def result(d, like):
    """Converts a result DeviceArray to the kind of ``like``: NumPy for host
    inputs, DeviceArray for DeviceArray inputs, pyopencl Array for pyopencl
    inputs."""
    if isinstance(like, DeviceArray):
        return d
    if is_pyopencl_array(like):
        return d.to_pyopencl(like.queue)
    return d.numpy()
