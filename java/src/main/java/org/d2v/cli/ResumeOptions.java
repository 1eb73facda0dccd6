package org.d2v.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.d2v.train.TrainingData;

/**
 * Options given again on {@code d2v pretrain --resume}, against those the run recorded in its
 * manifest. The run's own options are the source of truth: what defines the run (modality, preset,
 * data, batch, seed) cannot change, and a different value is refused naming both, before anything
 * is read or written; the schedule (--lr, --warmup, --steps) may change, with a note that the result
 * then differs from an uninterrupted run; where and how it runs (--backend, --checkpoint-every,
 * --keep-last, --progress-seconds) may change freely. The tokenizer is compared by content
 * ({@link RunTokenizer}).
 */
final class ResumeOptions {
    /** Options a resume keeps as recorded, with the value a run that did not give them has. */
    private static final Map<String, String> IDENTITY = Map.of("--modality", "", "--preset", "tiny", "--data", TrainingData.GENERATED,
            "--batch", "", "--seed", "1");
    private static final List<String> ORDER = List.of("--modality", "--preset", "--data", "--batch", "--seed");
    private static final List<String> SCHEDULE = List.of("--lr", "--warmup");

    private ResumeOptions() {}

    /** Refuses an identity option given with another value than the run's. */
    static void refuseChanges(Map<String, String> given, Map<String, String> recorded, Path manifest) {
        for (String key : ORDER) {
            if (!given.containsKey(key)) continue;
            String was = recorded.getOrDefault(key, IDENTITY.get(key));
            if (was.isEmpty()) continue; // not recorded by an old run: nothing to compare with
            String now = given.get(key);
            if (!same(key, was, now)) {
                throw new IllegalArgumentException(key + ": '" + now + "' is not the run's '" + was + "' (recorded in " + manifest
                        + "); a resume continues the run as it was trained: leave " + key + " out, or start a new run with --run");
            }
        }
    }

    /** Notes a schedule option given with another value than the run's. */
    static void noteScheduleChanges(Map<String, String> given, Map<String, String> recorded, PrintStream out) {
        for (String key : SCHEDULE) {
            String was = recorded.get(key), now = given.get(key);
            if (was != null && now != null && !same(key, was, now)) {
                out.printf(Locale.ROOT, "note: continuing with %s %s (the run was trained with %s): the result differs from an uninterrupted run%n",
                        key, now, was);
            }
        }
    }

    private static boolean same(String key, String a, String b) {
        if (a.equals(b)) return true;
        switch (key) {
            case "--batch", "--seed", "--warmup" -> {
                try {
                    return Long.parseLong(a.trim()) == Long.parseLong(b.trim());
                } catch (NumberFormatException e) {
                    return false;
                }
            }
            case "--lr" -> {
                try {
                    return Double.parseDouble(a.trim()) == Double.parseDouble(b.trim());
                } catch (NumberFormatException e) {
                    return false;
                }
            }
            case "--data" -> {
                if (a.equals(TrainingData.GENERATED) || b.equals(TrainingData.GENERATED)) return false;
                return samePath(Path.of(a), Path.of(b));
            }
            default -> {
                return false;
            }
        }
    }

    private static boolean samePath(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) return Files.isSameFile(a, b);
        } catch (IOException e) {
            // fall through to the names
        }
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
}
