package org.d2v.diagnostics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.Encoder;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Tensor;

/**
 * The teacher as an {@link Encoder}: the student's architecture with the EMA teacher's tracked
 * parameters and the student's untracked ones (the local encoder that the audio and text teachers
 * read, docs/algorithm.md §5), in eval mode — exactly the network that makes the training targets. A copy made
 * for one measurement, so the model itself is never touched; close it after use.
 */
final class TeacherView implements AutoCloseable {
    private final Encoder encoder;
    private final ParameterStore store;

    TeacherView(Data2Vec model) {
        ParameterStore.Builder b = ParameterStore.builder();
        encoder = new Encoder(b, model.config());
        ParameterStore student = model.parameters();
        store = b.build(student.device(), student.dtype(), model.config().seed());
        try {
            Map<String, double[]> values = new LinkedHashMap<>();
            Map<String, double[]> s = student.stateDict(), t = model.teacherParameters().stateDict();
            for (String name : store.names()) {
                double[] v = t.containsKey(name) ? t.get(name) : s.get(name);
                if (v == null) throw new IllegalStateException("the model has no parameter " + name + " for the teacher view");
                values.put(name, v);
            }
            store.loadStateDict(values, "teacher of " + model.config().name());
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        encoder.eval();
    }

    /** The FFN outputs of every main block on the unmasked input, extra tokens dropped: each [B, T, D] on the host. */
    List<double[]> ffn(Batch batch) {
        try (Scope scope = Scope.open()) {
            return encoder.encode(batch).ffn().stream().map(Tensor::toDoubles).toList();
        }
    }

    @Override public void close() { store.close(); }
}
