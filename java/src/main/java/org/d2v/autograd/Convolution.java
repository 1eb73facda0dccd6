package org.d2v.autograd;

import org.d2v.backend.ConvDesc;
import org.d2v.backend.Ops;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** Grouped 2-D (and 1-D) convolution, channels-last; see {@link ConvDesc}. */
final class Convolution {
    private Convolution() {}

    /** The convolution runs in w's storage: x is cast to w's dtype first when it differs. */
    static Tensor conv(ConvDesc d, Tensor input, Tensor w, Tensor b) {
        Tensor x = Elementwise.cast(input, w.dtype());
        long inSize = (long) d.batch() * d.inH() * d.inW() * d.inC();
        if (x.numel() != inSize) throw new IllegalArgumentException("conv: x " + x.shape() + " does not match " + d);
        if (w.numel() != (long) d.outC() * d.kH() * d.kW() * d.inPerGroup()) {
            throw new IllegalArgumentException("conv: weight " + w.shape() + " does not match " + d);
        }
        if (b != null && b.numel() != d.outC()) throw new IllegalArgumentException("conv: bias " + b.shape() + " does not match " + d);
        Ops ops = x.device().ops();
        Shape shape = d.inH() == 1 && d.kH() == 1 && x.shape().rank() == 3
                ? Shape.of(d.batch(), d.outW(), d.outC())
                : Shape.of(d.batch(), d.outH(), d.outW(), d.outC());
        Tensor y = Tensor.empty(x.device(), x.dtype(), shape);
        ops.conv(d, x, w, b, y);
        if (Tape.needsGrad(x, w, b)) {
            y.setRequiresGrad(true);
            Tape.active().add(() -> {
                Tensor dy = y.grad();
                if (dy == null) return;
                if (x.requiresGrad()) {
                    boolean acc = x.grad() != null;
                    ops.convBackwardInput(d, dy, w, x.gradOrEmpty(), acc);
                }
                boolean dw = w.requiresGrad(), db = b != null && b.requiresGrad();
                if (dw || db) {
                    // The op produces both; a frozen one gets a throw-away buffer.
                    Tensor gw = dw ? w.gradOrZeros() : Tensor.empty(w.device(), w.dtype().compute(), w.shape());
                    ops.convBackwardWeight(d, x, dy, gw, db ? b.gradOrZeros() : null);
                }
            });
        }
        return y;
    }
}
