package org.d2v.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Which precision each stretch of a run trained in, kept in every checkpoint's manifest (config key
 * {@value #KEY}) as "precision@first step" entries, e.g. {@code fp32@1,bf16@501}: checkpoints hold
 * the fp32 masters whatever the precision, so a resume may switch, and the manifest says where it
 * did. A manifest without the key is from before bf16 existed: fp32 from step 1.
 */
public final class PrecisionSegments {
    public static final String KEY = "precision_segments";

    /** One stretch: trained in {@code precision} from step {@code from}. */
    public record Segment(String precision, long from) {
        @Override public String toString() { return precision + "@" + from; }
    }

    private PrecisionSegments() {}

    /** The segments a manifest's value describes; {@code recorded} null: fp32 from step 1. */
    public static List<Segment> parse(String recorded) {
        List<Segment> out = new ArrayList<>();
        if (recorded == null || recorded.isBlank()) {
            out.add(new Segment("fp32", 1));
            return out;
        }
        for (String part : recorded.split(",")) {
            int at = part.lastIndexOf('@');
            if (at <= 0) throw new IllegalArgumentException(KEY + ": '" + part + "' is not precision@step");
            try {
                out.add(new Segment(part.substring(0, at).trim(), Long.parseLong(part.substring(at + 1).trim())));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(KEY + ": '" + part + "' is not precision@step");
            }
        }
        return out;
    }

    /** {@code segments} continued from step {@code from} in {@code precision}: a new segment when it changes. */
    public static List<Segment> continued(List<Segment> segments, long from, String precision) {
        List<Segment> out = new ArrayList<>(segments);
        if (out.isEmpty() || !out.get(out.size() - 1).precision().equals(precision)) out.add(new Segment(precision, from));
        return out;
    }

    public static String format(List<Segment> segments) {
        return String.join(",", segments.stream().map(Segment::toString).toList());
    }
}
