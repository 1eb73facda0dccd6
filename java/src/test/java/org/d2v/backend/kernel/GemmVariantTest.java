package org.d2v.backend.kernel;

import org.d2v.backend.MatmulDesc;
import org.junit.jupiter.api.Test;

/**
 * Every GEMM variant KernelOps.matmul selects (CPU shape: gemm_dot for A·Bᵀ, gemm_outer otherwise;
 * GPU shape, in GemmVariantGpuShapedTest: the tiled gemm) against the float64 reference, at sizes that are exact multiples of the work-item tiles
 * (4×16 outer, 4×4 dot, 8 dot lanes along k), one off either side, and smaller than one tile, with
 * every epilogue (bias, GELU with pre-activation, accumulate) and batching. Outputs start as NaN.
 * Runs on OpenCL, CPU-shaped; subclasses override {@link #kernelShape()} or {@link #backendName()}.
 */
class GemmVariantTest extends KernelTestBase {
    @Override
    protected String backendName() { return "opencl"; }

    /** CPU-shaped kernels here; {@code GemmVariantGpuShapedTest} runs the GPU-shaped ones on the same cases. */
    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.CPU; }

    private void check(MatmulDesc d, boolean bias, boolean accumulate, boolean preact) {
        int aRows = d.batch() * (d.transA() ? d.k() : d.m()), aCols = d.transA() ? d.m() : d.k();
        int bBatch = d.broadcastB() ? 1 : d.batch();
        Pair a = randnInput(aRows, aCols);
        Pair b = randnInput(bBatch * (d.transB() ? d.n() : d.k()), d.transB() ? d.k() : d.n());
        Pair bi = bias ? randnInput(d.n()) : null;
        Pair c = accumulate ? randnInput(d.batch() * d.m(), d.n()) : output(d.batch() * d.m(), d.n());
        Pair pre = preact ? output(d.batch() * d.m(), d.n()) : null;
        dev.ops().matmul(d, a.k(), b.k(), bi == null ? null : bi.k(), c.k(), pre == null ? null : pre.k(), accumulate);
        ref.ops().matmul(d, a.r(), b.r(), bi == null ? null : bi.r(), c.r(), pre == null ? null : pre.r(), accumulate);
        String what = "matmul " + d.m() + "x" + d.n() + "x" + d.k() + " transA=" + d.transA() + " transB=" + d.transB();
        assertClose(what, c);
        if (pre != null) assertClose(what + " preact", pre);
    }

    /** m, n, k around the tiles: exact multiples, one less, one more, below one tile. */
    private static final int[][] SIZES = {
        {64, 64, 64}, {63, 63, 63}, {65, 65, 65}, {3, 15, 7}, {4, 16, 8}, {5, 17, 9}, {1, 1, 1}, {33, 48, 16},
    };

    @Test
    void everyLayoutAtTileEdges() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int[] s : SIZES) {
                    check(MatmulDesc.of(s[0], s[1], s[2]).withTransA(ta).withTransB(tb), false, false, false);
                }
            }
        }
    }

    @Test
    void epiloguesOnEveryVariant() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                MatmulDesc d = MatmulDesc.of(37, 80, 24).withTransA(ta).withTransB(tb);
                check(d.withActivation(MatmulDesc.Activation.GELU), true, false, true);
                check(d, true, true, false);
                check(d.withBatch(3, true), true, false, false);
                check(d.withBatch(2, false), false, true, false);
            }
        }
    }

    @Test
    void linearLayerShapesOfTheTinyModel() {
        // the x·Wᵀ forward (gemm_dot), dX = dY·W and dW = dYᵀ·X (gemm_outer) at tiny-preset sizes
        check(MatmulDesc.of(176, 384, 128).withTransB(true), true, false, false);
        check(MatmulDesc.of(176, 512, 128).withTransB(true).withActivation(MatmulDesc.Activation.GELU), true, false, true);
        check(MatmulDesc.of(176, 128, 512), false, false, false);
        check(MatmulDesc.of(512, 128, 176).withTransA(true), false, true, false);
    }
}
