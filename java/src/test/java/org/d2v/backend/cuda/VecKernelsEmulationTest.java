package org.d2v.backend.cuda;

import org.d2v.backend.AdamWDesc;
import org.d2v.backend.LossDesc;
import org.d2v.backend.NormDesc;
import org.d2v.backend.cuda.TensorCoreEmulator.Buf;
import org.d2v.backend.cuda.TensorCoreEmulator.Job;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The 16-byte vectorised kernels (kernels/elementwise_vec.cu, norm_vec.cu, loss_vec.cu,
 * optim_vec.cu) in the emulator against the reference ops, in both storage dtypes, with aligned
 * views (vector path), unaligned ones and tails (scalar path).
 */
class VecKernelsEmulationTest extends EmulationTestBase {

    private double[] rand(boolean bf16, int n) { return bf16 ? randBf16(n) : randF32(n); }

    private static Buf put(Job job, boolean bf16, double[] v) { return bf16 ? job.bf16(v) : job.f32(v); }

    private static Buf nan(Job job, boolean bf16, int n) { return bf16 ? job.bf16NaN(n) : job.f32NaN(n); }

    private static double[] get(Buf b, boolean bf16) { return bf16 ? b.bf16s() : b.floats(); }

    private static double[] tail(double[] v, int from) { return java.util.Arrays.copyOfRange(v, from, v.length); }

    @Test
    void elementwiseBothDtypesAlignedAndNot() {
        for (boolean bf16 : new boolean[] {false, true}) {
            String sfx = bf16 ? "_bf16" : "_f32";
            double tol = bf16 ? BF16_TOL : F32_TOL;
            for (int[] c : new int[][] {{1000, 0}, {37, 0}, {203, 3}}) {
                int n = c[0], off = c[1];
                double[] a = rand(bf16, n + off), b = rand(bf16, n + off);
                Tensor ra = refTensor(tail(a, off), n), rb = refTensor(tail(b, off), n);
                Tensor sum = refZeros(n), y = refTensor(tail(b, off), n), g = refZeros(n), dx = refTensor(tail(a, off), n);
                refOps.add(ra, rb, sum);
                refOps.axpby(0.5, ra, -1.5, y);
                refOps.gelu(ra, g);
                Tensor yRounded = refTensor(bf16 ? TensorCoreEmulator.roundBf16(y.toDoubles()) : y.toDoubles(), n);
                refOps.geluBackward(yRounded, ra, dx, true);

                Job job = new Job();
                Buf A = put(job, bf16, a), B = put(job, bf16, b), S = nan(job, bf16, n + off), Y = put(job, bf16, b);
                Buf G = nan(job, bf16, n + off), D = put(job, bf16, a);
                job.launch("add_vec" + sfx, grid(2), grid(256), n, A.at(off), B.at(off), S.at(off));
                job.launch("axpby_vec" + sfx, grid(3), grid(64), n, 0.5f, A.at(off), -1.5f, Y.at(off));
                job.launch("gelu_forward_vec" + sfx, grid(1), grid(256), n, A.at(off), G.at(off));
                job.launch("gelu_backward_vec" + sfx, grid(2), grid(128), n, Y.at(off), A.at(off), D.at(off), 1);
                job.run();
                String what = sfx + " n " + n + " offset " + off;
                assertClose("add (" + what + ")", tail(get(S, bf16), off), sum.toDoubles(), tol);
                assertClose("axpby (" + what + ")", tail(get(Y, bf16), off), y.toDoubles(), tol);
                assertClose("gelu (" + what + ")", tail(get(G, bf16), off), g.toDoubles(), tol);
                assertClose("gelu_backward (" + what + ")", tail(get(D, bf16), off), dx.toDoubles(), tol);
            }
        }
    }

    /** LN → GELU fused forward and backward, parameter gradients from the per-chunk partials. */
    @Test
    void layerNormWithGeluAndParameterPartials() {
        for (boolean bf16 : new boolean[] {false, true}) {
            String sfx = bf16 ? "_bf16" : "_f32";
            for (int[] c : new int[][] {{37, 768, 1}, {20, 40, 0}, {9, 1024, 1}}) {
                int rows = c[0], dim = c[1];
                boolean gelu = c[2] == 1;
                double[] x = rand(bf16, rows * dim), dy = rand(bf16, rows * dim), gamma = randF32(dim), beta = randF32(dim);
                NormDesc d = new NormDesc(rows, dim, 1e-5);
                Tensor rx = refTensor(x, rows, dim), rg = refTensor(gamma, dim), rb = refTensor(beta, dim);
                Tensor u = refZeros(rows, dim), mean = refZeros(rows), rstd = refZeros(rows), y = refZeros(rows, dim);
                refOps.layerNorm(d, rx, rg, rb, u, mean, rstd);
                Tensor du = refTensor(dy, rows, dim);
                if (gelu) {
                    refOps.gelu(u, y);
                    du = refZeros(rows, dim);
                    refOps.geluBackward(u, refTensor(dy, rows, dim), du, false);
                }
                Tensor dx = refZeros(rows, dim), dgamma = refZeros(dim), dbeta = refZeros(dim);
                refOps.layerNormBackward(d, rx, rg, mean, rstd, du, dx, dgamma, dbeta, false);

                int perChunk = 4, chunks = ceil(rows, perChunk);
                Job job = new Job();
                Buf X = put(job, bf16, x), Gm = job.f32(gamma), Bt = job.f32(beta), Y = nan(job, bf16, rows * dim);
                Buf M = job.f32NaN(rows), R = job.f32NaN(rows), Dy = put(job, bf16, dy), Dx = nan(job, bf16, rows * dim);
                Buf Pg = job.f32NaN(chunks * dim), Pb = job.f32NaN(chunks * dim);
                job.launch("layer_norm_forward_vec" + sfx, grid(2), grid(256), rows, dim, 1e-5f, X, Gm, Bt, Y, M, R, 1, 1, gelu ? 1 : 0);
                job.launch("layer_norm_backward_vec" + sfx, grid(2), grid(128), rows, dim, X, Gm, Bt, M, R, Dy, Dx, Pg, Pb,
                        1, 1, gelu ? 1 : 0, 0, perChunk, 1);
                job.run();
                String what = sfx + " " + rows + "x" + dim + " gelu " + gelu;
                double tol = bf16 ? BF16_TOL : F32_TOL;
                assertClose("layer_norm y (" + what + ")", get(Y, bf16), (gelu ? y : u).toDoubles(), tol);
                assertClose("layer_norm mean (" + what + ")", M.floats(), mean.toDoubles(), F32_TOL);
                assertClose("layer_norm rstd (" + what + ")", R.floats(), rstd.toDoubles(), F32_TOL);
                assertClose("layer_norm dx (" + what + ")", get(Dx, bf16), dx.toDoubles(), tol);
                assertClose("layer_norm dgamma (" + what + ")", sumChunks(Pg.floats(), chunks, dim), dgamma.toDoubles(), F32_TOL);
                assertClose("layer_norm dbeta (" + what + ")", sumChunks(Pb.floats(), chunks, dim), dbeta.toDoubles(), F32_TOL);
            }
        }
    }

    private static double[] sumChunks(double[] part, int chunks, int dim) {
        double[] s = new double[dim];
        for (int c = 0; c < chunks; c++) for (int j = 0; j < dim; j++) s[j] += part[c * dim + j];
        return s;
    }

    @Test
    void instanceNormOverTime() {
        for (boolean bf16 : new boolean[] {false, true}) {
            String sfx = bf16 ? "_bf16" : "_f32";
            for (int[] c : new int[][] {{3, 97, 136}, {2, 5, 64}}) {
                int batch = c[0], time = c[1], ch = c[2], n = batch * time * ch;
                double[] x = rand(bf16, n), dy = rand(bf16, n), dx0 = rand(bf16, n);
                Tensor rx = refTensor(x, batch, time, ch), y = refZeros(batch, time, ch);
                Tensor mean = refZeros(batch, ch), rstd = refZeros(batch, ch), dx = refTensor(dx0, batch, time, ch);
                refOps.instanceNorm(batch, time, ch, 1e-5, rx, y, mean, rstd);
                refOps.instanceNormBackward(batch, time, ch, rx, mean, rstd, refTensor(dy, batch, time, ch), dx, true);
                Job job = new Job();
                Buf X = put(job, bf16, x), Y = nan(job, bf16, n), M = job.f32NaN(batch * ch), R = job.f32NaN(batch * ch);
                Buf Dy = put(job, bf16, dy), Dx = put(job, bf16, dx0);
                job.launch("instance_norm_forward_vec" + sfx, grid(ceil(ch, 64), batch), grid(256), batch, time, ch, 1e-5f, X, Y, M, R);
                job.launch("instance_norm_backward_vec" + sfx, grid(ceil(ch, 64), batch), grid(256), batch, time, ch, X, M, R, Dy, Dx, 1);
                job.run();
                String what = sfx + " " + batch + "x" + time + "x" + ch;
                double tol = bf16 ? BF16_TOL : F32_TOL;
                assertClose("instance_norm y (" + what + ")", get(Y, bf16), y.toDoubles(), tol);
                assertClose("instance_norm mean (" + what + ")", M.floats(), mean.toDoubles(), F32_TOL);
                assertClose("instance_norm rstd (" + what + ")", R.floats(), rstd.toDoubles(), F32_TOL);
                assertClose("instance_norm dx (" + what + ")", get(Dx, bf16), dx.toDoubles(), tol);
            }
        }
    }

    @Test
    void maskedRegressionLoss() {
        for (boolean bf16 : new boolean[] {false, true}) {
            String sfx = bf16 ? "_bf16" : "_f32";
            for (int dim : new int[] {48, 13}) { // 13: the scalar path
                int rows = 6, tokens = 7, clones = 3, n = rows * tokens * dim, groups = 5;
                double[] pred = rand(bf16, n), target = rand(bf16, n / clones);
                int[] mask = new int[rows * tokens];
                for (int i = 0; i < mask.length; i++) mask[i] = rnd.nextDouble() < 0.6 ? 1 : 0;
                LossDesc d = new LossDesc(rows, tokens, dim, clones, 1.0, 1.0);
                Tensor loss = refZeros(1), dpred = refZeros(rows, tokens, dim);
                double gradScale = 0.37;
                refOps.maskedRegression(d, refTensor(pred, rows, tokens, dim), refTensor(target, rows / clones, tokens, dim),
                        refInts(mask, rows, tokens), loss, dpred, gradScale);
                Job job = new Job();
                Buf P = put(job, bf16, pred), T = put(job, bf16, target), Mk = job.i32(mask), D = nan(job, bf16, n);
                Buf Pa = job.f32NaN(groups);
                job.launch("masked_regression_vec" + sfx, grid(groups), grid(256), n, tokens, dim, clones, P, T, Mk, D, 1,
                        (float) (2 * gradScale), Pa);
                job.run();
                double total = 0;
                for (double v : Pa.floats()) total += v;
                String what = sfx + " dim " + dim;
                assertClose("masked_regression loss (" + what + ")", new double[] {total}, loss.toDoubles(), F32_TOL);
                assertClose("masked_regression dpred (" + what + ")", get(D, bf16), dpred.toDoubles(), bf16 ? BF16_TOL : F32_TOL);
            }
        }
    }

    /** fp32 masters updated as optim.cl does, the bf16 working copy written in the same pass. */
    @Test
    void adamwAndEmaWithTheirBf16Copies() {
        for (int[] c : new int[][] {{1003, 0}, {64, 1}}) {
            int n = c[0], off = c[1];
            double[] p = randF32(n + off), g = randF32(n + off), m = randF32(n + off), v = new double[n + off];
            for (int i = 0; i < v.length; i++) v[i] = (float) (0.1 * rnd.nextDouble());
            AdamWDesc d = new AdamWDesc(1e-3, 0.9, 0.95, 1e-8, 0.05, 7);
            Tensor rp = refTensor(tail(p, off), n), rm = refTensor(tail(m, off), n), rv = refTensor(tail(v, off), n);
            refOps.adamw(d, rp, refTensor(tail(g, off), n), rm, rv, refTensor(new double[] {0.7}, 1)); // gradient scale 0.7, a device scalar since rt-mem
            Tensor rt = refTensor(tail(p, off), n);
            refOps.ema(rt, refTensor(tail(g, off), n), 0.999);
            double stepSize = d.lr() * Math.sqrt(1 - Math.pow(d.beta2(), d.step())) / (1 - Math.pow(d.beta1(), d.step()));
            Job job = new Job();
            Buf P = job.f32(p), G = job.f32(g), M = job.f32(m), V = job.f32(v), Pb = job.bf16NaN(n + off);
            Buf Tt = job.f32(p), Tb = job.bf16NaN(n + off);
            job.launch("adamw_vec", grid(2), grid(64), n, P.at(off), G.at(off), M.at(off), V.at(off), Pb.at(off),
                    0.9f, (float) (1 - 0.9), 0.95f, (float) (1 - 0.95), 1e-8f, (float) (d.lr() * d.weightDecay()),
                    (float) stepSize, 0.7f);
            job.launch("ema_vec", grid(1), grid(256), n, Tt.at(off), G.at(off), Tb.at(off), 0.999f, (float) (1 - 0.999));
            job.run();
            String what = " n " + n + " offset " + off;
            assertClose("adamw p (" + what + ")", tail(P.floats(), off), rp.toDoubles(), 1e-6);
            assertClose("adamw m (" + what + ")", tail(M.floats(), off), rm.toDoubles(), 1e-6);
            assertClose("adamw v (" + what + ")", tail(V.floats(), off), rv.toDoubles(), 1e-6);
            assertClose("adamw bf16 copy (" + what + ")", tail(Pb.bf16s(), off), TensorCoreEmulator.roundBf16(tail(P.floats(), off)), 0);
            assertClose("ema (" + what + ")", tail(Tt.floats(), off), rt.toDoubles(), 1e-6);
            assertClose("ema bf16 copy (" + what + ")", tail(Tb.bf16s(), off), TensorCoreEmulator.roundBf16(tail(Tt.floats(), off)), 0);
        }
    }
}
