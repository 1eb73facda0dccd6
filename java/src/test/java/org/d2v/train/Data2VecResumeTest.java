package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.d2v.backend.Device;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.optim.CosineSchedule;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The real data2vec 2.0 model (micro presets, reference backend): a resumed run equals a straight one bit for bit. */
class Data2VecResumeTest {
    @TempDir Path tmp;
    private final Device device = new ReferenceDevice();

    @AfterEach
    void close() { device.close(); }

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    private Pretrainer.Result train(Data2VecConfig cfg, Path dir, long steps, boolean resume, Map<String, double[]> finalState)
            throws IOException {
        try (TrainableModel model = ModelFactory.build(resume ? cfg.withSeed(cfg.seed() + 99) : cfg, device);
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
    void twoStepsThenResumeEqualsFourStraight(String preset) throws IOException {
        Data2VecConfig cfg = Presets.named(preset);
        Map<String, double[]> straightState = new LinkedHashMap<>(), resumedState = new LinkedHashMap<>();
        List<MetricsRow> straight = train(cfg, tmp.resolve("a"), 4, false, straightState).metrics();
        train(cfg, tmp.resolve("b"), 2, false, new LinkedHashMap<>());
        List<MetricsRow> resumed = train(cfg, tmp.resolve("b"), 4, true, resumedState).metrics();
        assertEquals(4, resumed.size());
        for (int i = 0; i < 4; i++) {
            assertEquals(Double.doubleToRawLongBits(straight.get(i).loss()), Double.doubleToRawLongBits(resumed.get(i).loss()),
                    preset + " step " + (i + 1) + ": " + straight.get(i).loss() + " vs " + resumed.get(i).loss());
            assertTrue(Double.isFinite(straight.get(i).loss()));
        }
        assertFalse(printed.toString().contains("warning"), printed.toString());
        assertEquals(straightState.keySet(), resumedState.keySet());
        for (String k : straightState.keySet()) assertArrayEquals(straightState.get(k), resumedState.get(k), 0.0, k);
    }
}
