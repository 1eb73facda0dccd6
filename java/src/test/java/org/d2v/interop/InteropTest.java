package org.d2v.interop;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.Data2Vec;
import org.d2v.demo.DemoPresets;
import org.d2v.tensor.Tensor;
import org.d2v.train.CheckpointException;
import org.d2v.train.SafeTensors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Export → import of the student encoder, bit-exact, for every modality, under fairseq's names
 * (checked against the names and shapes of fairseq's data2vec 2.0 modules, test resources) and
 * under d2v's own.
 */
class InteropTest {
    @TempDir Path tmp;
    private final ReferenceDevice device = new ReferenceDevice();

    @AfterEach
    void close() { device.close(); }

    private Data2Vec model(String modality, long seed) {
        return new Data2Vec(device, DemoPresets.named(modality + "-micro").withSeed(seed));
    }

    private static Map<String, double[]> student(Data2Vec m) {
        Map<String, double[]> out = new LinkedHashMap<>();
        m.state().forEach((k, t) -> { if (k.startsWith("student.")) out.put(k.substring(8), t.toDoubles()); });
        return out;
    }

    private static Map<String, int[]> shapes(Data2Vec m) {
        Map<String, int[]> out = new LinkedHashMap<>();
        m.state().forEach((k, t) -> { if (k.startsWith("student.")) out.put(k.substring(8), t.shape().dims()); });
        return out;
    }

    /** name → shape of fairseq's student for the micro preset (see the README beside the lists). */
    private static Map<String, String> fairseqList(String modality) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (InputStream in = InteropTest.class.getResourceAsStream("fairseq-data2vec2-" + modality + "-micro.txt")) {
            assertNotNull(in, "name list for " + modality);
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) continue;
                int sp = line.indexOf(' ');
                out.put(line.substring(0, sp), line.substring(sp + 1).replace(" ", ""));
            }
        }
        return out;
    }

    private static Map<String, String> header(Path file) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (SafeTensors.Reader r = SafeTensors.open(file)) {
            r.tensors().values().forEach(i -> out.put(i.name(), Arrays.toString(i.shape().dims()).replace(" ", "")));
            assertEquals("pt", r.metadata().get("format"));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"image", "audio", "text"})
    void fairseqExportHasFairseqsNamesAndShapesAndImportsBackBitExact(String modality) throws IOException {
        Path file = tmp.resolve(modality + ".safetensors");
        Map<String, double[]> original;
        try (Data2Vec m = model(modality, 3)) {
            original = student(m);
            EncoderWeights.write(file, EncoderWeights.Format.FAIRSEQ, modality, modality + "-micro", original, shapes(m));
        }
        Map<String, String> expected = fairseqList(modality);
        // What d2v does not export: the pretraining decoder, and the image's fixed sin-cos positions (docs/interop.md).
        expected.keySet().removeIf(n -> n.contains(".decoder.") || n.endsWith("fixed_positional_encoder.positions"));
        assertEquals(expected, header(file));

        try (Data2Vec fresh = model(modality, 4)) {
            Map<String, double[]> freshDecoder = new TreeMap<>(student(fresh));
            freshDecoder.keySet().removeIf(n -> !n.startsWith("decoder."));
            EncoderWeights.Imported in = EncoderWeights.read(file, modality, EncoderWeights.encoderShapes(fresh.state()));
            assertEquals(EncoderWeights.Format.FAIRSEQ, in.format());
            assertTrue(in.skipped().isEmpty(), in.skipped().toString());
            EncoderWeights.load(fresh.state(), in.values());
            Map<String, double[]> after = student(fresh);
            for (Map.Entry<String, double[]> e : original.entrySet()) {
                double[] want = e.getKey().startsWith("decoder.") ? freshDecoder.get(e.getKey()) : e.getValue();
                assertArrayEquals(bits(want), bits(after.get(e.getKey())), e.getKey());
                Tensor teacher = fresh.state().get("teacher." + e.getKey());
                if (teacher != null && !e.getKey().startsWith("decoder.")) assertArrayEquals(bits(want), bits(teacher.toDoubles()), "teacher " + e.getKey());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"image", "audio", "text"})
    void d2vNamedExportRoundTripsBitExact(String modality) throws IOException {
        Path file = tmp.resolve(modality + "-d2v.safetensors");
        Map<String, double[]> original;
        try (Data2Vec m = model(modality, 5)) {
            original = student(m);
            EncoderWeights.write(file, EncoderWeights.Format.D2V, modality, modality + "-micro", original, shapes(m));
        }
        assertTrue(header(file).keySet().stream().noneMatch(n -> n.startsWith("decoder.")));
        try (Data2Vec fresh = model(modality, 6)) {
            EncoderWeights.Imported in = EncoderWeights.read(file, modality, EncoderWeights.encoderShapes(fresh.state()));
            assertEquals(EncoderWeights.Format.D2V, in.format());
            in.values().forEach((k, v) -> assertArrayEquals(bits(original.get(k)), bits(v), k));
            assertEquals(original.keySet().stream().filter(n -> !n.startsWith("decoder.")).count(), in.values().size());
        }
    }

    /** The conv layouts by hand: d2v [out=2, k=3, in=2] channels-last, fairseq [out, in, k]. */
    @Test
    void convolutionsMoveTheirInputChannelsSecond() {
        double[] d2v = new double[12];
        for (int o = 0; o < 2; o++) for (int k = 0; k < 3; k++) for (int c = 0; c < 2; c++) d2v[(o * 3 + k) * 2 + c] = 100 * o + 10 * c + k;
        double[] fs = Layout.CONV1D.toFairseq(d2v, new int[] {2, 3, 2});
        assertArrayEquals(new double[] {0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112}, fs);
        assertArrayEquals(d2v, Layout.CONV1D.toD2v(fs, new int[] {2, 3, 2}));
        assertArrayEquals(new int[] {4, 1, 7, 7}, Layout.CONV2D.fairseqShape(new int[] {4, 7, 7, 1}, null));
        double[] img = new double[2 * 2 * 2 * 3]; // [out 2, kH 2, kW 2, in 3]
        for (int i = 0; i < img.length; i++) img[i] = i;
        double[] pt = Layout.CONV2D.toFairseq(img, new int[] {2, 2, 2, 3});
        // fairseq [o][c][h][w] = d2v [o][h][w][c]
        assertEquals(img[((1 * 2 + 0) * 2 + 1) * 3 + 2], pt[((1 * 3 + 2) * 2 + 0) * 2 + 1]);
        assertArrayEquals(img, Layout.CONV2D.toD2v(pt, new int[] {2, 2, 2, 3}));
    }

    @Test
    void aFileThatDoesNotFitIsRefusedNamingTheTensor() throws IOException {
        Path file = tmp.resolve("image.safetensors");
        try (Data2Vec m = model("image", 3)) {
            EncoderWeights.write(file, EncoderWeights.Format.FAIRSEQ, "image", "image-micro", student(m), shapes(m));
        }
        try (Data2Vec audio = model("audio", 3)) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> EncoderWeights.read(file, "audio", EncoderWeights.encoderShapes(audio.state())));
            assertTrue(e.getMessage().contains("holds a image encoder, the model is audio"), e.getMessage());
        }
        try (Data2Vec image = model("image", 3)) {
            Map<String, int[]> wider = new LinkedHashMap<>(EncoderWeights.encoderShapes(image.state()));
            wider.put("blocks.0.mlp.fc1.weight", new int[] {256, 32});
            CheckpointException e = assertThrows(CheckpointException.class, () -> EncoderWeights.read(file, "image", wider));
            assertTrue(e.getMessage().contains("'blocks.0.mlp.fc1.weight' has shape [128, 32], the model needs [256, 32]"), e.getMessage());
            Map<String, int[]> fewer = new LinkedHashMap<>(EncoderWeights.encoderShapes(image.state()));
            fewer.remove("blocks.1.norm2.bias");
            e = assertThrows(CheckpointException.class, () -> EncoderWeights.read(file, "image", fewer));
            assertTrue(e.getMessage().contains("'blocks.1.norm2.bias' has no place in d2v's image encoder"), e.getMessage());
            Map<String, int[]> more = new LinkedHashMap<>(EncoderWeights.encoderShapes(image.state()));
            more.put("blocks.2.norm2.bias", new int[] {32});
            e = assertThrows(CheckpointException.class, () -> EncoderWeights.read(file, "image", more));
            assertTrue(e.getMessage().contains("missing, first 'blocks.2.norm2.bias'"), e.getMessage());
        }
    }

    private static long[] bits(double[] v) {
        return Arrays.stream(v).mapToLong(Double::doubleToRawLongBits).toArray();
    }
}
