package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.d2v.backend.Device;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.optim.CosineSchedule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checks on a step's statistics run when the loop reads them, up to one logging interval after
 * the step: they still stop the run naming the first bad step, and no checkpoint covers it.
 */
class StepChecksTest {
    @TempDir Path tmp;
    private final Device device = new ReferenceDevice();
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    @AfterEach
    void close() { device.close(); }

    private Pretrainer.Builder run(TrainableModel model, Data2VecConfig cfg, BatchSource data, Path dir, long steps, double lr) {
        return Pretrainer.builder().model(model).source(data).runDir(dir).steps(steps)
                .schedule(new CosineSchedule(lr, 0, 100, lr)).seed(3).checkpointEvery(2).statsEvery(10)
                .describe(cfg.name(), "image").plot(false).progress(new PrintStream(printed, true));
    }

    @Test
    void aCollapseStopsTheRunNamingItsStepBeforeAnyCheckpointCoversIt() throws IOException {
        Data2VecConfig base = Presets.imageMicro();
        LossConfig l = base.loss();
        Data2VecConfig cfg = base.withLoss(new LossConfig(l.topK(), true, true, l.scale(), l.clsWeight(), 100, 0, 2)); // guard from step 3
        Path dir = tmp.resolve("collapse");
        IllegalStateException e;
        try (TrainableModel m = ModelFactory.build(cfg, device); BatchSource data = TrainingData.open(TrainingData.GENERATED, cfg, 11)) {
            e = assertThrows(IllegalStateException.class, () -> run(m, cfg, data, dir, 6, 1e-3).build().run());
            assertTrue(e.getMessage().contains("representation collapse at step 3") && e.getMessage().contains("target std"), e.getMessage());
        }
        assertEquals(dir.resolve("checkpoint-2"), Checkpoint.latest(dir));
        assertFalse(Files.exists(dir.resolve("checkpoint-4")), "step 4's checkpoint would cover the collapsed step 3");
        assertEquals(List.of(1L, 2L, 3L), MetricsLog.read(dir).stream().map(MetricsRow::step).toList(), "the collapsed step's row is kept");
        assertTrue(e.getMessage().contains("The last good checkpoint is " + dir.resolve("checkpoint-2")), e.getMessage());
    }

    @Test
    void anAbsurdLearningRateDivergesAndTheFirstNonFiniteStepIsNamed() throws IOException {
        Data2VecConfig cfg = Presets.imageMicro();
        Path dir = tmp.resolve("nan");
        TrainingDivergedException e;
        try (TrainableModel m = ModelFactory.build(cfg, device); BatchSource data = TrainingData.open(TrainingData.GENERATED, cfg, 11)) {
            e = assertThrows(TrainingDivergedException.class, () -> run(m, cfg, data, dir, 9, 1e30).checkpointEvery(0).build().run());
        }
        List<MetricsRow> rows = MetricsLog.read(dir);
        MetricsRow lastRow = rows.get(rows.size() - 1);
        assertEquals(e.step(), lastRow.step(), "the rows stop at the step named, whose row is kept");
        assertTrue(rows.subList(0, rows.size() - 1).stream().allMatch(r -> Double.isFinite(r.loss()) && Double.isFinite(r.gradNorm())),
                "the steps before it were finite");
        // The weights go non-finite first (the update of step 1 at lr 1e30), before the loss does: the run stops there.
        assertTrue(e.step() < 9, "found before the end: step " + e.step());
        assertTrue(e.getMessage().contains("step " + e.step()) && e.getMessage().contains("No checkpoint"), e.getMessage());
        assertFalse(Files.exists(dir.resolve(Checkpoint.LATEST)), "nothing was saved");
    }
}
