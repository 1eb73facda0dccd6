package org.d2v.backend.cuda;

import org.d2v.backend.AttentionDesc;
import org.d2v.backend.Philox;
import org.d2v.backend.cuda.TensorCoreEmulator.Buf;
import org.d2v.backend.cuda.TensorCoreEmulator.Job;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * kernels/attention_tc.cu in the emulator against the reference attention, forward and the whole
 * backward (delta, dK/dV, dQ with the ALiBi shares, reduced here as attention_alibi_grad does):
 * every head size, packed short sequences, sequences longer than a tile, ALiBi with a negative
 * (clamped) scale, key padding with a fully padded sequence, dropout on d2v's Philox stream,
 * accumulation into dqkv.
 */
class AttentionTcEmulationTest extends EmulationTestBase {
    /** Keys per backward_kv block by head size (attention_tc.cu's entry points). */
    private static int kvKeys(int d) { return d == 128 ? 32 : 64; }

    private void check(int batch, int tokens, int heads, int d, boolean alibi, boolean padding, double dropout, boolean accumulate) {
        String what = String.format("B%d T%d H%d D%d alibi %b padding %b p %.2f acc %b", batch, tokens, heads, d, alibi,
                padding, dropout, accumulate);
        int bt = batch * tokens, dim = heads * d;
        long dropSeed = rnd.nextLong(), dropOffset = rnd.nextInt(1 << 20);
        AttentionDesc desc = new AttentionDesc(batch, tokens, heads, d, 1.0 / Math.sqrt(d), alibi, padding, dropout,
                dropSeed, dropOffset);
        double[] qkv = randBf16(bt * 3 * dim), dout = randBf16(bt * dim);
        double[] slopes = new double[heads], scales = new double[heads];
        for (int h = 0; h < heads; h++) {
            slopes[h] = (float) (0.1 + 0.5 * rnd.nextDouble());
            scales[h] = h == 0 ? -0.25 : (float) (1.5 * rnd.nextDouble()); // head 0: clamped at 0
        }
        int[] pos = new int[bt], pad = new int[bt];
        for (int b = 0; b < batch; b++) {
            int p = 0;
            for (int t = 0; t < tokens; t++) {
                p += 1 + rnd.nextInt(3);
                pos[b * tokens + t] = p;
                pad[b * tokens + t] = padding && (b == 0 || rnd.nextDouble() < 0.3) ? 1 : 0; // sequence 0 all padded
            }
        }
        double[] dqkv0 = accumulate ? randBf16(bt * 3 * dim) : null;

        Tensor rQkv = refTensor(qkv, batch, tokens, 3, heads, d), rDout = refTensor(dout, batch, tokens, heads, d);
        Tensor rSl = refTensor(slopes, heads), rSc = refTensor(scales, heads);
        Tensor rPos = refInts(pos, batch, tokens), rPad = refInts(pad, batch, tokens);
        Tensor rOut = refZeros(batch, tokens, heads, d), rLse = refZeros(batch, heads, tokens);
        refOps.attention(desc, rQkv, alibi ? rSl : null, alibi ? rSc : null, alibi ? rPos : null, padding ? rPad : null, rOut, rLse);
        Tensor rDq = accumulate ? refTensor(dqkv0, batch, tokens, 3, heads, d) : refZeros(batch, tokens, 3, heads, d);
        Tensor rDs = refZeros(heads);
        refOps.attentionBackward(desc, rQkv, alibi ? rSl : null, alibi ? rSc : null, alibi ? rPos : null, padding ? rPad : null,
                rOut, rDout, rLse, refZeros(batch, heads, tokens), rDq, alibi ? rDs : null, accumulate);

        Job job = new Job();
        Buf Q = job.bf16(qkv), Sl = job.f32(slopes), Sc = job.f32(scales), P = job.i32(pos), Pd = job.i32(pad);
        Buf O = job.bf16NaN(bt * dim), L = job.f32NaN(bt * heads), G = job.bf16(dout), De = job.f32NaN(bt * heads);
        Buf Dq = accumulate ? job.bf16(dqkv0) : job.bf16NaN(bt * 3 * dim);
        Object[] inputs = {Q, alibi ? Sl : null, alibi ? Sc : null, alibi ? P : null, padding ? Pd : null};
        Object[] params = {batch, tokens, heads, d, (float) desc.scale(), alibi ? 1 : 0, padding ? 1 : 0,
            Philox.dropThreshold(dropout), (float) (1.0 / (1.0 - dropout)), dropSeed, dropOffset};
        job.launch("attention_tc_forward_d" + d, grid(ceil(bt, 64), heads), grid(128), concat(inputs, new Object[] {O, L}, params));
        job.launch("attention_tc_delta", grid(4), grid(256), O, G, De, batch, tokens, heads, d);
        Object[] grads = {G, L, De, Dq};
        Object[] acc = {accumulate ? 1 : 0};
        job.launch("attention_tc_backward_kv_d" + d, grid(ceil(bt, kvKeys(d)), heads), grid(2 * kvKeys(d)),
                concat(inputs, grads, params, acc));
        job.launch("attention_tc_backward_q_d" + d, grid(ceil(bt, 64), heads), grid(128), concat(inputs, grads, params, acc));
        job.run();

        assertClose("attention out (" + what + ")", O.bf16s(), rOut.toDoubles(), BF16_TOL);
        assertClose("attention lse (" + what + ")", L.floats(), rLse.toDoubles(), F32_TOL);
        assertClose("attention dqkv (" + what + ")", Dq.bf16s(), rDq.toDoubles(), BF16_TOL);
        if (alibi) { // attention_alibi_grad's reduction of the per-row shares left in delta
            double[] share = De.floats(), ds = new double[heads];
            for (int h = 0; h < heads; h++) {
                double s = 0;
                for (int b = 0; b < batch; b++) for (int t = 0; t < tokens; t++) s += share[(b * heads + h) * tokens + t];
                ds[h] = scales[h] >= 0 ? -slopes[h] * s : 0;
            }
            assertClose("attention dAlibiScale (" + what + ")", ds, rDs.toDoubles(), 1e-3);
        }
    }

    private static Object[] concat(Object[]... parts) {
        int n = 0;
        for (Object[] p : parts) n += p.length;
        Object[] all = new Object[n];
        int at = 0;
        for (Object[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    @Test
    void packedShortSequencesEveryHeadSize() {
        check(3, 40, 2, 64, false, false, 0, false); // the student's 40 tokens: several sequences per tile
        check(2, 17, 1, 32, true, false, 0, false);
        check(2, 21, 1, 128, false, false, 0, false);
    }

    @Test
    void longerThanATileWithAlibi() {
        check(1, 130, 1, 64, true, false, 0, false);
        check(2, 70, 1, 128, true, false, 0, false);
    }

    @Test
    void keyPaddingWithAnEmptySequence() {
        check(3, 30, 2, 32, false, true, 0, false);
        check(2, 70, 1, 128, false, true, 0, false);
    }

    @Test
    void dropoutFollowsThePhiloxStream() {
        check(5, 9, 2, 64, true, true, 0.2, false);
        check(2, 33, 1, 32, false, false, 0.3, true);
    }

    /** Dh that does not match the kernel's head size poisons the output instead of misreading. */
    @Test
    void aWrongHeadSizeWritesNaN() {
        int batch = 1, tokens = 5, heads = 1, d = 64;
        Job job = new Job();
        Buf Q = job.bf16(randBf16(batch * tokens * 3 * heads * d));
        Buf O = job.bf16(randBf16(batch * tokens * heads * d)), L = job.f32(randF32(batch * heads * tokens));
        job.launch("attention_tc_forward_d32", grid(1, heads), grid(128), Q, null, null, null, null, O, L,
                batch, tokens, heads, d, 0.125f, 0, 0, 0L, 1.0f, 0L, 0L);
        job.run();
        assertAllNaN("attention_tc_forward_d32 given Dh 64 (out)", O.bf16s());
        assertAllNaN("attention_tc_forward_d32 given Dh 64 (lse)", L.floats());
    }
}
