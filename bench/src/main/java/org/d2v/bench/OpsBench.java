package org.d2v.bench;

import java.util.concurrent.TimeUnit;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One JMH benchmark for every op family: {@code op} names an {@link OpCases} entry, run on
 * {@code backend} at the shapes of {@code preset}. Each invocation launches the op once and waits
 * for the device, so the score is the op's wall time. {@link BenchReport} turns scores into GB/s,
 * GFLOP/s and a share of the roofline measured in the same run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class OpsBench {
    @Param("reference")
    public String backend;

    @Param("tiny")
    public String preset;

    @Param("copy")
    public String op;

    private Device device;
    private OpCase.Prepared prepared;

    @Setup(Level.Trial)
    public void setUp() {
        device = Backends.open(backend);
        prepared = OpCases.get(op).prepare(device, Preset.named(preset));
        prepared.launch().run(); // first launch compiles kernels; keep it out of the warm-up noise
        device.synchronize();
    }

    @Benchmark
    public void run() {
        prepared.launch().run();
        device.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        device.close();
    }
}
