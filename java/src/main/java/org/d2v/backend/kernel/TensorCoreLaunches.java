package org.d2v.backend.kernel;

import java.util.ArrayList;
import java.util.List;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.Philox;

/**
 * The launches of the tensor-core programs (kernels/gemm_tc.cu, attention_tc.cu, conv_tc.cu): each
 * op's kernel names, argument lists, grids and blocks, and launch sequences, as docs/cuda.md states
 * them ("CUDA-only kernels"), written once. Operands are passed through as given: {@link
 * org.d2v.tensor.Tensor}s (or null) for a {@link KernelRuntime}, the host emulator's buffers in the
 * tests that run these very launches against the float64 reference. Preconditions on the tensors
 * (dtypes, 16-byte alignment) are the caller's to check; the shape rules are here.
 *
 * <p>These kernels read bf16 operands: {@link Bf16Variants} launches them as the fast variants of
 * launches with BF16 activations.
 */
public final class TensorCoreLaunches {
    private TensorCoreLaunches() {}

    /** One launch: OpenCL-style sizes (global = grid · block), as {@link KernelRuntime#launch} takes them. */
    public record Launch(String program, String kernel, long[] global, long[] local, Object[] args) {
        public void on(KernelRuntime rt) { rt.launch(program, kernel, global, local, args); }

        /** CUDA's grid: global / local per dimension. */
        public int[] grid() {
            int[] g = new int[global.length];
            for (int i = 0; i < g.length; i++) g[i] = Math.toIntExact(global[i] / local[i]);
            return g;
        }

        public int[] block() {
            int[] b = new int[local.length];
            for (int i = 0; i < b.length; i++) b[i] = Math.toIntExact(local[i]);
            return b;
        }
    }

    private static Launch launch(String program, String kernel, long[] grid, int block, Object... args) {
        long[] global = new long[grid.length], local = new long[grid.length];
        for (int i = 0; i < grid.length; i++) {
            global[i] = grid[i] * (i == 0 ? block : 1);
            local[i] = i == 0 ? block : 1;
        }
        return new Launch(program, kernel, global, local, args);
    }

    private static long ceil(long a, long b) { return (a + b - 1) / b; }

    /** A grid-stride kernel's grid: about 8 blocks per SM, fewer when there is less work. */
    private static long strideGrid(long work, long perBlock, int sms) { return Math.max(1, Math.min(ceil(work, perBlock), 8L * sms)); }

    private static Object[] concat(Object[]... parts) {
        List<Object> all = new ArrayList<>();
        for (Object[] p : parts) all.addAll(java.util.Arrays.asList(p));
        return all.toArray();
    }

    // ---- GEMM: gemm_tc_{nn,nt,tn}, 128×128 tiles, 8 warps -----------------------------------------

    /** The kernel of d's layout, or null for (transA, transB) = (true, true), which stays portable. */
    public static String gemmKernel(MatmulDesc d) {
        if (d.transA() && d.transB()) return null;
        return "gemm_tc_" + (d.transA() ? "tn" : d.transB() ? "nt" : "nn");
    }

    /**
     * Null when gemm_tc takes d's shape, else why not: each operand's contiguous dimension a multiple
     * of 8 (nn: K and N; nt: K; tn: M and N), so every 16-byte chunk is wholly inside or outside; the
     * batch within the grid's 65535.
     */
    public static String gemmShape(MatmulDesc d) {
        if (gemmKernel(d) == null) return "both operands transposed (no gemm_tc layout)";
        boolean ok = d.transA() ? d.m() % 8 == 0 && d.n() % 8 == 0 : d.k() % 8 == 0 && (d.transB() || d.n() % 8 == 0);
        if (!ok) return "the contiguous dimensions (m " + d.m() + ", n " + d.n() + ", k " + d.k() + ") are not multiples of 8 for "
                + gemmKernel(d);
        if (d.batch() > 65535 || ceil(d.m(), 128) > 65535) return "batch " + d.batch() + " or m " + d.m() + " exceeds the grid";
        return null;
    }

    /**
     * C (+)= act(op(A)·op(B) + bias) per batch (docs/cuda.md "GEMM"): out and preact are bf16 when
     * outBf16, else float (preact may be null; GELU writes it).
     */
    public static Launch gemm(MatmulDesc d, Object a, Object b, Object bias, Object out, Object preact, boolean accumulate,
                              boolean outBf16) {
        String kernel = gemmKernel(d);
        if (kernel == null) throw new IllegalArgumentException("gemm_tc has no layout for " + d);
        boolean gelu = d.activation() == MatmulDesc.Activation.GELU;
        int m = d.m(), n = d.n(), k = d.k();
        return launch("gemm_tc", kernel, new long[] {ceil(n, 128), ceil(m, 128), d.batch()}, 256,
                m, n, k, m * k, d.broadcastB() ? 0 : k * n, m * n, a, b, bias,
                outBf16 ? null : out, outBf16 ? out : null, outBf16 ? null : preact, outBf16 ? preact : null,
                bias != null ? 1 : 0, gelu ? 1 : 0, accumulate ? 1 : 0, outBf16 ? 1 : 0);
    }

    // ---- attention: attention_tc_*_d{32,64,128} ----------------------------------------------------

    /** Null when d's head size has a tensor-core kernel (32, 64, 128), else why not. */
    public static String attentionShape(AttentionDesc d) {
        int h = d.headDim();
        if (h != 32 && h != 64 && h != 128) return "head size " + h + " has no tensor-core kernel (32, 64, 128)";
        if (d.heads() > 65535) return "heads " + d.heads() + " exceed the grid";
        return null;
    }

    private static Object[] inputs(AttentionDesc d, Object qkv, Object slopes, Object scale, Object pos, Object pad) {
        boolean a = d.alibi();
        return new Object[] {qkv, a ? slopes : null, a ? scale : null, a ? pos : null, d.keyPadding() ? pad : null};
    }

    private static Object[] params(AttentionDesc d) {
        return new Object[] {d.batch(), d.tokens(), d.heads(), d.headDim(), (float) d.scale(), d.alibi() ? 1 : 0,
            d.keyPadding() ? 1 : 0, Philox.dropThreshold(d.dropout()), (float) (1.0 / (1.0 - d.dropout())), d.seed(), d.offset()};
    }

    /** Forward: qkv, out bf16 ([B,T,3,H,Dh], [B,T,H,Dh]), lse float [B,H,T]; 64 query rows per block of 128. */
    public static Launch attentionForward(AttentionDesc d, Object qkv, Object slopes, Object scale, Object pos, Object pad,
                                          Object out, Object lse) {
        long bt = (long) d.batch() * d.tokens();
        return launch("attention_tc", "attention_tc_forward_d" + d.headDim(), new long[] {ceil(bt, 64), d.heads()}, 128,
                concat(inputs(d, qkv, slopes, scale, pos, pad), new Object[] {out, lse}, params(d)));
    }

    /**
     * Backward, attention.cl's sequence: delta = rowsum(dO ⊙ O), dK/dV per key block, dQ per query
     * block (which leaves the ALiBi shares in delta), then the portable attention_alibi_grad adding
     * them into dAlibiScale. dout, dqkv bf16; lse, delta [B,H,T] and dAlibiScale float.
     */
    public static List<Launch> attentionBackward(AttentionDesc d, Object qkv, Object slopes, Object scale, Object pos, Object pad,
                                                 Object out, Object dout, Object lse, Object delta, Object dqkv,
                                                 Object dAlibiScale, boolean accumulate, int sms) {
        long bt = (long) d.batch() * d.tokens();
        int dh = d.headDim();
        Object[] common = concat(inputs(d, qkv, slopes, scale, pos, pad), new Object[] {dout, lse, delta, dqkv}, params(d),
                new Object[] {accumulate ? 1 : 0});
        int kvKeys = dh == 128 ? 32 : 64;
        List<Launch> seq = new ArrayList<>();
        seq.add(launch("attention_tc", "attention_tc_delta", new long[] {strideGrid(bt * d.heads() * dh, 2048, sms)}, 256,
                out, dout, delta, d.batch(), d.tokens(), d.heads(), dh));
        seq.add(launch("attention_tc", "attention_tc_backward_kv_d" + dh, new long[] {ceil(bt, kvKeys), d.heads()}, 2 * kvKeys, common));
        seq.add(launch("attention_tc", "attention_tc_backward_q_d" + dh, new long[] {ceil(bt, 64), d.heads()}, 128, common));
        if (d.alibi()) {
            seq.add(launch("attention", "attention_alibi_grad", new long[] {d.heads()}, 64, delta, slopes, scale, dAlibiScale,
                    d.batch(), d.tokens(), d.heads()));
        }
        return seq;
    }

    // ---- grouped convolution: conv_tc_* (implicit GEMM per group) ---------------------------------

    /** Null when conv_tc takes d (channels per group multiples of 8), else why not. */
    public static String convShape(ConvDesc d) {
        if (d.inPerGroup() % 8 != 0 || d.outPerGroup() % 8 != 0) {
            return "channels per group " + d.inPerGroup() + " → " + d.outPerGroup() + " are not multiples of 8";
        }
        return null;
    }

    private static Object[] geometry(ConvDesc d) {
        return new Object[] {d.batch(), d.inC(), d.outC(), d.inH(), d.inW(), d.kH(), d.kW(), d.strideH(), d.strideW(),
            d.padH(), d.padW(), d.groups(), d.outH(), d.outW()};
    }

    /** y = conv(x, w) + bias (x, w bf16; y float, or bf16 when outBf16). */
    public static Launch convForward(ConvDesc d, Object x, Object w, Object bias, Object y, boolean outBf16) {
        long pixels = (long) d.batch() * d.outH() * d.outW();
        return launch("conv_tc", "conv_tc_forward", new long[] {ceil(d.outPerGroup(), 64) * d.groups(), ceil(pixels, 128)}, 128,
                concat(new Object[] {x, w, bias, outBf16 ? null : y, outBf16 ? y : null}, geometry(d),
                        new Object[] {bias != null ? 1 : 0, outBf16 ? 1 : 0}));
    }

    /** dx (+)= the input gradient (dy, w bf16; dx float, or bf16 when outBf16). */
    public static Launch convBackwardInput(ConvDesc d, Object dy, Object w, Object dx, boolean accumulate, boolean outBf16) {
        long pixels = (long) d.batch() * d.inH() * d.inW();
        return launch("conv_tc", "conv_tc_backward_input", new long[] {ceil(d.inPerGroup(), 64) * d.groups(), ceil(pixels, 128)}, 128,
                concat(new Object[] {dy, w, outBf16 ? null : dx, outBf16 ? dx : null}, geometry(d),
                        new Object[] {accumulate ? 1 : 0, outBf16 ? 1 : 0}));
    }

    /** Elements of the weight gradient: Cout·kH·kW·Cin/G. */
    public static long weightCount(ConvDesc d) { return (long) d.outC() * d.kH() * d.kW() * d.inPerGroup(); }

    /** Blocks of one split of the weight gradient. */
    private static long weightBlocks(ConvDesc d) {
        return ceil(d.outPerGroup(), 64) * ceil((long) d.kH() * d.kW() * d.inPerGroup(), 64) * d.groups();
    }

    /**
     * Pixel splits of the weight gradient: enough blocks for one wave at 6 blocks per SM (the image
     * decoder's 768 channels in 16 groups: 112 blocks a split, 7 splits on 132 SMs), at least one,
     * at most one per 64 pixels.
     */
    public static int weightSplits(ConvDesc d, int sms) {
        long pixels = (long) d.batch() * d.outH() * d.outW();
        return (int) Math.max(1, Math.min(6L * sms / weightBlocks(d), pixels / 64));
    }

    /** Pixels per chunk of the bias gradient: about 8 blocks per SM over the channel tiles. */
    public static int biasPixelsPerChunk(ConvDesc d, int sms) {
        long pixels = (long) d.batch() * d.outH() * d.outW();
        long chunks = Math.max(1, 8L * sms / ceil(d.outC(), 64));
        return (int) Math.max(1, ceil(pixels, chunks));
    }

    /**
     * dw += the weight gradient, through a workspace of splits × {@link #weightCount} floats (every
     * element written) reduced in split order; and, when dbias is given, dbias += Σ dy over pixels in
     * chunks of perChunk pixels through part [chunks, Cout] floats. x, dy bf16.
     */
    public static List<Launch> convBackwardWeight(ConvDesc d, Object x, Object dy, Object workspace, Object dw, int splits,
                                                  Object part, Object dbias, int perChunk, int sms) {
        List<Launch> seq = new ArrayList<>();
        long count = weightCount(d);
        seq.add(launch("conv_tc", "conv_tc_backward_weight",
                new long[] {ceil(d.outPerGroup(), 64) * ceil((long) d.kH() * d.kW() * d.inPerGroup(), 64), d.groups(), splits}, 128,
                concat(new Object[] {x, dy, workspace}, geometry(d), new Object[] {splits})));
        seq.add(launch("conv_tc", "conv_tc_reduce_splits", new long[] {strideGrid(count, 256, sms)}, 256,
                (int) count, splits, workspace, dw));
        if (dbias != null) {
            int pixels = d.batch() * d.outH() * d.outW(), chunks = (int) ceil(pixels, perChunk);
            seq.add(launch("conv_tc", "conv_tc_bias_partial", new long[] {ceil(d.outC(), 64), chunks}, 256,
                    dy, part, pixels, d.outC(), perChunk));
            seq.add(launch("conv_tc", "conv_tc_reduce_splits", new long[] {strideGrid(d.outC(), 256, sms)}, 256,
                    d.outC(), chunks, part, dbias));
        }
        return seq;
    }
}
