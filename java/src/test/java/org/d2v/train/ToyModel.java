package org.d2v.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.d2v.backend.AdamWDesc;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.data2vec.mask.RandomMasker;
import org.d2v.dist.DataParallel;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * A tiny trainable model for loop tests: a linear regressor over the first K pixels of each image,
 * with random feature masks and target noise drawn from the run's stream (so the loss depends on
 * data AND randomness), AdamW and an EMA teacher through the backend's ops, and an I32 counter.
 * Faults can be injected: a crash or a NaN loss at a chosen step.
 */
public final class ToyModel implements TrainableModel {
    static final int K = 8;

    private final Device device;
    private final Tensor w, grad, m, v, teacher, count;
    public long crashAt = -1, nanAt = -1;
    /** When set, every step from step 3 on forgets one small device buffer (a leak for the loop to notice). */
    boolean leak;
    private final java.util.List<Tensor> leaked = new java.util.ArrayList<>();

    public ToyModel(Device device, long initSeed) {
        this.device = device;
        RandomStream init = new RandomStream(initSeed);
        double[] w0 = new double[K];
        for (int i = 0; i < K; i++) w0[i] = init.nextUniform() - 0.5;
        w = Tensor.of(device, DType.F32, Shape.of(K), w0);
        grad = Tensor.zeros(device, DType.F32, K);
        m = Tensor.zeros(device, DType.F32, K);
        v = Tensor.zeros(device, DType.F32, K);
        teacher = Tensor.of(device, DType.F64, Shape.of(K), w0);
        count = Tensor.ofInts(device, Shape.of(1), new int[] {0});
    }

    @Override public Device device() { return device; }

    /** One process, the whole batch at once: what the loop tests need. */
    @Override
    public StepStats trainStep(BatchShare share, long step, double lr, RandomStream rng, DataParallel dp) {
        if (dp.ranks() != 1) throw new UnsupportedOperationException("the toy model trains in one process");
        Batch batch = share.single();
        if (step == crashAt) throw new IllegalStateException("injected crash at step " + step);
        Batch.Images img = (Batch.Images) batch;
        int b = img.size(), per = img.height() * img.width() * img.channels();
        MaskBatch mask = new RandomMasker(0.25).sample(b, K, rng);
        double[] wv = w.toDoubles();
        double[] g = new double[K];
        double loss = 0, sumT = 0, sumT2 = 0, sumP = 0, sumP2 = 0;
        for (int s = 0; s < b; s++) {
            double p = 0, t = 0.01 * rng.nextUniform();
            for (int k = 0; k < K; k++) {
                double x = img.pixels()[s * per + k];
                t += 0.5 * x;
                if (mask.mask()[s * K + k] == 0) p += wv[k] * x;
            }
            double r = p - t;
            loss += r * r / b;
            for (int k = 0; k < K; k++) {
                if (mask.mask()[s * K + k] == 0) g[k] += 2 * r * img.pixels()[s * per + k] / b;
            }
            sumT += t; sumT2 += t * t; sumP += p; sumP2 += p * p;
        }
        double norm = 0;
        for (double gi : g) norm += gi * gi;
        grad.copyFrom(g);
        long t = (long) count.toInts()[0] + 1;
        device.ops().adamw(new AdamWDesc(lr, 0.9, 0.98, 1e-6, 0.01, t), w, grad, m, v, null);
        device.ops().ema(teacher, w, 0.9);
        device.uploadInts(count.buffer(), count.offset(), new int[] {(int) t});
        if (step == nanAt) loss = Double.NaN;
        if (leak && step >= 3) leaked.add(Tensor.zeros(device, DType.F32, 16));
        return new StepStats(loss, loss, 0, std(sumT, sumT2, b), std(sumP, sumP2, b), Math.sqrt(norm), b, (long) b * K);
    }

    private static double std(double sum, double sum2, int n) {
        double mean = sum / n;
        return Math.sqrt(Math.max(0, sum2 / n - mean * mean));
    }

    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        s.put("student.w", w);
        s.put("optim.m", m);
        s.put("optim.v", v);
        s.put("teacher.w", teacher);
        s.put("optim.count", count);
        return s;
    }

    @Override
    public void close() {
        for (Tensor t : state().values()) t.close();
        grad.close();
        leaked.forEach(Tensor::close);
    }
}
