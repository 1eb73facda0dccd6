package org.d2v.optim;

import org.d2v.nn.ParameterStore;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * One optimiser update as fairseq runs it, after the backward pass has filled the flat gradient
 * buffer: global gradient norm, clip factor, learning rate from the schedule, AdamW (with the
 * clip folded into its gradient scale). The norm and the factor stay on the device, so a step
 * queues its work without waiting. The caller zeroes the gradients before the next backward.
 */
public final class Optimizer implements AutoCloseable {
    private final ParameterStore store;
    private final AdamW adamw;
    private final CosineSchedule schedule;
    private final double clipNorm;
    /** Σ g², the norm and the clip factor of the last step: three device scalars. */
    private final DeviceBuffer clipBuffer;
    private final Tensor sumSquares, norm, factor;
    private double lastLr;

    /** @param clipNorm the maximum global gradient norm; 0 turns clipping off (and skips the norm) */
    public Optimizer(ParameterStore store, AdamW.Config config, CosineSchedule schedule, double clipNorm) {
        this.store = store;
        this.adamw = new AdamW(store, config);
        this.schedule = schedule;
        this.clipNorm = clipNorm;
        this.clipBuffer = store.device().allocate(store.dtype(), 3);
        this.sumSquares = Tensor.view(clipBuffer, 0, Shape.of(1));
        this.norm = Tensor.view(clipBuffer, 1, Shape.of(1));
        this.factor = Tensor.view(clipBuffer, 2, Shape.of(1));
        store.device().ops().fill(Tensor.view(clipBuffer, 0, Shape.of(3)), 0);
    }

    /** Clips and applies one update; returns the learning rate used. */
    public double step() {
        if (clipNorm > 0) GradClip.onDevice(store, clipNorm, sumSquares, norm, factor);
        lastLr = schedule.lr(adamw.stepCount());
        adamw.step(lastLr, clipNorm > 0 ? factor : null);
        return lastLr;
    }

    /** Updates applied so far. */
    public long updates() { return adamw.stepCount(); }

    /**
     * The global gradient norm the last step saw, read back from the device (a host
     * synchronisation); 0 when clipping is off (it is not computed then).
     */
    public double lastGradNorm() { return clipNorm > 0 ? norm.item() : 0; }

    public double lastLr() { return lastLr; }

    public AdamW adamw() { return adamw; }

    @Override
    public void close() {
        adamw.close();
        clipBuffer.close();
    }
}
