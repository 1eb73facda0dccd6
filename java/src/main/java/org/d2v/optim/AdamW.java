package org.d2v.optim;

import org.d2v.backend.AdamWDesc;
import org.d2v.backend.Ops;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * AdamW over a {@link ParameterStore}'s flat buffers (fairseq's "adam", see {@link AdamWDesc}):
 * the moments m and v are two more flat buffers of the same layout, and one step is one
 * {@link Ops#adamw} launch per range of the store, with weight decay on or off per range. A store
 * with a bf16 working copy has it rewritten by the same launches.
 */
public final class AdamW implements AutoCloseable {
    /** Hyper-parameters other than the learning rate, which a schedule supplies per step. */
    public record Config(double beta1, double beta2, double eps, double weightDecay) {
        public Config {
            if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1) throw new IllegalArgumentException("betas must be in [0, 1)");
            if (eps <= 0) throw new IllegalArgumentException("eps must be > 0");
            if (weightDecay < 0) throw new IllegalArgumentException("weight decay must be ≥ 0");
        }
    }

    private final ParameterStore store;
    private final Config config;
    private final DeviceBuffer mBuffer;
    private final DeviceBuffer vBuffer;
    private final Tensor m;
    private final Tensor v;
    private long step;

    public AdamW(ParameterStore store, Config config) {
        this.store = store;
        this.config = config;
        long n = store.length();
        this.mBuffer = store.device().allocate(store.dtype(), n);
        this.vBuffer = store.device().allocate(store.dtype(), n);
        this.m = Tensor.view(mBuffer, 0, Shape.of((int) n));
        this.v = Tensor.view(vBuffer, 0, Shape.of((int) n));
        Ops ops = store.device().ops();
        ops.fill(m, 0);
        ops.fill(v, 0);
    }

    /**
     * One update with learning rate {@code lr}; gradients are multiplied by gradScale[0] first, a
     * one-element device tensor (the clip factor, see {@link GradClip#onDevice}), or 1 when null.
     */
    public void step(double lr, Tensor gradScale) {
        step++;
        Ops ops = store.device().ops();
        for (ParameterStore.Range r : store.ranges()) {
            AdamWDesc d = new AdamWDesc(lr, config.beta1(), config.beta2(), config.eps(),
                    r.decay() ? config.weightDecay() : 0, step);
            ops.adamw(d, ParameterStore.slice(store.values(), r), ParameterStore.slice(store.grads(), r),
                    ParameterStore.slice(m, r), ParameterStore.slice(v, r), gradScale,
                    store.working() == null ? null : ParameterStore.slice(store.working(), r));
        }
    }

    /** Updates done so far (the next step is step() + 1). */
    public long stepCount() { return step; }

    /** Restores the step counter from a checkpoint (the moments are restored through {@link #m()}, {@link #v()}). */
    public void setStepCount(long n) {
        if (n < 0) throw new IllegalArgumentException("step count must be ≥ 0");
        step = n;
    }

    /** First moments, flat, in the store's layout. */
    public Tensor m() { return m; }

    /** Second moments, flat, in the store's layout. */
    public Tensor v() { return v; }

    public Config config() { return config; }

    @Override
    public void close() {
        mBuffer.close();
        vBuffer.close();
    }
}
