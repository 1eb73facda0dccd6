package org.d2v.nn;

import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.d2v.autograd.Tape;
import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.optim.AdamW;
import org.d2v.optim.CosineSchedule;
import org.d2v.optim.Optimizer;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.d2v.testing.Approx;
import org.d2v.testing.Rand;
import org.junit.jupiter.api.Test;

/**
 * One whole training step (forward, tape backward, clipping, AdamW) of a small Transformer on
 * every non-reference backend that answers, against the float64 reference: the loss, every
 * gradient and the updated parameters must agree to float32 accuracy (1e-5 relative, the
 * project's standard for float32 paths). Without another backend on the class path there is
 * nothing to compare, and the test reports itself skipped.
 */
class CrossBackendStepTest {
    private static final double TOLERANCE = 1e-5;
    private static final TransformerRegressor.Config CONFIG = new TransformerRegressor.Config(5, 16, 4, 2, 6, 3, 0.1, false);

    private record Result(double loss, double[] grads, double[] values) {}

    private static Result step(Device dev, DType dtype, Map<String, double[]> init, double[] x, double[] y) {
        ParameterStore.Builder b = ParameterStore.builder();
        TransformerRegressor model = new TransformerRegressor(b, CONFIG);
        try (Scope s = Scope.open(); ParameterStore store = b.build(dev, dtype, 1);
             Optimizer opt = new Optimizer(store, new AdamW.Config(0.9, 0.98, 1e-6, 0.01), new CosineSchedule(1e-2, 0, 10, 0), 0.5)) {
            store.loadStateDict(init, "reference init");
            model.train(new RandomStream(3)); // dropout on: both backends must draw the same masks
            Tensor tx = Tensor.of(dev, dtype, Shape.of(4, 6, 5), x), ty = Tensor.of(dev, dtype, Shape.of(4, 6, 3), y);
            double loss;
            double[] grads;
            try (Tape tape = Tape.record()) {
                Tensor l = model.loss(tx, ty);
                tape.backward(l);
                loss = l.item();
                grads = store.grads().toDoubles();
            }
            opt.step();
            return new Result(loss, grads, store.values().toDoubles());
        }
    }

    @Test
    void oneTrainingStepMatchesTheReference() {
        List<Backend> others = new ArrayList<>();
        for (Backend b : Backends.all()) if (!b.name().equals("reference") && b.probe().available()) others.add(b);
        assumeFalse(others.isEmpty(), "no other backend available to compare with");
        Rand rand = new Rand(8);
        double[] x = rand.uniform(120, -1, 1), y = rand.uniform(72, -1, 1);
        Map<String, double[]> init;
        Result expected;
        try (ReferenceDevice ref = new ReferenceDevice(DType.F64)) {
            ParameterStore.Builder b = ParameterStore.builder();
            new TransformerRegressor(b, CONFIG);
            try (ParameterStore s = b.build(ref, DType.F64, 11)) {
                // Spread the weights so that every path carries signal, then round to float32 so both
                // backends start from identical values.
                double[] v = rand.uniform((int) s.length(), -0.3, 0.3);
                for (int i = 0; i < v.length; i++) v[i] = (float) v[i];
                s.values().copyFrom(v);
                init = s.stateDict();
            }
            expected = step(ref, DType.F64, init, x, y);
        }
        for (Backend backend : others) {
            try (Device dev = backend.open()) {
                Result got = step(dev, DType.F32, init, x, y);
                String on = " on " + backend.name();
                Approx.assertClose(new double[] {expected.loss()}, new double[] {got.loss()}, TOLERANCE, "loss" + on);
                Approx.assertClose(expected.grads(), got.grads(), TOLERANCE, "flat gradients" + on);
                Approx.assertClose(expected.values(), got.values(), TOLERANCE, "parameters after AdamW" + on);
                System.out.printf("%s: loss err %.2e, grad err %.2e, param err %.2e%n", backend.name(),
                        Approx.relativeError(new double[] {expected.loss()}, new double[] {got.loss()}),
                        Approx.relativeError(expected.grads(), got.grads()), Approx.relativeError(expected.values(), got.values()));
            }
        }
    }
}
