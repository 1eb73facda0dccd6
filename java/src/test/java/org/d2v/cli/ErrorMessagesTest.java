package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.d2v.backend.OutOfDeviceMemoryException;
import org.d2v.train.Checkpoint;
import org.d2v.train.FolderHash;
import org.d2v.train.ToyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17, class 5 (unclear errors): every failure reaches the user as
 * {@code d2v <command>: <file or option>: <problem>}, with a hint where one exists, never a bare
 * path, a bare OS reason, or a raw exception text passed off as a message.
 */
class ErrorMessagesTest {
    @TempDir Path tmp;

    private static void assertOneLine(Captured c, int code, String... parts) {
        assertEquals(code, c.code(), c.err());
        assertEquals(1, c.err().lines().filter(l -> l.startsWith("d2v ")).count(), c.err());
        for (String p : parts) assertTrue(c.err().contains(p), "the message says '" + p + "':\n" + c.err());
        assertFalse(c.err().contains("\tat ") || c.err().contains("Exception:"), "no stack trace:\n" + c.err());
    }

    @Test
    void aRunFolderUnderAFileNamesTheFileAndWhy() throws Exception {
        Path file = Files.writeString(tmp.resolve("plain-file"), "x");
        Captured c = Captured.run(() -> new PretrainCommand((cfg, d) -> new ToyModel(d, 1)).run("--modality", "image", "--backend", "reference",
                "--steps", "2", "--run", file.resolve("run").toString()));
        assertOneLine(c, 2, "d2v pretrain: --run: " + file.resolve("run") + " cannot be created: " + file + " is a file, not a folder");
        assertEquals("x", Files.readString(file));
    }

    @Test
    void tooFewExamplesForABatchNamesTheDataFileAndTheOption() throws Exception {
        Path idx = tmp.resolve("tiny-images-idx3-ubyte");
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(idx))) {
            out.writeInt(2051);
            out.writeInt(1);
            out.writeInt(28);
            out.writeInt(28);
            out.write(new byte[28 * 28]);
        }
        Captured c = Captured.run(() -> new PretrainCommand((cfg, d) -> new ToyModel(d, 1)).run("--modality", "image", "--backend", "reference",
                "--steps", "2", "--batch", "2", "--data", idx.toString(), "--run", tmp.resolve("run").toString()));
        assertOneLine(c, 2, "d2v pretrain: " + idx + ": ", "batch size 2 for 1 examples (fewer examples than one batch of --batch 2)");
        assertFalse(Files.exists(tmp.resolve("run")), "nothing was written");
    }

    @Test
    void aHugeBatchIsRefusedInSecondsWithTheNumbersBeforeAnythingIsWritten() throws Exception {
        long t0 = System.nanoTime();
        Path run = tmp.resolve("run");
        Captured c = Captured.run(() -> new PretrainCommand().run("--modality", "image", "--preset", "micro", "--backend", "reference",
                "--batch", "3000000", "--run", run.toString()));
        double seconds = (System.nanoTime() - t0) * 1e-9;
        assertOneLine(c, 2, "d2v pretrain: --batch: a batch of 3000000 needs about ", " per sample), more than the ",
                "of reference (pure Java) (the JVM heap (-Xmx), elements held as doubles); at most about ");
        assertTrue(c.out().startsWith("memory estimate: "), c.out());
        assertTrue(seconds < 20, "refused after " + seconds + " s");
        assertFalse(Files.exists(run), "nothing was written");
    }

    @Test
    void javaHeapAndDeviceMemoryExhaustionGiveTheBatchHintAndNoTrace() throws Exception {
        Captured heap = Captured.run(() -> new PretrainCommand((cfg, d) -> { throw new OutOfMemoryError("Java heap space"); })
                .run("--modality", "image", "--backend", "reference", "--run", tmp.resolve("a").toString()));
        assertOneLine(heap, 1, "d2v pretrain: out of Java heap memory (Java heap space); try a smaller --batch");
        Captured device = Captured.run(() -> new PretrainCommand((cfg, d) -> {
            throw new OutOfDeviceMemoryException("opencl: X: cannot allocate 123 bytes", null);
        }).run("--modality", "image", "--backend", "reference", "--run", tmp.resolve("b").toString()));
        assertOneLine(device, 1, "d2v pretrain: opencl: X: cannot allocate 123 bytes; try a smaller --batch");
        Captured deep = Captured.run(() -> new PretrainCommand((cfg, d) -> { throw new StackOverflowError(); })
                .run("--modality", "image", "--backend", "reference", "--run", tmp.resolve("c").toString()));
        assertOneLine(deep, 1, "d2v pretrain: internal error: stack overflow in ", "(--debug prints the stack trace)");
    }

    @Test
    void rawExceptionTextsAndBarePathsAreWordedOrCalledInternal() {
        // An exception the JDK raised (here ByteBuffer's, as a reader that trusted a length would meet it) is not a message.
        IllegalArgumentException raw = null;
        try {
            ByteBuffer.allocate(37).position(38);
        } catch (IllegalArgumentException e) {
            raw = e;
        }
        String said = Failures.describe(raw);
        assertTrue(said.startsWith("internal error: IllegalArgumentException: newPosition > limit: (38 > 37) in ErrorMessagesTest."), said);
        assertEquals(1, Failures.exitCode(raw));
        // File-system exceptions whose message is the path alone.
        assertEquals("/some/dir: permission denied", Failures.describe(new AccessDeniedException("/some/dir")));
        assertEquals("/some/file: not a folder", Failures.describe(new NotDirectoryException("/some/file")));
        assertEquals(2, Failures.exitCode(new AccessDeniedException("/some/dir")));
        // A bare OS reason that reached the command line without a file.
        IOException os = new IOException("No space left on device");
        StackTraceElement[] trace = os.getStackTrace();
        StackTraceElement[] fromJdk = new StackTraceElement[trace.length + 1];
        fromJdk[0] = new StackTraceElement("sun.nio.ch.FileDispatcherImpl", "write0", "FileDispatcherImpl.java", -2); // where the JDK throws it
        System.arraycopy(trace, 0, fromJdk, 1, trace.length);
        os.setStackTrace(fromJdk);
        String full = Failures.describe(os);
        assertTrue(full.startsWith("could not write a file: No space left on device in ErrorMessagesTest."), full);
    }

    /**
     * A real full disk: a 320 kB tmpfs (mounting needs root and a kernel that lets this process mount;
     * elsewhere the test is skipped, and DiskFullTest covers the same path through a seam).
     */
    @Test
    void aFullDiskNamesTheCheckpointTheFreeSpaceAndWhatWasNeeded() throws Exception {
        Path mount = Files.createDirectories(tmp.resolve("small-disk"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=320k", "tmpfs", mount.toString()) == 0, "cannot mount a tmpfs here");
        try {
            Path runDir = mount.resolve("run");
            Captured c = Captured.run(() -> new PretrainCommand().run("--modality", "image", "--preset", "micro", "--backend", "reference",
                    "--steps", "2", "--checkpoint-every", "1", "--run", runDir.toString(), "--progress-seconds", "100"));
            assertOneLine(c, 1, "d2v pretrain: " + runDir.resolve("checkpoint-1") + ": could not write the checkpoint of step 1: No space left on device",
                    "kB free on its file system, about 664.6 kB needed");
            Map<String, String> left = FolderHash.of(runDir);
            assertFalse(left.keySet().stream().anyMatch(n -> n.startsWith(".tmp")), "the partial checkpoint was removed: " + left.keySet());
            assertFalse(Files.exists(runDir.resolve(Checkpoint.LATEST)));
            assertTrue(Files.readAllLines(runDir.resolve("metrics.jsonl")).size() == 1, "step 1's row was written before the save");
        } finally {
            assertEquals(0, run("umount", mount.toString()), "tmpfs unmounted");
        }
    }

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
