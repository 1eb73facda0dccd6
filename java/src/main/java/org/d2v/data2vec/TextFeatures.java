package org.d2v.data2vec;

import org.d2v.autograd.F;
import org.d2v.autograd.Tape;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.nn.Embedding;
import org.d2v.nn.LayerNorm;
import org.d2v.nn.Module;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The text local encoder (docs/algorithm.md §3.3): token embedding (no √D scale) + learned positions, LN,
 * dropout. Positions are fairseq's padding-aware ones: token t sits at row padIndex + 1 + t.
 * The teacher reads the student's features, dropout included, or with
 * {@link ModalityConfig.TeacherInput#TOKENS} {@link #tokensOnly}, or with
 * {@link ModalityConfig.TeacherInput#EMA} its own EMA copy of this module (docs/algorithm.md §5).
 */
final class TextFeatures extends Module {
    private static final double LN_EPS = 1e-5;

    private final ModalityConfig.Text cfg;
    private final Embedding tokens;
    private final Embedding positions;
    private final LayerNorm norm;

    /**
     * Declared untracked, or tracked (EMA) when the teacher has its own copy
     * ({@link ModalityConfig.TeacherInput#EMA}): then the teacher's store declares one too, in the same place.
     */
    TextFeatures(ParameterStore.Builder root, ModalityConfig.Text cfg, int dim) {
        ParameterStore.Builder b = root.tracked(cfg.teacherInput() == ModalityConfig.TeacherInput.EMA);
        this.cfg = cfg;
        tokens = child("embed_tokens", new Embedding(b.child("embed_tokens"), cfg.vocab(), dim, cfg.padIndex()));
        positions = child("embed_positions", new Embedding(b.child("embed_positions"), cfg.maxPositions(), dim, cfg.padIndex()));
        norm = child("embed_norm", new LayerNorm(b.child("embed_norm"), dim, LN_EPS, true));
    }

    int firstPosition() { return cfg.padIndex() + 1; }

    /** The position rows a block can use: those after the padding row. */
    int positionRows() { return cfg.maxPositions() - firstPosition(); }

    /**
     * Where each of {@code samples} blocks starts in the position table, drawn from this module's
     * stream: only in training with {@code positionOffsets} on; otherwise null (every block starts
     * at the first row, and nothing is drawn, so the stream is the same as without the key).
     */
    int[] startRows(int samples) {
        if (!cfg.positionOffsets() || !isTraining()) return null;
        RandomStream r = random();
        int[] starts = new int[samples];
        for (int i = 0; i < samples; i++) starts[i] = r.nextInt(positionRows());
        return starts;
    }

    /** ids [B, T] (I32) → local features [B, T, D], every block at the first position row. */
    Tensor forward(Tensor ids) { return forward(ids, null); }

    /**
     * ids [B, T] (I32) → local features [B, T, D]. {@code starts} (from {@link #startRows}, or null):
     * block b's token t sits at row firstPosition + (starts[b] + t) mod positionRows, so a row says
     * nothing about a token's place in its block (wrapping keeps every row trained as often).
     */
    Tensor forward(Tensor ids, int[] starts) {
        int length = ids.dim(1);
        if (firstPosition() + length > cfg.maxPositions()) {
            throw new IllegalArgumentException("text of " + length + " tokens exceeds the " + cfg.maxPositions() + " learned positions");
        }
        if (starts != null) return dropout(norm.forward(F.add(tokens.forward(ids), positions.forward(shiftedRows(ids, starts)))), cfg.dropout());
        Tensor posIds = Indices.iota(ids.device(), 1, length, firstPosition()).reshape(length);
        // Positions are a table added to every sample: looked up in the master (fp32) table.
        Tensor x = F.addBroadcast(tokens.forward(ids), positions.forwardMaster(posIds));
        return dropout(norm.forward(x), cfg.dropout());
    }

    /** Position ids [B, T] for blocks starting at {@code starts}, wrapping around the table. */
    private Tensor shiftedRows(Tensor ids, int[] starts) {
        int samples = ids.dim(0), length = ids.dim(1), rows = positionRows();
        if (starts.length != samples) throw new IllegalArgumentException(starts.length + " start rows for " + samples + " blocks");
        int[] v = new int[samples * length];
        for (int b = 0; b < samples; b++) for (int t = 0; t < length; t++) v[b * length + t] = firstPosition() + (starts[b] + t) % rows;
        return Tensor.ofInts(ids.device(), Shape.of(samples, length), v);
    }

    /**
     * The teacher's input without order: LN(token embedding) of the student's table and LN, no
     * positions, no dropout (the teacher runs in eval mode). Computed on a tape of its own that is
     * dropped unread, so nothing of it reaches the student's backward: the teacher never sends gradients.
     */
    Tensor tokensOnly(Tensor ids) {
        Tensor x;
        try (Tape discarded = Tape.record()) {
            x = norm.forward(tokens.forward(ids));
        }
        return Tensor.view(x.buffer(), x.offset(), x.shape());
    }
}
