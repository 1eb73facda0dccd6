package org.d2v.data;

/**
 * The nesting depth of a JSON text, measured without parsing it (strings and their escapes
 * skipped). The hand-written recursive parsers (data/text/Json, train/Json) recurse once per
 * level, so their callers refuse a deep text first instead of meeting a StackOverflowError.
 */
public final class JsonDepth {
    /** Deeper than anything d2v reads (safetensors headers and sentiment records are 3 levels). */
    public static final int MAX = 64;

    private JsonDepth() {}

    /** The character offset where the text first nests deeper than {@code max}, or -1 when it never does. */
    public static int exceeds(CharSequence json, int max) {
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
            } else if (c == '"') {
                inString = true;
            } else if (c == '[' || c == '{') {
                if (++depth > max) return i;
            } else if (c == ']' || c == '}') {
                depth--;
            }
        }
        return -1;
    }
}
