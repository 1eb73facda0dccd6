package org.d2v.bench.twin;

import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * Writes maps, lists, records, strings, numbers, booleans and enums as indented JSON (records as
 * objects of their components, in declaration order). Non-finite numbers become null, as JSON has
 * no NaN; the readers of these files (bench/pytorch) treat null as "not set". {@link #parse} reads
 * the twin's replies back: objects as ordered maps, arrays as lists, numbers as doubles.
 */
public final class JsonText {
    private JsonText() {}

    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(value, sb, "");
        return sb.append('\n').toString();
    }

    private static void write(Object v, StringBuilder sb, String indent) {
        if (v == null) sb.append("null");
        else if (v instanceof String s) string(s, sb);
        else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) sb.append(v);
        else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            sb.append(Double.isFinite(d) ? (d == Math.rint(d) && Math.abs(d) < 1e15 ? String.format(Locale.ROOT, "%.1f", d) : Double.toString(d)) : "null");
        } else if (v instanceof Enum<?> e) string(e.name(), sb);
        else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            String inner = indent + "  ";
            sb.append("{\n");
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(inner);
                string(String.valueOf(e.getKey()), sb);
                sb.append(": ");
                write(e.getValue(), sb, inner);
                sb.append(++i < m.size() ? ",\n" : "\n");
            }
            sb.append(indent).append('}');
        } else if (v instanceof Collection<?> c) {
            sb.append('[');
            int i = 0;
            for (Object o : c) {
                write(o, sb, indent);
                if (++i < c.size()) sb.append(", ");
            }
            sb.append(']');
        } else if (v instanceof Record r) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            for (RecordComponent rc : r.getClass().getRecordComponents()) {
                try {
                    m.put(rc.getName(), rc.getAccessor().invoke(r));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("cannot read " + rc.getName() + " of " + r, e);
                }
            }
            write(m, sb, indent);
        } else throw new IllegalArgumentException("no JSON form for " + v.getClass().getName());
    }

    private static void string(String s, StringBuilder sb) {
        sb.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    /** Parses one JSON value. */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        Object v = p.value();
        p.space();
        if (p.at < text.length()) throw p.error("trailing characters");
        return v;
    }

    private static final class Parser {
        final String s;
        int at;

        Parser(String s) { this.s = s; }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("bad JSON at " + at + " (" + what + "): " + (s.length() > 200 ? s.substring(0, 200) + "…" : s));
        }

        void space() { while (at < s.length() && Character.isWhitespace(s.charAt(at))) at++; }

        boolean eat(char c) {
            space();
            if (at < s.length() && s.charAt(at) == c) {
                at++;
                return true;
            }
            return false;
        }

        Object value() {
            space();
            if (at >= s.length()) throw error("unexpected end");
            char c = s.charAt(at);
            if (c == '{') {
                at++;
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                if (eat('}')) return m;
                do {
                    space();
                    String k = string();
                    if (!eat(':')) throw error("':' expected");
                    m.put(k, value());
                } while (eat(','));
                if (!eat('}')) throw error("'}' expected");
                return m;
            }
            if (c == '[') {
                at++;
                java.util.List<Object> l = new java.util.ArrayList<>();
                if (eat(']')) return l;
                do l.add(value()); while (eat(','));
                if (!eat(']')) throw error("']' expected");
                return l;
            }
            if (c == '"') return string();
            for (String w : new String[] {"true", "false", "null", "NaN", "Infinity", "-Infinity"}) {
                if (s.startsWith(w, at)) {
                    at += w.length();
                    return switch (w) {
                        case "true" -> Boolean.TRUE;
                        case "false" -> Boolean.FALSE;
                        case "null" -> null;
                        case "NaN" -> Double.NaN;
                        case "Infinity" -> Double.POSITIVE_INFINITY;
                        default -> Double.NEGATIVE_INFINITY;
                    };
                }
            }
            int from = at;
            while (at < s.length() && "+-0123456789.eE".indexOf(s.charAt(at)) >= 0) at++;
            if (from == at) throw error("value expected");
            return Double.parseDouble(s.substring(from, at));
        }

        String string() {
            if (at >= s.length() || s.charAt(at) != '"') throw error("string expected");
            StringBuilder b = new StringBuilder();
            at++;
            while (at < s.length() && s.charAt(at) != '"') {
                char c = s.charAt(at++);
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(at++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                        at += 4;
                    }
                    default -> b.append(e);
                }
            }
            if (at >= s.length()) throw error("unterminated string");
            at++;
            return b.toString();
        }
    }
}
