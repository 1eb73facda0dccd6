package org.d2v.cli;

/** Range checks of option values, with errors in the form "--option: problem". */
final class Options {
    private Options() {}

    /** {@code value}, or {@code fallback} when not given; at least {@code min}. */
    static long atLeast(String option, Long value, long fallback, long min) {
        long v = value == null ? fallback : value;
        if (v < min) throw new IllegalArgumentException(option + ": must be >= " + min + ", got " + v);
        return v;
    }

    static int atLeast(String option, Integer value, int fallback, int min) {
        return (int) atLeast(option, value == null ? null : (long) value, fallback, min);
    }

    /** {@code value}, or {@code fallback} when not given; finite and above 0. */
    static double positive(String option, Double value, double fallback) {
        double v = value == null ? fallback : value;
        if (!(v > 0) || Double.isInfinite(v)) throw new IllegalArgumentException(option + ": must be a positive number, got " + v);
        return v;
    }

    /** {@code value}, or {@code fallback} when not given; finite and at least 0. */
    static double nonNegative(String option, Double value, double fallback) {
        double v = value == null ? fallback : value;
        if (!(v >= 0) || Double.isInfinite(v)) throw new IllegalArgumentException(option + ": must be a number >= 0, got " + v);
        return v;
    }

    /** A backend name: auto or one the build knows (checked before any work starts). */
    static String backend(String option, String name) {
        if (name == null) return "auto";
        if (name.equals("auto")) return name;
        for (org.d2v.backend.Backend b : org.d2v.backend.Backends.all()) if (b.name().equals(name)) return name;
        throw new IllegalArgumentException(option + ": unknown backend '" + name + "'; known: auto, "
                + String.join(", ", org.d2v.backend.Backends.all().stream().map(org.d2v.backend.Backend::name).toList()));
    }

    /** --features: true for "layers" (the default), false for "final". */
    static boolean layerFeatures(String value) {
        if (value == null || value.equals("layers")) return true;
        if (value.equals("final")) return false;
        throw new IllegalArgumentException("--features: must be 'layers' or 'final', got '" + value + "'");
    }
}
