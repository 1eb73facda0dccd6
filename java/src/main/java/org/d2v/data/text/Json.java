package org.d2v.data.text;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON of the data sets' small files (the npm packages' sentiment records), read with d2v's one
 * codec ({@link org.d2v.json.Json}: Jackson, with size and depth limits) under the convention these
 * readers were written for: every number is a {@link Double}.
 */
public final class Json {
    private Json() {}

    /** Parses one JSON value; throws IllegalArgumentException ("JSON error: ...") saying what is wrong and where. */
    public static Object parse(String text) {
        try {
            return doubles(org.d2v.json.Json.parse(text));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replaceFirst("^invalid JSON:? ?", "JSON error: "), e);
        }
    }

    private static Object doubles(Object v) {
        if (v instanceof Long l) return l.doubleValue();
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put((String) k, doubles(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object x : l) out.add(doubles(x));
            return out;
        }
        return v;
    }
}
