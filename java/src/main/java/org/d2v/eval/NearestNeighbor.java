package org.d2v.eval;

import java.util.stream.IntStream;

/** 1-nearest-neighbour classification by Euclidean distance on raw (unstandardised) features. */
public final class NearestNeighbor {
    private NearestNeighbor() {}

    /** The accuracy on the test rows of labelling each with its nearest training row's label (ties: lowest index). */
    public static double accuracy(float[] trainX, int[] trainY, float[] testX, int[] testY, int dim) {
        int n = trainY.length, m = testY.length;
        double[] norms = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < dim; j++) s += (double) trainX[i * dim + j] * trainX[i * dim + j];
            norms[i] = s;
        }
        long ok = IntStream.range(0, m).parallel().filter(t -> {
            int best = -1;
            double bestD = Double.POSITIVE_INFINITY;
            int qr = t * dim;
            for (int i = 0; i < n; i++) {
                double dotp = 0;
                int r = i * dim;
                for (int j = 0; j < dim; j++) dotp += (double) trainX[r + j] * testX[qr + j];
                double d = norms[i] - 2 * dotp; // |q|² is the same for every candidate
                if (d < bestD) {
                    bestD = d;
                    best = i;
                }
            }
            return trainY[best] == testY[t];
        }).count();
        return m == 0 ? 0 : (double) ok / m;
    }
}
