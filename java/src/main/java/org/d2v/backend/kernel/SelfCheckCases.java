package org.d2v.backend.kernel;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.d2v.backend.AdamWDesc;
import org.d2v.backend.AttentionDesc;
import org.d2v.backend.ConvDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.tensor.Tensor;

/**
 * The inputs every fast variant of an op is checked on: small, and sized just off the multiples the
 * fast kernels work in (128-wide GEMM tiles, 8-element vector units, 64-channel blocks), with tails,
 * views off the 16-byte alignment, optional operands absent, and accumulation into existing values.
 * A case a variant's preconditions exclude is skipped for that variant; every variant must meet at
 * least one.
 */
final class SelfCheckCases {
    /** One case: its name (for the reason a variant is disabled) and how to build its call. */
    record Case<C extends FastCall>(String name, Function<SelfCheckInputs, C> make) {}

    private SelfCheckCases() {}

    @SuppressWarnings("unchecked")
    static <C extends FastCall> List<Case<C>> of(Class<C> op) {
        List<?> cases = CASES.get(op);
        if (cases == null) throw new IllegalStateException("no self-check cases for op " + FastCall.opName(op));
        return (List<Case<C>>) cases;
    }

    private static final Map<Class<? extends FastCall>, List<?>> CASES = Map.ofEntries(
            Map.entry(FastCall.Matmul.class, List.of(
                    matmul("nt 129x136x72 + bias (a linear layer)", 1, 129, 136, 72, false, true, false, true, false, false, false),
                    matmul("nt 129x136x72 + bias, GELU, pre-activation kept", 1, 129, 136, 72, false, true, false, true, true, true, false),
                    matmul("nn 65x200x48 accumulated", 1, 65, 200, 48, false, false, false, false, false, false, true),
                    matmul("tn 72x136x129 (a weight gradient)", 1, 72, 136, 129, true, false, false, false, false, false, false),
                    matmul("tt 33x40x24", 1, 33, 40, 24, true, true, false, false, false, false, false),
                    matmul("batch 3, B broadcast, nn 31x24x16, GELU without pre-activation", 3, 31, 24, 16, false, false, true, false,
                            true, false, false),
                    matmul("batch 2 nt 17x8x40 + bias", 2, 17, 8, 40, false, true, false, true, false, false, false))),
            Map.entry(FastCall.Conv.class, List.of(
                    conv("2-D 3×3 pad 1, 4 groups + bias", ConvDesc.conv2d(2, 8, 12, 7, 6, 3, 1, 1, 4), true),
                    conv("patch 7×7 stride 7, 1 channel + bias", ConvDesc.conv2d(2, 1, 16, 14, 21, 7, 7, 0, 1), true),
                    conv("1-D k5 stride 2, no bias", ConvDesc.conv1d(2, 6, 10, 23, 5, 2, 0, 2), false))),
            Map.entry(FastCall.ConvBackwardInput.class, List.of(
                    convInput("2-D 3×3 pad 1, 4 groups", ConvDesc.conv2d(2, 8, 12, 7, 6, 3, 1, 1, 4), false),
                    convInput("1-D k5 stride 2, accumulated", ConvDesc.conv1d(2, 6, 10, 23, 5, 2, 0, 2), true),
                    convInput("2-D stride 2 pad 1 (taps skip pixels)", new ConvDesc(1, 5, 6, 11, 13, 3, 2, 2, 2, 1, 1, 1), false))),
            Map.entry(FastCall.ConvBackwardWeight.class, List.of(
                    convWeight("2-D 3×3 pad 1, 4 groups + bias", ConvDesc.conv2d(2, 8, 12, 7, 6, 3, 1, 1, 4), true),
                    convWeight("patch 7×7 stride 7, 1 channel, no bias", ConvDesc.conv2d(2, 1, 16, 14, 21, 7, 7, 0, 1), false))),
            Map.entry(FastCall.Normal.class, List.of(
                    new Case<>("n 1003 (odd: half a block at the end)", in -> new FastCall.Normal(in.nan(1003), 0.5, 2.0, 0x1234_5678_9abcL, 7)),
                    new Case<>("n 517 at offset 1, far into the stream", in -> new FastCall.Normal(in.nanAt(1, 517), 0.0, 0.01,
                            -3L, (1L << 40) + 5)),
                    new Case<>("n 8", in -> new FastCall.Normal(in.nan(8), -1.0, 1.0, 99, 0)))),
            Map.entry(FastCall.Dropout.class, List.of(
                    new Case<>("n 1003, p 0.1 (three elements of a block at the end)", in -> new FastCall.Dropout(in.randn(1003), in.nan(1003),
                            0.1, 0x1234_5678_9abcL, 7, false)),
                    new Case<>("n 517 at offset 1, p 0.5 far into the stream, accumulated", in -> new FastCall.Dropout(in.randnAt(1, 517),
                            in.randnAt(1, 517), 0.5, -3L, (1L << 40) + 5, true)),
                    new Case<>("n 8, p 0.9", in -> new FastCall.Dropout(in.randn(8), in.nan(8), 0.9, 99, 0, false)))),
            Map.entry(FastCall.Add.class, List.of(
                    new Case<>("n 1003", in -> new FastCall.Add(in.randn(1003), in.randn(1003), in.nan(1003))),
                    new Case<>("n 517, views at offset 1", in -> new FastCall.Add(in.randnAt(1, 517), in.randnAt(1, 517), in.nanAt(1, 517))),
                    new Case<>("n 8", in -> new FastCall.Add(in.randn(8), in.randn(8), in.nan(8))))),
            Map.entry(FastCall.Axpby.class, List.of(
                    new Case<>("n 1003", in -> new FastCall.Axpby(0.5, in.randn(1003), -1.5, in.randn(1003))),
                    new Case<>("n 1003, beta 0 (y is not read)", in -> new FastCall.Axpby(2.0, in.randn(1003), 0.0, in.nan(1003))),
                    new Case<>("n 517, views at offset 3", in -> new FastCall.Axpby(-0.25, in.randnAt(3, 517), 0.75, in.randnAt(3, 517))))),
            Map.entry(FastCall.ReduceMiddle.class, List.of(
                    new Case<>("17x5x96 mean over the middle", in -> new FastCall.ReduceMiddle(17, 5, 96, 1.0 / 5, in.randn(17, 5, 96),
                            in.nan(17, 96), false)),
                    new Case<>("1x1003x13 (a bias gradient) accumulated, x at offset 1", in -> new FastCall.ReduceMiddle(1, 1003, 13, 1.0,
                            in.randnAt(1, 1003, 13), in.randn(13), true)),
                    new Case<>("3x7x1", in -> new FastCall.ReduceMiddle(3, 7, 1, -2.0, in.randn(3, 7, 1), in.nan(3), false)))),
            Map.entry(FastCall.Gelu.class, List.of(
                    new Case<>("n 1003", in -> new FastCall.Gelu(in.randn(1003), in.nan(1003))),
                    new Case<>("n 517, views at offset 1", in -> new FastCall.Gelu(in.randnAt(1, 517), in.nanAt(1, 517))))),
            Map.entry(FastCall.GeluBackward.class, List.of(
                    new Case<>("n 1003 accumulated", in -> new FastCall.GeluBackward(in.randn(1003), in.randn(1003), in.randn(1003), true)),
                    new Case<>("n 517, views at offset 2", in -> new FastCall.GeluBackward(in.randnAt(2, 517), in.randnAt(2, 517),
                            in.nanAt(2, 517), false)))),
            Map.entry(FastCall.LayerNorm.class, List.of(
                    layerNorm("37x768 with gamma and beta", 37, 768, true, true),
                    layerNorm("9x1024 with gamma", 9, 1024, true, false),
                    layerNorm("5x40 without parameters", 5, 40, false, false),
                    layerNorm("3x100 (dim not a multiple of 8)", 3, 100, true, true))),
            Map.entry(FastCall.LayerNormBackward.class, List.of(
                    layerNormBackward("37x768, dx accumulated, dgamma and dbeta", 37, 768, true, true, true, true),
                    layerNormBackward("9x1024, dx and dgamma", 9, 1024, true, true, false, false),
                    layerNormBackward("5x40, parameter gradients only", 5, 40, false, true, true, false),
                    layerNormBackward("3x100 (dim not a multiple of 8)", 3, 100, true, true, true, false))),
            Map.entry(FastCall.Attention.class, List.of(
                    attention("B3 T17 H4 Dh24 (image-demo's teacher), qkv at offset 1", AttentionDesc.of(3, 17, 4, 24), 1),
                    attention("B5 T5 H3 Dh20, ALiBi and key padding", AttentionDesc.of(5, 5, 3, 20).withAlibi(true).withKeyPadding(true), 0),
                    attention("B2 T41 H2 Dh13, dropout", AttentionDesc.of(2, 41, 2, 13).withDropout(0.2, 0x5eedL, 11), 0))),
            Map.entry(FastCall.AttentionBackward.class, List.of(
                    attentionBackward("B3 T17 H4 Dh24, dqkv accumulated", AttentionDesc.of(3, 17, 4, 24), true),
                    attentionBackward("B5 T5 H6 Dh20, ALiBi and key padding", AttentionDesc.of(5, 5, 6, 20).withAlibi(true).withKeyPadding(true),
                            false),
                    attentionBackward("B2 T41 H2 Dh13, dropout", AttentionDesc.of(2, 41, 2, 13).withDropout(0.2, 0x5eedL, 11), false))),
            Map.entry(FastCall.InstanceNorm.class, List.of(
                    instanceNorm("3x97x136", 3, 97, 136), instanceNorm("2x5x64", 2, 5, 64), instanceNorm("2x7x12 (channels not a multiple of 8)", 2, 7, 12))),
            Map.entry(FastCall.InstanceNormBackward.class, List.of(
                    instanceNormBackward("3x97x136 accumulated", 3, 97, 136, true), instanceNormBackward("2x5x64", 2, 5, 64, false))),
            Map.entry(FastCall.MaskedRegression.class, List.of(
                    maskedRegression("6x7x48, 3 clones, with dpred", 6, 7, 48, 3, true),
                    maskedRegression("6x7x13 (dim not a multiple of 8), loss only", 6, 7, 13, 3, false),
                    maskedRegression("4x5x64, 1 clone", 4, 5, 64, 1, true))),
            Map.entry(FastCall.Adamw.class, List.of(
                    new Case<>("n 1003, gradient scale 0.7", in -> adamw(in, 0, 1003, true)),
                    new Case<>("n 517 at offset 1, no gradient scale", in -> adamw(in, 1, 517, false)),
                    new Case<>("n 1003 with a bf16 working copy", in -> adamw(in, 0, 1003, true).withWorking(in.nanBf16(1003))),
                    new Case<>("n 517 at offset 1 with a bf16 working copy", in -> adamw(in, 1, 517, false).withWorking(in.nanBf16At(1, 517))))),
            Map.entry(FastCall.Ema.class, List.of(
                    new Case<>("n 1003", in -> new FastCall.Ema(in.randn(1003), in.randn(1003), 0.999, null)),
                    new Case<>("n 517 at offset 1", in -> new FastCall.Ema(in.randnAt(1, 517), in.randnAt(1, 517), 0.9, null)),
                    new Case<>("n 1003 with a bf16 working copy", in -> new FastCall.Ema(in.randn(1003), in.randn(1003), 0.999, in.nanBf16(1003))),
                    new Case<>("n 517 at offset 1 with a bf16 working copy",
                            in -> new FastCall.Ema(in.randnAt(1, 517), in.randnAt(1, 517), 0.9, in.nanBf16At(1, 517))))));

    /**
     * The cases of the bf16 variants ({@link FastVariant.Precision#BF16}): the shapes above where
     * they apply, with the activations in the check's activation dtype ({@link SelfCheckInputs#act};
     * BF16 for the variant and its twin, F32 for the fp32 twin), statistics, biases and parameter
     * gradients F32. Besides the GEMM's, attention's (head sizes 32, 64, 128 and one without a
     * tensor-core kernel; ALiBi, key padding, packed short sequences, dropout) and the grouped
     * convolution's (2-D and 1-D, strided, channels per group off the 8-multiples).
     */
    @SuppressWarnings("unchecked")
    static <C extends FastCall> List<Case<C>> bf16(Class<C> op) {
        List<?> cases = BF16_CASES.get(op);
        if (cases == null) throw new IllegalStateException("no bf16 self-check cases for op " + FastCall.opName(op));
        return (List<Case<C>>) cases;
    }

    private static final Map<Class<? extends FastCall>, List<?>> BF16_CASES = Map.ofEntries(
            Map.entry(FastCall.Matmul.class, List.of(
                    matmulBf16("nt 129x136x72 + bias (a linear layer)", 1, 129, 136, 72, false, true, false, true, false, false, false, false),
                    matmulBf16("nt 129x136x72 + bias, GELU, pre-activation kept", 1, 129, 136, 72, false, true, false, true, true, true,
                            false, false),
                    matmulBf16("nn 65x200x48 accumulated", 1, 65, 200, 48, false, false, false, false, false, false, true, false),
                    matmulBf16("tn 72x136x129 into fp32, accumulated (a weight gradient)", 1, 72, 136, 129, true, false, false, false,
                            false, false, true, true),
                    matmulBf16("tt 33x40x24", 1, 33, 40, 24, true, true, false, false, false, false, false, false),
                    matmulBf16("batch 3, B broadcast, nn 31x24x16, GELU without pre-activation", 3, 31, 24, 16, false, false, true, false,
                            true, false, false, false))),
            Map.entry(FastCall.Add.class, List.of(
                    new Case<>("n 1003", in -> new FastCall.Add(in.act(1003), in.act(1003), in.actNan(1003))),
                    new Case<>("n 517, views at offset 1", in -> new FastCall.Add(in.actAt(1, 517), in.actAt(1, 517), in.actNanAt(1, 517))))),
            Map.entry(FastCall.Axpby.class, List.of(
                    new Case<>("n 1003", in -> new FastCall.Axpby(0.5, in.act(1003), -1.5, in.act(1003))),
                    new Case<>("n 517, views at offset 3", in -> new FastCall.Axpby(-0.25, in.actAt(3, 517), 0.75, in.actAt(3, 517))))),
            Map.entry(FastCall.Gelu.class, List.of(
                    new Case<>("n 1003", in -> new FastCall.Gelu(in.act(1003), in.actNan(1003))),
                    new Case<>("n 517, views at offset 1", in -> new FastCall.Gelu(in.actAt(1, 517), in.actNanAt(1, 517))))),
            Map.entry(FastCall.GeluBackward.class, List.of(
                    new Case<>("n 1003 accumulated", in -> new FastCall.GeluBackward(in.act(1003), in.act(1003), in.act(1003), true)),
                    new Case<>("n 517, views at offset 2", in -> new FastCall.GeluBackward(in.actAt(2, 517), in.actAt(2, 517),
                            in.actNanAt(2, 517), false)))),
            Map.entry(FastCall.LayerNorm.class, List.of(
                    layerNormBf16("37x768 with gamma and beta", 37, 768, true, true),
                    layerNormBf16("9x1024 with gamma", 9, 1024, true, false),
                    layerNormBf16("3x100 (dim not a multiple of 8)", 3, 100, true, true))),
            Map.entry(FastCall.LayerNormBackward.class, List.of(
                    layerNormBackwardBf16("37x768, dx accumulated, dgamma and dbeta", 37, 768, true, true, true, true),
                    layerNormBackwardBf16("9x1024, dx and dgamma", 9, 1024, true, true, false, false),
                    layerNormBackwardBf16("3x100 (dim not a multiple of 8)", 3, 100, true, true, true, false))),
            Map.entry(FastCall.InstanceNorm.class, List.of(
                    instanceNormBf16("3x97x136", 3, 97, 136), instanceNormBf16("2x7x12 (channels not a multiple of 8)", 2, 7, 12))),
            Map.entry(FastCall.InstanceNormBackward.class, List.of(
                    instanceNormBackwardBf16("3x97x136 accumulated", 3, 97, 136, true), instanceNormBackwardBf16("2x5x64", 2, 5, 64, false))),
            Map.entry(FastCall.Attention.class, List.of(
                    attention("head 64, 3 packed sequences of 40 tokens, 2 heads, ALiBi, key padding", 3, 40, 2, 64, true, true, 0),
                    attention("head 32, 2x70 tokens, dropout 0.1", 2, 70, 1, 32, false, false, 0.1),
                    attention("head 128, 1x33 tokens, ALiBi", 1, 33, 1, 128, true, false, 0),
                    attention("head 48 (no tensor-core kernel)", 1, 9, 1, 48, false, false, 0))),
            Map.entry(FastCall.AttentionBackward.class, List.of(
                    attentionBackward("head 64, 3 packed sequences of 40 tokens, 2 heads, ALiBi, key padding, accumulated",
                            3, 40, 2, 64, true, true, 0, true),
                    attentionBackward("head 32, 2x70 tokens, dropout 0.1", 2, 70, 1, 32, false, false, 0.1, false),
                    attentionBackward("head 128, 1x33 tokens, ALiBi", 1, 33, 1, 128, true, false, 0, false),
                    attentionBackward("head 48 (no tensor-core kernel)", 1, 9, 1, 48, false, false, 0, false))),
            Map.entry(FastCall.Conv.class, List.of(
                    new Case<>("2-D 3x3, 2 groups of 16 -> 24 channels, 2x7x9, bias", in -> conv(in, conv2d(), true)),
                    new Case<>("1-D k 5 stride 2, 3 groups of 8 -> 16 channels, 3x37", in -> conv(in, conv1d(), false)),
                    new Case<>("2-D 3x3, 2 groups of 6 channels (not multiples of 8)", in -> conv(in, convOdd(), true)))),
            Map.entry(FastCall.ConvBackwardInput.class, List.of(
                    new Case<>("2-D 3x3, 2 groups of 16 -> 24 channels, 2x7x9, accumulated", in -> convInput(in, conv2d(), true)),
                    new Case<>("1-D k 5 stride 2, 3 groups of 8 -> 16 channels, 3x37", in -> convInput(in, conv1d(), false)),
                    new Case<>("2-D 3x3, 2 groups of 6 channels (not multiples of 8)", in -> convInput(in, convOdd(), false)))),
            Map.entry(FastCall.ConvBackwardWeight.class, List.of(
                    new Case<>("2-D 3x3, 2 groups of 16 -> 24 channels, 2x7x9, with dbias", in -> convWeight(in, conv2d(), true)),
                    new Case<>("1-D k 5 stride 2, 3 groups of 8 -> 16 channels, 3x37", in -> convWeight(in, conv1d(), false)),
                    new Case<>("2-D 3x3, 2 groups of 6 channels (not multiples of 8)", in -> convWeight(in, convOdd(), true)))));

    /** A GEMM in bf16: A, B and C activations, except a weight gradient's C ({@code f32Out}: the bf16-f32 flavour). */
    private static Case<FastCall.Matmul> matmulBf16(String name, int batch, int m, int n, int k, boolean transA, boolean transB,
                                                    boolean broadcastB, boolean bias, boolean gelu, boolean preact, boolean accumulate,
                                                    boolean f32Out) {
        MatmulDesc d = new MatmulDesc(batch, m, n, k, transA, transB, broadcastB,
                gelu ? MatmulDesc.Activation.GELU : MatmulDesc.Activation.NONE);
        int mn = batch * m * n;
        return new Case<>(name, in -> new FastCall.Matmul(d, in.act(batch * m * k), in.act((broadcastB ? 1 : batch) * k * n),
                bias ? in.randn(n) : null,
                f32Out ? (accumulate ? in.randn(mn) : in.nan(mn)) : (accumulate ? in.act(mn) : in.actNan(mn)),
                preact ? (f32Out ? in.nan(mn) : in.actNan(mn)) : null, accumulate));
    }

    private static Case<FastCall.LayerNorm> layerNormBf16(String name, int rows, int dim, boolean gamma, boolean beta) {
        NormDesc d = new NormDesc(rows, dim, 1e-5);
        return new Case<>(name, in -> new FastCall.LayerNorm(d, in.act(rows, dim), gamma ? in.randn(dim) : null,
                beta ? in.randn(dim) : null, in.actNan(rows, dim), in.nan(rows), in.nan(rows)));
    }

    private static Case<FastCall.LayerNormBackward> layerNormBackwardBf16(String name, int rows, int dim, boolean dx, boolean dgamma,
                                                                          boolean dbeta, boolean accumulate) {
        NormDesc d = new NormDesc(rows, dim, 1e-5);
        return new Case<>(name, in -> new FastCall.LayerNormBackward(d, in.act(rows, dim), in.randn(dim), in.randn(rows),
                in.uniform(0.5, 2, rows), in.act(rows, dim), dx ? (accumulate ? in.act(rows, dim) : in.actNan(rows, dim)) : null,
                dgamma ? in.randn(dim) : null, dbeta ? in.randn(dim) : null, accumulate));
    }

    private static Case<FastCall.InstanceNorm> instanceNormBf16(String name, int batch, int time, int channels) {
        return new Case<>(name, in -> new FastCall.InstanceNorm(batch, time, channels, 1e-5, in.act(batch, time, channels),
                in.actNan(batch, time, channels), in.nan(batch, channels), in.nan(batch, channels)));
    }

    private static Case<FastCall.InstanceNormBackward> instanceNormBackwardBf16(String name, int batch, int time, int channels,
                                                                                boolean accumulate) {
        return new Case<>(name, in -> new FastCall.InstanceNormBackward(batch, time, channels, in.act(batch, time, channels),
                in.randn(batch, channels), in.uniform(0.5, 2, batch, channels), in.act(batch, time, channels),
                accumulate ? in.act(batch, time, channels) : in.actNan(batch, time, channels), accumulate));
    }

    private static AttentionDesc attentionDesc(int batch, int tokens, int heads, int dh, boolean alibi, boolean padding, double dropout) {
        return AttentionDesc.of(batch, tokens, heads, dh).withAlibi(alibi).withKeyPadding(padding).withDropout(dropout, 0x5eedL, 96);
    }

    /** qkv, ALiBi slopes and (partly negative) scales, positions 0..T-1 shuffled a little, the last key of each sample padded. */
    private record AttentionInputs(Tensor qkv, Tensor slopes, Tensor scales, Tensor pos, Tensor pad) {}

    private static AttentionInputs attentionInputs(SelfCheckInputs in, AttentionDesc d) {
        int bt = d.batch() * d.tokens();
        Tensor qkv = in.act(bt * 3 * d.dim());
        Tensor slopes = d.alibi() ? in.uniform(0.05, 0.5, d.heads()) : null, scales = d.alibi() ? in.uniform(-0.5, 1.5, d.heads()) : null;
        int[] pos = new int[bt], pad = new int[bt];
        for (int i = 0; i < bt; i++) {
            pos[i] = (i % d.tokens()) * 2 % (d.tokens() + 1);
            pad[i] = i % d.tokens() == d.tokens() - 1 ? 1 : 0;
        }
        return new AttentionInputs(qkv, slopes, scales, d.alibi() ? in.ints(pos, bt) : null, d.keyPadding() ? in.ints(pad, bt) : null);
    }

    private static Case<FastCall.Attention> attention(String name, int batch, int tokens, int heads, int dh, boolean alibi,
                                                      boolean padding, double dropout) {
        AttentionDesc d = attentionDesc(batch, tokens, heads, dh, alibi, padding, dropout);
        return new Case<>(name, in -> {
            AttentionInputs a = attentionInputs(in, d);
            int bt = batch * tokens;
            return new FastCall.Attention(d, a.qkv(), a.slopes(), a.scales(), a.pos(), a.pad(), in.actNan(bt * d.dim()), in.nan(bt * heads));
        });
    }

    private static Case<FastCall.AttentionBackward> attentionBackward(String name, int batch, int tokens, int heads, int dh, boolean alibi,
                                                                      boolean padding, double dropout, boolean accumulate) {
        AttentionDesc d = attentionDesc(batch, tokens, heads, dh, alibi, padding, dropout);
        return new Case<>(name, in -> {
            AttentionInputs a = attentionInputs(in, d);
            int bt = batch * tokens;
            // out and lse as the forward leaves them (the backward recomputes P from lse): the portable forward, in this storage
            Tensor out = in.actNan(bt * d.dim()), lse = in.nan(bt * heads);
            in.device().ops().attention(d, a.qkv(), a.slopes(), a.scales(), a.pos(), a.pad(), out, lse);
            Tensor dqkv = accumulate ? in.act(bt * 3 * d.dim()) : in.actNan(bt * 3 * d.dim());
            return new FastCall.AttentionBackward(d, a.qkv(), a.slopes(), a.scales(), a.pos(), a.pad(), out, in.act(bt * d.dim()), lse,
                    in.nan(bt * heads), dqkv, d.alibi() ? in.randn(heads) : null, accumulate);
        });
    }

    private static ConvDesc conv2d() { return ConvDesc.conv2d(2, 32, 48, 7, 9, 3, 1, 1, 2); }

    private static ConvDesc conv1d() { return ConvDesc.conv1d(3, 24, 48, 37, 5, 2, 2, 3); }

    private static ConvDesc convOdd() { return ConvDesc.conv2d(1, 12, 12, 5, 5, 3, 1, 1, 2); }

    private static int xSize(ConvDesc d) { return d.batch() * d.inH() * d.inW() * d.inC(); }

    private static int ySize(ConvDesc d) { return d.batch() * d.outH() * d.outW() * d.outC(); }

    private static int wSize(ConvDesc d) { return d.outC() * d.kH() * d.kW() * d.inPerGroup(); }

    private static FastCall.Conv conv(SelfCheckInputs in, ConvDesc d, boolean bias) {
        return new FastCall.Conv(d, in.act(xSize(d)), in.act(wSize(d)), bias ? in.randn(d.outC()) : null, in.actNan(ySize(d)));
    }

    private static FastCall.ConvBackwardInput convInput(SelfCheckInputs in, ConvDesc d, boolean accumulate) {
        return new FastCall.ConvBackwardInput(d, in.act(ySize(d)), in.act(wSize(d)), accumulate ? in.act(xSize(d)) : in.actNan(xSize(d)),
                accumulate);
    }

    /** dw and dbias accumulate (as convBackwardWeight always does): they start from random values. */
    private static FastCall.ConvBackwardWeight convWeight(SelfCheckInputs in, ConvDesc d, boolean bias) {
        return new FastCall.ConvBackwardWeight(d, in.act(xSize(d)), in.act(ySize(d)), in.randn(wSize(d)), bias ? in.randn(d.outC()) : null);
    }

    private static Case<FastCall.Matmul> matmul(String name, int batch, int m, int n, int k, boolean transA, boolean transB,
                                                boolean broadcastB, boolean bias, boolean gelu, boolean preact, boolean accumulate) {
        MatmulDesc d = new MatmulDesc(batch, m, n, k, transA, transB, broadcastB,
                gelu ? MatmulDesc.Activation.GELU : MatmulDesc.Activation.NONE);
        return new Case<>(name, in -> new FastCall.Matmul(d, in.randn(batch * m * k), in.randn((broadcastB ? 1 : batch) * k * n),
                bias ? in.randn(n) : null, accumulate ? in.randn(batch * m * n) : in.nan(batch * m * n),
                preact ? in.nan(batch * m * n) : null, accumulate));
    }

    private static int[] input(ConvDesc d) { return new int[] {d.batch(), d.inH(), d.inW(), d.inC()}; }

    private static int[] output(ConvDesc d) { return new int[] {d.batch(), d.outH(), d.outW(), d.outC()}; }

    private static int[] filter(ConvDesc d) { return new int[] {d.outC(), d.kH(), d.kW(), d.inPerGroup()}; }

    private static Case<FastCall.Conv> conv(String name, ConvDesc d, boolean bias) {
        return new Case<>(name, in -> new FastCall.Conv(d, in.randn(input(d)), in.randn(filter(d)), bias ? in.randn(d.outC()) : null,
                in.nan(output(d))));
    }

    private static Case<FastCall.ConvBackwardInput> convInput(String name, ConvDesc d, boolean accumulate) {
        return new Case<>(name, in -> new FastCall.ConvBackwardInput(d, in.randn(output(d)), in.randn(filter(d)),
                accumulate ? in.randn(input(d)) : in.nan(input(d)), accumulate));
    }

    /** dw and dbias accumulate: they start random. */
    private static Case<FastCall.ConvBackwardWeight> convWeight(String name, ConvDesc d, boolean bias) {
        return new Case<>(name, in -> new FastCall.ConvBackwardWeight(d, in.randn(input(d)), in.randn(output(d)), in.randn(filter(d)),
                bias ? in.randn(d.outC()) : null));
    }

    private static Case<FastCall.LayerNorm> layerNorm(String name, int rows, int dim, boolean gamma, boolean beta) {
        NormDesc d = new NormDesc(rows, dim, 1e-5);
        return new Case<>(name, in -> new FastCall.LayerNorm(d, in.randn(rows, dim), gamma ? in.randn(dim) : null,
                beta ? in.randn(dim) : null, in.nan(rows, dim), in.nan(rows), in.nan(rows)));
    }

    private static Case<FastCall.LayerNormBackward> layerNormBackward(String name, int rows, int dim, boolean dx, boolean dgamma,
                                                                      boolean dbeta, boolean accumulate) {
        NormDesc d = new NormDesc(rows, dim, 1e-5);
        return new Case<>(name, in -> new FastCall.LayerNormBackward(d, in.randn(rows, dim), in.randn(dim), in.randn(rows),
                in.uniform(0.5, 2, rows), in.randn(rows, dim), dx ? (accumulate ? in.randn(rows, dim) : in.nan(rows, dim)) : null,
                dgamma ? in.randn(dim) : null, dbeta ? in.randn(dim) : null, accumulate));
    }

    /** The ALiBi inputs of {@code d}: slopes, scales (one head's below zero, clamped), positions; nulls without ALiBi. */
    private static Tensor[] alibi(SelfCheckInputs in, AttentionDesc d) {
        if (!d.alibi()) return new Tensor[3];
        return new Tensor[] {in.uniform(0.05, 1, d.heads()), in.uniform(-0.3, 1.5, d.heads()), in.ints(4 * d.tokens(), d.batch(), d.tokens())};
    }

    private static Case<FastCall.Attention> attention(String name, AttentionDesc d, int qkvOffset) {
        int b = d.batch(), t = d.tokens(), h = d.heads(), dh = d.headDim();
        return new Case<>(name, in -> {
            Tensor[] a = alibi(in, d);
            return new FastCall.Attention(d, in.randnAt(qkvOffset, b, t, 3, h, dh), a[0], a[1], a[2],
                    d.keyPadding() ? in.mask(0.3, b, t) : null, in.nan(b, t, h, dh), in.nan(b, h, t));
        });
    }

    /** out and lse need not come from a forward pass: variant and twin read the same ones. */
    private static Case<FastCall.AttentionBackward> attentionBackward(String name, AttentionDesc d, boolean accumulate) {
        int b = d.batch(), t = d.tokens(), h = d.heads(), dh = d.headDim();
        return new Case<>(name, in -> {
            Tensor[] a = alibi(in, d);
            return new FastCall.AttentionBackward(d, in.randn(b, t, 3, h, dh), a[0], a[1], a[2], d.keyPadding() ? in.mask(0.3, b, t) : null,
                    in.randn(b, t, h, dh), in.randn(b, t, h, dh), in.uniform(1, 3, b, h, t), in.nan(b, h, t),
                    accumulate ? in.randn(b, t, 3, h, dh) : in.nan(b, t, 3, h, dh), d.alibi() ? in.randn(h) : null, accumulate);
        });
    }

    private static Case<FastCall.InstanceNorm> instanceNorm(String name, int batch, int time, int channels) {
        return new Case<>(name, in -> new FastCall.InstanceNorm(batch, time, channels, 1e-5, in.randn(batch, time, channels),
                in.nan(batch, time, channels), in.nan(batch, channels), in.nan(batch, channels)));
    }

    private static Case<FastCall.InstanceNormBackward> instanceNormBackward(String name, int batch, int time, int channels,
                                                                            boolean accumulate) {
        return new Case<>(name, in -> new FastCall.InstanceNormBackward(batch, time, channels, in.randn(batch, time, channels),
                in.randn(batch, channels), in.uniform(0.5, 2, batch, channels), in.randn(batch, time, channels),
                accumulate ? in.randn(batch, time, channels) : in.nan(batch, time, channels), accumulate));
    }

    private static Case<FastCall.MaskedRegression> maskedRegression(String name, int rows, int tokens, int dim, int clones,
                                                                    boolean dpred) {
        LossDesc d = new LossDesc(rows, tokens, dim, clones, 1.0, 3.0);
        return new Case<>(name, in -> new FastCall.MaskedRegression(d, in.randn(rows, tokens, dim),
                in.randn(rows / clones, tokens, dim), in.mask(0.6, rows, tokens), in.nan(1),
                dpred ? in.nan(rows, tokens, dim) : null, 0.37));
    }

    private static FastCall.Adamw adamw(SelfCheckInputs in, int offset, int n, boolean scale) {
        Tensor p = in.randnAt(offset, n), g = in.randnAt(offset, n), m = in.randnAt(offset, n);
        Tensor v = in.uniform(0, 0.1, offset + n).view(offset, org.d2v.tensor.Shape.of(n));
        return new FastCall.Adamw(new AdamWDesc(1e-3, 0.9, 0.95, 1e-8, 0.05, 7), p, g, m, v, scale ? in.uniform(0.7, 0.7, 1) : null, null);
    }
}
