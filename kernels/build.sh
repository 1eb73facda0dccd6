#!/usr/bin/env bash
# Compiles the portable kernels as CUDA: every kernels/<program>.cl (and CUDA-only kernels/<program>.cu)
# becomes $OUT/<program>.fatbin with SASS for sm_80 and sm_90 plus compute_90 PTX as the fallback
# (nvcc 13 emits PTX 9.0, which CUDA 12 drivers reject, so the main GPUs must get SASS).
# Also writes $OUT/ptxas-report.txt: ptxas's resource usage per kernel and a one-line summary per
# kernel that flags spills. This is the build-time check that the portable kernels are valid CUDA:
# a kernel nvcc rejects fails the build with nvcc's message.
# For the CUDA-only programs (.cu, which may include kernels/*.cuh) it also keeps the PTX nvcc
# generates on the way, $OUT/ptx/<program>.compute_80.ptx and .compute_90.ptx (no extra compile:
# nvcc --keep), which the static tests read (TensorCoreStaticTest, budgets in kernels/budgets.txt).
# Storage flavours (d2v.h): a source that declares `ACT *` pointers is compiled a second time with
# -DD2V_ACT_BF16 into <program>.bf16.fatbin, and one that declares `OUT *` pointers a third time with
# -DD2V_ACT_BF16 -DD2V_OUT_F32 into <program>.bf16-f32.fatbin (org.d2v.backend.kernel.Flavour).
#
# Environment: NVCC (empty: no nvcc, skip; unset: look for nvcc on PATH), OUT (default build/kernels),
# SRC (default: the folder of this script), JOBS (parallel nvcc processes, default 2).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${SRC:-$HERE}
OUT=${OUT:-build/kernels}
JOBS=${JOBS:-2}
NVCC=${NVCC-$(command -v nvcc 2>/dev/null || true)}

if [ -z "$NVCC" ] || ! [ -x "$(command -v "$NVCC" 2>/dev/null || echo "$NVCC")" ]; then
  echo "nvcc not found: no CUDA kernels (the CUDA backend will be unavailable)"
  exit 0
fi

mkdir -p "$OUT/ptxas" "$OUT/ptx"
OUT=$(cd "$OUT" && pwd)
HEADER="$SRC/d2v.h"
if ! [ -f "$HEADER" ]; then
  # Only while the dialect's branch is not merged yet: nothing can be compiled without it.
  echo "kernels/build.sh: no $HEADER (the portable dialect): no CUDA kernels (the CUDA backend will be unavailable)"
  exit 0
fi

GENCODE=(-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90)

shopt -s nullglob
sources=("$SRC"/*.cl "$SRC"/*.cu)
declare -A seen=()
for s in "${sources[@]}"; do
  p=$(basename "${s%.*}")
  if [ -n "${seen[$p]:-}" ]; then
    echo "kernels/build.sh: program '$p' has two sources ($(basename "${seen[$p]}") and $(basename "$s")); rename one" >&2
    exit 1
  fi
  seen[$p]=$s
done

# One job per (program, flavour): "<name>|<source>|<defines>", <name> the fatbin's name.
jobs=()
declare -A built=()
for s in "${sources[@]}"; do
  p=$(basename "${s%.*}")
  jobs+=("$p|$s|")
  built[$p]=1
  if grep -Eq '\bACT[[:space:]]*\*' "$s" || grep -Eq '\bOUT[[:space:]]*\*' "$s"; then
    jobs+=("$p.bf16|$s|-DD2V_ACT_BF16")
    built[$p.bf16]=1
  fi
  if grep -Eq '\bOUT[[:space:]]*\*' "$s"; then
    jobs+=("$p.bf16-f32|$s|-DD2V_ACT_BF16 -DD2V_OUT_F32")
    built[$p.bf16-f32]=1
  fi
done

# A fatbin whose source (or flavour) is gone must not ship with the jar.
for f in "$OUT"/*.fatbin; do
  [ -n "${built[$(basename "${f%.fatbin}")]:-}" ] || rm -f "$f" "$OUT/ptxas/$(basename "${f%.fatbin}").log"
done
for f in "$OUT"/ptx/*.ptx; do
  p=$(basename "$f"); p=${p%%.*}
  [[ "${seen[$p]:-}" == *.cu ]] || rm -f "$f"
done

# The newest header a .cu program may include (a changed header rebuilds every .cu program).
NEWEST_CUH=""
for h in "$SRC"/*.cuh; do
  if [ -z "$NEWEST_CUH" ] || [ "$h" -nt "$NEWEST_CUH" ]; then NEWEST_CUH=$h; fi
done

# Compiles one job unless its fatbin is newer than the source, the header and this script.
compile_one() {
  local program=${1%%|*} rest=${1#*|}
  local src=${rest%%|*} defines=${rest#*|}
  local fatbin="$OUT/$program.fatbin" log="$OUT/ptxas/$program.log"
  local cu=0
  [[ "$src" == *.cu && -z "$defines" ]] && cu=1
  if [ -f "$fatbin" ] && [ -f "$log" ] && [ "$fatbin" -nt "$src" ] && [ "$fatbin" -nt "$HEADER" ] && [ "$fatbin" -nt "$0" ] \
     && { [ "$cu" = 0 ] || { { [ -z "$NEWEST_CUH" ] || [ "$fatbin" -nt "$NEWEST_CUH" ]; } \
          && [ -f "$OUT/ptx/$program.compute_80.ptx" ] && [ -f "$OUT/ptx/$program.compute_90.ptx" ]; }; }; then
    return 0
  fi
  local lang=() keep=() tmp=""
  [[ "$src" == *.cl ]] && lang=(-x cu)
  if [ "$cu" = 1 ]; then
    tmp=$(mktemp -d "$OUT/ptx/.keep-$program.XXXXXX")
    keep=(--keep --keep-dir "$tmp")
  fi
  # shellcheck disable=SC2086 # defines are words
  if "$NVCC" "${lang[@]}" $defines -include "$HEADER" -fatbin "${GENCODE[@]}" -Xptxas -v "${keep[@]}" \
       -o "$fatbin.tmp" "$src" >"$log.tmp" 2>&1; then
    if [ "$cu" = 1 ]; then
      mv "$tmp/$program.compute_80.ptx" "$OUT/ptx/$program.compute_80.ptx"
      mv "$tmp/$program.compute_90.ptx" "$OUT/ptx/$program.compute_90.ptx"
      rm -rf "$tmp"
    fi
    mv "$fatbin.tmp" "$fatbin"
    mv "$log.tmp" "$log"
    echo "nvcc: kernels/$(basename "$src")${defines:+ ($defines)} -> $(basename "$fatbin")"
  else
    echo "nvcc failed on kernels/$(basename "$src")${defines:+ ($defines)}:" >&2
    grep -v '^ptxas info' "$log.tmp" >&2 || true
    rm -f "$fatbin.tmp" "$log.tmp"
    [ -n "$tmp" ] && rm -rf "$tmp"
    return 1
  fi
}
export -f compile_one
export NVCC OUT HEADER NEWEST_CUH
export GENCODE_STR="${GENCODE[*]}"

if [ ${#jobs[@]} -eq 0 ]; then
  echo "kernels/build.sh: no kernels in $SRC"
else
  # Bash arrays do not cross into xargs' shells: rebuild GENCODE there from its string form.
  printf '%s\0' "${jobs[@]}" | xargs -0 -n 1 -P "$JOBS" bash -c \
    'GENCODE=($GENCODE_STR); compile_one "$1"' "$0" \
    || { echo "kernels/build.sh: CUDA compilation failed (see nvcc's message above)" >&2; exit 1; }
fi

# The manifest the CUDA backend reads to know this build has kernels (packaged with the fatbins).
{
  echo "# programs compiled by nvcc into <program>.fatbin (kernels/build.sh)"
  for f in "$OUT"/*.fatbin; do basename "${f%.fatbin}"; done
} >"$OUT/cuda-kernels.txt"

# The report: ptxas's own lines per program, then one summary line per kernel.
report="$OUT/ptxas-report.txt"
{
  echo "# ptxas resource usage (nvcc $("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'), -Xptxas -v)"
  echo "# summary: program/kernel, per architecture: registers, shared memory, stack frame, spill stores/loads"
  echo "# SPILLS: registers spilled to local memory; LOCAL: no spills, but a stack frame (local arrays)"
  for log in "$OUT"/ptxas/*.log; do
    awk -v program="$(basename "${log%.log}")" -f "$HERE/ptxas-summary.awk" "$log"
  done
  echo
  echo "# ptxas output"
  for log in "$OUT"/ptxas/*.log; do
    echo "## $(basename "${log%.log}")"
    cat "$log"
  done
} >"$report"

kernels=$(grep -c '^[a-z_0-9.-]*/' "$report" || true)
spilling=$(grep -c 'SPILLS$' "$report" || true)
local_mem=$(grep -c 'LOCAL$' "$report" || true)
echo "ptxas: $kernels kernels, $spilling with spills, $local_mem more with a stack frame (report: $report)"
grep -E '(SPILLS|LOCAL)$' "$report" || true
