package org.d2v.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small JSON subset that checkpoints and metrics need, with no dependency: objects become
 * {@link LinkedHashMap}s (order kept), arrays {@link List}s, integers {@link Long}, other numbers
 * {@link Double}. Non-finite doubles are written as null, since JSON has no NaN.
 */
final class Json {
    private Json() {}

    static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(value, sb);
        return sb.toString();
    }

    private static void write(Object v, StringBuilder sb) {
        if (v == null) sb.append("null");
        else if (v instanceof String s) string(s, sb);
        else if (v instanceof Boolean b) sb.append(b);
        else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            sb.append(Double.isFinite(d) ? Double.toString(d) : "null");
        } else if (v instanceof Number n) sb.append(n.longValue());
        else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                string(String.valueOf(e.getKey()), sb);
                sb.append(':');
                write(e.getValue(), sb);
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(',');
                write(l.get(i), sb);
            }
            sb.append(']');
        } else if (v instanceof long[] a) {
            List<Object> l = new ArrayList<>();
            for (long x : a) l.add(x);
            write(l, sb);
        } else throw new IllegalArgumentException("cannot write " + v.getClass() + " as JSON");
    }

    private static void string(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    /** Parses one JSON value; throws IllegalArgumentException with the character position on bad input. */
    static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipSpace();
        Object v = p.value();
        p.skipSpace();
        if (p.at < text.length()) throw p.error("trailing characters");
        return v;
    }

    private static final class Parser {
        private final String s;
        private int at;

        Parser(String s) { this.s = s; }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("invalid JSON at character " + at + ": " + what);
        }

        void skipSpace() {
            while (at < s.length() && Character.isWhitespace(s.charAt(at))) at++;
        }

        char peek() {
            if (at >= s.length()) throw error("unexpected end");
            return s.charAt(at);
        }

        void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "'");
            at++;
        }

        Object value() {
            char c = peek();
            switch (c) {
                case '{': return object();
                case '[': return array();
                case '"': return string();
                case 't': word("true"); return Boolean.TRUE;
                case 'f': word("false"); return Boolean.FALSE;
                case 'n': word("null"); return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw error("unexpected '" + c + "'");
            }
        }

        void word(String w) {
            if (!s.startsWith(w, at)) throw error("expected " + w);
            at += w.length();
        }

        Map<String, Object> object() {
            expect('{');
            Map<String, Object> m = new LinkedHashMap<>();
            skipSpace();
            if (peek() == '}') { at++; return m; }
            while (true) {
                skipSpace();
                String key = string();
                skipSpace();
                expect(':');
                skipSpace();
                if (m.put(key, value()) != null) throw error("duplicate key '" + key + "'");
                skipSpace();
                if (peek() == ',') { at++; continue; }
                expect('}');
                return m;
            }
        }

        List<Object> array() {
            expect('[');
            List<Object> l = new ArrayList<>();
            skipSpace();
            if (peek() == ']') { at++; return l; }
            while (true) {
                skipSpace();
                l.add(value());
                skipSpace();
                if (peek() == ',') { at++; continue; }
                expect(']');
                return l;
            }
        }

        String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = peek();
                at++;
                if (c == '"') return sb.toString();
                if (c != '\\') { sb.append(c); continue; }
                char e = peek();
                at++;
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'u' -> {
                        if (at + 4 > s.length()) throw error("short \\u escape");
                        sb.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                        at += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
            }
        }

        Number number() {
            int start = at;
            if (peek() == '-') at++;
            boolean integral = true;
            while (at < s.length()) {
                char c = s.charAt(at);
                if (c >= '0' && c <= '9') at++;
                else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') { integral = false; at++; }
                else break;
            }
            String t = s.substring(start, at);
            try {
                return integral ? (Number) Long.parseLong(t) : (Number) Double.parseDouble(t);
            } catch (NumberFormatException e) {
                at = start;
                throw error("bad number '" + t + "'");
            }
        }
    }
}
