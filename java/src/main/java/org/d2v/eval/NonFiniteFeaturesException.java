package org.d2v.eval;

/**
 * Features hold a NaN or an infinity: a probe on them would fit nothing and report a meaningless
 * accuracy (and a NaN standardiser silently turns every prediction into class 0), so it refuses.
 */
public final class NonFiniteFeaturesException extends IllegalArgumentException {
    public NonFiniteFeaturesException(String message) { super(message); }

    /** Refuses {@code x} (rows of {@code dim} values) if any value is not finite, naming the first. */
    public static void check(float[] x, int dim, String what) {
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                throw new NonFiniteFeaturesException(what + ": feature " + (i % dim) + " of example " + (i / dim) + " is " + x[i]);
            }
        }
    }
}
