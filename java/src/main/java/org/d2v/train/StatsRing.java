package org.d2v.train;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.d2v.backend.Device;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The device side of {@link StepStats}: a small buffer of K step slots, FIELDS values each, that a
 * training step fills with device ops (the loss terms, the collapse-guard statistics, the gradient
 * norm, the index-error flag) instead of reading them back. Step n uses slot n mod K. The host reads
 * the whole ring in one download when a pending value is first needed (the training loop does that
 * once per logging interval and before each checkpoint), so a step never waits for the device; if a
 * slot is needed again while it still holds an unread step, the ring is read first.
 *
 * <p>When the values arrive, the model's {@link Check} looks at each step's values and may name a
 * problem, which the step's StepStats then reports.
 */
public final class StatsRing implements AutoCloseable {
    public static final int LOSS = 0, REGRESSION = 1, CLS = 2, TARGET_STD = 3, PRED_STD = 4, GRAD_NORM = 5, INDEX_ERRORS = 6;
    /** Σθ of the student's weights after the update: finite exactly when every weight is (short of a sum beyond ~3e38 in F32). */
    public static final int WEIGHT_SUM = 7;
    public static final int FIELDS = 8;

    /** A model's checks on one step's values: a message naming the step, or null when all is well. */
    public interface Check {
        String problem(long step, double[] fields);
    }

    private record Pending(long step, StepStats stats) {}

    private final Device device;
    private final DeviceBuffer buffer;
    private final int slots;
    private final Check check;
    private final Pending[] pending;
    private long drains;
    private boolean closed;

    public StatsRing(Device device, DType dtype, int slots, Check check) {
        if (slots < 1) throw new IllegalArgumentException("a stats ring needs at least one slot");
        this.device = device;
        this.slots = slots;
        this.check = check;
        this.buffer = device.allocate(dtype, (long) slots * FIELDS);
        this.pending = new Pending[slots];
        device.ops().fill(Tensor.view(buffer, 0, Shape.of(slots * FIELDS)), 0);
    }

    private int index(long step) { return (int) Math.floorMod(step, (long) slots); }

    /**
     * The FIELDS values of {@code step}'s slot, for the step to write. If the slot still holds a
     * step whose values were not read, the ring is read first.
     */
    public Tensor slot(long step) {
        if (closed) throw new IllegalStateException("stats ring is closed");
        if (pending[index(step)] != null) drain();
        return Tensor.view(buffer, (long) index(step) * FIELDS, Shape.of(FIELDS));
    }

    /** One field of {@code step}'s slot, a one-element view (see {@link #slot} first). */
    public Tensor field(long step, int field) {
        if (field < 0 || field >= FIELDS) throw new IllegalArgumentException("no stats field " + field);
        return Tensor.view(buffer, (long) index(step) * FIELDS + field, Shape.of(1));
    }

    /** The stats of {@code step}, whose slot the step has filled; pending until the ring is read. */
    public StepStats pending(long step, long samples, long tokens) {
        int i = index(step);
        if (pending[i] != null) drain();
        StepStats s = new StepStats(this, samples, tokens);
        pending[i] = new Pending(step, s);
        return s;
    }

    /** Steps whose values are still on the device. */
    public int pendingCount() {
        int n = 0;
        for (Pending p : pending) if (p != null) n++;
        return n;
    }

    /** How many times the ring was read (each one download). */
    public long drains() { return drains; }

    /** Reads every pending step's values in one download and hands them over, in step order. */
    public void drain() {
        List<Pending> waiting = new ArrayList<>();
        for (int i = 0; i < slots; i++) {
            if (pending[i] != null) waiting.add(pending[i]);
            pending[i] = null;
        }
        if (waiting.isEmpty()) return;
        waiting.sort(Comparator.comparingLong(Pending::step));
        double[] all = new double[slots * FIELDS];
        try {
            device.download(buffer, 0, all);
        } catch (RuntimeException e) {
            for (Pending p : waiting) {
                p.stats().set(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0,
                        "step " + p.step() + ": its statistics could not be read from the device: " + e.getMessage());
            }
            throw e;
        }
        drains++;
        for (Pending p : waiting) {
            double[] f = new double[FIELDS];
            System.arraycopy(all, index(p.step()) * FIELDS, f, 0, FIELDS);
            p.stats().set(f[LOSS], f[REGRESSION], f[CLS], f[TARGET_STD], f[PRED_STD], f[GRAD_NORM], f[WEIGHT_SUM],
                    check.problem(p.step(), f));
        }
    }

    /**
     * Reads what is still pending (so no StepStats is left without values), then frees the buffer.
     * If that read fails (a closed device), the pending stats carry the reason instead.
     */
    @Override
    public void close() {
        if (closed) return;
        try {
            drain();
        } catch (RuntimeException e) {
            // drain() handed the failure to every pending StepStats as its problem
        } finally {
            closed = true;
            buffer.close();
        }
    }
}
