package org.d2v.data2vec;

import java.util.Arrays;
import org.d2v.autograd.F;
import org.d2v.backend.LossDesc;
import org.d2v.backend.RandomStream;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/** The decoder's input assembly and the two loss terms of data2vec 2.0 (docs/algorithm.md §6, §7). */
final class Objective {
    /** σ of the noise at masked slots ({@code mask_noise_std}). */
    static final double MASK_NOISE_STD = 0.01;

    private Objective() {}

    /**
     * The student's kept tokens [rows, kept, D] put back at their positions {@code keep}
     * [rows, kept] of a length-{@code tokens} sequence whose other (masked) slots hold
     * N(0, 0.01²) noise drawn from {@code rng}.
     */
    static Tensor decoderInput(Tensor kept, Tensor keep, int tokens, RandomStream rng) {
        int rows = kept.dim(0), dim = kept.dim(2);
        Tensor noise = Tensor.empty(kept.device(), kept.dtype(), rows, tokens, dim);
        kept.device().ops().normal(noise, 0, MASK_NOISE_STD, rng.seed(), rng.takeNormal(noise.numel()));
        return F.scatterRows(kept, keep, noise);
    }

    /**
     * s · Σ over masked (row, t) of ||pred − target||² / N_mask (docs/algorithm.md §7.1): pred [rows, T, D],
     * target [rows / clones, T, D] shared by the clones of a sample, mask [rows, T] (I32, 1 =
     * masked); {@code masked} = N_mask, the masked positions of the whole (global) batch, of which
     * this batch may be a part.
     */
    static Tensor regression(Tensor pred, Tensor target, Tensor mask, int clones, double masked, double scale) {
        int rows = pred.dim(0), tokens = pred.dim(1), dim = pred.dim(2);
        return F.maskedRegression(new LossDesc(rows, tokens, dim, clones, scale, masked), pred, target, mask);
    }

    /**
     * The image CLS loss (docs/algorithm.md §7.2): weight · s · Σ_rows ||c − ȳ||² / {@code normaliser}, where c
     * is the student's encoder output at the CLS position (token 0 of {@code encoded} [rows, 1 +
     * kept, D]) and ȳ the mean of the sample's target [samples, T, D] over all positions. Summed,
     * not averaged: over one device's batch (normaliser 1), or over a larger batch in units of it.
     */
    static Tensor cls(Tensor encoded, Tensor target, int clones, double weightTimesScale, double normaliser) {
        int rows = encoded.dim(0), dim = encoded.dim(2);
        Tensor clsPred = F.gatherRows(encoded, Indices.iota(encoded.device(), rows, 1, 0));
        Tensor clsTarget = F.meanOverTime(target);
        int[] ones = new int[rows];
        Arrays.fill(ones, 1);
        Tensor all = Tensor.ofInts(encoded.device(), Shape.of(rows, 1), ones);
        return F.maskedRegression(new LossDesc(rows, 1, dim, clones, weightTimesScale, normaliser), clsPred, clsTarget, all);
    }
}
