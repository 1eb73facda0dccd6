package org.d2v.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.UnaryOperator;

/**
 * Hostile checkpoints made by tests from good ones: the tensor file and the manifest stay consistent
 * with each other (size and sha256 updated), so only the check under test can find the problem.
 */
public final class HostileCheckpoints {
    private HostileCheckpoints() {}

    /** Edits manifest.json's text. */
    public static void editManifest(Path checkpoint, UnaryOperator<String> edit) throws IOException {
        Path m = checkpoint.resolve(Checkpoint.MANIFEST);
        Files.writeString(m, edit.apply(Files.readString(m, StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    /** Sets element {@code index} of F32 tensor {@code name} to {@code value} in place and updates the manifest's sha256. */
    public static void poison(Path checkpoint, String name, long index, float value) throws IOException {
        Path file = checkpoint.resolve(Checkpoint.TENSORS);
        long at;
        try (SafeTensors.Reader r = SafeTensors.open(file)) {
            SafeTensors.Info info = r.tensors().get(name);
            if (info == null) throw new IllegalArgumentException("no tensor " + name + " in " + file + ": " + r.tensors().keySet());
            at = info.begin() + index * 4;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long dataStart = 8 + len.flip().getLong();
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).flip(), dataStart + at);
        }
        String sha = SafeTensors.sha256(file);
        editManifest(checkpoint, json -> json.replaceAll("\"tensors_sha256\"\\s*:\\s*\"[0-9a-f]+\"", "\"tensors_sha256\":\"" + sha + "\""));
    }
}
