package org.d2v.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Layout, aliasing, initialisation and checkpoint round trips of the flat parameter store. */
class ParameterStoreTest {
    private ReferenceDevice dev;

    @BeforeEach void open() { dev = new ReferenceDevice(DType.F64); }

    @AfterEach void close() { dev.close(); }

    /** An untracked Linear, a tracked block, then another untracked Linear: interleaved on purpose. */
    private static ParameterStore.Builder model() {
        ParameterStore.Builder b = ParameterStore.builder();
        new Linear(b.child("stem"), 3, 5, true);
        new TransformerBlock(b.child("blocks").child("0").tracked(true), 8, 2, 2, 1e-5, false, TransformerBlock.Dropouts.NONE);
        new Linear(b.child("head"), 8, 2, true);
        return b;
    }

    @Test
    void trackedParametersFormOneRangeAtTheStart() {
        try (ParameterStore s = model().build(dev, DType.F64, 1)) {
            ParameterStore.Range tracked = s.trackedRange();
            assertEquals(0, tracked.offset());
            long trackedElements = 0;
            for (Parameter p : s.parameters()) {
                boolean inside = p.offset() >= tracked.offset() && p.offset() + p.numel() <= tracked.offset() + tracked.length();
                assertEquals(p.tracked(), inside, p.name() + " inside the tracked range");
                assertEquals(p.name().startsWith("blocks.0."), p.tracked(), p.name());
                if (p.tracked()) trackedElements += p.numel();
            }
            assertTrue(trackedElements <= tracked.length() && tracked.length() < trackedElements + 16 * s.parameters().size());
        }
    }

    @Test
    void rangesCoverTheBufferAndSeparateDecay() {
        try (ParameterStore s = model().build(dev, DType.F64, 1)) {
            List<ParameterStore.Range> ranges = s.ranges();
            long at = 0;
            for (ParameterStore.Range r : ranges) {
                assertEquals(at, r.offset(), "ranges are contiguous");
                at += r.length();
            }
            assertEquals(s.length(), at, "ranges cover the buffer");
            assertEquals(1, ranges.stream().filter(r -> !r.decay()).count(), "no-decay parameters are one range");
            assertEquals(3, ranges.size(), "decay | no decay | decay");
            for (Parameter p : s.parameters()) {
                ParameterStore.Range r = ranges.stream().filter(q -> p.offset() >= q.offset() && p.offset() < q.offset() + q.length()).findFirst().orElseThrow();
                assertEquals(p.decay(), r.decay(), p.name());
                assertEquals(0, p.offset() % ParameterStore.ALIGN, p.name() + " aligned");
            }
            assertTrue(s.parameter("stem.weight").decay());
            assertFalse(s.parameter("stem.bias").decay());
            assertFalse(s.parameter("blocks.0.norm1.weight").decay());
            assertTrue(s.parameter("blocks.0.attn.qkv.weight").decay());
            assertEquals(15 + 5 + 2 * 8 + 2 + s.parameters().stream().filter(Parameter::tracked).mapToLong(Parameter::numel).sum(), s.count());
        }
    }

    @Test
    void viewsAliasTheFlatBuffersAndZeroGradsIsOneFill() {
        try (ParameterStore s = model().build(dev, DType.F64, 1)) {
            Parameter p = s.parameter("head.weight");
            Tensor w = p.tensor();
            assertSame(s.values().buffer(), w.buffer());
            assertSame(s.grads().buffer(), w.grad().buffer());
            assertEquals(p.offset(), w.offset());
            assertEquals(p.offset(), w.grad().offset());
            assertTrue(w.requiresGrad());
            double[] flat = s.values().toDoubles();
            flat[(int) p.offset() + 3] = 42;
            s.values().copyFrom(flat);
            assertEquals(42, w.toDoubles()[3], "a write to the flat buffer shows in the view");
            dev.ops().fill(w.grad(), 7);
            double[] g = s.grads().toDoubles();
            assertEquals(7, g[(int) p.offset() + 15]);
            assertEquals(16 * 7, java.util.Arrays.stream(g).sum(), "only the view was written");
            s.zeroGrads();
            for (double v : s.grads().toDoubles()) assertEquals(0, v);
        }
    }

    @Test
    void initIsBertLikeAndDeterministic() {
        try (ParameterStore a = model().build(dev, DType.F64, 7); ParameterStore b = model().build(dev, DType.F64, 7);
             ParameterStore other = model().build(dev, DType.F64, 8)) {
            assertArrayEquals(a.values().toDoubles(), b.values().toDoubles(), "same seed, same parameters");
            assertFalse(java.util.Arrays.equals(a.values().toDoubles(), other.values().toDoubles()), "another seed differs");
            double[] qkv = a.get("blocks.0.attn.qkv.weight").toDoubles();
            double sq = 0;
            for (double v : qkv) sq += v * v;
            double std = Math.sqrt(sq / qkv.length);
            assertTrue(std > 0.017 && std < 0.023, "N(0, 0.02) weights, std " + std);
            for (double v : a.get("blocks.0.attn.qkv.bias").toDoubles()) assertEquals(0, v);
            for (double v : a.get("blocks.0.norm2.weight").toDoubles()) assertEquals(1, v);
            for (double v : a.get("blocks.0.norm2.bias").toDoubles()) assertEquals(0, v);
        }
    }

    @Test
    void embeddingPaddingRowStartsAtZeroAndUniformInitStaysInBounds() {
        ParameterStore.Builder b = ParameterStore.builder();
        new Embedding(b.child("emb"), 5, 4, 2);
        new Conv1d(b.child("conv"), 4, 4, 3, 1, 1, 1, true);
        try (ParameterStore s = b.build(dev, DType.F64, 3)) {
            double[] table = s.get("emb.weight").toDoubles();
            for (int j = 0; j < 4; j++) assertEquals(0, table[2 * 4 + j]);
            assertTrue(table[0] != 0);
            double bound = 1 / Math.sqrt(12);
            double[] w = s.get("conv.weight").toDoubles();
            double min = 1, max = -1;
            for (double v : w) { min = Math.min(min, v); max = Math.max(max, v); }
            assertTrue(min >= -bound && max < bound && min < -bound / 2 && max > bound / 2, "U(±" + bound + "): " + min + ".." + max);
        }
    }

    @Test
    void stateDictRoundTripAndClearErrors() {
        try (ParameterStore a = model().build(dev, DType.F64, 1); ParameterStore b = model().build(dev, DType.F64, 2)) {
            Map<String, double[]> state = a.stateDict();
            assertEquals(a.names(), List.copyOf(state.keySet()));
            b.loadStateDict(state, "ckpt.bin");
            assertArrayEquals(a.values().toDoubles(), b.values().toDoubles());
            state.put("head.bias", new double[3]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(state, "ckpt.bin"));
            assertTrue(e.getMessage().contains("ckpt.bin") && e.getMessage().contains("head.bias"), e.getMessage());
            state.remove("head.bias");
            e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(state, "ckpt.bin"));
            assertTrue(e.getMessage().contains("missing"), e.getMessage());
        }
    }

    @Test
    void teacherBuiltFromTheTrackedDeclarationsHasTheSameTrackedLayout() {
        ParameterStore.Builder tb = ParameterStore.builder();
        new TransformerBlock(tb.child("blocks").child("0").tracked(true), 8, 2, 2, 1e-5, false, TransformerBlock.Dropouts.NONE);
        ParameterStore.Builder other = ParameterStore.builder();
        new TransformerBlock(other.child("blocks").child("1").tracked(true), 8, 2, 2, 1e-5, false, TransformerBlock.Dropouts.NONE);
        try (ParameterStore student = model().build(dev, DType.F64, 1); ParameterStore teacher = tb.build(dev, DType.F64, 1);
             ParameterStore wrong = other.build(dev, DType.F64, 1)) {
            assertTrue(teacher.sameTrackedLayout(student));
            assertFalse(wrong.sameTrackedLayout(student));
        }
    }

    @Test
    void decayPolicyIsConfigurableAndAFrozenStoreRecordsNothing() {
        ParameterStore.Builder b = ParameterStore.builder().decayPolicy((name, shape) -> true);
        Linear lin = new Linear(b.child("l"), 2, 2, true);
        new LayerNorm(b.child("ln"), 2, 1e-5, true);
        try (ParameterStore s = b.build(dev, DType.F64)) {
            for (Parameter p : s.parameters()) assertTrue(p.decay(), p.name());
            assertEquals(1, s.ranges().size());
            s.requiresGrad(false);
            try (org.d2v.tensor.Scope scope = org.d2v.tensor.Scope.open(); org.d2v.autograd.Tape tape = org.d2v.autograd.Tape.record()) {
                lin.forward(Tensor.zeros(dev, DType.F64, 3, 2));
                assertEquals(0, tape.size());
            }
        }
    }

    @Test
    void declarationErrorsNameTheParameter() {
        ParameterStore.Builder b = ParameterStore.builder();
        b.child("x").declare("w", Shape.of(2), Init.zeros());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.child("x").declare("w", Shape.of(2), Init.zeros()));
        assertTrue(e.getMessage().contains("x.w"));
        Parameter p = b.declare("later", Shape.of(2), Init.zeros());
        assertThrows(IllegalStateException.class, p::tensor, "used before build");
    }

    @Test
    void closingFreesBothBuffers() {
        long before = dev.bytesInUse();
        ParameterStore s = model().build(dev, DType.F64, 1);
        assertEquals(before + 2 * 8 * s.length(), dev.bytesInUse());
        s.close();
        assertEquals(before, dev.bytesInUse());
    }
}
