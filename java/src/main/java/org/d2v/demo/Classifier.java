package org.d2v.demo;

import java.util.LinkedHashMap;
import java.util.Map;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Encoder;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.nn.Init;
import org.d2v.nn.LayerNorm;
import org.d2v.nn.Linear;
import org.d2v.nn.Module;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Tensor;

/**
 * The fine-tuning model of docs/algorithm.md §10, for any modality: the data2vec 2.0 student {@link Encoder}
 * on unmasked input, mean over its tokens (CLS removed) → LayerNorm (eps 1e-6) → Linear head
 * (N(0, 0.02²), zero bias). (For text the reference puts a RoBERTa head on {@code <s>}; one
 * head for all modalities keeps the comparison between them simple.)
 *
 * <p>The encoder's parameters carry the pretrained student's names, so a checkpoint's
 * {@code student.*} tensors load by name.
 */
public final class Classifier extends Module {
    /** Prefix of the student's tensors in a data2vec checkpoint. */
    public static final String STUDENT = "student.";

    private final Encoder encoder;
    private final LayerNorm fcNorm;
    private final Linear head;

    public Classifier(ParameterStore.Builder b, Data2VecConfig cfg, int classes) {
        int d = cfg.encoder().dim();
        encoder = child("encoder", new Encoder(b, cfg));
        fcNorm = child("fc_norm", new LayerNorm(b.child("fc_norm"), d, 1e-6, true));
        head = child("head", new Linear(b.child("head"), d, classes, true, Init.normal(0.02), Init.zeros()));
    }

    /** Mean-pooled encoder features [B, D] (before fc_norm and the head). */
    public Tensor pooled(Batch batch) { return encoder.pooled(batch); }

    /** Class logits [B, classes]. */
    public Tensor logits(Batch batch) { return head.forward(fcNorm.forward(pooled(batch))); }

    /**
     * Copies the pretrained student's encoder tensors ({@code student.<name>} in {@code checkpoint})
     * into {@code store}, keeping the freshly initialised head and fc_norm; every encoder parameter
     * must be found, with the right size.
     */
    public static void loadEncoder(ParameterStore store, Map<String, double[]> checkpoint, String source) {
        Map<String, double[]> merged = new LinkedHashMap<>(store.stateDict());
        for (String name : store.names()) {
            if (name.startsWith("head.") || name.startsWith("fc_norm.")) continue;
            double[] v = checkpoint.get(STUDENT + name);
            if (v == null) throw new IllegalArgumentException(source + ": no tensor " + STUDENT + name + " for the encoder");
            merged.put(name, v);
        }
        store.loadStateDict(merged, source);
    }
}
