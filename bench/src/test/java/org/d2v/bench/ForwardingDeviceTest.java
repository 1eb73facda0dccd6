package org.d2v.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.bench.profile.ProfilingOps;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.tensor.DType;
import org.d2v.train.BatchSource;
import org.d2v.train.StepStats;
import org.d2v.train.TrainingData;
import org.junit.jupiter.api.Test;

/**
 * A model built on a ForwardingDevice computes exactly what it computes on the device it wraps
 * (bit for bit), and the profiling decorator sees every op family of a training step.
 */
class ForwardingDeviceTest {
    @Test
    void profiledStepIsBitIdenticalAndCountsEveryFamily() throws Exception {
        for (Data2VecConfig cfg : new Data2VecConfig[] {Presets.imageMicro(), Presets.audioMicro(), Presets.textMicro()}) {
            try (ReferenceDevice plainDev = new ReferenceDevice(DType.F64); ReferenceDevice innerDev = new ReferenceDevice(DType.F64)) {
                ProfilingOps[] prof = new ProfilingOps[1];
                ForwardingDevice wrapped = new ForwardingDevice(innerDev, ops -> prof[0] = new ProfilingOps(ops, innerDev, null));
                Batch batch;
                try (BatchSource s = TrainingData.open(TrainingData.GENERATED, cfg, 3)) {
                    batch = s.next();
                }
                try (Data2Vec plain = new Data2Vec(plainDev, cfg, DType.F64); Data2Vec profiled = new Data2Vec(wrapped, cfg, DType.F64)) {
                    StepStats a = plain.trainStep(batch, 1, 1e-3, new RandomStream(5));
                    prof[0].enable(true);
                    StepStats b = profiled.trainStep(batch, 1, 1e-3, new RandomStream(5));
                    prof[0].enable(false);
                    assertEquals(values(a), values(b), cfg.name() + ": the step's statistics differ through the forwarding device");
                    assertArrayEquals(plain.parameters().values().toDoubles(), profiled.parameters().values().toDoubles(), cfg.name() + ": parameters");
                    assertArrayEquals(plain.teacherParameters().values().toDoubles(), profiled.teacherParameters().values().toDoubles(), cfg.name() + ": teacher");
                }
                Map<String, ProfilingOps.Tally> f = prof[0].families();
                for (String family : new String[] {"matmul fwd", "matmul dgrad", "matmul wgrad", "attention fwd", "attention bwd", "layernorm fwd",
                        "layernorm bwd", "conv fwd", "conv wgrad", "loss", "adamw", "ema", "grad norm", "gather/scatter", "host transfers"}) {
                    assertTrue(f.containsKey(family) && f.get(family).calls > 0, cfg.name() + ": no " + family + " in " + f.keySet());
                }
                assertTrue(f.get("matmul fwd").flops > 0 && f.get("attention fwd").flops > 0, cfg.name() + ": FLOPs not counted");
                assertEquals(1, f.get("ema").calls, cfg.name() + ": one EMA launch per step");
            }
        }
    }

    /** A step's values (reading them drains the device's stats ring): StepStats may still be pending, so compare values. */
    private static java.util.List<Double> values(StepStats s) {
        return java.util.List.of(s.loss(), s.regression(), s.cls(), s.targetStd(), s.predStd(), s.gradNorm(), (double) s.samples(), (double) s.tokens());
    }
}
