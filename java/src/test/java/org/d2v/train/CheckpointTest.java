package org.d2v.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.d2v.backend.Device;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.json.Json;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir Path run;
    private final Device device = new ReferenceDevice();

    @AfterEach
    void close() { device.close(); }

    private Map<String, Tensor> state(double base) {
        Map<String, Tensor> s = new LinkedHashMap<>();
        s.put("student.w", Tensor.of(device, DType.F32, Shape.of(2, 3), new double[] {base, 1.5, -2.25, 3e-8, 1e6, -0.1}));
        s.put("teacher.w", Tensor.of(device, DType.F64, Shape.of(3), new double[] {Math.PI * base, Math.E, -1e-300}));
        s.put("opt.count", Tensor.ofInts(device, Shape.of(1), new int[] {(int) base * 7 - 3}));
        s.put("scalar", Tensor.of(device, DType.F32, Shape.of(), new double[] {0.125 * base}));
        return s;
    }

    private Map<String, Tensor> zerosLike(Map<String, Tensor> s) {
        Map<String, Tensor> z = new LinkedHashMap<>();
        s.forEach((k, t) -> z.put(k, Tensor.zeros(device, t.dtype(), t.shape().dims())));
        return z;
    }

    private static CheckpointManifest manifest(long step) {
        return new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, step, 10, "tiny", "image", "reference", -42L,
                1000 + step, 3 * step, Map.of("batch", "4"), "", 0);
    }

    @Test
    void roundTripRestoresEveryTensorExactlyAndTheManifest() throws IOException {
        Map<String, Tensor> saved = state(3);
        Checkpoint.save(run, manifest(5), saved);
        Path latest = Checkpoint.latest(run);
        assertEquals(run.resolve("checkpoint-5"), latest);
        Checkpoint c = Checkpoint.load(latest);
        CheckpointManifest m = c.manifest();
        assertEquals(5, m.step());
        assertEquals(-42L, m.seed());
        assertEquals(1005, m.rngPosition());
        assertEquals(15, m.dataPosition());
        assertEquals("image", m.modality());
        assertEquals(Map.of("batch", "4"), m.config());
        assertEquals(64, m.tensorsSha256().length());

        Map<String, Tensor> target = zerosLike(saved);
        c.restore(target);
        for (String name : saved.keySet()) {
            assertArrayEquals(saved.get(name).toDoubles(), target.get(name).toDoubles(), 0.0, name);
        }
    }

    /** The manifest no longer carries the metrics history: its size does not grow with the step. */
    @Test
    void theManifestStaysTheSameSizeAsTheRunGoesOn() throws IOException {
        Checkpoint.save(run, manifest(10), state(1));
        Checkpoint.save(run, manifest(99), state(1));
        long early = Files.size(run.resolve("checkpoint-10").resolve(Checkpoint.MANIFEST));
        long late = Files.size(run.resolve("checkpoint-99").resolve(Checkpoint.MANIFEST));
        assertTrue(Math.abs(late - early) <= 4, early + " vs " + late + " bytes: only the digits of step/positions may differ");
        assertFalse(Files.readString(run.resolve("checkpoint-99").resolve(Checkpoint.MANIFEST)).contains("metrics"));
    }

    /** Format 1 manifests (with the embedded history) still load. */
    @Test
    void aFormatOneManifestStillLoads() throws IOException {
        Checkpoint.save(run, manifest(2), state(1));
        Path file = run.resolve("checkpoint-2").resolve(Checkpoint.MANIFEST);
        String v3 = Files.readString(file);
        Files.writeString(file, v3.replace("\"format_version\":3", "\"format_version\":1").replace(",\"tensors_sha256\"",
                ",\"metrics\":[" + new MetricsRow(1, 1e-4, 2.5, 2, 0.5, 1, 0.9, 3, 10, 100, 0.5).toJsonLine() + ","
                        + new MetricsRow(2, 2e-4, Double.NaN, 2, 0.5, 1, 0.9, 3, 10, 100, 1).toJsonLine() + "],\"tensors_sha256\""));
        Checkpoint c = Checkpoint.load(Checkpoint.latest(run));
        assertEquals(1, c.manifest().formatVersion());
        List<MetricsRow> rows = MetricsLog.history(run, c);
        assertEquals(2, rows.size());
        assertEquals(2.5, rows.get(0).loss());
        assertTrue(Double.isNaN(rows.get(1).loss()), "non-finite metrics come back as NaN");
        Files.writeString(file, v3.replace("\"format_version\":3", "\"format_version\":2"));
        assertEquals(2, Checkpoint.load(run.resolve("checkpoint-2")).manifest().formatVersion(), "format 2 (data positions in batches) loads");
        Files.writeString(file, v3.replace("\"format_version\":3", "\"format_version\":4"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(run.resolve("checkpoint-2")));
        assertTrue(e.getMessage().contains("format version 4 is not supported"), e.getMessage());
    }

    @Test
    void keepLastDeletesOlderCheckpointsButNeverTheLatest() throws IOException {
        for (long step = 1; step <= 4; step++) Checkpoint.save(run, manifest(step), state(step));
        Checkpoint.keepLast(run, 2);
        assertEquals(List.of("checkpoint-3", "checkpoint-4", "latest"), names());
        // A newer folder than 'latest' (a save that crashed between its rename and the pointer): latest stays too.
        Files.writeString(run.resolve(Checkpoint.LATEST), "checkpoint-3\n");
        Checkpoint.keepLast(run, 1);
        assertEquals(List.of("checkpoint-3", "checkpoint-4", "latest"), names());
        Files.writeString(run.resolve(Checkpoint.LATEST), "checkpoint-4\n");
        Checkpoint.keepLast(run, 1);
        assertEquals(List.of("checkpoint-4", "latest"), names());
        Checkpoint.load(Checkpoint.latest(run));
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(run)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void tensorsLargerThanOneChunkRoundTrip() throws IOException {
        int n = 2 * SafeTensors.CHUNK + 123;
        double[] values = new double[n];
        int[] ints = new int[n];
        for (int i = 0; i < n; i++) { values[i] = Math.sin(i) * 1e3; ints[i] = i * 31 - 7; }
        Map<String, Tensor> big = new LinkedHashMap<>();
        big.put("flat", Tensor.of(device, DType.F32, Shape.of(n), values));
        big.put("counts", Tensor.ofInts(device, Shape.of(n), ints));
        Checkpoint.save(run, manifest(1), big);
        Map<String, Tensor> target = zerosLike(big);
        Checkpoint.load(Checkpoint.latest(run)).restore(target);
        assertArrayEquals(big.get("flat").toDoubles(), target.get("flat").toDoubles(), 0.0);
        assertArrayEquals(ints, target.get("counts").toInts());
    }

    @Test
    void tensorFileFollowsTheSafetensorsLayout() throws IOException {
        Checkpoint.save(run, manifest(1), state(1));
        byte[] bytes = Files.readAllBytes(run.resolve("checkpoint-1").resolve(Checkpoint.TENSORS));
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to 8 bytes");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        Map<?, ?> h = (Map<?, ?>) Json.parse(header);
        Map<?, ?> w = (Map<?, ?>) h.get("student.w");
        assertEquals("F32", w.get("dtype"));
        assertEquals(List.of(2L, 3L), w.get("shape"));
        List<?> offs = (List<?>) w.get("data_offsets");
        long begin = (Long) offs.get(0);
        assertEquals(24, (Long) offs.get(1) - begin);
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (8 + n + begin), 24).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1.0f, data.getFloat());
        assertEquals(1.5f, data.getFloat());
        assertEquals(-2.25f, data.getFloat());
        Map<?, ?> count = (Map<?, ?>) h.get("opt.count");
        assertEquals("I32", count.get("dtype"));
        int at = (int) (8 + n + (Long) ((List<?>) count.get("data_offsets")).get(0));
        assertEquals(4, ByteBuffer.wrap(bytes, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt());
        assertEquals(List.of(), ((Map<?, ?>) h.get("scalar")).get("shape"));
    }

    @Test
    void aWriteKilledHalfwayLeavesTheLastGoodCheckpointLoadable() throws IOException {
        Map<String, Tensor> good = state(1);
        Checkpoint.save(run, manifest(1), good);
        int[] written = {0};
        IOException e = assertThrows(IOException.class, () -> Checkpoint.save(run, manifest(2), state(2), name -> {
            if (++written[0] == 2) throw new IOException("simulated crash after " + name);
        }));
        assertTrue(e.getMessage().contains("simulated crash"));
        assertEquals(run.resolve("checkpoint-1"), Checkpoint.latest(run));
        assertFalse(Files.exists(run.resolve("checkpoint-2")));
        Map<String, Tensor> target = zerosLike(good);
        Checkpoint.load(Checkpoint.latest(run)).restore(target);
        for (String name : good.keySet()) assertArrayEquals(good.get(name).toDoubles(), target.get(name).toDoubles(), 0.0, name);

        // The half-written temporary folder is cleared by the next save, which succeeds.
        Checkpoint.save(run, manifest(2), state(2));
        assertEquals(run.resolve("checkpoint-2"), Checkpoint.latest(run));
        try (Stream<Path> entries = Files.list(run)) {
            assertTrue(entries.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "temporaries left behind");
        }
    }

    @Test
    void savingTheSameStepAgainReplacesIt() throws IOException {
        Checkpoint.save(run, manifest(4), state(1));
        Checkpoint.save(run, manifest(4), state(2));
        Map<String, double[]> values = Checkpoint.load(Checkpoint.latest(run)).readAll();
        assertEquals(2.0, values.get("student.w")[0]);
    }

    @Test
    void missingRunOrPointerOrManifestIsNamed() throws IOException {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.latest(run.resolve("nope")));
        assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("does not exist"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> Checkpoint.latest(run));
        assertTrue(e.getMessage().contains("latest"), e.getMessage());
        Checkpoint.save(run, manifest(1), state(1));
        Files.delete(run.resolve("checkpoint-1").resolve(Checkpoint.MANIFEST));
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(run.resolve("checkpoint-1")));
        assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void truncatedTensorFileIsASizeMismatch() throws IOException {
        Path tensors = saved().resolve(Checkpoint.TENSORS);
        try (RandomAccessFile f = new RandomAccessFile(tensors.toFile(), "rw")) {
            f.setLength(f.length() - 5);
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(saved()));
        assertTrue(e.getMessage().contains(Checkpoint.TENSORS) && e.getMessage().contains("size mismatch")
                && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void flippedDataByteIsAChecksumMismatch() throws IOException {
        Path tensors = saved().resolve(Checkpoint.TENSORS);
        byte[] b = Files.readAllBytes(tensors);
        b[b.length - 3] ^= 0x10;
        Files.write(tensors, b);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(saved()));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    }

    @Test
    void garbageHeaderIsABadHeader() throws IOException {
        Path tensors = saved().resolve(Checkpoint.TENSORS);
        byte[] b = Files.readAllBytes(tensors);
        b[8] = 'x'; // the '{' that opens the JSON header
        Files.write(tensors, b);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(saved()));
        assertTrue(e.getMessage().contains("bad header"), e.getMessage());

        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(tensors, b);
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(saved()));
        assertTrue(e.getMessage().contains("bad header") && e.getMessage().contains("header length"), e.getMessage());
    }

    @Test
    void corruptManifestIsNamed() throws IOException {
        Path manifest = saved().resolve(Checkpoint.MANIFEST);
        String original = Files.readString(manifest);
        Files.writeString(manifest, original.replaceFirst("\"step\":1,", ""));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(saved()));
        assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("'step'"), e.getMessage());
        Files.writeString(manifest, original.replace("\"seed\":-42", "\"seed\":\"x\""));
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(saved()));
        assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("'seed' is missing or not an integer"), e.getMessage());
        Files.writeString(manifest, "[".repeat(10_000));
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(saved()));
        assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("depth"), e.getMessage());
    }

    @Test
    void missingTensorShapeMismatchAndExtraTensorAreRefusedBeforeAnyCopy() throws IOException {
        Checkpoint c = Checkpoint.load(saved());
        Map<String, Tensor> target = zerosLike(state(1));
        target.put("student.extra", Tensor.zeros(device, DType.F32, 2));
        CheckpointException e = assertThrows(CheckpointException.class, () -> c.restore(target));
        assertTrue(e.getMessage().contains("missing tensor 'student.extra'"), e.getMessage());
        assertEquals(0.0, target.get("student.w").toDoubles()[0], "nothing copied before the error");

        Map<String, Tensor> wrongShape = zerosLike(state(1));
        wrongShape.put("student.w", Tensor.zeros(device, DType.F32, 3, 2));
        e = assertThrows(CheckpointException.class, () -> c.restore(wrongShape));
        assertTrue(e.getMessage().contains("shape mismatch for 'student.w'") && e.getMessage().contains("[2, 3]"), e.getMessage());

        Map<String, Tensor> fewer = zerosLike(state(1));
        fewer.remove("scalar");
        e = assertThrows(CheckpointException.class, () -> c.restore(fewer));
        assertTrue(e.getMessage().contains("'scalar' is not part of this model"), e.getMessage());
    }

    private Path saved() throws IOException {
        Path dir = run.resolve("checkpoint-1");
        if (!Files.exists(dir)) Checkpoint.save(run, manifest(1), state(1));
        return dir;
    }
}
