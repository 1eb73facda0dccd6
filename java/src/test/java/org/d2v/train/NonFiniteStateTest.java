package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.d2v.backend.CheckingDevice;
import org.d2v.backend.Device;
import org.d2v.backend.NonFiniteValueException;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.optim.CosineSchedule;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17, class 4 (non-finite state): a non-finite loss, gradient norm or weight stops the run
 * before a checkpoint can save it, naming the step; the step is replayed in checking mode, which
 * names the first op whose output was not finite; the failing step's row is kept and the last good
 * checkpoint named; save and load refuse non-finite tensors, naming them.
 */
class NonFiniteStateTest {
    @TempDir Path tmp;
    private final Device device = new ReferenceDevice();
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    @AfterEach
    void close() { device.close(); }

    @Test
    void saveRefusesANonFiniteTensorNamingItAndLeavesTheRunAsItWas() throws IOException {
        Path run = tmp.resolve("run");
        try (ToyModel m = new ToyModel(device, 1)) {
            CheckpointManifest manifest = new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, 1, 2, "toy", "image", "reference", 1, 0, 1,
                    Map.of(), "", 0);
            Checkpoint.save(run, manifest, m.state());
            Map<String, String> before = FolderHash.of(run);
            Tensor w = m.state().get("student.w");
            double[] v = w.toDoubles();
            v[5] = Double.NaN;
            w.copyFrom(v);
            CheckpointManifest next = new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, 2, 2, "toy", "image", "reference", 1, 0, 2,
                    Map.of(), "", 0);
            NonFiniteTensorException e = assertThrows(NonFiniteTensorException.class, () -> Checkpoint.save(run, next, m.state()));
            assertTrue(e.getMessage().startsWith(run.resolve("checkpoint-2") + ": not written: tensor 'student.w' holds NaN at element 5"), e.getMessage());
            assertEquals(before, FolderHash.of(run), "no checkpoint-2, no temporary left, latest still names checkpoint-1");
        }
    }

    @Test
    void aDivergedStepStopsTheRunBeforeItsCheckpointAndItsReplayNamesTheFirstBadOp() throws IOException {
        Data2VecConfig cfg = Presets.imageMicro();
        Path run = tmp.resolve("run");
        TrainingDivergedException e;
        // lr 3e3: step 1 is still finite (and checkpointed), step 2's backward pass overflows.
        CosineSchedule schedule = new CosineSchedule(3e3, 0, 6, 3e3);
        try (TrainableModel m = ModelFactory.build(cfg, device); BatchSource data = TrainingData.open(TrainingData.GENERATED, cfg, 11)) {
            Pretrainer p = Pretrainer.builder().model(m).source(data).runDir(run).steps(6).schedule(schedule).seed(3).checkpointEvery(1)
                    .describe(cfg.name(), "image").plot(false).progress(new PrintStream(printed, true, StandardCharsets.UTF_8))
                    .rebuild(d -> ModelFactory.build(cfg, d)).build();
            e = assertThrows(TrainingDivergedException.class, p::run);
        }
        String msg = e.getMessage();
        assertEquals(2, e.step(), msg);
        assertTrue(msg.startsWith("the gradient norm is NaN at step 2; training stopped.") || msg.startsWith("loss is "), msg);
        assertTrue(msg.endsWith("The last good checkpoint is " + run.resolve("checkpoint-1") + "."), msg);
        Matcher op = Pattern.compile("the first non-finite value of step 2: op (\\d+) \\((\\w+)\\) wrote (NaN|-?Infinity) to its output '(\\w+)' \\[[0-9, ]+\\] "
                + "at element (\\d+).*; called from (\\w+)\\.").matcher(e.replay());
        assertTrue(op.find(), e.replay());
        assertTrue(printed.toString().contains("replaying step 2 with every op's output checked, from checkpoint-1"), printed.toString());
        // The failing step's row is kept; nothing after it was saved.
        List<MetricsRow> rows = MetricsLog.read(run);
        assertEquals(List.of(1L, 2L), rows.stream().map(MetricsRow::step).toList());
        assertFalse(Double.isFinite(rows.get(1).gradNorm()) && Double.isFinite(rows.get(1).loss()), rows.get(1).toString());
        assertEquals(run.resolve("checkpoint-1"), Checkpoint.latest(run));
        assertFalse(Files.exists(run.resolve("checkpoint-2")));
    }

    @Test
    void anUpdateThatMakesAWeightInfiniteIsCaughtAtThatStepEvenThoughItsLossWasFinite() throws IOException {
        Data2VecConfig cfg = Presets.imageMicro();
        Path run = tmp.resolve("run");
        // lr 1e300 is finite (options accept it), but an F32 weight cannot hold the update: adamw writes Infinity.
        CosineSchedule schedule = new CosineSchedule(1e300, 0, 4, 1e300);
        TrainingDivergedException e;
        try (TrainableModel m = ModelFactory.build(cfg, device); BatchSource data = TrainingData.open(TrainingData.GENERATED, cfg, 11)) {
            Pretrainer p = Pretrainer.builder().model(m).source(data).runDir(run).steps(4).schedule(schedule).seed(3).checkpointEvery(1)
                    .describe(cfg.name(), "image").plot(false).progress(new PrintStream(printed, true, StandardCharsets.UTF_8))
                    .rebuild(d -> ModelFactory.build(cfg, d)).build();
            e = assertThrows(TrainingDivergedException.class, p::run);
        }
        assertEquals(1, e.step());
        assertTrue(e.getMessage().startsWith("the weights are not finite after step 1"), e.getMessage());
        assertTrue(e.getMessage().contains("No checkpoint was written yet."), e.getMessage());
        assertTrue(e.replay().contains("(adamw) wrote") && e.replay().contains("to its output 'param'") && e.replay().contains(" of student."),
                "the replay names the op and the parameter: " + e.replay());
        assertTrue(Double.isFinite(MetricsLog.read(run).get(0).loss()), "step 1's loss itself was finite");
        assertFalse(Files.exists(run.resolve(Checkpoint.LATEST)), "the infinite weights were never saved");
    }

    @Test
    void checkingModeComputesTheSameNumbersAndNamesTheOpThatOverflows() {
        CheckingDevice checking = new CheckingDevice(device);
        double[] big = {1e30, 2, -3e30, 4};
        Tensor a = Tensor.of(checking, DType.F32, Shape.of(4), big), out = Tensor.zeros(checking, DType.F32, 4);
        Tensor plainA = Tensor.of(device, DType.F32, Shape.of(4), big), plainOut = Tensor.zeros(device, DType.F32, 4);
        // Not checking: the op runs on the inner device, same numbers (Infinity included).
        checking.ops().mul(a, a, out, false);
        device.ops().mul(plainA, plainA, plainOut, false);
        assertArrayEquals(plainOut.toDoubles(), out.toDoubles(), 0.0);
        assertEquals(Double.POSITIVE_INFINITY, out.toDoubles()[0]);
        checking.label(Map.of("student.x", a));
        checking.startChecking("step 9");
        checking.ops().add(a, a, out); // 2e30: finite in F32
        NonFiniteValueException e = assertThrows(NonFiniteValueException.class, () -> checking.ops().mul(a, a, out, false));
        assertEquals("mul", e.op());
        assertTrue(e.getMessage().startsWith("step 9: op 2 (mul) wrote Infinity to its output 'out' [4] at element 0"), e.getMessage());
        assertTrue(e.getMessage().contains("called from NonFiniteStateTest.lambda$checkingMode"), e.getMessage());
        // The element of a labelled tensor is named.
        NonFiniteValueException own = assertThrows(NonFiniteValueException.class, () -> checking.ops().axpby(1e30, a, 0, a));
        assertTrue(own.getMessage().contains("at element 0 (element 0 of student.x)"), own.getMessage());
        NonFiniteValueException upload = assertThrows(NonFiniteValueException.class,
                () -> Tensor.of(checking, DType.F32, Shape.of(2), new double[] {1, Double.NaN}));
        assertTrue(upload.getMessage().contains("an upload of 2 values (the step's input data?) holds NaN at element 1"), upload.getMessage());
        for (Tensor t : List.of(a, out, plainA, plainOut)) t.close();
    }
}
