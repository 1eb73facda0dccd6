package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.d2v.backend.RandomStream;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@code position-offsets}: in training each text block starts at a random row of the position
 * table and wraps around it; in evaluation, and with the key off (every preset), every block starts
 * at the first row as before, and nothing more is drawn from the stream.
 */
class TextPositionOffsetsTest {
    private static final ReferenceDevice DEV = new ReferenceDevice(DType.F64);

    private static ModalityConfig.Text text(boolean offsets) {
        return ((ModalityConfig.Text) Presets.textMicro().modality()).withPositionOffsets(offsets);
    }

    @Test
    void offIsEveryPresetsDefault() {
        assertFalse(((ModalityConfig.Text) Presets.textMicro().modality()).positionOffsets());
        assertFalse(((ModalityConfig.Text) Presets.named("text-base").modality()).positionOffsets());
        assertFalse(new ModalityConfig.Text(16, 400, 18, 1, 0.1).positionOffsets());
        ModalityConfig.Text t = text(true);
        assertEquals(t.withPositionOffsets(false), text(false));
        assertEquals(40, t.withMaxPositions(40).maxPositions());
    }

    /** Off, or in eval mode: no start rows, so the forward is the fairseq one and the stream is not touched. */
    @Test
    void offOrInEvaluationEveryBlockStartsAtTheFirstRow() {
        ParameterStore.Builder b = ParameterStore.builder();
        TextFeatures off = new TextFeatures(b.child("off"), text(false), 8);
        TextFeatures on = new TextFeatures(b.child("on"), text(true), 8);
        try (ParameterStore s = b.build(DEV, DType.F64, 1)) {
            RandomStream r = new RandomStream(3);
            off.train(r);
            assertNull(off.startRows(4), "off: nothing drawn");
            assertEquals(0, r.position(), "off: the stream is untouched");
            on.eval();
            assertNull(on.startRows(4), "eval: every block at the first row");
            on.train(r);
            int[] starts = on.startRows(4);
            assertEquals(4, starts.length);
            for (int v : starts) assertTrue(v >= 0 && v < on.positionRows(), "start " + v);
            assertTrue(r.position() > 0, "on, in training: the starts come from the module's stream");
        }
    }

    /** Block b's token t reads row firstPosition + (starts[b] + t) mod rows; start 0 is the fairseq forward, bit for bit. */
    @Test
    void aBlockReadsTheTableFromItsStartRowAndWraps() {
        ModalityConfig.Text cfg = text(true);
        int dim = 8, samples = 2, length = cfg.length(), rows = cfg.maxPositions() - cfg.padIndex() - 1;
        ParameterStore.Builder b = ParameterStore.builder();
        TextFeatures f = new TextFeatures(b.child("t"), cfg, dim);
        try (ParameterStore s = b.build(DEV, DType.F64, 1)) {
            Random rand = new Random(5);
            double[] v = new double[(int) s.length()];
            for (int i = 0; i < v.length; i++) v[i] = rand.nextGaussian();
            s.values().copyFrom(v);
            int[] ids = new int[samples * length];
            for (int i = 0; i < ids.length; i++) ids[i] = 2 + rand.nextInt(cfg.vocab() - 2);
            Tensor idT = Tensor.ofInts(DEV, Shape.of(samples, length), ids);
            f.eval();
            assertArrayEquals(f.forward(idT).toDoubles(), f.forward(idT, new int[samples]).toDoubles(), 0.0, "start 0 = no offsets");

            int[] starts = {rows - 3, 7};
            double[] shifted = f.forward(idT, starts).toDoubles();
            // The same features from the table rolled by hand: each block's rows moved to the first ones.
            Tensor table = s.get("t.embed_positions.weight");
            double[] original = table.toDoubles();
            int first = cfg.padIndex() + 1;
            for (int blk = 0; blk < samples; blk++) {
                double[] rolled = original.clone();
                for (int t = 0; t < length; t++) {
                    int from = first + (starts[blk] + t) % rows;
                    System.arraycopy(original, from * dim, rolled, (first + t) * dim, dim);
                }
                table.copyFrom(rolled);
                double[] expected = f.forward(idT).toDoubles();
                int n = length * dim;
                for (int i = 0; i < n; i++) assertEquals(expected[blk * n + i], shifted[blk * n + i], 1e-12, "block " + blk + " element " + i);
            }
        }
    }

    /** Off is the preset itself; on keeps the parameters and their init but changes the step. */
    @Test
    void onChangesTheStepNotTheModel() {
        Data2VecConfig base = Presets.textMicro();
        Data2VecConfig explicit = base.withModality(text(false));
        assertEquals(base, explicit);
        try (Data2Vec a = new Data2Vec(DEV, base, DType.F64); Data2Vec on = new Data2Vec(DEV, base.withModality(text(true)), DType.F64)) {
            assertArrayEquals(a.parameters().values().toDoubles(), on.parameters().values().toDoubles(), 0.0, "the same parameters and init");
            Batch batch = TinyData.batch(base, new Random(2));
            a.trainStep(batch, 1, 1e-3, new RandomStream(4));
            on.trainStep(batch, 1, 1e-3, new RandomStream(4));
            double diff = 0;
            Map<String, Tensor> sa = a.state(), so = on.state();
            for (Map.Entry<String, Tensor> e : sa.entrySet()) {
                double[] x = e.getValue().toDoubles(), y = so.get(e.getKey()).toDoubles();
                for (int i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i] - y[i]));
            }
            assertTrue(diff > 0, "on: the training step reads other position rows");
        }
    }
}
