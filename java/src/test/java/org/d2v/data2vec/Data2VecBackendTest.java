package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.d2v.autograd.Tape;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.backend.kernel.KernelTestBase;
import org.d2v.backend.kernel.KernelVariants;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.nn.Parameter;
import org.d2v.tensor.DType;
import org.d2v.tensor.Scope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * End to end on the OpenCL backend (float32) against the reference in float64: the same
 * initialisation (Philox), the same masks and dropout streams give the same loss, the same
 * gradient of every parameter tensor, and after a full step the same student and teacher; the
 * kernel device holds the same memory after every step. CPU-shaped kernels here;
 * {@code Data2VecBackendGpuShapedTest} runs the same steps with the GPU-shaped ones.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Data2VecBackendTest {
    /** Loss: relative error. Gradients and parameters: norm-wise relative error per tensor. */
    static final double LOSS_TOL = 1e-6, GRAD_TOL = 1e-4, PARAM_TOL = 1e-5;

    private Device kernel;

    /** The kernel variants the OpenCL device is forced to run. */
    KernelVariants.Shape kernelShape() { return KernelVariants.Shape.CPU; }

    @BeforeAll void open() { kernel = KernelTestBase.openOrSkip("opencl", kernelShape()); }

    @AfterAll void close() { if (kernel != null) kernel.close(); }

    @Test void image() { compare(Presets.imageMicro()); }

    @Test void audio() { compare(Presets.audioMicro()); }

    @Test void text() { compare(Presets.textMicro()); }

    private void compare(Data2VecConfig cfg) {
        try (Data2Vec ref = new Data2Vec(new ReferenceDevice(DType.F64), cfg, DType.F64);
             Data2Vec dev = new Data2Vec(kernel, cfg, DType.F32)) {
            Batch batch = TinyData.batch(cfg, new Random(3));
            MaskBatch masks = ref.masker().sample(batch.size() * cfg.clones(), ref.tokens(batch), new RandomStream(5));
            double lossRef = lossAndGrads(ref, batch, masks), lossDev = lossAndGrads(dev, batch, masks);
            double lossErr = Math.abs(lossDev - lossRef) / Math.abs(lossRef);
            double worstGrad = 0;
            String worstName = "";
            for (Parameter p : ref.parameters().parameters()) {
                double e = relErr(p.tensor().grad().toDoubles(), dev.parameters().get(p.name()).grad().toDoubles());
                if (e > worstGrad) {
                    worstGrad = e;
                    worstName = p.name();
                }
            }
            ref.trainStep(batch, 1, 1e-3, new RandomStream(7));
            dev.trainStep(batch, 1, 1e-3, new RandomStream(7));
            double worstParam = Math.max(relErr(ref.parameters().values().toDoubles(), dev.parameters().values().toDoubles()),
                    relErr(ref.teacherParameters().values().toDoubles(), dev.teacherParameters().values().toDoubles()));
            System.out.printf("%s on %s (" + kernelShape() + " shape): loss %.8f vs %.8f (rel %.2e); worst gradient rel error %.2e (%s); parameters after a step %.2e%n",
                    cfg.name(), kernel.name(), lossDev, lossRef, lossErr, worstGrad, worstName, worstParam);
            assertTrue(lossErr < LOSS_TOL, cfg.name() + ": loss " + lossDev + " vs reference " + lossRef);
            assertTrue(worstGrad < GRAD_TOL, cfg.name() + ": gradient of " + worstName + " off by " + worstGrad);
            assertTrue(worstParam < PARAM_TOL, cfg.name() + ": parameters after one step off by " + worstParam);
            RandomStream rng = new RandomStream(8);
            dev.trainStep(batch, 2, 1e-3, rng);
            long bytes = kernel.bytesInUse();
            dev.trainStep(batch, 3, 1e-3, rng);
            assertEquals(bytes, kernel.bytesInUse(), cfg.name() + ": device memory changed between steps");
        }
    }

    private static double lossAndGrads(Data2Vec m, Batch batch, MaskBatch masks) {
        m.parameters().zeroGrads();
        try (Scope s = Scope.open(); Tape tape = Tape.record()) {
            Data2Vec.Forward f = m.forwardTraining(batch, masks, new RandomStream(9));
            tape.backward(f.loss());
            return f.loss().item();
        }
    }

    private static double relErr(double[] ref, double[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += (got[i] - ref[i]) * (got[i] - ref[i]);
            den += ref[i] * ref[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }
}
