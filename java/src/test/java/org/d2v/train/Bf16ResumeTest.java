package org.d2v.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.d2v.backend.Device;
import org.d2v.backend.kernel.KernelTestBase;
import org.d2v.backend.kernel.KernelVariants;
import org.d2v.data2vec.Precision;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.optim.CosineSchedule;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bf16 runs on OpenCL resume bit for bit (the working copy is rebuilt from the restored fp32
 * masters: the resumed model starts from another seed, so a stale copy would show), and a run may
 * change precision when it resumes, the manifest recording each segment.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Bf16ResumeTest {
    @TempDir Path tmp;
    private Device device;
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    @BeforeAll void open() { device = KernelTestBase.openOrSkip("opencl", KernelVariants.Shape.CPU); }

    @AfterAll void close() { if (device != null) device.close(); }

    private Pretrainer.Result train(Data2VecConfig cfg, Precision precision, Path dir, long steps, boolean resume,
                                    Map<String, double[]> finalState) throws IOException {
        try (TrainableModel model = ModelFactory.build(resume ? cfg.withSeed(cfg.seed() + 99) : cfg, device, precision);
             BatchSource data = TrainingData.open(TrainingData.GENERATED, cfg, 11)) {
            Pretrainer.Result r = Pretrainer.builder().model(model).source(data).runDir(dir).steps(steps)
                    .schedule(new CosineSchedule(cfg.optim().lr(), 2, 4, 0)).seed(3).checkpointEvery(2).resume(resume)
                    .describe(cfg.name(), "x").plot(false).progress(new PrintStream(printed, true)).build().run();
            for (Map.Entry<String, Tensor> e : model.state().entrySet()) finalState.put(e.getKey(), e.getValue().toDoubles());
            return r;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"image-micro", "audio-micro", "text-micro"})
    void twoBf16StepsThenResumeEqualsFourStraight(String preset) throws IOException {
        Data2VecConfig cfg = Presets.named(preset);
        Map<String, double[]> straightState = new LinkedHashMap<>(), resumedState = new LinkedHashMap<>();
        List<MetricsRow> straight = train(cfg, Precision.BF16, tmp.resolve(preset + "-a"), 4, false, straightState).metrics();
        train(cfg, Precision.BF16, tmp.resolve(preset + "-b"), 2, false, new LinkedHashMap<>());
        List<MetricsRow> resumed = train(cfg, Precision.BF16, tmp.resolve(preset + "-b"), 4, true, resumedState).metrics();
        assertEquals(4, resumed.size());
        for (int i = 0; i < 4; i++) {
            assertEquals(Double.doubleToRawLongBits(straight.get(i).loss()), Double.doubleToRawLongBits(resumed.get(i).loss()),
                    preset + " step " + (i + 1) + ": " + straight.get(i).loss() + " vs " + resumed.get(i).loss());
            assertTrue(Double.isFinite(straight.get(i).loss()));
        }
        assertEquals(straightState.keySet(), resumedState.keySet());
        for (String k : straightState.keySet()) assertArrayEquals(straightState.get(k), resumedState.get(k), 0.0, k);
        assertEquals("bf16@1", Checkpoint.load(Checkpoint.latest(tmp.resolve(preset + "-b"))).manifest().config().get(PrecisionSegments.KEY));
    }

    @Test
    void aRunSwitchesPrecisionOnResumeAndTheManifestSaysWhere() throws IOException {
        Data2VecConfig cfg = Presets.imageMicro();
        Path dir = tmp.resolve("switch");
        train(cfg, Precision.FP32, dir, 2, false, new LinkedHashMap<>());
        assertEquals("fp32@1", Checkpoint.load(Checkpoint.latest(dir)).manifest().config().get(PrecisionSegments.KEY));
        List<MetricsRow> rows = train(cfg, Precision.BF16, dir, 4, true, new LinkedHashMap<>()).metrics();
        assertTrue(rows.stream().allMatch(r -> Double.isFinite(r.loss())));
        assertEquals("fp32@1,bf16@3", Checkpoint.load(Checkpoint.latest(dir)).manifest().config().get(PrecisionSegments.KEY));
        assertTrue(printed.toString().contains("trained in fp32 up to step 2 and continues in bf16"), printed.toString());
        assertEquals(List.of(new PrecisionSegments.Segment("fp32", 1)), PrecisionSegments.parse(null), "a manifest from before bf16: fp32");
    }
}
