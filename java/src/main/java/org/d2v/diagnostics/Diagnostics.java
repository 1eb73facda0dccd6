package org.d2v.diagnostics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.Data2Vec;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.eval.LabeledSet;
import org.d2v.nn.ParameterStore;

/**
 * Measures a {@link Snapshot} of a data2vec 2.0 model on fixed held-out inputs: the examples of a
 * labeled set (a probe task's test split, never seen in pretraining), grouped by shape. The
 * teacher's layers come from a {@link TeacherView}; predictions from {@link Data2Vec#reconstruct}
 * (eval mode) with masks drawn from a stream of a fixed seed, so every measurement of a run sees
 * the same inputs and the same masks.
 */
public final class Diagnostics {
    /** Examples used for the target and prediction statistics (the first of the held-out set). */
    public static final int STAT_EXAMPLES = 128;
    /** Examples whose pooled features give the effective rank (at most). */
    public static final int RANK_EXAMPLES = 500;
    private static final int BATCH = 64;

    private final LabeledSet heldOut;
    private final long maskSeed;
    private final Batch positionBatch;

    public Diagnostics(LabeledSet heldOut, long maskSeed) { this(heldOut, maskSeed, null); }

    /** With {@code positionBatch}: a fixed pretraining batch on which the targets' {@link PositionShare} is measured. */
    public Diagnostics(LabeledSet heldOut, long maskSeed, Batch positionBatch) {
        this.heldOut = heldOut;
        this.maskSeed = maskSeed;
        this.positionBatch = positionBatch;
    }

    public Snapshot measure(Data2Vec model, long step) {
        int k = model.config().loss().topK();
        int depth = model.config().encoder().depth();
        List<ActivationStats> raw = new ArrayList<>(), norm = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            raw.add(new ActivationStats());
            norm.add(new ActivationStats());
        }
        ActivationStats target = new ActivationStats(), pred = new ActivationStats();
        List<double[]> targetRows = new ArrayList<>();
        double sse = 0, sst = 0;
        int statN = Math.min(STAT_EXAMPLES, heldOut.size());
        RandomStream masks = new RandomStream(maskSeed);
        try (TeacherView teacher = new TeacherView(model)) {
            for (LabeledSet.Group g : heldOut.groups(first(statN), BATCH)) {
                Batch batch = g.batch();
                int tokens = model.tokens(batch);
                if (tokens < 2) continue; // no spread over a single position
                List<double[]> ffn = teacher.ffn(batch);
                int b = batch.size(), d = model.config().encoder().dim();
                for (int i = 0; i < k; i++) {
                    double[] a = ffn.get(depth - k + i);
                    raw.get(i).add(a, b, tokens, d);
                    norm.get(i).add(ActivationStats.instanceNorm(a, b, tokens, d), b, tokens, d);
                }
                MaskBatch m = model.masker().sample(b * model.config().clones(), tokens, masks);
                Data2Vec.Reconstruction r = model.reconstruct(batch, m, new RandomStream(maskSeed + 1));
                int w = r.width();
                target.add(r.target(), b, tokens, w);
                for (int t = 0; t < b * tokens; t++) {
                    double[] row = new double[w];
                    System.arraycopy(r.target(), t * w, row, 0, w);
                    targetRows.add(row);
                }
                double[] masked = maskedRows(r);
                int n = masked.length / w;
                pred.add(masked, 1, n, w);
                double[] y = maskedTargets(r);
                double[] mean = new double[w];
                for (int i = 0; i < n; i++) for (int c = 0; c < w; c++) mean[c] += y[i * w + c] / n;
                for (int i = 0; i < n * w; i++) {
                    double e = masked[i] - y[i], v = y[i] - mean[i % w];
                    sse += e * e;
                    sst += v * v;
                }
            }
        }
        List<Snapshot.Layer> layers = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            layers.add(new Snapshot.Layer(depth - k + i, raw.get(i).varianceOverPositions(), raw.get(i).varianceOverChannels(),
                    norm.get(i).varianceOverPositions(), norm.get(i).varianceOverChannels()));
        }
        return new Snapshot(step, layers, target.meanChannelStd(), rankOfRows(targetRows), pred.meanChannelStd(),
                sst > 0 ? 1 - sse / sst : Double.NaN, featureRank(model), teacherDistance(model), positionShare(model), Double.NaN);
    }

    /** {@link PositionShare} of the targets on the fixed pretraining batch (NaN without one). */
    double positionShare(Data2Vec model) {
        if (positionBatch == null || positionBatch.size() < 2) return Double.NaN;
        int t = model.tokens(positionBatch);
        MaskBatch m = model.masker().sample(positionBatch.size() * model.config().clones(), t, new RandomStream(maskSeed + 2));
        Data2Vec.Reconstruction r = model.reconstruct(positionBatch, m, new RandomStream(maskSeed + 3));
        return PositionShare.of(r.target(), positionBatch.size(), t, r.width());
    }

    /** Effective rank of the final output mean-pooled over each example's tokens (eval mode, unmasked). */
    double featureRank(Data2Vec model) {
        int n = Math.min(RANK_EXAMPLES, heldOut.size()), d = model.config().encoder().dim();
        double[] x = new double[n * d];
        for (LabeledSet.Group g : heldOut.groups(first(n), BATCH)) {
            double[] f = model.pooledFeatures(g.batch());
            for (int i = 0; i < g.examples().length; i++) System.arraycopy(f, i * d, x, g.examples()[i] * d, d);
        }
        return n < 2 ? Double.NaN : EffectiveRank.of(x, n, d);
    }

    /** ‖θ_T − θ_S‖ / ‖θ_S‖ over the parameters the teacher tracks. */
    public static double teacherDistance(Data2Vec model) {
        ParameterStore teacher = model.teacherParameters();
        Map<String, double[]> s = model.parameters().stateDict(), t = teacher.stateDict();
        double diff = 0, norm = 0;
        for (Map.Entry<String, double[]> e : t.entrySet()) {
            double[] sv = s.get(e.getKey()), tv = e.getValue();
            for (int i = 0; i < tv.length; i++) {
                double q = tv[i] - sv[i];
                diff += q * q;
                norm += sv[i] * sv[i];
            }
        }
        return norm > 0 ? Math.sqrt(diff / norm) : Double.NaN;
    }

    private static double rankOfRows(List<double[]> rows) {
        if (rows.size() < 2) return Double.NaN;
        int w = rows.get(0).length;
        double[] x = new double[rows.size() * w];
        for (int i = 0; i < rows.size(); i++) System.arraycopy(rows.get(i), 0, x, i * w, w);
        return EffectiveRank.of(x, rows.size(), w);
    }

    /** The prediction rows at masked positions, every clone. */
    private static double[] maskedRows(Data2Vec.Reconstruction r) {
        return gather(r, true);
    }

    /** The target row of each masked position (a sample's target is shared by its clones). */
    private static double[] maskedTargets(Data2Vec.Reconstruction r) {
        return gather(r, false);
    }

    private static double[] gather(Data2Vec.Reconstruction r, boolean prediction) {
        int w = r.width(), t = r.tokens(), clones = r.rows() / (r.target().length / (t * w));
        int n = 0;
        for (int v : r.mask()) n += v;
        double[] out = new double[n * w];
        int at = 0;
        for (int row = 0; row < r.rows(); row++) {
            for (int p = 0; p < t; p++) {
                if (r.mask()[row * t + p] == 0) continue;
                int src = prediction ? (row * t + p) * w : ((row / clones) * t + p) * w;
                System.arraycopy(prediction ? r.prediction() : r.target(), src, out, at, w);
                at += w;
            }
        }
        return out;
    }

    private static int[] first(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return idx;
    }
}
