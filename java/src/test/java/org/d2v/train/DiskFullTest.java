package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.d2v.backend.Device;
import org.d2v.backend.reference.ReferenceDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17, class 5: a disk that fills while a checkpoint is written (injected through the save's
 * write hook, where the operating system would say only "No space left on device"): the message
 * names the checkpoint, the reason, the free space and the space needed; the partial checkpoint is
 * removed and the previous one and 'latest' stay exactly as they were.
 */
class DiskFullTest {
    @TempDir Path tmp;

    @Test
    void aFullDiskDuringASaveNamesTheCheckpointAndLeavesThePreviousOne() throws IOException {
        Path run = tmp.resolve("run");
        try (Device device = new ReferenceDevice(); ToyModel m = new ToyModel(device, 1)) {
            Checkpoint.save(run, manifest(1), m.state());
            Map<String, String> before = FolderHash.of(run);
            IOException e = assertThrows(IOException.class, () -> Checkpoint.save(run, manifest(2), m.state(), name -> {
                if (name.equals("student.w")) throw new IOException("No space left on device");
            }));
            assertTrue(e.getMessage().startsWith(run.resolve("checkpoint-2") + ": could not write the checkpoint of step 2: No space left on device; "),
                    e.getMessage());
            assertTrue(e.getMessage().matches(".*; [0-9.]+ [kMGTPE]?B free on its file system, about [0-9.]+ B needed"), e.getMessage());
            assertEquals(before, FolderHash.of(run), "no partial checkpoint left, checkpoint-1 and latest untouched");
            assertEquals(run.resolve("checkpoint-1"), Checkpoint.latest(run));
        }
    }

    private static CheckpointManifest manifest(long step) {
        return new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, step, 2, "toy", "image", "reference", 1, 0, step, Map.of(), "", 0);
    }
}
