#!/usr/bin/env bash
# The one-call GPU check. Run from the repository root on the GPU machine, with build/device-bundle
# (make device-bundle) carried along; Java is not needed there, the bundle brings its own runtime.
#   1. the GPU, driver and clocks (nvidia-smi) and d2v's backend probes;
#   2. the whole reference-vs-kernel suite on CUDA (JUnit console launcher);
#   3. every kernel timed at the ViT-B shapes (org.d2v.bench.KernelTimes) beside copy bandwidth and
#      a matmul rate, then the same cases in PyTorch fp32 (torch_blocks.py), as one Markdown table.
# Everything is written under $OUT (default build/device-check) as well as printed.
#
# DRY_RUN=1 runs the same steps on this machine without a GPU: BACKEND (default reference) instead
# of cuda, small shapes, only the CUDA test classes (which skip), PyTorch only where installed.
# SUITE (test classes), BACKEND, SCALE, ITERS and PYTHON (the one with torch) override the defaults.
set -uo pipefail

BUNDLE=${BUNDLE:-build/device-bundle}
OUT=${OUT:-build/device-check}
DRY_RUN=${DRY_RUN:-0}
# SUITE: a regular expression over test class names (a pattern, so a renamed class is no error).
# KernelBuildScriptTest is left out everywhere: it needs the repository's kernels/ next to java/.
SUITE_CUDA='org\.d2v\.backend\.cuda\..*Test'
if [ "$DRY_RUN" = 1 ]; then
  BACKEND=${BACKEND:-reference}; SCALE=${SCALE:-small}; ITERS=${ITERS:-3}; SUITE=${SUITE:-$SUITE_CUDA}
else
  # OpenCL on the same GPU comes for free where the NVIDIA ICD is installed (skipped otherwise);
  # the attention and conv suites run there too (they cannot be subclassed for CUDA yet).
  BACKEND=${BACKEND:-cuda}; SCALE=${SCALE:-full}; ITERS=${ITERS:-20}
  SUITE=${SUITE:-$SUITE_CUDA'|org\.d2v\.backend\.opencl\..*KernelTest|org\.d2v\.backend\.kernel\.(Attention|Conv)KernelTest'}
fi
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
exec > >(tee "$OUT/check.log") 2>&1

declare -a SUMMARY=()
step() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }
record() { SUMMARY+=("$(printf '%-28s %s' "$1" "$2")"); }

step "machine"
if [ "$DRY_RUN" = 1 ] && ! command -v nvidia-smi >/dev/null; then
  echo "dry run: no nvidia-smi here"
elif command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.limit,temperature.gpu,persistence_mode \
    --format=csv 2>&1 | tee "$OUT/gpu.csv"
  nvidia-smi 2>&1 | head -12
else
  echo "nvidia-smi not found"
fi
uname -srm

if ! [ -f "$BUNDLE/runtime.tar.gz" ]; then
  echo "check.sh: no $BUNDLE/runtime.tar.gz: run 'make device-bundle' first and carry $BUNDLE" >&2
  exit 2
fi
RUNTIME_DIR=$(mktemp -d "${TMPDIR:-/tmp}/d2v-runtime.XXXXXX")
tar -C "$RUNTIME_DIR" -xzf "$BUNDLE/runtime.tar.gz"
JAVA="$RUNTIME_DIR/runtime/bin/java"
"$JAVA" -version 2>&1 | head -1
if ! "$JAVA" -version >/dev/null 2>&1; then
  # The runtime was jlinked from Debian 12's JDK: its binaries need glibc 2.34 or newer.
  echo "check.sh: the bundled Java runtime does not start here (it needs glibc >= 2.34; $(ldd --version 2>&1 | head -1))" >&2
  exit 2
fi
CP="$BUNDLE/d2v.jar:$BUNDLE/d2v-bench.jar:$(ls "$BUNDLE"/lib/*.jar | tr '\n' ':')"
JOPTS=(-Xmx16g -Xss8m)
# cuBLAS 12 for JCublas, if PyTorch brought one (optional: only reported by the probe).
CUBLAS_LIB=$("$PYTHON" -c "import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], 'lib'))" 2>/dev/null || true)
[ -n "$CUBLAS_LIB" ] && export LD_LIBRARY_PATH="$CUBLAS_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cp "$BUNDLE/ptxas-report.txt" "$OUT/" 2>/dev/null && grep -E '(SPILLS|LOCAL)$' "$OUT/ptxas-report.txt" | sed 's/^/ptxas: /'

step "d2v backends"
timeout 45 "$JAVA" "${JOPTS[@]}" -cp "$CP" org.d2v.cli.Main info 2>&1 | tee "$OUT/info.txt"
record "backend probe" "exit ${PIPESTATUS[0]}"

step "reference-vs-kernel suite on CUDA (and OpenCL where the driver offers it)"
timeout 210 "$JAVA" "${JOPTS[@]}" -jar "$BUNDLE/junit-platform-console-standalone.jar" execute \
  --class-path "$CP:$BUNDLE/d2v-tests.jar" \
  --scan-classpath "$BUNDLE/d2v-tests.jar" --include-classname "$SUITE" --exclude-classname '.*KernelBuildScriptTest' --fail-if-no-tests \
  --details=tree --disable-banner --disable-ansi-colors --reports-dir "$OUT/junit" 2>&1 | tee "$OUT/suite.txt"
suite=${PIPESTATUS[0]}
record "kernel suite" "exit $suite ($(grep -Eo '[0-9]+ tests (successful|failed|skipped|aborted)' "$OUT/suite.txt" | tr '\n' ' '))"
if [ "$DRY_RUN" != 1 ] && grep -q 'backend cuda unavailable' "$OUT/suite.txt"; then
  record "kernel suite" "CUDA WAS SKIPPED: see the probe above"
fi

step "d2v kernel times ($BACKEND, $SCALE shapes)"
timeout 150 "$JAVA" "${JOPTS[@]}" -cp "$CP" org.d2v.bench.KernelTimes --backend "$BACKEND" --scale "$SCALE" \
  --iters "$ITERS" --json "$OUT/d2v-times.jsonl"
record "d2v kernel times" "exit $?"

step "PyTorch times ($SCALE shapes)"
TORCH_DEVICE=cuda
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "PyTorch is not installed here: no torch column"
  "$PYTHON" -c 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")' "$HERE/torch_blocks.py" \
    && echo "torch_blocks.py compiles"
  record "torch times" "skipped (no torch)"
else
  "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || TORCH_DEVICE=cpu
  timeout 120 "$PYTHON" "$HERE/torch_blocks.py" --scale "$SCALE" --iters "$ITERS" --device "$TORCH_DEVICE" \
    --json "$OUT/torch-times.jsonl"
  record "torch times" "exit $? on $TORCH_DEVICE"
fi

step "side by side"
"$PYTHON" "$HERE/table.py" "$OUT/d2v-times.jsonl" "$OUT/torch-times.jsonl" | tee "$OUT/table.md"
record "table" "exit ${PIPESTATUS[0]}"

step "summary"
printf '%s\n' "${SUMMARY[@]}" | tee "$OUT/summary.txt"
echo "outputs in $OUT: $(ls "$OUT" | tr '\n' ' ')"
[ "$suite" = 0 ]
