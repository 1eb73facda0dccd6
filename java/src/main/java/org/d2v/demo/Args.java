package org.d2v.demo;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options of the form {@code --name value} and bare {@code --flag}s, checked against
 * the names a command knows, with typed getters that name the option in their errors.
 */
public final class Args {
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flagsGiven;

    private Args(Set<String> flagsGiven) { this.flagsGiven = flagsGiven; }

    /** The parsed options, or null when {@code --help} (or -h) is among them. */
    public static Args parse(String[] args, Set<String> options, Set<String> flags) {
        Set<String> given = new java.util.HashSet<>();
        Args a = new Args(given);
        for (int i = 0; i < args.length; i++) {
            String k = args[i];
            if (k.equals("--help") || k.equals("-h")) return null;
            if (flags.contains(k)) {
                given.add(k);
            } else if (options.contains(k)) {
                if (i + 1 >= args.length) throw new IllegalArgumentException(k + " needs a value");
                if (a.values.put(k, args[++i]) != null) throw new IllegalArgumentException(k + " given twice");
            } else {
                throw new IllegalArgumentException("unknown option '" + k + "'");
            }
        }
        return a;
    }

    public boolean flag(String name) { return flagsGiven.contains(name); }

    public boolean has(String name) { return values.containsKey(name); }

    public String string(String name, String fallback) { return values.getOrDefault(name, fallback); }

    public int positiveInt(String name, int fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + n);
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " needs an integer, got '" + v + "'");
        }
    }

    public long longValue(String name, long fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " needs an integer, got '" + v + "'");
        }
    }

    public double positiveDouble(String name, double fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        try {
            double d = Double.parseDouble(v.trim());
            if (!(d > 0) || Double.isInfinite(d)) throw new IllegalArgumentException(name + " must be a positive number, got " + v);
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " needs a number, got '" + v + "'");
        }
    }
}
