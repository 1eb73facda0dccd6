package org.d2v.train;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Function;
import org.d2v.backend.CheckingDevice;
import org.d2v.backend.Device;
import org.d2v.backend.NonFiniteValueException;
import org.d2v.backend.RandomStream;
import org.d2v.optim.CosineSchedule;

/**
 * Replays a step that produced a non-finite value in anomaly mode, to name the first op whose
 * output was not finite (what PyTorch's {@code detect_anomaly} does for a backward pass).
 *
 * <p>What a replay needs is what a resume needs: a state, the random-stream position and the data
 * position before the step. Keeping a copy of the state before every step would cost a model's
 * memory; instead the replay starts where a resume would, from the run's last checkpoint (or, when
 * none was written yet, the run's start, rebuilt by the model factory), runs the steps between as
 * they ran (a run is deterministic: same state, stream and batches give the same numbers), then
 * runs the failed step on a {@link CheckingDevice} in checking mode. The model is built on that
 * device from the start, so every op of the replay goes through it; only the failed step is
 * checked, one download per op output. The cost: up to one checkpoint interval of steps, once.
 */
final class StepReplay {
    /** Where a replay starts: a checkpoint (null: the run's start) and the step, stream and data position it holds. */
    record Anchor(Path checkpoint, long step, long seed, long rngPosition, long dataPosition) {}

    private StepReplay() {}

    /**
     * Replays step {@code failed} and says what it found, as a sentence for the error message.
     * {@code rebuild} makes the model as the run began on a given device; {@code source} is the
     * run's own data (it is moved back to the anchor's position).
     */
    static String run(Function<Device, TrainableModel> rebuild, Device device, Anchor anchor, long failed, BatchSource source,
                      CosineSchedule schedule, PrintStream out) {
        long began = System.nanoTime();
        CheckingDevice checking = new CheckingDevice(device);
        String from = anchor.checkpoint() == null ? "the start of the run" : anchor.checkpoint().getFileName().toString();
        out.printf(Locale.ROOT, "replaying step %d with every op's output checked, from %s%s%n", failed, from,
                failed - anchor.step() > 1 ? " (steps " + (anchor.step() + 1) + ".." + (failed - 1) + " run unchecked first)" : "");
        try (TrainableModel twin = rebuild.apply(checking)) {
            if (anchor.checkpoint() != null) Checkpoint.load(anchor.checkpoint()).restore(twin.state());
            checking.label(twin.state());
            RandomStream rng = new RandomStream(anchor.seed(), anchor.rngPosition());
            source.seek(anchor.dataPosition());
            for (long n = anchor.step() + 1; n < failed; n++) twin.trainStep(source.next(), n, schedule.lr(n - 1), rng);
            checking.startChecking("step " + failed);
            try {
                twin.trainStep(source.next(), failed, schedule.lr(failed - 1), rng).resolve();
            } finally {
                checking.stopChecking();
            }
            return String.format(Locale.ROOT, "The replay of step %d checked the outputs of its %d ops and found no non-finite value: the "
                    + "failure did not reproduce (%.1f s).", failed, checking.opsChecked(), (System.nanoTime() - began) * 1e-9);
        } catch (NonFiniteValueException e) {
            return "Replayed with every op's output checked, the first non-finite value of " + e.getMessage();
        } catch (Exception e) {
            return "(The replay of step " + failed + " in checking mode could not run: " + e.getMessage() + ")";
        }
    }
}
