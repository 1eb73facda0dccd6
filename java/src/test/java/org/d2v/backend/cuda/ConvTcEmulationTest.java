package org.d2v.backend.cuda;

import org.d2v.backend.ConvDesc;
import org.d2v.backend.cuda.TensorCoreEmulator.Buf;
import org.d2v.backend.cuda.TensorCoreEmulator.Job;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * kernels/conv_tc.cu in the emulator against the reference convolution: forward (fp32 and bf16 out),
 * input gradient (accumulating, stride 2), weight gradient split over pixels and reduced in split
 * order into an existing dw, bias gradient in two passes; grouped 2-D (48 channels per group as in
 * the image decoder), 1-D kernel 7, and a group wider than one 64-channel tile.
 */
class ConvTcEmulationTest extends EmulationTestBase {

    private void check(ConvDesc d, boolean bf16Out, boolean accumulate, int splits) {
        String what = String.format("%s bf16Out %b acc %b splits %d", d, bf16Out, accumulate, splits);
        int ho = d.outH(), wo = d.outW(), cpg = d.inPerGroup(), opg = d.outPerGroup(), taps = d.kH() * d.kW();
        int nx = d.batch() * d.inH() * d.inW() * d.inC(), ny = d.batch() * ho * wo * d.outC(), nw = d.outC() * taps * cpg;
        double[] x = randBf16(nx), w = randBf16(nw), bias = randF32(d.outC()), dy = randBf16(ny);
        double[] dx0 = accumulate ? randF32(nx) : null, dw0 = randF32(nw), db0 = randF32(d.outC());

        Tensor rx = refTensor(x, d.batch(), d.inH(), d.inW(), d.inC()), rw = refTensor(w, d.outC(), d.kH(), d.kW(), cpg);
        Tensor ry = refZeros(d.batch(), ho, wo, d.outC()), rdy = refTensor(dy, d.batch(), ho, wo, d.outC());
        refOps.conv(d, rx, rw, refTensor(bias, d.outC()), ry);
        Tensor rdx = accumulate ? refTensor(dx0, d.batch(), d.inH(), d.inW(), d.inC()) : refZeros(d.batch(), d.inH(), d.inW(), d.inC());
        refOps.convBackwardInput(d, rdy, rw, rdx, accumulate);
        Tensor rdw = refTensor(dw0, d.outC(), d.kH(), d.kW(), cpg), rdb = refTensor(db0, d.outC());
        refOps.convBackwardWeight(d, rx, rdy, rdw, rdb);

        Object[] geometry = {d.batch(), d.inC(), d.outC(), d.inH(), d.inW(), d.kH(), d.kW(), d.strideH(), d.strideW(),
            d.padH(), d.padW(), d.groups(), ho, wo};
        int pixels = d.batch() * ho * wo, perChunk = 7, chunks = ceil(pixels, perChunk);
        Job job = new Job();
        Buf X = job.bf16(x), W = job.bf16(w), Bi = job.f32(bias), Dy = job.bf16(dy);
        Buf Y = bf16Out ? job.bf16NaN(ny) : job.f32NaN(ny);
        Buf Dx = accumulate ? job.f32(dx0) : job.f32NaN(nx);
        Buf Ws = job.f32NaN(splits * nw), Dw = job.f32(dw0), Part = job.f32NaN(chunks * d.outC()), Db = job.f32(db0);
        job.launch("conv_tc_forward", grid(ceil(opg, 64) * d.groups(), ceil(pixels, 128)), grid(128),
                cat(new Object[] {X, W, Bi, bf16Out ? null : Y, bf16Out ? Y : null}, geometry, new Object[] {1, bf16Out ? 1 : 0}));
        job.launch("conv_tc_backward_input", grid(ceil(cpg, 64) * d.groups(), ceil(d.batch() * d.inH() * d.inW(), 128)), grid(128),
                cat(new Object[] {Dy, W, Dx, null}, geometry, new Object[] {accumulate ? 1 : 0, 0}));
        job.launch("conv_tc_backward_weight", grid(ceil(opg, 64) * ceil(taps * cpg, 64), d.groups(), splits), grid(128),
                cat(new Object[] {X, Dy, Ws}, geometry, new Object[] {splits}));
        job.launch("conv_tc_reduce_splits", grid(2), grid(256), nw, splits, Ws, Dw);
        job.launch("conv_tc_bias_partial", grid(ceil(d.outC(), 64), chunks), grid(256), Dy, Part, pixels, d.outC(), perChunk);
        job.launch("conv_tc_reduce_splits", grid(1), grid(256), d.outC(), chunks, Part, Db);
        job.run();

        assertClose("conv y (" + what + ")", bf16Out ? Y.bf16s() : Y.floats(), ry.toDoubles(), bf16Out ? BF16_TOL : F32_TOL);
        assertClose("conv dx (" + what + ")", Dx.floats(), rdx.toDoubles(), F32_TOL);
        assertClose("conv dw (" + what + ")", Dw.floats(), rdw.toDoubles(), F32_TOL);
        assertClose("conv dbias (" + what + ")", Db.floats(), rdb.toDoubles(), F32_TOL);
    }

    private static Object[] cat(Object[] a, Object[] b, Object[] c) {
        Object[] all = new Object[a.length + b.length + c.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        System.arraycopy(c, 0, all, a.length + b.length, c.length);
        return all;
    }

    @Test
    void grouped2dLikeTheImageDecoder() {
        check(ConvDesc.conv2d(2, 96, 96, 7, 6, 3, 1, 1, 2), false, false, 3); // 48 channels per group
        check(ConvDesc.conv2d(1, 64, 128, 5, 5, 3, 1, 1, 4), true, true, 1);
    }

    @Test
    void oneDimensionalKernel7() {
        check(ConvDesc.conv1d(3, 48, 48, 23, 7, 1, 3, 2), false, true, 2);
    }

    @Test
    void strideTwoAndAGroupWiderThanATile() {
        check(ConvDesc.conv2d(2, 16, 24, 6, 7, 3, 2, 1, 1), false, false, 4);
        check(ConvDesc.conv2d(1, 136, 72, 4, 5, 3, 1, 1, 1), false, false, 2);
    }

    /** Channels per group not a multiple of 8: the kernel poisons y instead of misreading. */
    @Test
    void aViolatedPreconditionWritesNaN() {
        ConvDesc d = ConvDesc.conv2d(1, 12, 12, 3, 3, 3, 1, 1, 1);
        int ny = 9 * 12;
        Job job = new Job();
        Buf X = job.bf16(randBf16(9 * 12)), W = job.bf16(randBf16(12 * 9 * 12)), Y = job.f32(randF32(ny));
        job.launch("conv_tc_forward", grid(1, 1), grid(128), X, W, null, Y, null, 1, 12, 12, 3, 3, 3, 3, 1, 1, 1, 1, 1, 3, 3, 0, 0);
        job.run();
        assertAllNaN("conv_tc_forward with 12 channels", Y.floats());
    }
}
