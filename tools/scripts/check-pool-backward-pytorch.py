#!/usr/bin/python3
"""Holds clconv's pooling gradients against PyTorch's autograd on random cases.

    /usr/bin/python3 tools/scripts/check-pool-backward-pytorch.py build/libclconv.so [--cases 400]

Needs Debian's python3-torch. For every case it runs F.max_pool2d (with indices),
F.avg_pool2d, F.lp_pool2d, F.adaptive_{avg,max}_pool2d forward and backward on the
CPU, then clconv_ref_pool2d_backward and clconv_pool2d_backward_host (default
device) with the same dy (and PyTorch's indices, or x). Max, avg and adaptive
must agree bit for bit (both sum the same float shares in the same order); lp
within 64 * kh*kw float epsilons of max |dx|. Exit status 0 when all agree.
"""
import argparse, ctypes as C, random, sys

import torch
import torch.nn.functional as F

MAX, AVG, LP, AAVG, AMAX = 1, 2, 3, 4, 5


class Params(C.Structure):
    _fields_ = [("mode", C.c_int), ("kernel_h", C.c_int64), ("kernel_w", C.c_int64),
                ("stride_h", C.c_int64), ("stride_w", C.c_int64), ("pad_top", C.c_int64),
                ("pad_bottom", C.c_int64), ("pad_left", C.c_int64), ("pad_right", C.c_int64),
                ("dilation_h", C.c_int64), ("dilation_w", C.c_int64),
                ("ceil_mode", C.c_int), ("count_include_pad", C.c_int),
                ("divisor_override", C.c_int64), ("norm_type", C.c_double),
                ("output_h", C.c_int64), ("output_w", C.c_int64)]


class Shape(C.Structure):
    _fields_ = [("n", C.c_int64), ("c", C.c_int64), ("h", C.c_int64), ("w", C.c_int64)]


def fptr(t):
    return C.cast(t.data_ptr(), C.POINTER(C.c_float))


def random_case(r):
    while True:
        m = r.choice([MAX, MAX, AVG, AVG, LP, LP, AAVG, AMAX])
        n, c, h, w = r.randint(1, 2), r.randint(1, 3), r.randint(1, 16), r.randint(1, 20)
        p = Params(mode=m, dilation_h=1, dilation_w=1, count_include_pad=1, norm_type=2.0)
        if m in (AAVG, AMAX):
            p.output_h, p.output_w = r.randint(1, h + 2), r.randint(1, w + 2)
        else:
            p.kernel_h, p.kernel_w = r.randint(1, 5), r.randint(1, 5)
            p.stride_h, p.stride_w = r.randint(1, 3), r.randint(1, 3)
            if m != LP:
                # symmetric: PyTorch's padding=(ph, pw)
                p.pad_top = p.pad_bottom = r.randint(0, p.kernel_h // 2)
                p.pad_left = p.pad_right = r.randint(0, p.kernel_w // 2)
            if m == MAX and r.random() < 0.3:
                p.dilation_h, p.dilation_w = r.randint(1, 3), r.randint(1, 3)
            p.ceil_mode = r.randint(0, 1)
            p.count_include_pad = r.randint(0, 1)
            if m == AVG and r.random() < 0.2:
                p.divisor_override = r.randint(1, 9)
            if m == LP:
                p.norm_type = r.choice([1.0, 2.0, 3.0, 1.5])
        if lib.clconv_pool2d_validate(C.byref(p), C.byref(Shape(n, c, h, w))) == 0:
            return p, (n, c, h, w)


def torch_grad(p, shape, x, dy_seed):
    x = x.clone().requires_grad_(True)
    idx = None
    k, s = (p.kernel_h, p.kernel_w), (p.stride_h, p.stride_w)
    if p.mode == MAX:
        y, idx = F.max_pool2d(x, k, s, (p.pad_top, p.pad_left), (p.dilation_h, p.dilation_w),
                              bool(p.ceil_mode), return_indices=True)
    elif p.mode == AVG:
        y = F.avg_pool2d(x, k, s, (p.pad_top, p.pad_left), bool(p.ceil_mode),
                         bool(p.count_include_pad), p.divisor_override or None)
    elif p.mode == LP:
        y = F.lp_pool2d(x, p.norm_type, k, s, bool(p.ceil_mode))
    elif p.mode == AAVG:
        y = F.adaptive_avg_pool2d(x, (p.output_h, p.output_w))
    else:
        y, idx = F.adaptive_max_pool2d(x, (p.output_h, p.output_w), return_indices=True)
    g = torch.Generator().manual_seed(dy_seed)
    dy = torch.rand(y.shape, generator=g) * 2 - 1
    y.backward(dy)
    return dy.contiguous(), idx, x.grad.contiguous()


def main():
    global lib
    ap = argparse.ArgumentParser()
    ap.add_argument("lib")
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()
    lib = C.CDLL(a.lib)
    lib.clconv_last_error.restype = C.c_char_p
    ctx = C.c_void_p()
    if lib.clconv_context_create(C.byref(ctx)) != 0:
        sys.exit("no device: %s" % lib.clconv_last_error(None).decode())
    r = random.Random(a.seed)
    torch.manual_seed(a.seed)
    bad = 0
    for i in range(a.cases):
        p, shape = random_case(r)
        x = torch.rand(shape) * 2 - 1
        if p.mode == LP:
            x = x.abs() + 0.125  # fractional powers of negatives are NaN in both
        elif r.random() < 0.3:
            x = torch.randint(-2, 3, shape).float()  # ties
        dy, idx, want = torch_grad(p, shape, x, a.seed + i)
        sh = Shape(*shape)
        ip = C.cast(idx.contiguous().data_ptr(), C.POINTER(C.c_int64)) if idx is not None else None
        xp = fptr(x) if p.mode == LP else None
        for name in ("ref", "device"):
            got = torch.full(shape, 12345.0)
            if name == "ref":
                st = lib.clconv_ref_pool2d_backward(C.byref(p), C.byref(sh), fptr(dy), ip, xp,
                                                    fptr(got))
            else:
                st = lib.clconv_pool2d_backward_host(ctx, C.byref(p), C.byref(sh), None,
                                                     fptr(dy), ip, xp, fptr(got))
            if st != 0:
                sys.exit("case %d %s: status %d: %s" % (i, name, st,
                                                         lib.clconv_last_error(None).decode()))
            if p.mode == LP:
                tol = 64 * p.kernel_h * p.kernel_w * 1.2e-7 * max(1.0, want.abs().max().item())
                ok = (got - want).abs().max().item() <= tol
            else:
                ok = torch.equal(got.view(torch.int32), want.view(torch.int32))
            if not ok:
                bad += 1
                d = (got - want).abs().max().item()
                print("case %d %s: mode %d shape %s k %dx%d s %dx%d pad %dx%d d %dx%d ceil %d "
                      "cip %d div %d p %g out %dx%d: max |diff| %.3g" %
                      (i, name, p.mode, shape, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
                       p.pad_top, p.pad_left, p.dilation_h, p.dilation_w, p.ceil_mode,
                       p.count_include_pad, p.divisor_override, p.norm_type, p.output_h,
                       p.output_w, d))
    lib.clconv_context_destroy(ctx)
    print("%d cases, %d disagreements with PyTorch %s" % (a.cases, bad, torch.__version__))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
