#!/usr/bin/env bash
# The GPU device check, in two calls of the session's device tool (docs/cuda.md "The device check"),
# from the repository root with build/device-bundle (make device-bundle) carried along; Java is not
# needed there, the bundle brings its own runtime.
#
#   bench/device/check.sh smoke   about a minute: the GPU, d2v's probes, every fast variant's
#                                 self-check, one op of each kernel family against the reference
#   bench/device/check.sh full    at most 8 minutes: the CUDA suite, every self-check, kernel times
#                                 at ViT-B shapes (portable and fast) beside cuMemcpyDtoD, cuBLASLt
#                                 and PyTorch (SDPA flash and cuDNN attention), the whole ViT-B step
#                                 beside the PyTorch twin
#
# Every step has its own timeout (its slot below), so a hang costs that slot, not the call. Outputs
# go under $OUT (default build/device-check/<mode>) as well as to stdout; summary.txt has one line
# per step, and the exit status is non-zero when the smoke or the suite failed.
#
# DRY_RUN=1 runs the same steps here without a GPU: BACKEND (default reference; opencl for PoCL)
# instead of cuda, small shapes and tiny presets, PyTorch on the CPU where installed.
# Overrides: SUITE (test classes, a regular expression), BACKEND, SCALE, ITERS, PYTHON (the one with torch).
set -uo pipefail

MODE=${1:-full}
case "$MODE" in smoke|full) ;; *) echo "usage: check.sh smoke|full" >&2; exit 2 ;; esac
BUNDLE=${BUNDLE:-build/device-bundle}
OUT=${OUT:-build/device-check/$MODE}
DRY_RUN=${DRY_RUN:-0}
# The CUDA classes: the reference-vs-kernel suites on CUDA with the GPU-chosen variants and the
# fatbin checks. The emulation and static tests are CI's (they need g++ and build/kernels, not a GPU).
SUITE_CUDA='org\.d2v\.backend\.cuda\.(Cuda.*|Fatbin)Test'
if [ "$DRY_RUN" = 1 ]; then
  BACKEND=${BACKEND:-reference}; SCALE=${SCALE:-small}; ITERS=${ITERS:-3}; PRESET=${PRESET:-image-tiny}
else
  BACKEND=${BACKEND:-cuda}; SCALE=${SCALE:-full}; ITERS=${ITERS:-20}; PRESET=${PRESET:-image-base}
fi
SUITE=${SUITE:-$SUITE_CUDA}
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
START=$(date +%s)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
exec > >(tee "$OUT/check.log") 2>&1

declare -a SUMMARY=()
FAILED=0
step() { echo; echo "=== $* ($(date -u +%H:%M:%S), $(( $(date +%s) - START )) s in)"; }
record() { SUMMARY+=("$(printf '%-28s %s' "$1" "$2")"); }
# slot SECONDS NAME CMD...: runs CMD with its own timeout (124: the slot ran out, and it says so)
slot() {
  local secs=$1 name=$2; shift 2
  timeout --kill-after=5 "$secs" "$@"
  local rc=$?
  [ $rc = 124 ] && echo "check.sh: $name ran out of its ${secs} s slot"
  return $rc
}
# outcome RC: how a step ended, for the summary
outcome() { if [ "$1" = 124 ]; then echo "TIMED OUT (its slot ran out)"; else echo "exit $1"; fi; }

echo "d2v device check, $MODE call, backend $BACKEND$([ "$DRY_RUN" = 1 ] && echo ' (DRY_RUN=1: no GPU)')"
step "machine"
if command -v nvidia-smi >/dev/null; then
  timeout 10 nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.limit,temperature.gpu,persistence_mode \
    --format=csv 2>&1 | tee "$OUT/gpu.csv"
else
  echo "nvidia-smi not found"
fi
uname -srm
uptime 2>/dev/null || true

if ! [ -f "$BUNDLE/runtime.tar.gz" ]; then
  echo "check.sh: no $BUNDLE/runtime.tar.gz: run 'make device-bundle' first and carry $BUNDLE" >&2
  exit 2
fi
RUNTIME_DIR=$(mktemp -d "${TMPDIR:-/tmp}/d2v-runtime.XXXXXX")
trap 'rm -rf "$RUNTIME_DIR"' EXIT
tar -C "$RUNTIME_DIR" -xzf "$BUNDLE/runtime.tar.gz"
JAVA="$RUNTIME_DIR/runtime/bin/java"
if ! "$JAVA" -version >/dev/null 2>&1; then
  # The runtime was jlinked from Debian 12's JDK: its binaries need glibc 2.34 or newer.
  echo "check.sh: the bundled Java runtime does not start here (it needs glibc >= 2.34; $(ldd --version 2>&1 | head -1))" >&2
  exit 2
fi
"$JAVA" -version 2>&1 | head -1
CP="$BUNDLE/d2v.jar:$BUNDLE/d2v-bench.jar:$(ls "$BUNDLE"/lib/*.jar | tr '\n' ':')"
# jni/: JCudnn's JNI library under the name JCuda 12's loader asks for (bundle.sh); it needs cuDNN 8.
JOPTS=(-Xmx16g -Xss8m "-Djava.library.path=$BUNDLE/jni")
# cuBLAS(Lt) 12 and cuDNN from PyTorch's wheels where it has them: cuBLASLt serves matmul once its
# self-check passes, JCublas times peak/matmul_cublas, JCudnn would need cuDNN 8 (PyTorch ships 9).
for mod in cublas cudnn; do
  dir=$("$PYTHON" -c "import nvidia.$mod, os; print(os.path.join(list(nvidia.$mod.__path__)[0], 'lib'))" 2>/dev/null || true)
  [ -n "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
D2V=("$JAVA" "${JOPTS[@]}" -cp "$CP")

if [ "$MODE" = smoke ]; then
  # ---- the smoke call: about a minute -----------------------------------------------------------
  step "d2v backends and native libraries"
  slot 15 "d2v info" "${D2V[@]}" org.d2v.cli.Main info 2>&1 | tee "$OUT/info.txt"
  record "backend probe" "$(outcome "${PIPESTATUS[0]}")"

  step "self-checks and one op per family against the reference ($BACKEND)"
  slot 40 "smoke" "${D2V[@]}" org.d2v.bench.DeviceSmoke --backend "$BACKEND" 2>&1 | tee "$OUT/smoke.txt"
  smoke=${PIPESTATUS[0]}
  record "smoke" "$(outcome "$smoke"): $(grep -E '^smoke:' "$OUT/smoke.txt" | tail -1)"
  record "fast variants" "$(grep -cE ' active \(self-check' "$OUT/smoke.txt") active, $(grep -cE ' disabled: ' "$OUT/smoke.txt") disabled, $(grep -cE ' unavailable: ' "$OUT/smoke.txt") unavailable"
  grep -E ' disabled: ' "$OUT/smoke.txt" | sed 's/^ */DISABLED: /'
  [ "$smoke" = 0 ] || FAILED=1
else
  # ---- the full call: at most 8 minutes (slots: 30 + 130 + 100 + 60 + 2·40 + 2·30 s = 460 s) ------
  step "d2v backends, native libraries, every fast variant's self-check"
  slot 30 "d2v info --self-check" "${D2V[@]}" org.d2v.cli.Main info --self-check 2>&1 | tee "$OUT/info.txt"
  record "probe + self-checks" "$(outcome "${PIPESTATUS[0]}"); $(grep -cE ' active \(self-check' "$OUT/info.txt") active, $(grep -cE ' disabled: ' "$OUT/info.txt") disabled"

  step "reference-vs-kernel suite on CUDA"
  slot 130 "kernel suite" "$JAVA" "${JOPTS[@]}" -jar "$BUNDLE/junit-platform-console-standalone.jar" execute \
    --class-path "$CP:$BUNDLE/d2v-tests.jar" \
    --scan-classpath "$BUNDLE/d2v-tests.jar" --include-classname "$SUITE" --fail-if-no-tests \
    --details=tree --disable-banner --disable-ansi-colors --reports-dir "$OUT/junit" 2>&1 | tee "$OUT/suite.txt"
  suite=${PIPESTATUS[0]}
  record "kernel suite" "$(outcome "$suite") ($(grep -Eo '[0-9]+ tests (successful|failed|skipped|aborted)' "$OUT/suite.txt" | tr '\n' ' '))"
  if [ "$DRY_RUN" != 1 ] && grep -q 'backend cuda unavailable' "$OUT/suite.txt"; then record "kernel suite" "CUDA WAS SKIPPED: see the probe"; fi
  [ "$suite" = 0 ] || FAILED=1

  step "d2v kernel times ($BACKEND, $SCALE shapes, portable and fast side by side)"
  slot 100 "d2v kernel times" "${D2V[@]}" org.d2v.bench.KernelTimes --backend "$BACKEND" --scale "$SCALE" --iters "$ITERS" \
    --fast both --json "$OUT/d2v-times.jsonl"
  record "d2v kernel times" "$(outcome $?)"

  step "PyTorch times ($SCALE shapes; attention also bf16 with SDPA flash and cuDNN)"
  TORCH_DEVICE=cuda
  if ! "$PYTHON" -c "import torch" 2>/dev/null; then
    echo "PyTorch is not installed here: no torch columns"
    record "torch times" "skipped (no torch)"
  else
    "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || TORCH_DEVICE=cpu
    slot 60 "torch times" "$PYTHON" "$HERE/torch_blocks.py" --scale "$SCALE" --iters "$ITERS" --device "$TORCH_DEVICE" \
      --json "$OUT/torch-times.jsonl"
    record "torch times" "$(outcome $?) on $TORCH_DEVICE"
  fi

  step "side by side"
  "$PYTHON" "$HERE/table.py" "$OUT/d2v-times.jsonl" "$OUT/torch-times.jsonl" | tee "$OUT/table.md"

  step "the whole step: $PRESET on $BACKEND, fp32 (fast variants, then portable kernels only), bf16 (fast variants)"
  for run in fp32:fast fp32:portable bf16:fast; do
    precision=${run%%:*}; variant=${run#*:}
    flag=auto; [ "$variant" = portable ] && flag=off
    slot 40 "step $precision $variant" "$JAVA" "${JOPTS[@]}" "-Dd2v.fastVariants=$flag" -cp "$CP" org.d2v.bench.StepBench \
      --backends "$BACKEND" --presets "$PRESET" --precisions "$precision" --warmup 2 --steps 3 --out "$OUT/step-$precision-$variant" 2>&1 | tail -4
    rc=${PIPESTATUS[0]}
    # the row of steps-latest.md: | backend | preset | precision | steps | s/step | ...
    s=$(grep -E "^\| $BACKEND \| $PRESET \| $precision " "$OUT/step-$precision-$variant/steps-latest.md" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$6); print $6}')
    record "d2v step $precision $variant" "$(outcome $rc): ${s:-?} s/step"
  done

  step "the PyTorch twin of the step ($PRESET; fp32 and bf16 autocast, SDPA)"
  TWIN="$HERE/../pytorch/d2v_twin.py"
  if ! [ -f "$TWIN" ]; then
    echo "no PyTorch twin in this tree (bench/pytorch/d2v_twin.py): no step ratio"
    record "torch twin step" "not in this tree"
  elif ! "$PYTHON" -c "import torch" 2>/dev/null; then
    record "torch twin step" "skipped (no torch)"
  else
    for dtype in fp32 bf16; do
      slot 30 "torch twin $dtype" "$PYTHON" "$TWIN" time --preset "$PRESET" --device "$TORCH_DEVICE" --dtype "$dtype" --modes sdpa \
        --steps 3 --warmup 2 --json "$OUT/twin-$dtype.json" 2>&1 | tee "$OUT/twin-$dtype.txt" | tail -3
      record "torch twin step $dtype" "$(outcome "${PIPESTATUS[0]}"): $(tail -1 "$OUT/twin-$dtype.txt")"
    done
    # the ratio the issue asks for: d2v's step over the twin's, same preset, same machine, this run
    ratio=$("$PYTHON" - "$OUT" "$BACKEND" "$PRESET" <<'PY'
import json, os, sys
out, backend, preset = sys.argv[1:4]
def d2v(precision, variant):
    try:
        for line in open(os.path.join(out, f"step-{precision}-{variant}", "steps-latest.md")):
            cells = [c.strip() for c in line.split("|")]
            if len(cells) > 5 and cells[1] == backend and cells[2] == preset and cells[3] == precision:
                return float(cells[5])
    except (OSError, ValueError):
        return None
def twin(dtype):
    try:
        return json.load(open(os.path.join(out, f"twin-{dtype}.json")))[0]["median_s"]
    except (OSError, ValueError, IndexError, KeyError):
        return None
parts = []
# the issue's comparison first: d2v's bf16 step (fast variants) over the twin's bf16 autocast step
for precision, variant, dtype in (("bf16", "fast", "bf16"), ("fp32", "fast", "fp32"), ("fp32", "fast", "bf16"),
                                  ("fp32", "portable", "fp32"), ("fp32", "portable", "bf16")):
    a, b = d2v(precision, variant), twin(dtype)
    if a and b:
        parts.append(f"d2v {precision} {variant} {a:.4f} s / torch {dtype} sdpa {b:.4f} s = {a / b:.2f}")
print("; ".join(parts) if parts else "no ratio (a side is missing)")
PY
)
    echo "step ratios (d2v / PyTorch, > 1: d2v is slower): $ratio"
    record "step d2v / torch" "$ratio"
  fi
fi

step "summary ($(( $(date +%s) - START )) s)"
printf '%s\n' "${SUMMARY[@]}" | tee "$OUT/summary.txt"
echo "outputs in $OUT: $(ls "$OUT" | tr '\n' ' ')"
exit $FAILED
