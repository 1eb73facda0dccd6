package org.d2v.tensor;

/**
 * bfloat16 on the host, bit for bit as the kernels store it (kernels/d2v.h): the top 16 bits of a
 * float, rounded to nearest with ties to even; NaN stays NaN (made quiet, sign kept), ±Inf stays,
 * finite values past the largest bf16 round to ±Inf. Widening is a 16-bit shift.
 */
public final class Bf16 {
    private Bf16() {}

    /** The bf16 bits of {@code f}, rounded to nearest even (d2v_float_to_bf16). */
    public static short bits(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 0x0040);
        return (short) ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16);
    }

    /** The float a bf16 bit pattern stands for (exact). */
    public static float value(short bits) { return Float.intBitsToFloat((bits & 0xffff) << 16); }

    /** {@code f} rounded to the nearest bf16, as a float. */
    public static float round(float f) { return value(bits(f)); }

    /**
     * {@code v} rounded once, directly, to the nearest bf16 (ties to even): the reference backend's
     * store. Rounding to float first could round twice; here the 8 significant bits are cut from the
     * double itself. Values in float's subnormal range (|v| < 2^-126, where bf16's spacing is fixed)
     * go through float, whose subnormals bf16 shares.
     */
    public static double round(double v) {
        if (Double.isNaN(v)) return Float.NaN;
        if (Double.isInfinite(v) || v == 0) return v;
        if (Math.abs(v) < 0x1p-126) return round((float) v);
        long u = Double.doubleToRawLongBits(v);
        long half = 1L << 44, lsb = (u >>> 45) & 1; // keep 7 of the double's 52 mantissa bits
        long r = (u + half - 1 + lsb) & ~((1L << 45) - 1);
        double rounded = Double.longBitsToDouble(r);
        // Past bf16's largest finite value (just under 2^128) the rounded value is out of float range.
        return Math.abs(rounded) >= 0x1p128 ? Math.copySign(Double.POSITIVE_INFINITY, v) : rounded;
    }
}
