#!/usr/bin/env bash
# One command for a machine with a GPU and its OpenCL driver: builds clconv,
# lists and measures the devices (clconv-query --bench), runs the test suite
# on the GPU, times clconv-bench's resnet50, vgg16, mobilenet, dcgan and
# pooling suites with and without --find (every result verified against the
# CPU reference), optionally times cuDNN on the same layers through PyTorch
# (TF32 off, so both sides compute in fp32), and writes everything to a
# report file.
#
#   REPORT=FILE       the report (default gpu-check-report.txt in the repository)
#   BUILD_DIR=DIR     build tree (default build-gpu); SKIP_BUILD=1 uses it as it is
#   CLCONV_DEVICE=SEL the device (default: clconv's choice, the first GPU)
#   SUITES="..."      bench suites (default "resnet50 vgg16 mobilenet dcgan pooling")
#   SKIP_TESTS=1      no test suite;  TEST_TIMEOUT=S per-test limit (default 600)
#   CUDNN=0           no PyTorch/cuDNN timing (default: when python3 imports torch
#                     with CUDA)
#   OCL_ICD_VENDORS   as usual; when no registered ICD names a GPU driver and
#                     NVIDIA's libnvidia-opencl.so.1 is on the machine, the script
#                     makes a private vendors directory naming it
#   OPENCL_LIB_DIR=D  a directory holding libOpenCL.so.1 (e.g. Debian's
#                     ocl-icd-libopencl1 unpacked) when the machine has none
#
# Exit status: 0 when every step that ran passed, 1 otherwise (the report says
# which). Steps that cannot run (no torch, no GPU device) are reported as such.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
REPORT=${REPORT:-$ROOT/gpu-check-report.txt}
BUILD=${BUILD_DIR:-build-gpu}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
SUITES=${SUITES:-"resnet50 vgg16 mobilenet dcgan pooling"}
WORK="$BUILD/gpu-check"
mkdir -p "$WORK"
: > "$REPORT"
status=0

say() { echo "$*" | tee -a "$REPORT"; }
section() { say ""; say "== $* ($(date -u +%H:%M:%S))"; }
# Runs a command, its output into the report; a failure marks the run failed.
step() { # name, command...
  local name=$1; shift
  section "$name"
  say "\$ $*"
  local t0; t0=$(date +%s)
  "$@" >> "$REPORT" 2>&1
  local rc=$?
  say "-> exit $rc in $(( $(date +%s) - t0 )) s"
  [ "$rc" = 0 ] || status=1
  return "$rc"
}

section "machine"
say "date: $(date -u)"
say "host: $(uname -a)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$REPORT"
say "git: $(git -C "$ROOT" log --oneline -1 2>/dev/null || echo 'not a git checkout')"

# ---- the OpenCL loader and the GPU's ICD -------------------------------------
if [ -n "${OPENCL_LIB_DIR:-}" ]; then
  export LD_LIBRARY_PATH="$OPENCL_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "loader: libOpenCL from $OPENCL_LIB_DIR"
fi
vendors_dir=${OCL_ICD_VENDORS:-/etc/OpenCL/vendors}
if ! grep -qsil 'nvidia\|amd\|intel\|igdrcl\|rocm' "$vendors_dir"/*.icd 2>/dev/null; then
  nv=""
  for cand in $(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF}') \
              /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 /usr/lib64/libnvidia-opencl.so.1 \
              /usr/local/nvidia/lib64/libnvidia-opencl.so.1; do
    [ -e "$cand" ] && { nv=$cand; break; }
  done
  if [ -n "$nv" ]; then
    # The driver's library is there but no ICD file names it (containers
    # often mount the library only): a private vendors directory that keeps
    # the registered ICDs and adds NVIDIA's.
    mkdir -p "$WORK/vendors"
    cp "$vendors_dir"/*.icd "$WORK/vendors/" 2>/dev/null
    echo "$nv" > "$WORK/vendors/nvidia.icd"
    export OCL_ICD_VENDORS="$WORK/vendors"
    say "icd: no registered GPU ICD; using $nv through $WORK/vendors/nvidia.icd"
  else
    say "icd: no GPU ICD registered and no libnvidia-opencl.so.1 found (CPU devices only?)"
  fi
fi

# ---- build ---------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  step "configure" cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCLCONV_WERROR=ON ||
    { say "gpu-check: cannot configure (missing cmake, OpenCL headers, CLBlast or check?)"; exit 1; }
  step "build" cmake --build "$BUILD" -j "$(nproc)" || exit 1
fi
Q="$BUILD/tools/clconv-query"; B="$BUILD/tools/clconv-bench"
if [ ! -x "$Q" ] || [ ! -x "$B" ]; then say "gpu-check: the tools are not built in $BUILD"; exit 1; fi

# ---- devices -------------------------------------------------------------------
step "devices (clconv-query --bench)" timeout 600 "$Q" --bench
devices=$("$Q" --no-plan 2>/dev/null)
if ! grep -q '\[.*GPU.*\]  <- clconv default' <<< "$devices"; then
  say "gpu-check: note: clconv's default device is not a GPU (see the list above)"
fi

# ---- the test suite --------------------------------------------------------------
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  step "test suite (ctest)" bash -c "cd '$BUILD' && ctest --output-on-failure -j 2 \
    --timeout ${TEST_TIMEOUT:-600}"
fi

# ---- benchmarks ------------------------------------------------------------------
for s in $SUITES; do
  step "clconv-bench --suite $s" timeout 1800 "$B" --suite "$s" --quiet
  step "clconv-bench --suite $s --find" timeout 1800 "$B" --suite "$s" --find --quiet
  "$B" --suite "$s" --list > "$WORK/$s.shapes" 2>/dev/null
done

# ---- cuDNN through PyTorch (optional) ---------------------------------------------
if [ "${CUDNN:-1}" != 0 ] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  cat > "$WORK/cudnn_time.py" <<'EOF'
# Times the shapes-file layers with cuDNN through PyTorch: TF32 off (fp32 as
# clconv), cudnn.benchmark on (cuDNN's own find), median of 20 runs after 5
# warm-up runs, CUDA events. Prints "layer ms" lines.
import sys, torch, torch.nn.functional as F
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.backends.cudnn.benchmark = True
dev = torch.device("cuda")
def pair(v):
    a = [int(t) for t in v.split(",")]
    return (a[0], a[-1])
for path in sys.argv[1:]:
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line:
            continue
        op, *kv = line.split()
        d = dict(t.split("=", 1) for t in kv)
        n, c, h, w = (int(d.get(k, 1)) for k in "nchw")
        x = torch.randn(n, c, h, w, device=dev)
        stride = pair(d["stride"]) if "stride" in d else None
        pad = (0, 0) if d.get("pad", "0") == "same" else pair(d.get("pad", "0"))
        if op in ("conv2d", "conv_transpose2d"):
            k, g = int(d["k"]), int(d.get("groups", 1))
            r = pair(d["kernel"]) if "kernel" in d else (int(d.get("r", 1)), int(d.get("s", d.get("r", 1))))
            dil = pair(d.get("dilation", "1"))
            if op == "conv2d":
                wt = torch.randn(k, c // g, *r, device=dev)
                f = lambda: F.conv2d(x, wt, None, stride or 1, "same" if d.get("pad") == "same" else pad, dil, g)
            else:
                wt = torch.randn(c, k // g, *r, device=dev)
                f = lambda: F.conv_transpose2d(x, wt, None, stride or 1, pad, pair(d.get("output_padding", "0")), g, dil)
        elif op == "max_pool2d":
            kern = pair(d["kernel"]) if "kernel" in d else (int(d.get("r", 1)), int(d.get("s", d.get("r", 1))))
            f = lambda: F.max_pool2d(x, kern, stride or kern, pad, ceil_mode=d.get("ceil", "0") == "1")
        elif op == "avg_pool2d":
            kern = pair(d["kernel"]) if "kernel" in d else (int(d.get("r", 1)), int(d.get("s", d.get("r", 1))))
            f = lambda: F.avg_pool2d(x, kern, stride or kern, pad, ceil_mode=d.get("ceil", "0") == "1",
                                     count_include_pad=d.get("count_include_pad", "1") == "1")
        else:
            print(f"{d.get('name', op)} skipped ({op})"); continue
        for _ in range(5):
            f()
        torch.cuda.synchronize()
        ts = []
        for _ in range(20):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record(); f(); b.record(); torch.cuda.synchronize()
            ts.append(a.elapsed_time(b))
        ts.sort()
        print(f"{d.get('name', op):24s} {ts[len(ts) // 2]:9.3f} ms   {line}")
EOF
  shapes=()
  for s in $SUITES; do shapes+=("$WORK/$s.shapes"); done
  step "cuDNN via PyTorch (fp32, TF32 off)" timeout 1800 python3 "$WORK/cudnn_time.py" "${shapes[@]}"
else
  section "cuDNN via PyTorch"
  say "skipped (CUDNN=0, or python3 cannot import torch with CUDA)"
fi

section "result"
if [ "$status" = 0 ]; then say "gpu-check: every step passed"; else say "gpu-check: some step FAILED (see above)"; fi
say "report: $REPORT"
exit "$status"
