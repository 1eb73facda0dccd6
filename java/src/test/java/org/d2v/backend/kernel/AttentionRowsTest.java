package org.d2v.backend.kernel;

import org.d2v.backend.AttentionDesc;
import org.junit.jupiter.api.Test;

/**
 * The CPU-shaped attention kernels (the barrier-free "_rows" kernels: a work-item per query or key
 * row, dots in 8 partial sums; AttentionRowsGpuShapedTest runs the tiled ones on the same cases)
 * against the float64 reference, forward and backward, at head sizes
 * that are not multiples of 8 and key counts past one ATT_TILE chunk, with ALiBi, key padding and
 * dropout. Outputs start as NaN; the backward accumulates onto random dqkv.
 * Runs on OpenCL, CPU-shaped; subclasses override {@link #kernelShape()} or {@link #backendName()}.
 */
class AttentionRowsTest extends KernelTestBase {
    @Override
    protected String backendName() { return "opencl"; }

    /** CPU-shaped kernels here; {@code AttentionRowsGpuShapedTest} runs the GPU-shaped ones on the same cases. */
    @Override
    protected KernelVariants.Shape kernelShape() { return KernelVariants.Shape.CPU; }

    @Test
    void headSizesOffTheDotLanes() {
        compare(AttentionDesc.of(2, 37, 3, 12), false);
        compare(AttentionDesc.of(3, 11, 2, 5), false);
        compare(AttentionDesc.of(2, 33, 2, 8), false);
    }

    @Test
    void alibiPaddingAndDropoutAcrossTwoKeyChunks() {
        compare(AttentionDesc.of(2, 45, 4, 20).withAlibi(true).withKeyPadding(true).withDropout(0.15, 77, 5), true);
    }

    private void compare(AttentionDesc d, boolean extras) {
        int b = d.batch(), t = d.tokens(), h = d.heads(), dh = d.headDim();
        String c = "attention B" + b + " T" + t + " H" + h + " Dh" + dh;
        Pair qkv = randnInput(b, t, 3, h, dh);
        Pair slopes = null, scales = null, positions = null, padding = null;
        if (extras) {
            double[] slope = new double[h], scale = new double[h];
            for (int i = 0; i < h; i++) {
                slope[i] = (float) Math.pow(2, -8.0 * (i + 1) / h);
                scale[i] = (float) (0.25 + rnd.nextDouble());
            }
            int[] pos = new int[b * t], pad = new int[b * t];
            for (int s = 0; s < b; s++) {
                for (int i = 0; i < t; i++) {
                    pos[s * t + i] = 3 * i + s;           // kept tokens' positions in the full sequence
                    pad[s * t + i] = i >= t - 7 * s ? 1 : 0; // sample s has its last 7·s keys padded
                }
            }
            slopes = input(slope, h);
            scales = input(scale, h);
            positions = ints(pos, b, t);
            padding = ints(pad, b, t);
        }
        Pair out = output(b, t, h, dh), lse = output(b, h, t);
        dev.ops().attention(d, qkv.k(), k(slopes), k(scales), k(positions), k(padding), out.k(), lse.k());
        ref.ops().attention(d, qkv.r(), r(slopes), r(scales), r(positions), r(padding), out.r(), lse.r());
        assertClose(c + ": out", out);
        assertClose(c + ": lse", lse);

        Pair dout = randnInput(b, t, h, dh), delta = output(b, h, t), dqkv = randnInput(b, t, 3, h, dh);
        Pair dScale = extras ? randnInput(h) : null;
        dev.ops().attentionBackward(d, qkv.k(), k(slopes), k(scales), k(positions), k(padding), out.k(), dout.k(),
                lse.k(), delta.k(), dqkv.k(), k(dScale), true);
        ref.ops().attentionBackward(d, qkv.r(), r(slopes), r(scales), r(positions), r(padding), out.r(), dout.r(),
                lse.r(), delta.r(), dqkv.r(), r(dScale), true);
        assertClose(c + ": dqkv", dqkv);
        if (extras) assertClose(c + ": dAlibiScale", dScale);
    }

    private static org.d2v.tensor.Tensor k(Pair p) { return p == null ? null : p.k(); }

    private static org.d2v.tensor.Tensor r(Pair p) { return p == null ? null : p.r(); }
}
