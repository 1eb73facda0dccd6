package org.d2v.autograd;

import java.util.ArrayList;
import java.util.List;
import org.d2v.tensor.Tensor;

/**
 * Reverse-mode autograd: while a tape is active on this thread, every differentiable op whose
 * inputs require gradients records a backward closure. {@link #backward} seeds the loss gradient
 * with 1 and runs the closures newest first; each adds ({@code +=}) into its inputs' gradients.
 *
 * <pre>{@code
 * try (Scope step = Scope.open(); Tape tape = Tape.record()) {
 *     Tensor loss = model.loss(batch);
 *     tape.backward(loss);
 * }
 * }</pre>
 */
public final class Tape implements AutoCloseable {
    private static final ThreadLocal<Tape> ACTIVE = new ThreadLocal<>();

    private final List<Runnable> backwards = new ArrayList<>();
    private final Tape previous;
    private boolean closed;

    private Tape(Tape previous) { this.previous = previous; }

    /** Starts recording on this thread. */
    public static Tape record() {
        Tape t = new Tape(ACTIVE.get());
        ACTIVE.set(t);
        return t;
    }

    /** The tape recording on this thread, or null. */
    public static Tape active() { return ACTIVE.get(); }

    /** True if an op reading these inputs must be recorded. */
    public static boolean needsGrad(Tensor... inputs) {
        if (ACTIVE.get() == null) return false;
        for (Tensor t : inputs) if (t != null && t.requiresGrad()) return true;
        return false;
    }

    /** Records a backward closure (ops call this; users rarely do). */
    public void add(Runnable backward) {
        if (closed) throw new IllegalStateException("tape is closed");
        backwards.add(backward);
    }

    public int size() { return backwards.size(); }

    /** Seeds d(loss)/d(loss) = 1 and runs every recorded closure, newest first. */
    public void backward(Tensor loss) {
        if (loss.numel() != 1) throw new IllegalArgumentException("backward needs a scalar loss, got " + loss.shape());
        loss.device().ops().fill(loss.gradOrZeros(), 1.0);
        ACTIVE.set(previous); // closures must not record themselves
        try {
            for (int i = backwards.size() - 1; i >= 0; i--) backwards.get(i).run();
        } finally {
            ACTIVE.set(this);
        }
        backwards.clear();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        backwards.clear();
        if (ACTIVE.get() == this) ACTIVE.set(previous);
    }
}
