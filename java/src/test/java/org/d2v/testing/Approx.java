package org.d2v.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Norm-wise comparisons of whole arrays: ||a − e|| / max(||e||, tiny). */
public final class Approx {
    private static final double TINY = 1e-30;

    private Approx() {}

    public static double relativeError(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, "array lengths");
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = actual[i] - expected[i];
            if (Double.isNaN(actual[i]) != Double.isNaN(expected[i])) return Double.POSITIVE_INFINITY;
            diff += d * d;
            norm += expected[i] * expected[i];
        }
        return Math.sqrt(diff) / Math.max(Math.sqrt(norm), TINY);
    }

    /** Fails unless actual is within relTol of expected, norm-wise (NaN anywhere fails). */
    public static void assertClose(double[] expected, double[] actual, double relTol, String what) {
        double err = relativeError(expected, actual);
        if (!(err <= relTol)) {
            fail(what + ": relative error " + err + " > " + relTol + firstDifference(expected, actual));
        }
    }

    private static String firstDifference(double[] expected, double[] actual) {
        int worst = 0;
        double most = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(actual[i] - expected[i]);
            if (Double.isNaN(d)) d = Double.POSITIVE_INFINITY;
            if (d > most) { most = d; worst = i; }
        }
        return " (largest difference at " + worst + ": expected " + expected[worst] + ", got " + actual[worst] + ")";
    }
}
