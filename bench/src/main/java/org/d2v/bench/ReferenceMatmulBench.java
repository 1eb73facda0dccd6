package org.d2v.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
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
 * Time of one square matmul (n×n·n×n, plus bias) on the pure-Java reference backend, the
 * baseline the kernel backends are compared with.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ReferenceMatmulBench {
    @Param({"64", "256"})
    public int size;

    @Param({"F32", "F64"})
    public String dtype;

    private ReferenceDevice device;
    private MatmulDesc desc;
    private Tensor a, b, bias, c;

    @Setup(Level.Trial)
    public void setUp() {
        DType t = DType.valueOf(dtype);
        device = new ReferenceDevice(t);
        desc = MatmulDesc.of(size, size, size);
        SplittableRandom random = new SplittableRandom(1);
        a = Tensor.of(device, t, Shape.of(size, size), random.doubles(size * size, -1, 1).toArray());
        b = Tensor.of(device, t, Shape.of(size, size), random.doubles(size * size, -1, 1).toArray());
        bias = Tensor.of(device, t, Shape.of(size), random.doubles(size, -1, 1).toArray());
        c = Tensor.empty(device, t, size, size);
    }

    @Benchmark
    public Tensor matmul() {
        device.ops().matmul(desc, a, b, bias, c, null, false);
        return c;
    }

    @TearDown(Level.Trial)
    public void tearDown() { device.close(); }
}
