package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.MatmulDesc;
import org.junit.jupiter.api.Test;

/**
 * The shape rules and launch geometry of {@link TensorCoreLaunches} without a device (the emulation
 * tests in org.d2v.backend.cuda run the launches themselves against the reference).
 */
class TensorCoreLaunchesTest {
    private static final Object T = new Object(); // any operand: only the argument count is checked here

    @Test
    void gemmLayoutsAndTheirMultiplesOf8() {
        MatmulDesc linear = new MatmulDesc(1, 10240, 2304, 768, false, true, false, MatmulDesc.Activation.NONE);
        assertEquals("gemm_tc_nt", TensorCoreLaunches.gemmKernel(linear));
        assertNull(TensorCoreLaunches.gemmShape(linear));
        assertNull(TensorCoreLaunches.gemmShape(linear.withTransB(false).withTransA(true)), "tn: m, n multiples of 8, k free");
        assertNotNull(TensorCoreLaunches.gemmShape(new MatmulDesc(1, 8, 8, 12, false, true, false, MatmulDesc.Activation.NONE)));
        assertNotNull(TensorCoreLaunches.gemmShape(new MatmulDesc(1, 8, 12, 8, false, false, false, MatmulDesc.Activation.NONE)),
                "nn reads B's rows along n");
        assertTrue(TensorCoreLaunches.gemmShape(linear.withTransA(true)).contains("both operands transposed"));
        TensorCoreLaunches.Launch l = TensorCoreLaunches.gemm(linear, T, T, null, T, null, false, true);
        assertEquals(List.of(18, 80, 1), box(l.grid()));
        assertEquals(List.of(256, 1, 1), box(l.block()));
    }

    @Test
    void theImageDecoderWeightGradientSplitsIntoOneWave() {
        ConvDesc decoder = ConvDesc.conv2d(256, 768, 768, 14, 14, 3, 1, 1, 16);
        assertNull(TensorCoreLaunches.convShape(decoder));
        assertEquals(7, TensorCoreLaunches.weightSplits(decoder, 132), "docs/cuda.md: 7 splits, 784 blocks");
        List<TensorCoreLaunches.Launch> seq = TensorCoreLaunches.convBackwardWeight(decoder, T, T, T, T, 7, T, T,
                TensorCoreLaunches.biasPixelsPerChunk(decoder, 132), 132);
        int[] g = seq.get(0).grid();
        assertEquals(784, g[0] * g[1] * g[2]);
        assertNotNull(TensorCoreLaunches.convShape(ConvDesc.conv2d(1, 12, 12, 3, 3, 3, 1, 1, 1)));
    }

    @Test
    void attentionHeadSizesAndTheBackwardSequence() {
        AttentionDesc student = AttentionDesc.of(256, 40, 12, 64).withAlibi(true);
        assertNull(TensorCoreLaunches.attentionShape(student));
        assertNotNull(TensorCoreLaunches.attentionShape(AttentionDesc.of(2, 5, 1, 48)));
        List<String> kernels = new ArrayList<>();
        for (var l : TensorCoreLaunches.attentionBackward(student, T, T, T, T, T, T, T, T, T, T, T, false, 132)) kernels.add(l.kernel());
        assertEquals(List.of("attention_tc_delta", "attention_tc_backward_kv_d64", "attention_tc_backward_q_d64", "attention_alibi_grad"),
                kernels);
    }

    /** Every launch passes exactly the arguments its kernel declares. */
    @Test
    void argumentCountsMatchTheDeclarations() {
        List<TensorCoreLaunches.Launch> all = new ArrayList<>();
        MatmulDesc d = MatmulDesc.of(64, 64, 64);
        all.add(TensorCoreLaunches.gemm(d, T, T, T, T, T, true, false));
        AttentionDesc a = AttentionDesc.of(2, 40, 2, 128).withAlibi(true).withKeyPadding(true);
        all.add(TensorCoreLaunches.attentionForward(a, T, T, T, T, T, T, T));
        all.addAll(TensorCoreLaunches.attentionBackward(a, T, T, T, T, T, T, T, T, T, T, T, true, 4));
        ConvDesc c = ConvDesc.conv1d(2, 48, 48, 20, 7, 1, 3, 2);
        all.add(TensorCoreLaunches.convForward(c, T, T, T, T, false));
        all.add(TensorCoreLaunches.convBackwardInput(c, T, T, T, true, false));
        all.addAll(TensorCoreLaunches.convBackwardWeight(c, T, T, T, T, 2, T, T, 7, 4));
        for (var l : all) {
            var sig = KernelSignatures.of(l.program(), l.kernel());
            assertEquals(sig.params().size(), l.args().length, l.program() + "/" + l.kernel());
        }
    }

    private static List<Integer> box(int[] v) {
        List<Integer> out = new ArrayList<>();
        for (int x : v) out.add(x);
        while (out.size() < 3) out.add(1);
        return out;
    }
}
