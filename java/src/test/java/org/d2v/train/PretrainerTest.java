package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.d2v.backend.Device;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.optim.CosineSchedule;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainerTest {
    private static final CosineSchedule SCHEDULE = new CosineSchedule(0.05, 2, 6, 0);

    @TempDir Path tmp;
    private final Device device = new ReferenceDevice();
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    @AfterEach
    void close() { device.close(); }

    private Pretrainer.Builder run(ToyModel model, Path dir, long steps) {
        return Pretrainer.builder().model(model).source(GeneratedSource.images(4, 4, 1, 99)).runDir(dir).steps(steps)
                .schedule(SCHEDULE).seed(7).checkpointEvery(3).describe("toy", "image").config("batch", "4")
                .progressEvery(Duration.ZERO).progress(new PrintStream(printed, true, StandardCharsets.UTF_8));
    }

    private static long[] lossBits(List<MetricsRow> rows) {
        return rows.stream().mapToLong(r -> Double.doubleToRawLongBits(r.loss())).toArray();
    }

    private static Map<String, double[]> values(ToyModel m) {
        Map<String, double[]> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : m.state().entrySet()) out.put(e.getKey(), e.getValue().toDoubles());
        return out;
    }

    private static void assertSameState(Map<String, double[]> a, Map<String, double[]> b) {
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), 0.0, k);
    }

    /** --stop-at: the session ends early with a checkpoint while the schedule runs to steps; the resume is bit-identical. */
    @Test
    void stopAtEndsTheSessionWithTheScheduleOfTheWholeRun() throws IOException {
        Pretrainer.Result straight;
        try (ToyModel m = new ToyModel(device, 1)) {
            straight = run(m, tmp.resolve("straight"), 6).build().run();
        }
        Path b = tmp.resolve("stopped");
        try (ToyModel m = new ToyModel(device, 1)) {
            Pretrainer.Result first = run(m, b, 6).stopAt(4).build().run();
            assertEquals(4, first.step());
            assertEquals(b.resolve("checkpoint-4"), first.checkpoint(), "a checkpoint at the stop, off the every-3 grid");
            assertEquals(4 * 4, Checkpoint.load(first.checkpoint()).manifest().dataPosition(), "four batches of 4 samples");
            assertEquals(6, Checkpoint.load(first.checkpoint()).manifest().totalSteps());
        }
        try (ToyModel m = new ToyModel(device, 99)) {
            assertArrayEquals(lossBits(straight.metrics()), lossBits(run(m, b, 6).resume(true).build().run().metrics()));
        }
    }

    /** Checkpoints of format 2 counted batches, not samples: a resume converts. */
    @Test
    void aFormatTwoCheckpointResumesAtItsBatch() throws IOException {
        Pretrainer.Result straight;
        try (ToyModel m = new ToyModel(device, 1)) {
            straight = run(m, tmp.resolve("straight"), 6).build().run();
        }
        Path b = tmp.resolve("old");
        try (ToyModel m = new ToyModel(device, 1)) {
            run(m, b, 3).build().run();
        }
        Path manifest = b.resolve("checkpoint-3").resolve(Checkpoint.MANIFEST);
        String v3 = Files.readString(manifest);
        assertTrue(v3.contains("\"data_position\":12"), v3);
        Files.writeString(manifest, v3.replace("\"format_version\":3", "\"format_version\":2").replace("\"data_position\":12", "\"data_position\":3"));
        try (ToyModel m = new ToyModel(device, 99)) {
            assertArrayEquals(lossBits(straight.metrics()), lossBits(run(m, b, 6).resume(true).build().run().metrics()));
        }
    }

    @Test
    void threeStepsThenResumeIsBitIdenticalToSixStraight() throws IOException {
        Pretrainer.Result straight;
        Map<String, double[]> straightState;
        try (ToyModel m = new ToyModel(device, 1)) {
            straight = run(m, tmp.resolve("a"), 6).build().run();
            straightState = values(m);
        }
        assertEquals(6, straight.metrics().size());

        Path b = tmp.resolve("b");
        try (ToyModel m = new ToyModel(device, 1)) {
            assertEquals(3, run(m, b, 3).build().run().step());
        }
        Pretrainer.Result resumed;
        Map<String, double[]> resumedState;
        try (ToyModel m = new ToyModel(device, 12345)) { // different init: everything must come from the checkpoint
            resumed = run(m, b, 6).resume(true).build().run();
            resumedState = values(m);
        }
        assertArrayEquals(lossBits(straight.metrics()), lossBits(resumed.metrics()));
        assertArrayEquals(lossBits(straight.metrics()), lossBits(MetricsLog.read(b)));
        assertSameState(straightState, resumedState);
        assertEquals(b.resolve("checkpoint-6"), Checkpoint.latest(b));
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("resuming"));
    }

    @Test
    void aCrashMidRunKeepsTheLastCheckpointAndResumesExactly() throws IOException {
        List<MetricsRow> straight;
        try (ToyModel m = new ToyModel(device, 1)) {
            straight = run(m, tmp.resolve("a"), 6).checkpointEvery(2).build().run().metrics();
        }
        Path b = tmp.resolve("b");
        try (ToyModel m = new ToyModel(device, 1)) {
            m.crashAt = 5;
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> run(m, b, 6).checkpointEvery(2).build().run());
            assertTrue(e.getMessage().contains("step 5"));
        }
        assertEquals(b.resolve("checkpoint-4"), Checkpoint.latest(b));
        assertEquals(4, MetricsLog.read(b).size());
        List<MetricsRow> resumed;
        try (ToyModel m = new ToyModel(device, 2)) {
            resumed = run(m, b, 6).checkpointEvery(2).resume(true).build().run().metrics();
        }
        assertArrayEquals(lossBits(straight), lossBits(resumed));
        List<String> csv = Files.readAllLines(b.resolve(MetricsLog.CSV));
        assertEquals(MetricsRow.CSV_HEADER, csv.get(0));
        assertEquals(7, csv.size(), "header + 6 rows, no duplicates from the crashed attempt");
    }

    /** What a row says about the step, without the timings (which differ between any two runs). */
    private static List<List<Double>> content(List<MetricsRow> rows) {
        return rows.stream().map(r -> List.of((double) r.step(), r.lr(), r.loss(), r.regression(), r.cls(), r.targetStd(), r.predStd(),
                r.gradNorm())).toList();
    }

    /**
     * A crash after the last checkpoint leaves rows of later steps in metrics.jsonl and, killed in
     * the middle of a write, a torn last line: the resume drops both, so the run's metrics end up
     * those of an uninterrupted run.
     */
    @Test
    void resumeTakesTheHistoryFromMetricsJsonlDroppingLaterRowsAndATornLine() throws IOException {
        List<MetricsRow> straight;
        try (ToyModel m = new ToyModel(device, 1)) {
            straight = run(m, tmp.resolve("a"), 6).checkpointEvery(2).build().run().metrics();
        }
        Path b = tmp.resolve("b");
        try (ToyModel m = new ToyModel(device, 1)) {
            m.crashAt = 6;
            assertThrows(IllegalStateException.class, () -> run(m, b, 6).checkpointEvery(2).build().run());
        }
        Path jsonl = b.resolve(MetricsLog.JSONL);
        assertEquals(5, MetricsLog.read(b).size(), "step 5 ran after checkpoint-4");
        Files.writeString(jsonl, "{\"step\":6,\"lr\":0.01,\"lo", java.nio.file.StandardOpenOption.APPEND);
        try (ToyModel m = new ToyModel(device, 2)) {
            run(m, b, 6).checkpointEvery(2).resume(true).build().run();
        }
        assertEquals(content(straight), content(MetricsLog.read(b)));
        assertEquals(7, Files.readAllLines(b.resolve(MetricsLog.CSV)).size());
    }

    @Test
    void aDamagedHistoryStopsTheResumeBeforeAnythingChanges() throws IOException {
        Path b = tmp.resolve("b");
        try (ToyModel m = new ToyModel(device, 1)) {
            run(m, b, 4).checkpointEvery(2).build().run();
        }
        Path jsonl = b.resolve(MetricsLog.JSONL);
        List<String> lines = Files.readAllLines(jsonl);
        lines.set(1, "{\"step\":2,");
        Files.write(jsonl, lines);
        byte[] before = Files.readAllBytes(jsonl);
        try (ToyModel m = new ToyModel(device, 2)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> run(m, b, 6).checkpointEvery(2).resume(true).build().run());
            assertTrue(e.getMessage().startsWith(jsonl + ": line 2: invalid JSON"), e.getMessage());
        }
        assertArrayEquals(before, Files.readAllBytes(jsonl));
        lines.remove(1);
        Files.write(jsonl, lines);
        try (ToyModel m = new ToyModel(device, 2)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> run(m, b, 6).checkpointEvery(2).resume(true).build().run());
            assertTrue(e.getMessage().contains("row 2 is for step 3, expected step 2"), e.getMessage());
        }
        Files.delete(jsonl);
        try (ToyModel m = new ToyModel(device, 2)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> run(m, b, 6).checkpointEvery(2).resume(true).build().run());
            assertTrue(e.getMessage().contains("missing"), e.getMessage());
        }
    }

    @Test
    void keepLastLeavesTheNewestCheckpoints() throws IOException {
        Path b = tmp.resolve("b");
        try (ToyModel m = new ToyModel(device, 1)) {
            run(m, b, 6).checkpointEvery(1).keepLast(2).build().run();
        }
        try (java.util.stream.Stream<Path> s = Files.list(b)) {
            assertEquals(List.of("checkpoint-5", "checkpoint-6"), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("checkpoint-")).sorted().toList());
        }
    }

    @Test
    void nonFiniteLossStopsNamingTheStepAndKeepsTheLastGoodCheckpoint() throws IOException {
        Path dir = tmp.resolve("nan");
        try (ToyModel m = new ToyModel(device, 1)) {
            m.nanAt = 3;
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                    () -> run(m, dir, 6).checkpointEvery(2).build().run());
            assertEquals(3, e.step());
            assertTrue(e.getMessage().contains("NaN at step 3") && e.getMessage().contains("checkpoint-2"), e.getMessage());
        }
        assertEquals(dir.resolve("checkpoint-2"), Checkpoint.latest(dir));
        assertEquals(2, Checkpoint.load(Checkpoint.latest(dir)).manifest().step());
        assertFalse(Files.exists(dir.resolve("checkpoint-3")));
    }

    @Test
    void metricsFilesProgressLinesAndPlotAreWritten() throws IOException {
        Path dir = tmp.resolve("m");
        try (ToyModel m = new ToyModel(device, 1)) {
            run(m, dir, 4).build().run();
        }
        List<MetricsRow> rows = MetricsLog.read(dir);
        assertEquals(List.of(1L, 2L, 3L, 4L), rows.stream().map(MetricsRow::step).toList());
        MetricsRow r = rows.get(2);
        assertEquals(SCHEDULE.lr(2), r.lr());
        assertTrue(r.samplesPerSec() > 0 && r.tokensPerSec() == r.samplesPerSec() * ToyModel.K, r.toString());
        assertTrue(r.gradNorm() > 0 && r.targetStd() > 0);
        assertTrue(rows.get(3).elapsedSec() >= rows.get(0).elapsedSec());
        List<String> csv = Files.readAllLines(dir.resolve(MetricsLog.CSV));
        assertEquals(5, csv.size());
        assertTrue(csv.get(3).startsWith("3,"), csv.get(3));
        assertEquals(11, csv.get(3).split(",").length);

        String out = printed.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("step 1/4") && out.contains("step 4/4") && out.contains("ETA"), out);
        assertTrue(Files.exists(dir.resolve("checkpoint-3")) && Files.exists(dir.resolve("checkpoint-4")));

        BufferedImage png = ImageIO.read(dir.resolve(Pretrainer.PLOT).toFile());
        assertEquals(LossPlot.WIDTH, png.getWidth());
        assertEquals(LossPlot.HEIGHT, png.getHeight());
        assertTrue(countColour(png, LossPlot.LOSS.getRGB()) > 20, "the loss curve is drawn");
    }

    @Test
    void theUpdatesLowerTheLoss() throws IOException {
        List<MetricsRow> rows;
        try (ToyModel m = new ToyModel(device, 1)) {
            rows = run(m, tmp.resolve("learn"), 80).schedule(new CosineSchedule(0.05, 0, 80, 0.05)).checkpointEvery(0).plot(false)
                    .build().run().metrics();
        }
        double first = rows.subList(0, 10).stream().mapToDouble(MetricsRow::loss).average().orElseThrow();
        double last = rows.subList(70, 80).stream().mapToDouble(MetricsRow::loss).average().orElseThrow();
        assertTrue(last < 0.5 * first, "mean loss of the first 10 steps " + first + ", of the last 10 " + last);
    }

    @Test
    void aStepThatLeaksDeviceMemoryIsReportedOnce() throws IOException {
        try (ToyModel m = new ToyModel(device, 1)) {
            run(m, tmp.resolve("ok"), 5).build().run();
            assertFalse(printed.toString(StandardCharsets.UTF_8).contains("warning: device memory"), printed.toString());
            m.leak = true;
            run(m, tmp.resolve("leak"), 5).build().run();
        }
        String out = printed.toString(StandardCharsets.UTF_8);
        assertEquals(1, out.lines().filter(l -> l.startsWith("warning: device memory grew")).count(), out);
        assertTrue(out.contains("by step 3"), out);
    }

    @Test
    void progressIsRateLimited() throws IOException {
        try (ToyModel m = new ToyModel(device, 1)) {
            run(m, tmp.resolve("p"), 6).progressEvery(Duration.ofHours(1)).build().run();
        }
        String out = printed.toString(StandardCharsets.UTF_8);
        assertEquals(2, out.lines().filter(l -> l.startsWith("step ")).count(), out); // first and last only
    }

    @Test
    void aNewRunRefusesAFolderWithCheckpoints() throws IOException {
        Path dir = tmp.resolve("twice");
        try (ToyModel m = new ToyModel(device, 1)) {
            run(m, dir, 3).build().run();
            IOException e = assertThrows(IOException.class, () -> run(m, dir, 3).build().run());
            assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        }
    }

    @Test
    void resumeRefusesAnotherModality() throws IOException {
        Path dir = tmp.resolve("mod");
        try (ToyModel m = new ToyModel(device, 1)) {
            run(m, dir, 3).build().run();
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> run(m, dir, 6).describe("toy", "audio").resume(true).build().run());
            assertTrue(e.getMessage().contains("modality 'image'") && e.getMessage().contains("'audio'"), e.getMessage());
        }
    }

    private static int countColour(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xFFFFFF) == (rgb & 0xFFFFFF)) n++;
        return n;
    }
}
