package org.d2v.cli;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.TypeConversionException;

/**
 * How every numeric option of every command is read: integers must be whole numbers within their
 * type's range (3000000000 given to an int option is an error naming the range, never wrapped),
 * and decimal numbers must be finite (NaN, Infinity and values that overflow, such as 1e400, are
 * refused). Range rules of one option (at least 1, below 1, ...) stay with the option ({@link Options}).
 */
final class NumberOptions {
    private NumberOptions() {}

    /** Installs the converters on {@code line} and every subcommand it has. */
    static void register(CommandLine line) {
        line.registerConverter(Integer.class, s -> (int) integer(s, Integer.MIN_VALUE, Integer.MAX_VALUE));
        line.registerConverter(Integer.TYPE, s -> (int) integer(s, Integer.MIN_VALUE, Integer.MAX_VALUE));
        line.registerConverter(Long.class, s -> integer(s, Long.MIN_VALUE, Long.MAX_VALUE));
        line.registerConverter(Long.TYPE, s -> integer(s, Long.MIN_VALUE, Long.MAX_VALUE));
        line.registerConverter(Double.class, NumberOptions::finite);
        line.registerConverter(Double.TYPE, NumberOptions::finite);
        line.registerConverter(Float.class, s -> (float) finiteFloat(s));
        line.registerConverter(Float.TYPE, s -> (float) finiteFloat(s));
    }

    static long integer(String text, long min, long max) {
        String s = text.trim();
        BigInteger v;
        try {
            v = new BigInteger(s.startsWith("+") ? s.substring(1) : s);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + text + "' is not an integer");
        }
        if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
            throw new TypeConversionException("'" + text + "' is out of range (an integer from " + min + " to " + max + ")");
        }
        return v.longValueExact();
    }

    static double finite(String text) {
        String s = text.trim();
        double v;
        try {
            v = Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + text + "' is not a number");
        }
        boolean word = s.toLowerCase(Locale.ROOT).contains("inf") || s.toLowerCase(Locale.ROOT).contains("nan");
        if (Double.isNaN(v) || Double.isInfinite(v) && word) throw new TypeConversionException("'" + text + "' is not a finite number");
        if (Double.isInfinite(v)) throw new TypeConversionException("'" + text + "' is out of range (a finite number, at most about 1.8e308)");
        if (v == 0 && nonZeroDecimal(s)) throw new TypeConversionException("'" + text + "' is too small to be told from 0");
        return v;
    }

    private static double finiteFloat(String text) {
        double v = finite(text);
        if (Math.abs(v) > Float.MAX_VALUE) throw new TypeConversionException("'" + text + "' is out of range (at most about 3.4e38)");
        return v;
    }

    /** Whether a plain decimal such as 1e-400 is not zero, though it parses to 0.0. */
    private static boolean nonZeroDecimal(String s) {
        try {
            return new BigDecimal(s).signum() != 0;
        } catch (NumberFormatException e) {
            return false; // hex or a type suffix: Double.parseDouble's own forms
        }
    }
}
