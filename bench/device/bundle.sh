#!/usr/bin/env bash
# Builds build/device-bundle/: everything bench/device/check.sh needs on a GPU machine that has no
# Java: a jlinked JDK 17 runtime (packed as runtime.tar.gz), the engine jar with its fatbins, the runtime libraries, the test
# classes, the benchmark classes and the JUnit console launcher, plus the ptxas report and scripts.
# Called by `make device-bundle` after `make kernels`, from the repository root.
set -euo pipefail

MVN=${MVN:-mvn -B}
BUNDLE=${BUNDLE:-build/device-bundle}
JUNIT_CONSOLE=org.junit.platform:junit-platform-console-standalone:1.11.4
VERSION=0.1.0-SNAPSHOT

[ -f build/kernels/cuda-kernels.txt ] || echo "device-bundle: WARNING: no fatbins in build/kernels (nvcc missing?): the bundle has no CUDA kernels"

echo "device-bundle: building the jars (tests compiled, not run)"
$MVN -q package -DskipTests
rm -rf "$BUNDLE"
mkdir -p "$BUNDLE/lib" "$BUNDLE/scripts"

echo "device-bundle: fetching the JUnit console launcher ($JUNIT_CONSOLE)"
$MVN -q -N dependency:copy -Dartifact="$JUNIT_CONSOLE" -DoutputDirectory="$BUNDLE" -Dmdep.stripVersion=true

cp java/target/d2v-$VERSION.jar "$BUNDLE/d2v.jar"
cp bench/target/d2v-bench-$VERSION.jar "$BUNDLE/d2v-bench.jar"
jar cf "$BUNDLE/d2v-tests.jar" -C java/target/test-classes .
cp java/target/lib/*.jar "$BUNDLE/lib/"
# JCuda's natives jar carries the NVRTC and nvPTXCompiler bindings (24 MB) that d2v never loads:
# keep only the driver and runtime bindings.
for j in "$BUNDLE"/lib/jcuda-natives-*.jar; do
  zip -q -d "$j" 'lib/libJNvPTXCompiler-*' 'lib/libJNvrtc-*' >/dev/null
done
# JCudnn 11.7.0 (cuDNN 8) ships lib/libJCudnn-11.7.0-linux-x86_64.so, but JCuda 12's loader asks for
# JCudnn-12.0.0: check.sh puts jni/ on java.library.path with the library under that name.
mkdir -p "$BUNDLE/jni"
for j in "$BUNDLE"/lib/jcudnn-natives-*.jar; do
  unzip -p "$j" lib/libJCudnn-11.7.0-linux-x86_64.so > "$BUNDLE/jni/libJCudnn-12.0.0-linux-x86_64.so" 2>/dev/null \
    || rm -f "$BUNDLE/jni/libJCudnn-12.0.0-linux-x86_64.so"
done
cp build/kernels/ptxas-report.txt "$BUNDLE/" 2>/dev/null || true
cp bench/device/check.sh bench/device/torch_blocks.py bench/device/table.py "$BUNDLE/scripts/"

echo "device-bundle: jlinking a JDK 17 runtime"
CP=$(ls "$BUNDLE"/*.jar "$BUNDLE"/lib/*.jar | tr '\n' ':')
# The modules the jars use (jdeps), plus what is reached only at run time: jdk.zipfs for JUnit's
# class-path scan of d2v-tests.jar, java.management and java.xml for the console's reports.
found=$(jdeps --multi-release 17 --ignore-missing-deps --print-module-deps --class-path "$CP" \
          "$BUNDLE"/d2v.jar "$BUNDLE"/d2v-bench.jar "$BUNDLE"/d2v-tests.jar 2>/dev/null || true)
# (java.desktop, 6 MB, comes in only because jdeps finds a use: the training loss plot's image writer.)
modules=$(echo "java.base,java.logging,java.management,java.xml,jdk.unsupported,jdk.zipfs${found:+,$found}" | tr ',' '\n' | sort -u | paste -sd, -)
runtime=$(mktemp -d)/runtime
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 --output "$runtime"
# The JVM library keeps its native symbol table; nothing needs it at run time.
if command -v strip >/dev/null; then strip --strip-unneeded "$runtime/lib/server/libjvm.so"; fi
"$runtime/bin/java" -version 2>&1 | head -1
# Packed, the runtime is a third of its size; check.sh unpacks it on the GPU machine.
tar -C "$(dirname "$runtime")" -czf "$BUNDLE/runtime.tar.gz" runtime
rm -rf "$(dirname "$runtime")"

{
  echo "d2v device bundle, built $(date -u +%Y-%m-%dT%H:%MZ) from $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "jlinked modules: $modules"
  echo "CUDA programs: $(grep -v '^#' build/kernels/cuda-kernels.txt 2>/dev/null | tr '\n' ' ' || echo none)"
} >"$BUNDLE/BUNDLE.txt"
cat "$BUNDLE/BUNDLE.txt"
echo "device-bundle: $BUNDLE is $(du -sh "$BUNDLE" | cut -f1) ($(du -sb "$BUNDLE" | cut -f1) bytes; the device machine takes 64 MiB)"
