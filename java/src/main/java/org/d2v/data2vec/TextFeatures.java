package org.d2v.data2vec;

import org.d2v.autograd.F;
import org.d2v.autograd.Tape;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.nn.Embedding;
import org.d2v.nn.LayerNorm;
import org.d2v.nn.Module;
import org.d2v.nn.ParameterStore;
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

    /** ids [B, T] (I32) → local features [B, T, D]. */
    Tensor forward(Tensor ids) {
        int length = ids.dim(1);
        if (firstPosition() + length > cfg.maxPositions()) {
            throw new IllegalArgumentException("text of " + length + " tokens exceeds the " + cfg.maxPositions() + " learned positions");
        }
        Tensor posIds = Indices.iota(ids.device(), 1, length, firstPosition()).reshape(length);
        // Positions are a table added to every sample: looked up in the master (fp32) table.
        Tensor x = F.addBroadcast(tokens.forward(ids), positions.forwardMaster(posIds));
        return dropout(norm.forward(x), cfg.dropout());
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
