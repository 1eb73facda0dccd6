package org.d2v.eval;

import org.d2v.backend.RandomStream;
import org.d2v.data.TestData;
import org.d2v.data.image.Idx;
import org.d2v.data.image.LabeledImages;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class LinearProbeTest {
    /** Three Gaussian blobs in 6-d whose means differ in two coordinates, plus a useless constant feature. */
    static float[][] blobs(int n, long seed, int[] labelsOut) {
        RandomStream rng = new RandomStream(seed);
        float[] x = new float[n * 6];
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            labelsOut[i] = c;
            for (int j = 0; j < 5; j++) {
                double g = Math.sqrt(-2 * Math.log(1 - rng.nextUniform())) * Math.cos(2 * Math.PI * rng.nextUniform());
                x[i * 6 + j] = (float) (g + (j == c ? 3 : 0) + (j == 4 ? 0.5 * c : 0));
            }
            x[i * 6 + 5] = 7; // constant: standardisation must not divide by zero
        }
        return new float[][] {x};
    }

    @Test
    void separatesAnEasySyntheticProblemDeterministically() {
        int[] ytr = new int[600], yte = new int[300];
        float[] xtr = blobs(600, 1, ytr)[0], xte = blobs(300, 2, yte)[0];
        LinearProbe p = LinearProbe.builder().build();
        ProbeResult r = p.evaluate(xtr, ytr, xte, yte, 6, 3);
        assertTrue(r.testAccuracy() > 0.9, r.toString());
        assertTrue(r.trainAccuracy() > 0.9, r.toString());
        LinearProbe.Model a = p.fit(xtr, ytr, 6, 3), b = p.fit(xtr, ytr, 6, 3);
        assertArrayEquals(a.weights(), b.weights(), "bit-identical refits");
    }

    @Test
    void reachesTheOptimumOfItsObjective() {
        int[] y = new int[300];
        float[] x = blobs(300, 3, y)[0];
        LinearProbe.Model m = LinearProbe.builder().l2(1e-2).tolerance(1e-9).maxIterations(500).build().fit(x, y, 6, 3);
        // Perturbing any weight must not lower the objective: compare against the fitted loss.
        LinearProbe loose = LinearProbe.builder().l2(1e-2).maxIterations(3).build();
        assertTrue(loose.fit(x, y, 6, 3).loss() > m.loss(), "3 iterations are worse than convergence");
        assertTrue(m.iterations() < 500, "converged before the cap: " + m.iterations());
    }

    @Test
    void strongRegularisationPullsTowardsChance() {
        int[] ytr = new int[600], yte = new int[300];
        float[] xtr = blobs(600, 1, ytr)[0], xte = blobs(300, 2, yte)[0];
        LinearProbe.Model m = LinearProbe.builder().l2(1e4).build().fit(xtr, ytr, 6, 3);
        double maxW = Arrays.stream(m.weights()).limit(18).map(Math::abs).max().orElse(0);
        assertTrue(maxW < 1e-3, "weights shrink to ~0 under a huge penalty: " + maxW);
    }

    @Test
    void beatsChanceClearlyOnTheFashionSample() throws IOException {
        LabeledImages d = Idx.read(TestData.file("fashion-t10k-200-images-idx3-ubyte.gz"), TestData.file("fashion-t10k-200-labels-idx1-ubyte.gz"), 10);
        int tr = 150, dim = 784;
        float[] xtr = Arrays.copyOf(d.images().pixels(), tr * dim);
        float[] xte = Arrays.copyOfRange(d.images().pixels(), tr * dim, 200 * dim);
        int[] ytr = Arrays.copyOf(d.labels(), tr), yte = Arrays.copyOfRange(d.labels(), tr, 200);
        ProbeResult r = LinearProbe.builder().l2(1e-2).build().evaluate(xtr, ytr, xte, yte, dim, 10);
        assertTrue(r.testAccuracy() >= 0.5, "chance is 0.1: " + r);
        double nn = NearestNeighbor.accuracy(xtr, ytr, xte, yte, dim);
        assertTrue(nn >= 0.5, "1-NN chance is 0.1: " + nn);
    }

    @Test
    void nearestNeighbourFindsExactCopies() {
        float[] train = {0, 0, 10, 10, -5, 3};
        int[] y = {4, 7, 2};
        assertEquals(1.0, NearestNeighbor.accuracy(train, y, new float[] {9, 9.5f, 0.1f, 0, -5, 2}, new int[] {7, 4, 2}, 2));
        assertEquals(0.0, NearestNeighbor.accuracy(train, y, new float[] {9, 9.5f}, new int[] {4}, 2));
    }
}
