package org.d2v.backend.reference;

import org.d2v.backend.Ops;
import org.d2v.testing.Rand;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

/** A float64 reference device, a seeded generator and a scope that frees each test's tensors. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ReferenceTestBase {
    ReferenceDevice dev;
    Ops ops;
    Rand rand;
    private Scope scope;

    @BeforeAll
    void openDevice() {
        dev = new ReferenceDevice(DType.F64);
        ops = dev.ops();
    }

    @AfterAll
    void closeDevice() { dev.close(); }

    @BeforeEach
    void openScope() {
        rand = new Rand(20260529);
        scope = Scope.open();
    }

    @AfterEach
    void closeScope() { scope.close(); }

    /** Random float64 values in [−1, 1). */
    Tensor random(int... dims) { return rand.tensor(dev, DType.F64, dims); }

    Tensor zeros(int... dims) { return Tensor.zeros(dev, DType.F64, dims); }

    Tensor poisoned(int... dims) { return Rand.poisoned(dev, DType.F64, dims); }

    Tensor of(double[] values, int... dims) { return Tensor.of(dev, DType.F64, Shape.of(dims), values); }

    Tensor ints(int[] values, int... dims) { return Tensor.ofInts(dev, Shape.of(dims), values); }

    /** Fixed random weights for a loss Σ w ⊙ out. */
    double[] weights(Tensor out) { return rand.uniform((int) out.numel(), -1, 1); }
}
