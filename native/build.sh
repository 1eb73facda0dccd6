#!/usr/bin/env bash
# Builds d2v's own JNI libraries into $OUT (default build/native):
#   libd2v_gpu.so  cuBLASLt + NCCL bindings (gcc and the JDK's JNI headers; vendor libraries are
#                  opened at run time with dlopen, so no CUDA headers or libraries are needed here)
#   libd2v_mpi.so  MPI bindings (mpicc and the MPI headers: Debian's openmpi-bin libopenmpi-dev)
#   libd2v_cpu.so  a CPU BLAS (OpenBLAS) as OpenCL native kernels, for PoCL (gcc and JNI headers;
#                  OpenBLAS and the OpenCL loader are opened at run time, like cuBLASLt)
#   test/          CPU stand-ins of cuBLASLt and NCCL for the binding tests (never packaged)
# A missing compiler or header never fails the build: the library is skipped, and
# $OUT/<library>.missing says why and what to install; the Java side reports that text as
# "native library not built: ...". A compile error in our own code does fail it.
#
# Environment: OUT, CC (default gcc), MPICC (default mpicc), JAVA_HOME (default: the java on PATH).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-build/native}
CC=${CC:-gcc}
MPICC=${MPICC:-mpicc}
CFLAGS=(-O2 -g -fPIC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -fvisibility=hidden)
mkdir -p "$OUT/test"

missing() { # library, reason
  echo "native: $1 not built: $2"
  rm -f "$OUT/$1"
  printf '%s\n' "$2" >"$OUT/$1.missing"
}

# Rebuilds only when a source (or this script) is newer than the library.
stale() { # output, sources...
  local out=$1; shift
  [ -f "$out" ] || return 0
  for s in "$@" "$HERE/build.sh"; do [ "$s" -nt "$out" ] && return 0; done
  return 1
}

compile() { # compiler, output, sources and flags...
  local cc=$1 out=$2; shift 2
  "$cc" "${CFLAGS[@]}" -shared -o "$out.tmp" "$@" && mv -f "$out.tmp" "$out"
}

if ! command -v "$CC" >/dev/null 2>&1; then
  missing libd2v_gpu.so "no C compiler ($CC not found): install gcc (Debian: apt-get install gcc) and rebuild: make native"
  missing libd2v_mpi.so "no C compiler ($CC not found): install gcc and openmpi-bin libopenmpi-dev, then rebuild: make native"
  missing libd2v_cpu.so "no C compiler ($CC not found): install gcc (Debian: apt-get install gcc) and rebuild: make native"
  exit 0
fi

JDK=${JAVA_HOME:-}
if [ -z "$JDK" ] && command -v java >/dev/null 2>&1; then
  JDK=$(java -XshowSettings:properties -version 2>&1 | awk '/java.home =/ {print $3}')
fi
if [ -z "$JDK" ] || ! [ -f "$JDK/include/jni.h" ]; then
  why="no JNI headers (jni.h not found under ${JDK:-JAVA_HOME}/include): install a full JDK (Debian: openjdk-17-jdk-headless) or set JAVA_HOME, then rebuild: make native"
  missing libd2v_gpu.so "$why"
  missing libd2v_mpi.so "$why"
  missing libd2v_cpu.so "$why"
  exit 0
fi
JNI=(-I"$JDK/include" -I"$JDK/include/linux")

GPU_SOURCES=("$HERE"/common/d2v_jni.c "$HERE"/gpu/cublaslt.c "$HERE"/gpu/nccl.c "$HERE"/gpu/handles.c)
if stale "$OUT/libd2v_gpu.so" "${GPU_SOURCES[@]}" "$HERE"/gpu/*.h "$HERE"/common/*.h; then
  compile "$CC" "$OUT/libd2v_gpu.so" "${JNI[@]}" "${GPU_SOURCES[@]}" -ldl
  echo "native: built $OUT/libd2v_gpu.so (cuBLASLt and NCCL are opened at run time)"
fi
rm -f "$OUT/libd2v_gpu.so.missing"

CPU_SOURCES=("$HERE"/common/d2v_jni.c "$HERE"/cpu/openblas.c "$HERE"/cpu/attention.c "$HERE"/cpu/host_pool.c)
if stale "$OUT/libd2v_cpu.so" "${CPU_SOURCES[@]}" "$HERE"/cpu/*.h "$HERE"/common/*.h; then
  # -O3 -fno-math-errno: the GEMM epilogue and normal() are plain loops the compiler vectorises
  # (errno, which this library never reads, would keep sqrtf a call); -Wno-psabi: attention.c's
  # 64-byte vectors never cross a call (inlined), so the ABI note about passing them does not apply.
  compile "$CC" "$OUT/libd2v_cpu.so" -O3 -fno-math-errno -Wno-psabi "${JNI[@]}" "${CPU_SOURCES[@]}" -ldl -lm -pthread
  echo "native: built $OUT/libd2v_cpu.so (OpenBLAS and OpenCL are opened at run time)"
fi
rm -f "$OUT/libd2v_cpu.so.missing"

# CPU stand-ins with cuBLASLt's and NCCL's C API, for the binding tests (see native/fakes).
for fake in fake_cublaslt fake_nccl; do
  if stale "$OUT/test/lib$fake.so" "$HERE/fakes/$fake.c" "$HERE"/gpu/vendor_api.h; then
    compile "$CC" "$OUT/test/lib$fake.so" "$HERE/fakes/$fake.c" -lm
  fi
done

MPI_SOURCES=("$HERE"/common/d2v_jni.c "$HERE"/mpi/d2v_mpi.c)
if ! command -v "$MPICC" >/dev/null 2>&1; then
  missing libd2v_mpi.so "$MPICC not found: install openmpi-bin libopenmpi-dev (Debian: apt-get install openmpi-bin libopenmpi-dev) and rebuild: make native"
  exit 0
fi
if ! echo '#include <mpi.h>' | "$MPICC" -E -x c - >/dev/null 2>&1; then
  missing libd2v_mpi.so "$MPICC cannot find mpi.h: install libopenmpi-dev and rebuild: make native"
  exit 0
fi
if stale "$OUT/libd2v_mpi.so" "${MPI_SOURCES[@]}" "$HERE"/common/*.h; then
  # The MPI library is linked in (DT_NEEDED), so a machine without it says so at load time.
  compile "$MPICC" "$OUT/libd2v_mpi.so" "${JNI[@]}" "${MPI_SOURCES[@]}" -ldl
  echo "native: built $OUT/libd2v_mpi.so ($("$MPICC" --version 2>/dev/null | head -1 || echo mpicc))"
fi
rm -f "$OUT/libd2v_mpi.so.missing"
