package org.d2v.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.autograd.Tape;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.optim.AdamW;
import org.d2v.optim.CosineSchedule;
import org.d2v.optim.Optimizer;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.d2v.testing.Rand;
import org.junit.jupiter.api.Test;

/** The whole training path (modules, tape, flat store, clipping, AdamW) on a tiny Transformer. */
class TinyTrainingTest {
    private static final TransformerRegressor.Config CONFIG = new TransformerRegressor.Config(5, 16, 4, 2, 6, 3, 0.0, false);

    private static double step(TransformerRegressor model, ParameterStore store, Optimizer opt, Tensor x, Tensor y) {
        try (Scope s = Scope.open(); Tape tape = Tape.record()) {
            store.zeroGrads();
            Tensor loss = model.loss(x, y);
            tape.backward(loss);
            opt.step();
            return loss.item();
        }
    }

    @Test
    void overfitsAFixedBatchByAHundredfold() {
        Rand rand = new Rand(1);
        try (ReferenceDevice dev = new ReferenceDevice(DType.F32); Scope scope = Scope.open()) {
            ParameterStore.Builder b = ParameterStore.builder();
            TransformerRegressor model = new TransformerRegressor(b, CONFIG);
            try (ParameterStore store = b.build(dev, DType.F32, 42);
                 Optimizer opt = new Optimizer(store, new AdamW.Config(0.9, 0.98, 1e-6, 0.01), new CosineSchedule(3e-3, 20, 400, 0), 1.0)) {
                model.train(new RandomStream(7));
                Tensor x = Tensor.of(dev, DType.F32, Shape.of(4, 6, 5), rand.uniform(120, -1, 1));
                Tensor y = Tensor.of(dev, DType.F32, Shape.of(4, 6, 3), rand.uniform(72, -1, 1));
                double first = step(model, store, opt, x, y), last = first;
                for (int i = 1; i < 400 && last > first / 100; i++) last = step(model, store, opt, x, y);
                System.out.printf("loss %.4g -> %.4g in %d steps%n", first, last, opt.updates());
                assertTrue(last < first / 100, "loss fell from " + first + " to only " + last);
            }
        }
    }

    @Test
    void trainingStepsInsideAScopeLeakNothing() {
        Rand rand = new Rand(2);
        try (ReferenceDevice dev = new ReferenceDevice(DType.F32); Scope scope = Scope.open()) {
            ParameterStore.Builder b = ParameterStore.builder();
            TransformerRegressor model = new TransformerRegressor(b, new TransformerRegressor.Config(5, 16, 4, 2, 6, 3, 0.1, true));
            try (ParameterStore store = b.build(dev, DType.F32, 1);
                 Optimizer opt = new Optimizer(store, new AdamW.Config(0.9, 0.98, 1e-6, 0.01), new CosineSchedule(1e-3, 2, 10, 0), 1.0)) {
                model.train(new RandomStream(3));
                Tensor x = Tensor.of(dev, DType.F32, Shape.of(4, 6, 5), rand.uniform(120, -1, 1));
                Tensor y = Tensor.of(dev, DType.F32, Shape.of(4, 6, 3), rand.uniform(72, -1, 1));
                long before = dev.bytesInUse();
                for (int i = 0; i < 4; i++) {
                    step(model, store, opt, x, y);
                    assertEquals(before, dev.bytesInUse(), "device memory after step " + (i + 1));
                }
            }
        }
    }
}
