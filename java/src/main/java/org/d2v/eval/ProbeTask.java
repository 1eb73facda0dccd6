package org.d2v.eval;

import java.util.Locale;

/**
 * One downstream classification task for the linear probe: training and test examples, the raw
 * features that make its floor, and the bar a pretrained representation must clear.
 *
 * @param floor             a published floor the pretrained probe must beat (docs/data.md), or NaN for
 *                          the raw-feature probe measured in the same run
 * @param minGainOverRandom how far (in accuracy) the pretrained probe must be above the same probe on
 *                          the same model at its random initialisation
 */
public record ProbeTask(String name, LabeledSet train, LabeledSet test, RawFeatures raw, double floor, double minGainOverRandom) {
    public ProbeTask {
        // an empty split would reach the probe as a division by zero; null sets are the bar arithmetic's (tests)
        if (train != null && test != null && (train.size() == 0 || test.size() == 0)) {
            throw new IllegalArgumentException("probe task '" + name + "' has no " + (train.size() == 0 ? "training" : "test") + " examples ("
                    + train.describe() + " / " + test.describe() + ")");
        }
    }

    /** The same task on the first {@code trainSize} / {@code testSize} examples. */
    public ProbeTask head(int trainSize, int testSize) {
        return new ProbeTask(name, train.head(trainSize), test.head(testSize), raw, floor, minGainOverRandom);
    }

    /** The same task on examples spread over each split (quick probes during pretraining). */
    public ProbeTask quick(int trainSize, int testSize) {
        return new ProbeTask(name, train.spread(trainSize), test.spread(testSize), raw, floor, minGainOverRandom);
    }

    /** The floor in force: the published one, else the raw-feature probe's accuracy. */
    public double floorGiven(double rawAccuracy) { return Double.isNaN(floor) ? rawAccuracy : floor; }

    /** Above the floor and at least {@link #minGainOverRandom} above random init (1e-9: exactly the gain counts). */
    public boolean meetsBar(double pretrained, double randomInit, double rawAccuracy) {
        return pretrained > floorGiven(rawAccuracy) && pretrained - randomInit >= minGainOverRandom - 1e-9;
    }

    /**
     * How far the pretrained probe is from the raw-feature probe measured beside it, in words, and,
     * where the task has a published floor, from that too, e.g. "pretrained is 4.2 points above raw
     * pixels (0.7800, measured in this run); 0.6 points below the published raw pixels floor 0.8180".
     */
    public String margin(double pretrained, double rawAccuracy) {
        String s = String.format(Locale.ROOT, "pretrained is %s %s (%.4f, measured in this run)", points(pretrained - rawAccuracy), raw.name(), rawAccuracy);
        if (!Double.isNaN(floor)) s += String.format(Locale.ROOT, "; %s the published %s floor %.4f", points(pretrained - floor), raw.name(), floor);
        return s;
    }

    private static String points(double difference) {
        return String.format(Locale.ROOT, "%.1f points %s", Math.abs(100 * difference), difference > 0 ? "above" : difference < 0 ? "below" : "level with");
    }

    /** The bar in words, e.g. "pretrained > 0.818 (the published raw pixels floor) and >= 5 points above random init". */
    public String describeBar() {
        String f = Double.isNaN(floor) ? "the " + raw.name() + " probe of this run" : String.format(Locale.ROOT, "%.3f (the published %s floor)", floor, raw.name());
        String g = minGainOverRandom > 0 ? String.format(Locale.ROOT, " and >= %.0f points above random init", 100 * minGainOverRandom)
                : " and not below random init";
        return "pretrained > " + f + g;
    }
}
