package org.d2v.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one JSON codec of d2v (Jackson's streaming parser and generator), for checkpoint manifests,
 * metrics.jsonl, safetensors headers and the data sets' JSON files.
 *
 * <p>Values are plain Java: objects become {@link LinkedHashMap}s (order kept), arrays {@link List}s,
 * integers {@link Long}, other numbers {@link Double}, plus String, Boolean and null. Writing is
 * compact (no spaces), doubles as {@link Double#toString}, non-finite doubles as null (JSON has no
 * NaN), so files written before Jackson came in and after are the same bytes.
 *
 * <p>Files read here may be hostile (a downloaded checkpoint, a corrupted header), so the parser has
 * limits: nesting depth, string, name and number lengths, document size and token count. Duplicate
 * keys are errors, as is anything after the one top-level value.
 */
public final class Json {
    /** Deeper than any file d2v writes (manifests nest 3 levels) by a wide margin; far below a stack overflow. */
    public static final int MAX_DEPTH = 64;
    /** The largest document: safetensors headers of the base presets with optimizer state are a few hundred KiB. */
    public static final long MAX_DOCUMENT_BYTES = 100L << 20;
    public static final int MAX_STRING_CHARS = 1 << 20, MAX_NAME_CHARS = 1 << 16, MAX_NUMBER_CHARS = 100;
    public static final long MAX_TOKENS = 20_000_000;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_DEPTH)
                    .maxDocumentLength(MAX_DOCUMENT_BYTES)
                    .maxStringLength(MAX_STRING_CHARS)
                    .maxNameLength(MAX_NAME_CHARS)
                    .maxNumberLength(MAX_NUMBER_CHARS)
                    .maxTokenCount(MAX_TOKENS)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Json() {}

    /**
     * Parses one JSON value with the limits above. Bad or over-limit input throws
     * IllegalArgumentException saying what and where (line and column), never anything else.
     */
    public static Object parse(String text) {
        try (JsonParser p = FACTORY.createParser(text)) {
            if (p.nextToken() == null) throw new IllegalArgumentException("invalid JSON: empty document");
            Object v = value(p);
            if (p.nextToken() != null) throw new IllegalArgumentException("invalid JSON at " + where(p) + ": trailing characters after the value");
            return v;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("invalid JSON: " + e.getOriginalMessage() + " (at " + where(e) + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a String does no I/O
        }
    }

    private static Object value(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT: {
                Map<String, Object> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    p.nextToken();
                    m.put(key, value(p));
                }
                return m;
            }
            case START_ARRAY: {
                List<Object> l = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) l.add(value(p));
                return l;
            }
            case VALUE_STRING: return p.getText();
            case VALUE_NUMBER_INT:
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    throw new IllegalArgumentException("invalid JSON at " + where(p) + ": integer " + p.getText() + " does not fit in 64 bits");
                }
                return p.getLongValue();
            case VALUE_NUMBER_FLOAT: {
                double d = p.getDoubleValue();
                if (!Double.isFinite(d)) throw new IllegalArgumentException("invalid JSON at " + where(p) + ": number " + p.getText() + " is out of range");
                return d;
            }
            case VALUE_TRUE: return Boolean.TRUE;
            case VALUE_FALSE: return Boolean.FALSE;
            case VALUE_NULL: return null;
            default: throw new IllegalArgumentException("invalid JSON at " + where(p) + ": unexpected " + t);
        }
    }

    private static String where(JsonParser p) {
        return "line " + p.currentLocation().getLineNr() + ", column " + p.currentLocation().getColumnNr();
    }

    private static String where(JsonProcessingException e) {
        return e.getLocation() == null ? "unknown position" : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    /** Compact JSON of maps, lists, strings, numbers, booleans, null and long[]. */
    public static String write(Object value) {
        StringWriter sw = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(sw)) {
            write(value, g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to a String does no I/O
        }
        return sw.toString();
    }

    private static void write(Object v, JsonGenerator g) throws IOException {
        if (v == null) g.writeNull();
        else if (v instanceof String s) g.writeString(s);
        else if (v instanceof Boolean b) g.writeBoolean(b);
        else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isFinite(d)) g.writeNumber(d);
            else g.writeNull();
        } else if (v instanceof Number n) g.writeNumber(n.longValue());
        else if (v instanceof Map<?, ?> m) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                write(e.getValue(), g);
            }
            g.writeEndObject();
        } else if (v instanceof List<?> l) {
            g.writeStartArray();
            for (Object x : l) write(x, g);
            g.writeEndArray();
        } else if (v instanceof long[] a) {
            g.writeStartArray();
            for (long x : a) g.writeNumber(x);
            g.writeEndArray();
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass() + " as JSON");
        }
    }
}
